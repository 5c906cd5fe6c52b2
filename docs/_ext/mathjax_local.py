"""Serve MathJax 3 from the site's ``_static`` folder, so pages render maths with no network.

The MathJax files come from the installed ``sphinx-mathjax-offline`` package (the docs extra);
this extension only points ``mathjax_path`` at them and copies them into the build, like that
package's own setup, while declaring itself safe for parallel builds (``sphinx-build -j``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util.fileutil import copy_asset

__all__ = ["setup"]


def mathjax_folder() -> Path:
    """The ``static/mathjax`` folder of the installed sphinx-mathjax-offline package."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("sphinx-mathjax-offline is not installed: pip install -e '.[docs]'")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def _copy(app: Sphinx, exc: BaseException | None) -> None:
    if exc is None and app.builder.format == "html":
        copy_asset(str(mathjax_folder()), str(Path(app.outdir) / "_static" / "mathjax"))


def setup(app: Sphinx) -> dict[str, Any]:
    """Set ``mathjax_path`` to the local copy and copy it when the build finishes."""
    mathjax_folder()  # fail early and clearly when the package is missing
    app.config.mathjax_path = "mathjax/tex-chtml.js"
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
