"""Resolve cross-references to evalmodel objects by identity, not only by the written path.

autodoc documents a re-exported function under its public name (``evalmodel.data.tidy_values``)
but only classes carry their defining path as an alias; a docstring that writes
``:func:`evalmodel.data.kolada.tidy_values``` or a short name from its own module would then be
a broken link. On ``missing-reference`` this extension imports what the reference names (from
the docstring's own module, the page's module or the class in context) and, when that object is
documented under another name, links there. A reference to an evalmodel object that exists but
is private (not in the API reference) is shown as code without a link; a reference to a name
that does not exist still warns, so typos fail the ``-W`` build.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.nodes import make_refnode

__all__ = ["setup"]

_MISSING = object()
_DOCSTRING_OF = re.compile(r"docstring of ([\w.]+)")


def import_path(path: str) -> Any:
    """The object at a dotted path (module, then attributes), or ``_MISSING``."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        except Exception:  # pragma: no cover - a module that fails on import
            return _MISSING
        for attr in parts[cut:]:
            obj = _attribute(obj, attr)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _attribute(owner: Any, name: str) -> Any:
    try:
        return inspect.getattr_static(owner, name)
    except AttributeError:
        pass
    if inspect.isclass(owner) and dataclasses.is_dataclass(owner):
        if name in {f.name for f in dataclasses.fields(owner)}:
            return ("dataclass field", owner, name)
    return _MISSING


def _key(obj: Any) -> int | None:
    """Identity key for objects worth linking by identity (not plain data)."""
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj) \
            or isinstance(obj, property):
        return id(obj)
    return None


def _documented(env: BuildEnvironment) -> dict[int, tuple[str, str, str]]:
    """``id(object) -> (docname, node_id, fullname)`` of everything the py domain documents."""
    cache = getattr(env, "_evalmodel_by_identity", None)
    domain = env.get_domain("py")
    objects = domain.objects  # type: ignore[attr-defined]
    if cache is not None and cache[0] == len(objects):
        return cache[1]
    table: dict[int, tuple[str, str, str]] = {}
    for fullname, entry in objects.items():
        if not fullname.startswith("evalmodel") or entry.aliased:
            continue
        key = _key(import_path(fullname))
        if key is not None:
            table.setdefault(key, (entry.docname, entry.node_id, fullname))
    env._evalmodel_by_identity = (len(objects), table)  # type: ignore[attr-defined]
    return table


def _candidates(node: pending_xref) -> list[str]:
    """Dotted paths the reference may mean, most specific context first."""
    target = node["reftarget"].lstrip("~.")
    module = node.get("py:module") or ""
    cls = node.get("py:class") or ""
    paths = [target]
    scopes = []
    match = _DOCSTRING_OF.search(str(node.source or ""))
    if match:
        owner = import_path(match.group(1))
        home = getattr(owner, "__module__", None)
        if inspect.ismodule(owner):
            home = owner.__name__
        if home:
            scopes.append(home)
        if inspect.isclass(owner):
            scopes.append(f"{owner.__module__}.{owner.__qualname__}")
    if module and cls:
        scopes.append(f"{module}.{cls}")
        context = import_path(f"{module}.{cls}")
        if inspect.isclass(context):
            scopes += [f"{context.__module__}.{context.__qualname__}", context.__module__]
    if module:
        scopes.append(module)
    # Last, any loaded evalmodel module that defines the first part of the name (a class that a
    # docstring names but its module imports only for type checking).
    first = target.split(".", 1)[0]
    scopes += [name for name, mod in sorted(sys.modules.items())
               if name.startswith("evalmodel") and mod is not None
               and getattr(getattr(mod, first, None), "__module__", None) == name]
    paths += [f"{scope}.{target}" for scope in scopes]
    return list(dict.fromkeys(paths))


def resolve(app: Sphinx, env: BuildEnvironment, node: pending_xref,
            contnode: nodes.TextElement) -> nodes.Element | None:
    """The ``missing-reference`` handler (see the module docstring)."""
    if node.get("refdomain") != "py":
        return None
    documented = _documented(env)
    for path in _candidates(node):
        obj = import_path(path)
        if obj is _MISSING:
            continue
        key = _key(obj)
        if key is not None and key in documented:
            docname, node_id, fullname = documented[key]
            return make_refnode(app.builder, node["refdoc"], docname, node_id, contnode,
                                fullname)
        if path.startswith("evalmodel") or getattr(obj, "__module__", "").startswith(
                "evalmodel"):
            return contnode  # exists, but private: plain code, no link
    return _unique_suffix(app, env, node, contnode)


def _unique_suffix(app: Sphinx, env: BuildEnvironment, node: pending_xref,
                   contnode: nodes.TextElement) -> nodes.Element | None:
    """Link a short name to the one documented evalmodel object whose name ends with it."""
    target = node["reftarget"].lstrip("~.")
    objects = env.get_domain("py").objects  # type: ignore[attr-defined]
    hits = {fullname: entry for fullname, entry in objects.items()
            if fullname.startswith("evalmodel.") and fullname.endswith(f".{target}")
            and not entry.aliased}
    if not hits:
        return None
    identities = {_key(import_path(name)) or name for name in hits}
    if len(identities) != 1:
        return None  # ambiguous: let Sphinx warn
    fullname = min(hits, key=len)
    entry = hits[fullname]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode,
                        fullname)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the handler; it runs after intersphinx has had its chance."""
    app.connect("missing-reference", resolve, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
