"""The API reference page, written at build time from ``evalmodel.__all__``.

Names that other parts of the package add to ``evalmodel/__init__.py`` appear in the reference
without editing the docs: this module groups the public names by kind (data, estimators,
inference, results, errors, modules) and writes ``api/index.rst`` with one ``autosummary`` table
per group; autosummary then writes one page per name from the templates in ``_templates/``.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

__all__ = ["EXTRA_MODULES", "api_groups", "write_api_index"]

#: Modules documented in full besides the names of ``evalmodel.__all__``.
EXTRA_MODULES = ("evalmodel.breaks", "evalmodel.cases", "evalmodel.coverage",
                 "evalmodel.data.simulate_monthly", "evalmodel.datasets", "evalmodel.errors",
                 "evalmodel.months", "evalmodel.names",
                 "evalmodel.report",
                 "evalmodel.results", "evalmodel.solver_options", "evalmodel.vocabulary")

_GROUPS = (
    ("data", "Panels and data"),
    ("estimators", "Estimators"),
    ("inference", "Inference and sensitivity"),
    ("displacement", "Displacement designs"),
    ("results", "Results"),
    ("other", "Other functions and classes"),
    ("errors", "Errors and warnings"),
    ("modules", "Modules"),
)

_INTRO = """\
API reference
=============

Everything a study script needs is in the top-level namespace, ``import evalmodel as em``.
This page is generated when the documentation is built, from ``evalmodel.__all__``, so it lists
exactly what the installed package exports (version {version}).

"""


def _kind(name: str, obj: object) -> str:
    from evalmodel.results import Result

    if inspect.ismodule(obj):
        return "modules"
    if inspect.isclass(obj):
        if issubclass(obj, BaseException | Warning):
            return "errors"
        if issubclass(obj, Result):
            return "results"
    module = getattr(obj, "__module__", "") or ""
    for part, kind in (("estimators", "estimators"), ("inference", "inference"),
                       ("displacement", "displacement"), ("panel", "data"), ("data", "data"),
                       ("datasets", "data"), ("results", "results")):
        if f"evalmodel.{part}" in module:
            return kind
    return "other"


def api_groups() -> dict[str, list[str]]:
    """The public names of ``evalmodel`` grouped by kind, module names fully qualified."""
    em = importlib.import_module("evalmodel")
    groups: dict[str, list[str]] = {key: [] for key, _ in _GROUPS}
    for name in sorted(set(em.__all__) - {"__version__"}, key=str.lower):
        obj = getattr(em, name)
        kind = _kind(name, obj)
        groups[kind].append(obj.__name__ if kind == "modules" else name)
    queue = [*groups["modules"], *EXTRA_MODULES]
    modules: list[str] = []
    while queue:  # the modules named, and the modules their ``__all__`` re-exports
        modname = queue.pop(0)
        if modname in modules:
            continue
        modules.append(modname)
        module = importlib.import_module(modname)
        queue += [getattr(module, n).__name__ for n in getattr(module, "__all__", ())
                  if inspect.ismodule(getattr(module, n, None))]
    groups["modules"] = sorted(modules)
    return groups


def write_api_index(path: Path) -> Path:
    """Write the reference page to ``path`` (only when its text changes) and return it."""
    em = importlib.import_module("evalmodel")
    parts = [_INTRO.format(version=em.__version__)]
    for key, title in _GROUPS:
        names = api_groups()[key]
        if not names:
            continue
        if key == "modules":  # relative to the current module, as autosummary wants
            names = [n.removeprefix("evalmodel.") for n in names]
        parts.append(f"{title}\n{'-' * len(title)}\n\n.. currentmodule:: evalmodel\n\n")
        parts.append(".. autosummary::\n   :toctree: generated\n   :nosignatures:\n\n")
        parts.extend(f"   {n}\n" for n in names)
        parts.append("\n")
    text = "".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
