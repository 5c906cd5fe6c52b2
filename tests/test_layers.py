"""Imports point down (DESIGN.md, layout; issue 13, part 5).

Every module of ``evalmodel`` has a place in :data:`LAYERS`, and no import (at module level,
inside a function or under ``TYPE_CHECKING``) reaches a module of a higher layer. The one
exception is the one DESIGN.md makes: a result's ``.plot()`` may import ``evalmodel.plotting``
inside the method. Modules of the same layer may import each other.

Why each module sits where it does:

- ``errors``, ``kpis``, ``known_breaks`` (Kolada's announced revisions) and ``_version``
  import nothing from evalmodel; ``vocabulary`` (the option types and their checks) imports
  only ``errors`` and ``months`` (a period may be written as a month);
- ``core`` holds the numerical kernels that estimators and inference share (solvers, two-way
  least squares, cluster sums, test inversion, numba) and imports only ``errors`` and
  ``vocabulary``;
- ``panel`` and ``results`` are the two interfaces: the data an estimator takes and the object
  it returns; ``frames`` (polars, pyarrow and duckdb input read for the panel) sits with them;
- ``breaks`` and ``coverage`` read a panel;
- ``names`` sits with ``data``: it prefers the cache's fresher municipality list
  (``data.cache``), and the readers label units with it;
- ``inference`` sits below ``estimators``: an estimator may call a test, a test never imports an
  estimator (where it must re-fit, the estimator's result passes the call, e.g.
  ``SynthResult.refit``);
- ``displacement`` composes estimators, ``plotting`` draws every result, the ``report`` writes
  them, and the command (``cli``) and the package's top-level namespace sit on top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import evalmodel

PACKAGE = Path(evalmodel.__file__).parent

#: Layers from the bottom up; a module belongs to the layer of its longest matching prefix
#: (``evalmodel``, the top-level namespace, matches only itself, so a new module needs a place).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("evalmodel.errors", "evalmodel.kpis", "evalmodel.known_breaks",
                    "evalmodel._version", "evalmodel.vocabulary", "evalmodel.solver_options",
                    "evalmodel.months")),
    ("core", ("evalmodel.core",)),
    ("interfaces", ("evalmodel.panel", "evalmodel.panel_columns", "evalmodel.panel_periods",
                    "evalmodel.panel_checks", "evalmodel.panel_blocks", "evalmodel.panel_edits",
                    "evalmodel.panel_months",
                    "evalmodel.results", "evalmodel.results_table",
                    "evalmodel.frames")),
    ("panel tools", ("evalmodel.breaks", "evalmodel.coverage")),
    ("data", ("evalmodel.data", "evalmodel.names", "evalmodel.datasets")),
    ("cases", ("evalmodel.cases",)),
    ("inference", ("evalmodel.inference",)),
    ("estimators", ("evalmodel.estimators",)),
    ("displacement", ("evalmodel.displacement", "evalmodel.calibrate")),
    ("plotting", ("evalmodel.plotting",)),
    ("report", ("evalmodel.report",)),
    ("command", ("evalmodel.cli", "evalmodel.cli_data", "evalmodel.__main__", "evalmodel")),
)

#: What the core may import besides itself.
CORE_MAY_IMPORT = ("evalmodel.errors", "evalmodel.vocabulary", "evalmodel.months")

#: Imported lazily by a result's ``plot`` method (DESIGN.md: "a result's .plot() may import
#: plotting lazily").
LAZY_PLOTTING = "evalmodel.plotting"


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of the layer holding ``module`` (None if it has no place)."""
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            hit = module == p if "." not in p else _matches(module, p)
            if hit and (best is None or len(p) > best[0]):
                best = (len(p), i)
    return None if best is None else best[1]


def module_name(path: Path, root: Path) -> str:
    """Dotted name of the module at ``path`` in the package whose folder is ``root``."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool, root: Path) -> list[str]:
    """The modules an ``from ... import ...`` statement loads (submodules where named)."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        rel = Path(*sub.split(".")[1:])
        is_sub = (root / rel).is_dir() or (root / rel).with_suffix(".py").is_file()
        out.append(sub if is_sub else target)
    return out


def imports(path: Path, root: Path) -> Iterator[tuple[int, str, str | None]]:
    """``(line, imported module, enclosing function or None)`` for every evalmodel import."""
    module = module_name(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = root.name

    def walk(node: ast.AST, function: str | None) -> Iterator[tuple[int, str, str | None]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if _matches(alias.name, package):
                        yield child.lineno, alias.name, function
            elif isinstance(child, ast.ImportFrom):
                for target in _resolve(child, module, is_package, root):
                    if _matches(target, package):
                        yield child.lineno, target, function
            inner = (child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                     else function)
            yield from walk(child, inner)

    yield from walk(tree, None)


def layer_violations(root: Path) -> list[str]:
    """Every import of the package at ``root`` that points up, and every module without a
    layer, as ``"module:line: message"``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        here = layer_of(module)
        if here is None:
            out.append(f"{module}: has no layer in LAYERS; add it to the table")
            continue
        for line, target, function in imports(path, root):
            there = layer_of(target)
            if there is None:
                out.append(f"{module}:{line}: imports {target}, which has no layer")
            elif _matches(target, LAZY_PLOTTING) and function == "plot":
                continue
            elif there > here:
                out.append(f"{module}:{line}: imports {target} ({LAYERS[there][0]}) from the "
                           f"lower layer {LAYERS[here][0]}")
            elif LAYERS[here][0] == "core" and there != here and not any(
                    _matches(target, p) for p in CORE_MAY_IMPORT):
                out.append(f"{module}:{line}: the core imports {target}; it may import only "
                           f"{list(CORE_MAY_IMPORT)}")
    return out


def test_imports_point_down() -> None:
    assert layer_violations(PACKAGE) == []


def test_inference_never_imports_an_estimator() -> None:
    inference, estimators = layer_of("evalmodel.inference"), layer_of("evalmodel.estimators")
    assert inference is not None and estimators is not None and inference < estimators
    found = [f"{module_name(p, PACKAGE)}:{line} -> {target}"
             for p in sorted((PACKAGE / "inference").rglob("*.py"))
             for line, target, _ in imports(p, PACKAGE)
             if _matches(target, "evalmodel.estimators")]
    assert found == []


def test_import_evalmodel_loads_neither_cli_nor_report() -> None:
    code = ("import sys, evalmodel; "
            "loaded = [m for m in ('evalmodel.cli', 'evalmodel.cli_data', 'evalmodel.report', "
            "'evalmodel.plotting') if m in sys.modules]; "
            "assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_report_and_cli_load_on_first_use() -> None:
    assert evalmodel.report.Section.__name__ == "Section"
    assert callable(evalmodel.cli.case_script)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        evalmodel.nonexistent  # noqa: B018


def _plant(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checker_finds_planted_violations(tmp_path: Path) -> None:
    root = tmp_path / "evalmodel"
    _plant(root, {
        "__init__.py": "from evalmodel import cli\nfrom evalmodel.estimators.synth import synth\n",
        "errors.py": "",
        "cli.py": "from evalmodel.report.runner import run_report\n",
        "core/__init__.py": "",
        "core/solver.py": ("from evalmodel.errors import E\nfrom evalmodel.panel import Panel\n"
                           "from evalmodel.kpis import KPI_LABELS\n"),
        "panel.py": "from evalmodel.errors import E\n",
        "plotting/__init__.py": "",
        "plotting/synth.py": "from evalmodel.estimators.synth import SynthResult\n",
        "report/__init__.py": "",
        "report/runner.py": ("def case_script():\n    from evalmodel.cli import main\n"
                             "def run_report():\n    from evalmodel import __version__\n"),
        "inference/__init__.py": "",
        "inference/placebo.py": (
            "from typing import TYPE_CHECKING\n"
            "from ..core import solver\n"
            "if TYPE_CHECKING:\n    from evalmodel.estimators.synth import SynthResult\n"
            "def _rerun():\n    from evalmodel.estimators import synth\n"),
        "estimators/__init__.py": "",
        "estimators/synth.py": (
            "from evalmodel.inference.placebo import placebo_in_space\n"
            "class SynthResult:\n"
            "    def plot(self):\n        from evalmodel.plotting.synth import paths_plot\n"
            "    def table(self):\n        from evalmodel.plotting.synth import paths_plot\n"),
        "stray.py": "import evalmodel.errors\n",
    })
    found = layer_violations(root)
    flagged = sorted(v.split(": ")[0] for v in found)
    assert flagged == [
        "evalmodel.core.solver:2",          # the core imports the panel (above it)
        "evalmodel.core.solver:3",          # ... or anything but errors
        "evalmodel.estimators.synth:6",     # plotting outside a plot method
        "evalmodel.inference.placebo:4",    # TYPE_CHECKING import of an estimator
        "evalmodel.inference.placebo:6",    # lazy import of an estimator
        "evalmodel.report.runner:2",        # the report imports the CLI
        "evalmodel.report.runner:4",        # ... or the package's top-level namespace
        "evalmodel.stray",                  # a module without a layer
    ], found
    assert "the core imports evalmodel.kpis" in " ".join(found)
