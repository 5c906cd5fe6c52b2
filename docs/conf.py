"""Sphinx configuration of the evalmodel documentation (``make docs``).

Built offline with warnings as errors and ``nitpicky = True``. Two build-time steps run from
``_ext/``: the API reference page is written from ``evalmodel.__all__`` and the intersphinx
inventories of pandas, numpy, statsmodels, linearmodels, matplotlib and Python are made by
introspecting the installed packages (no download). The case studies in ``cases/`` are MyST
notebooks that myst-nb executes on every build.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(ROOT))

from apipages import write_api_index  # noqa: E402
from inventories import write_inventories  # noqa: E402

import evalmodel  # noqa: E402

# -- project -------------------------------------------------------------------------------------
project = "evalmodel"
author = "evalmodel developers"
copyright = f"{date.today().year}, {author}"
release = evalmodel.__version__
version = ".".join(release.split(".")[:2])

# -- build-time generation -----------------------------------------------------------------------
shutil.rmtree(HERE / "api" / "generated", ignore_errors=True)  # no stale pages of removed names
write_api_index(HERE / "api" / "index.rst")
intersphinx_mapping = write_inventories(HERE / "_build" / "inventories")
intersphinx_disabled_reftypes: list[str] = []
intersphinx_timeout = 1

# -- extensions ----------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "mathjax_local",  # _ext/mathjax_local.py: MathJax 3 served from _static, no network
    "numpydoc",
    "myst_nb",
    "xrefs",  # _ext/xrefs.py: links re-exported evalmodel objects by identity
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "_ext", "_templates", "**.ipynb_checkpoints", "Thumbs.db",
                    ".DS_Store", "jupyter_execute"]
templates_path = ["_templates"]
root_doc = "index"

nitpicky = True
# Terms in numpydoc type fields that are prose rather than objects.
nitpick_ignore: list[tuple[str, str]] = []

# -- autodoc / autosummary / numpydoc ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # types are documented by numpydoc in the docstrings
autodoc_member_order = "groupwise"
autodoc_default_options = {"show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"  # only link the words below; the rest stays plain text
numpydoc_xref_aliases = {
    "DataFrame": "pandas.DataFrame",
    "pandas.DataFrame": "pandas.DataFrame",
    "pd.DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
    "pandas.Series": "pandas.Series",
    "pd.Series": "pandas.Series",
    "Index": "pandas.Index",
    "Generator": "numpy.random.Generator",
    "numpy.random.Generator": "numpy.random.Generator",
    "Figure": "matplotlib.figure.Figure",
    "matplotlib.figure.Figure": "matplotlib.figure.Figure",
    "Axes": "matplotlib.axes.Axes",
    "matplotlib.axes.Axes": "matplotlib.axes.Axes",
    "Path": "pathlib.Path",
    "pathlib.Path": "pathlib.Path",
    "Mapping": "collections.abc.Mapping",
    "mapping": "collections.abc.Mapping",
    "Panel": "evalmodel.Panel",
    "EstimateResult": "evalmodel.EstimateResult",
    "Summary": "evalmodel.results.Summary",
    "Section": "evalmodel.report.Section",
    "Case": "evalmodel.cases.Case",
    "Design": "evalmodel.cases.Design",
    "PanelOLS": "linearmodels.panel.model.PanelOLS",
    # every public name, as written in a type field ("Panel", "DesignError", ...)
    **{name: f"evalmodel.{name}" for name in evalmodel.__all__ if not name.startswith("_")},
}

# -- MyST and myst-nb ----------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3
nb_execution_mode = "force"          # the case studies run on every build, on the embedded data
nb_execution_raise_on_error = True   # a failing case study fails the build
nb_execution_timeout = 600
nb_execution_show_tb = True
nb_output_stderr = "warn"            # stray output on stderr is a build warning, hence an error
nb_merge_streams = True
nb_render_image_options = {"width": "100%"}

# The case pages also show the results on the real Kolada extract named by $EVALMODEL_REAL_DATA
# (_ext/casepage.py). A relative path is made absolute here, since the pages execute in their own
# folder. The extract's path, size and time are a config value, so an incremental build re-reads
# (and re-executes) every page when the extract changes or is set or unset, and never keeps the
# results of another extract, or the note that there was none.
evalmodel_real_data = ""
if os.environ.get("EVALMODEL_REAL_DATA"):
    _real = Path(os.environ["EVALMODEL_REAL_DATA"]).resolve()
    os.environ["EVALMODEL_REAL_DATA"] = str(_real)
    if _real.is_file():
        evalmodel_real_data = f"{_real}:{_real.stat().st_size}:{_real.stat().st_mtime_ns}"


def setup(app: object) -> None:
    """Register ``evalmodel_real_data`` (a change of it rebuilds the environment)."""
    app.add_config_value("evalmodel_real_data", "", "env")  # type: ignore[attr-defined]


# -- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"evalmodel {release}"
html_static_path = ["_static"]
html_css_files = ["evalmodel.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
