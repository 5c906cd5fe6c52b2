"""evalmodel: did the municipal models for reducing social assistance work?

Difference-in-differences, panel regressions, synthetic control, synthetic DiD and design-based
inference for evaluating local policies with panel data.

Examples
--------
>>> import evalmodel as em
>>> panel = em.datasets.simulated()
>>> case = em.cases.get("trelleborg")
>>> design = case.design(panel)
>>> result = em.twfe(design.panel, "N31807")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from evalmodel import cases, cli, data, datasets, displacement, report
from evalmodel.errors import (
    DataSourceError,
    DesignError,
    EstimationError,
    EvalModelError,
    EvalModelWarning,
    PanelError,
)
from evalmodel.estimators.did import did2x2, twfe
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult

# -- staggered DiD (estimators/staggered.py, event_study.py, bacon.py) --
# -- synthetic control and synthetic DiD (estimators/synth.py, sdid.py) --
# -- inference (inference/) --

try:
    __version__ = version("evalmodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "DataSourceError",
    "DesignError",
    "EstimateResult",
    "EstimationError",
    "EvalModelError",
    "EvalModelWarning",
    "Panel",
    "PanelError",
    "__version__",
    "cases",
    "cli",
    "data",
    "datasets",
    "did2x2",
    "displacement",
    "report",
    "twfe",
]
