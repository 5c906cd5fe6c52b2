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

The report (:mod:`evalmodel.report`) and the command (:mod:`evalmodel.cli`) sit above the
estimators and are not imported by ``import evalmodel``: ``em.report`` and ``em.cli`` load them
on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from evalmodel import (
    breaks,
    calibrate,
    cases,
    coverage,
    data,
    datasets,
    displacement,
    inference,
    names,
)
from evalmodel._version import __version__
from evalmodel.breaks import detect_breaks, series_breaks
from evalmodel.coverage import EstimationWindow, estimation_window
from evalmodel.data.read import read_panel
from evalmodel.displacement import DisplacementTest, SpilloverResult
from evalmodel.errors import (
    DataSourceError,
    DesignError,
    EstimationError,
    EvalModelError,
    EvalModelWarning,
    PanelError,
)
from evalmodel.estimators.aggregate import AggregateResult
from evalmodel.estimators.bacon import BaconResult, bacon
from evalmodel.estimators.did import did2x2, twfe
from evalmodel.estimators.event_study import EventStudyResult, event_study
from evalmodel.estimators.multisynth import MultisynthResult, multisynth
from evalmodel.estimators.sdid import SdidResult, sdid
from evalmodel.estimators.staggered import AttGtResult, att_gt
from evalmodel.estimators.synth import SynthResult, synth
from evalmodel.inference.calibration import PlaceboStudyResult, placebo_study
from evalmodel.inference.conley_taber import ConleyTaberResult, conley_taber
from evalmodel.inference.honest import breakdown_value, honest_ci
from evalmodel.inference.permutation import (
    DiD2x2Statistic,
    PermutationResult,
    permutation_inference,
)
from evalmodel.inference.placebo import (
    PlaceboResult,
    leave_one_out,
    placebo_in_space,
    placebo_in_time,
)
from evalmodel.inference.placebo_event import PlaceboEventStudy, placebo_event_study
from evalmodel.inference.power import MDEResult, minimum_detectable_effect
from evalmodel.inference.prediction_intervals import (
    PredictionIntervalResult,
    prediction_intervals,
)
from evalmodel.inference.sensitivity import (
    PretrendResult,
    SensitivityResult,
    pretrend_test,
    sensitivity,
)
from evalmodel.inference.wild import WildBootstrapResult, wild_bootstrap
from evalmodel.names import unit_label
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Result, Summary, compare

if TYPE_CHECKING:  # pragma: no cover
    from evalmodel import cli, report

#: Submodules loaded on first attribute access: they sit on top of the layers (DESIGN.md).
_LAZY = ("cli", "report")


def __getattr__(name: str) -> ModuleType:
    """``em.report`` and ``em.cli``, imported when first used."""
    if name in _LAZY:
        return importlib.import_module(f"evalmodel.{name}")
    raise AttributeError(f"module 'evalmodel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "AggregateResult",
    "AttGtResult",
    "BaconResult",
    "ConleyTaberResult",
    "DataSourceError",
    "DesignError",
    "DiD2x2Statistic",
    "DisplacementTest",
    "EstimateResult",
    "EstimationError",
    "EstimationWindow",
    "EvalModelError",
    "EvalModelWarning",
    "EventStudyResult",
    "MDEResult",
    "MultisynthResult",
    "Panel",
    "PanelError",
    "PermutationResult",
    "PlaceboEventStudy",
    "PlaceboResult",
    "PlaceboStudyResult",
    "PredictionIntervalResult",
    "PretrendResult",
    "Result",
    "SdidResult",
    "SensitivityResult",
    "SpilloverResult",
    "Summary",
    "SynthResult",
    "WildBootstrapResult",
    "__version__",
    "att_gt",
    "bacon",
    "breakdown_value",
    "breaks",
    "calibrate",
    "cases",
    "cli",
    "compare",
    "conley_taber",
    "coverage",
    "data",
    "datasets",
    "detect_breaks",
    "did2x2",
    "displacement",
    "estimation_window",
    "event_study",
    "honest_ci",
    "inference",
    "leave_one_out",
    "minimum_detectable_effect",
    "multisynth",
    "names",
    "permutation_inference",
    "placebo_event_study",
    "placebo_in_space",
    "placebo_in_time",
    "placebo_study",
    "prediction_intervals",
    "pretrend_test",
    "read_panel",
    "report",
    "sdid",
    "sensitivity",
    "series_breaks",
    "synth",
    "twfe",
    "unit_label",
    "wild_bootstrap",
]
