"""Local intersphinx inventories, made by introspecting the installed packages.

The docs build offline (``-W``, no network), so intersphinx cannot download the ``objects.inv``
files of pandas, numpy, statsmodels, linearmodels, matplotlib and Python. Instead this module
walks the public names of the *installed* packages and writes one inventory per package into the
build folder, mapping each name to the page of the package's official documentation where it is
described (each project's URL scheme is encoded below). ``conf.py`` points
``intersphinx_mapping`` at these files, so links go to the official pages while the build reads
nothing from the network. Nothing third-party is stored in the repository.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["BASE_URLS", "write_inventories"]

#: Official documentation roots; inventory URIs are relative to these.
BASE_URLS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "statsmodels": "https://www.statsmodels.org/stable/",
    "linearmodels": "https://bashtage.github.io/linearmodels/",
    "matplotlib": "https://matplotlib.org/stable/",
}


@dataclass(frozen=True)
class Entry:
    """One inventory line: ``name domain:role priority uri dispname``."""

    name: str
    role: str  # e.g. "py:class", "py:function", "std:term"
    uri: str
    display: str = "-"


def _public(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def _role(obj: object) -> str | None:
    if inspect.ismodule(obj):
        return None
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.isroutine(obj) or callable(obj):
        return "py:function"
    return None


def _members(cls: type) -> Iterator[tuple[str, str]]:
    """Public members of a class with their role: methods and attributes/properties."""
    for name in _public(dir(cls)):
        try:
            raw = inspect.getattr_static(cls, name)
        except AttributeError:  # pragma: no cover - dynamic attributes
            continue
        if isinstance(raw, property):
            yield name, "py:attribute"
        elif isinstance(raw, classmethod | staticmethod) or inspect.isroutine(raw):
            yield name, "py:method"
        elif callable(raw):
            yield name, "py:method"
        else:
            yield name, "py:attribute"


def _namespace(module: ModuleType, names: Iterable[str],
               uri: Callable[[str], str], prefix: str) -> Iterator[Entry]:
    """Entries for ``prefix.name`` of each public class/function in ``names``."""
    for name in names:
        obj = getattr(module, name, None)
        role = _role(obj)
        if role is None:
            continue
        full = f"{prefix}.{name}"
        yield Entry(full, role, uri(full))


# -- per project -------------------------------------------------------------------------------

_STDTYPES = {"str", "list", "dict", "tuple", "set", "frozenset", "bytes", "bytearray", "range",
             "memoryview"}
_STDLIB_MODULES = ("pathlib", "typing", "collections.abc", "dataclasses", "datetime", "json",
                   "warnings", "enum", "functools", "os", "argparse", "importlib.metadata")


def python_entries() -> Iterator[Entry]:
    """Builtins, a few standard-library modules, constants and glossary terms."""
    for name in _public(dir(builtins)):
        obj = getattr(builtins, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            yield Entry(name, "py:exception", f"library/exceptions.html#{name}")
        elif inspect.isclass(obj):
            page = "stdtypes" if name in _STDTYPES else "functions"
            yield Entry(name, "py:class", f"library/{page}.html#{name}")
        elif inspect.isroutine(obj):
            yield Entry(name, "py:function", f"library/functions.html#{name}")
    for const in ("None", "True", "False", "Ellipsis", "NotImplemented"):
        yield Entry(const, "py:data", f"library/constants.html#{const}")
    for term in ("iterable", "sequence", "generator", "mapping", "callable", "iterator",
                 "path-like object", "file object", "hashable", "dictionary"):
        anchor = term.replace(" ", "-")
        yield Entry(term, "std:term", f"glossary.html#term-{anchor}", term)
    yield Entry("bltin-boolean-values", "std:label", "library/stdtypes.html#bltin-boolean-values",
                "Boolean Values")
    for modname in _STDLIB_MODULES:
        module = importlib.import_module(modname)
        page = f"library/{modname}.html"
        yield Entry(modname, "py:module", f"{page}#module-{modname}")
        names = getattr(module, "__all__", None) or dir(module)
        def uri_of(full: str, page: str = page) -> str:
            return f"{page}#{full}"

        for entry in _namespace(module, _public(names), uri_of, modname):
            yield entry
            obj = getattr(module, entry.name.rsplit(".", 1)[1])
            if inspect.isclass(obj) and modname in ("pathlib", "datetime"):
                for member, role in _members(obj):
                    full = f"{entry.name}.{member}"
                    yield Entry(full, role, f"{page}#{full}")


def numpy_entries() -> Iterator[Entry]:
    """Top-level numpy, ``ndarray`` members, ``numpy.random`` and ``numpy.typing``."""
    import numpy as np

    gen = "reference/generated"
    yield Entry("numpy", "py:module", "reference/index.html#module-numpy")
    for name in _public(np.__all__):
        obj = getattr(np, name, None)
        if isinstance(obj, np.ufunc):
            yield Entry(f"numpy.{name}", "py:data", f"{gen}/numpy.{name}.html")
        elif (role := _role(obj)) is not None:
            yield Entry(f"numpy.{name}", role, f"{gen}/numpy.{name}.html")
    for member, role in _members(np.ndarray):
        yield Entry(f"numpy.ndarray.{member}", role, f"{gen}/numpy.ndarray.{member}.html")
    for const in ("nan", "inf", "pi", "e", "newaxis"):
        yield Entry(f"numpy.{const}", "py:data", f"reference/constants.html#numpy.{const}")
    rnd = "reference/random"
    yield Entry("numpy.random", "py:module", f"{rnd}/index.html#module-numpy.random")
    for name in ("Generator", "default_rng"):
        role = "py:class" if name == "Generator" else "py:function"
        yield Entry(f"numpy.random.{name}", role, f"{rnd}/generator.html#numpy.random.{name}")
    for member, role in _members(np.random.Generator):
        yield Entry(f"numpy.random.Generator.{member}", role,
                    f"{rnd}/generated/numpy.random.Generator.{member}.html")
    yield Entry("numpy.random.RandomState", "py:class",
                f"{rnd}/legacy.html#numpy.random.RandomState")
    yield Entry("numpy.random.SeedSequence", "py:class",
                f"{rnd}/bit_generators/generated/numpy.random.SeedSequence.html")
    import numpy.typing as npt

    for name in _public(npt.__all__):
        yield Entry(f"numpy.typing.{name}", "py:data", f"reference/typing.html#numpy.typing.{name}")
    yield Entry("array_like", "std:term", "glossary.html#term-array_like", "array_like")
    yield Entry("arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars",
                "Scalars")


def pandas_entries() -> Iterator[Entry]:
    """Top-level pandas classes and functions and the members of its classes."""
    import pandas as pd

    api = "reference/api"
    yield Entry("pandas", "py:module", "reference/index.html#module-pandas")
    for name in _public(getattr(pd, "__all__", dir(pd))):
        obj = getattr(pd, name, None)
        role = _role(obj)
        if role is None:
            continue
        full = f"pandas.{name}"
        yield Entry(full, role, f"{api}/{full}.html")
        if inspect.isclass(obj):
            for member, mrole in _members(obj):
                yield Entry(f"{full}.{member}", mrole, f"{api}/{full}.{member}.html")


def statsmodels_entries() -> Iterator[Entry]:
    """Everything ``statsmodels.api`` exposes, under its canonical dotted name."""
    import statsmodels.api as sm

    yield Entry("statsmodels", "py:module", "api.html")
    seen: set[str] = set()
    for name in _public(dir(sm)):
        obj = getattr(sm, name)
        role = _role(obj)
        module = getattr(obj, "__module__", "") or ""
        if role is None or not module.startswith("statsmodels"):
            continue
        full = f"{module}.{obj.__qualname__}"
        if full in seen:
            continue
        seen.add(full)
        yield Entry(full, role, f"generated/{full}.html")
        if inspect.isclass(obj):
            for member, mrole in _members(obj):
                yield Entry(f"{full}.{member}", mrole, f"generated/{full}.{member}.html")


_LM_PANEL = ("linearmodels.panel.model", "linearmodels.panel.results",
             "linearmodels.panel.covariance", "linearmodels.panel.data")


def linearmodels_entries() -> Iterator[Entry]:
    """The panel-data part of linearmodels (what evalmodel uses), canonical and short names."""
    import linearmodels

    page = "panel/panel"
    canonical: dict[int, str] = {}
    for modname in _LM_PANEL:
        module = importlib.import_module(modname)
        yield Entry(modname, "py:module", "panel/reference.html#module-" + modname)
        for name in _public(getattr(module, "__all__", None) or dir(module)):
            obj = getattr(module, name, None)
            role = _role(obj)
            if role is None or getattr(obj, "__module__", None) != modname:
                continue
            full = f"{modname}.{name}"
            canonical[id(obj)] = full
            yield Entry(full, role, f"{page}/{full}.html")
            if inspect.isclass(obj):
                for member, mrole in _members(obj):
                    yield Entry(f"{full}.{member}", mrole, f"{page}/{full}.{member}.html")
    for name in _public(linearmodels.__all__):
        target = canonical.get(id(getattr(linearmodels, name, None)))
        if target is not None:
            yield Entry(f"linearmodels.{name}", "py:class", f"{page}/{target}.html")


def matplotlib_entries() -> Iterator[Entry]:
    """``Figure``, ``Axes`` and pyplot functions."""
    import matplotlib.axes
    import matplotlib.figure
    import matplotlib.pyplot as plt

    gen = "api/_as_gen"
    fig = "matplotlib.figure.Figure"
    yield Entry(fig, "py:class", f"{gen}/{fig}.html")
    for member, role in _members(matplotlib.figure.Figure):
        yield Entry(f"{fig}.{member}", role, f"{gen}/{fig}.html#{fig}.{member}")
    yield Entry("matplotlib.axes.Axes", "py:class", f"{gen}/matplotlib.axes.Axes.html")
    for member, role in _members(matplotlib.axes.Axes):
        full = f"matplotlib.axes.Axes.{member}"
        yield Entry(full, role, f"{gen}/{full}.html")
    for name in _public(dir(plt)):
        obj = getattr(plt, name)
        if inspect.isfunction(obj) and obj.__module__ == "matplotlib.pyplot":
            full = f"matplotlib.pyplot.{name}"
            yield Entry(full, "py:function", f"{gen}/{full}.html")


PROJECTS: dict[str, Callable[[], Iterator[Entry]]] = {
    "python": python_entries,
    "numpy": numpy_entries,
    "pandas": pandas_entries,
    "statsmodels": statsmodels_entries,
    "linearmodels": linearmodels_entries,
    "matplotlib": matplotlib_entries,
}


def _version(project: str) -> str:
    if project == "python":
        import platform

        return platform.python_version()
    return str(getattr(importlib.import_module(project), "__version__", ""))


def encode(project: str, version: str, entries: Iterable[Entry]) -> bytes:
    """The bytes of a Sphinx version-2 inventory (header, then zlib-compressed lines)."""
    seen: set[tuple[str, str]] = set()
    lines = []
    for e in entries:
        if (e.name, e.role) in seen or " " in e.uri:
            continue
        seen.add((e.name, e.role))
        lines.append(f"{e.name} {e.role} 1 {e.uri} {e.display}\n")
    header = ("# Sphinx inventory version 2\n"
              f"# Project: {project}\n"
              f"# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    return header.encode() + zlib.compress("".join(lines).encode())


def write_inventories(folder: Path) -> dict[str, tuple[str, str]]:
    """Write ``<project>.inv`` for each project into ``folder``.

    Returns
    -------
    dict
        ``{project: (base_url, inventory_path)}``, the shape ``intersphinx_mapping`` takes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for project, entries in PROJECTS.items():
        path = folder / f"{project}.inv"
        path.write_bytes(encode(project, _version(project), entries()))
        mapping[project] = (BASE_URLS[project], str(path))
    return mapping
