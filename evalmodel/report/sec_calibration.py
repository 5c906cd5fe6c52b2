"""The report section on calibration: each method's size and power on the case's own data.

Every method of the triangulation table is run, with its default inference, on fake adoptions:
a number of the case's comparison units, drawn with the report's seed, each in turn made the one
treated unit in the case's adoption year and estimated against the rest of the pool
(:func:`~evalmodel.inference.calibration.placebo_study`). No effect is planted, so the share of
rejections at the report's level is the method's size on these data, and the share of intervals
holding 0 its coverage. Power is read from the same placebo units' intervals
(:meth:`~evalmodel.inference.calibration.PlaceboStudyResult.power_at`): the share that would
detect an effect the size of the method's own estimate, and the smallest effect in the
estimate's direction detected in 80 % of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd

from evalmodel import calibrate
from evalmodel.cases import Design
from evalmodel.errors import EvalModelError, EvalModelWarning
from evalmodel.inference.calibration import PlaceboStudyResult, placebo_study
from evalmodel.report.estimates import event_window
from evalmodel.report.section import Section
from evalmodel.report.settings import CALIBRATION_UNITS, CONF_LEVEL, DID_WINDOW, N_DRAWS, SEED

__all__ = ["CALIBRATION_UNITS", "DETECT_POWER", "build_calibration_section", "calibration_rows",
           "calibration_units", "check_calibration_units", "current_calibration_units",
           "estimates_by_method", "method_names", "rows_from_studies", "run_studies",
           "section_from_studies"]

#: The power at which the detectable effect is reported.
DETECT_POWER = 0.8

_UNITS: ContextVar[int] = ContextVar("calibration_units", default=CALIBRATION_UNITS)


def check_calibration_units(fn: str, n: Any) -> int:
    """``n`` as a number of placebo units of the calibration section: a whole number, at
    least 0 (0 leaves the section out).

    Raises
    ------
    EvalModelError
        For a bool, a non-integer or a negative number, naming ``fn``.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise EvalModelError(
            f"{fn}: calibration_units={n!r} must be a whole number of placebo units, at least "
            f"0: {CALIBRATION_UNITS} (the default), fewer for a quicker and less precise study "
            "(the Monte Carlo s.e. of a size at 5 % is about 0.22 / sqrt(units)), or 0 to "
            "leave the calibration section out.")
    return int(n)


def current_calibration_units() -> int:
    """The placebo units of the calibration section in this context
    (:data:`CALIBRATION_UNITS` unless a :func:`calibration_units` block says otherwise)."""
    return _UNITS.get()


@contextmanager
def calibration_units(n: int) -> Iterator[None]:
    """Within the block, :func:`~evalmodel.report.standard.standard_sections` gives every
    case's calibration section ``n`` placebo units per method, or leaves the section out when
    ``n`` is 0 (the report command's ``--calibration-units``; study scripts that call
    ``standard_sections`` follow it too)."""
    token = _UNITS.set(check_calibration_units("calibration_units", n))
    try:
        yield
    finally:
        _UNITS.reset(token)


def _methods(design: Design) -> dict[str, calibrate.Adapter]:
    """The triangulation's methods (by the start of their names there) as placebo-study
    adapters, with the report's options and each method's default inference."""
    pre, post = list(design.pre_periods), list(design.post_periods)
    window = event_window(design)
    return {
        "2x2": calibrate.did2x2(pre=pre[-DID_WINDOW[0]:], post=post[:DID_WINDOW[1]]),
        "TWFE, all periods": calibrate.twfe(),
        "Callaway-Sant'Anna, simple ATT": calibrate.att_gt("simple"),
        "Sun-Abraham event study, mean post effect": calibrate.event_study(
            "sun_abraham", window=window),
        "imputation (BJS), mean post effect": calibrate.event_study("imputation",
                                                                    window=window),
        "synthetic control": calibrate.synth(),
        "synthetic DiD": calibrate.sdid(seed=SEED, n_draws=N_DRAWS),
    }


def method_names(design: Design) -> list[str]:
    """The methods of the calibration section of ``design``, in the section's order."""
    return list(_methods(design))


def estimates_by_method(triangulation: pd.DataFrame, outcome: str) -> dict[str, float]:
    """Each calibrated method's estimate of ``outcome`` in the triangulation table (a method
    matches a row whose name is the method's, or starts with it and a colon)."""
    rows = triangulation[triangulation["outcome"] == outcome]
    out: dict[str, float] = {}
    for name in ("2x2", "TWFE, all periods", "Callaway-Sant'Anna, simple ATT",
                 "Sun-Abraham event study, mean post effect",
                 "imputation (BJS), mean post effect", "synthetic control", "synthetic DiD"):
        hit = rows[(rows["method"] == name) | rows["method"].astype(str).str.startswith(
            f"{name}:")]
        if len(hit) and "estimate" in hit and pd.notna(hit["estimate"].iloc[0]):
            out[name] = float(hit["estimate"].iloc[0])
    return out


def _row(method: str, study: PlaceboStudyResult, estimate: float) -> dict[str, Any]:
    direction = int(np.sign(estimate)) if np.isfinite(estimate) and estimate != 0 else -1
    power = study.power_at(estimate) if np.isfinite(estimate) else float("nan")
    return {
        "method": method,
        "estimate": estimate,
        "size": study.size,
        "size_mc_se": study.rejection_se,
        "coverage": study.coverage,
        "power_at_estimate": power,
        "detectable_effect": study.detectable_effect(DETECT_POWER, direction=direction),
        "n_placebo": study.n,
        "n_failed": study.n_failed,
    }


#: One method's placebo study, or the note saying why it has none.
Study = tuple[str, PlaceboStudyResult | str]


def run_studies(design: Design, outcome: str, *, seed: int = SEED,
                conf_level: float = CONF_LEVEL, n_units: int = CALIBRATION_UNITS,
                methods: Mapping[str, Callable[..., Any]] | None = None,
                only: Sequence[str] | None = None, n_jobs: int = 1) -> list[Study]:
    """Each method's placebo study on ``design`` (the work of :func:`calibration_rows`, before
    the estimates enter), in the order of ``methods``.

    ``only`` keeps the methods of that list (in the order of ``methods``): the report runs a
    case's studies as several tasks and joins them in order. A method whose study raises an
    :class:`~evalmodel.errors.EvalModelError` gives, in place of its study, the note
    ``"<method>: no placebo study (<error>)"``. The other parameters are those of
    :func:`calibration_rows`.
    """
    out: list[Study] = []
    for method, adapter in (methods or _methods(design)).items():
        if only is not None and method not in only:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EvalModelWarning)
                study = placebo_study(design.panel, outcome, adapter, pool=design.comparison,
                                      adoption=design.adoption, conf_level=conf_level,
                                      n_units=n_units, seed=seed, n_jobs=n_jobs)
        except EvalModelError as exc:
            out.append((method, f"{method}: no placebo study ({exc})"))
            continue
        out.append((method, study))
    return out


def rows_from_studies(studies: Sequence[Study], estimates: Mapping[str, float]
                      ) -> tuple[pd.DataFrame, list[str]]:
    """The table and notes of :func:`calibration_rows` from studies already run
    (:func:`run_studies`) and each method's estimate."""
    rows = [_row(method, study, float(estimates.get(method, float("nan"))))
            for method, study in studies if not isinstance(study, str)]
    return pd.DataFrame(rows), [study for _, study in studies if isinstance(study, str)]


def calibration_rows(design: Design, outcome: str, estimates: Mapping[str, float], *,
                     seed: int = SEED, conf_level: float = CONF_LEVEL,
                     n_units: int = CALIBRATION_UNITS,
                     methods: Mapping[str, Callable[..., Any]] | None = None,
                     n_jobs: int = 1) -> tuple[pd.DataFrame, list[str]]:
    """One row per method: size, coverage, power at the method's estimate, detectable effect.

    Parameters
    ----------
    design : Design
        The case's design (its comparison pool and adoption year are used).
    outcome : str
        The outcome.
    estimates : mapping
        Each method's estimate on the real treated unit (by the triangulation's method name);
        a method without one gets no power at its estimate.
    seed : int
        Seed of the draw of placebo units.
    conf_level : float
        Level of the tests (size is the rejection rate at ``1 - conf_level``).
    n_units : int
        Placebo units per method.
    methods : mapping, optional
        Method name to placebo-study adapter (default: the triangulation's methods).
    n_jobs : int
        Workers for the placebo fits (1, the default: this process, as in the report, which
        spreads its cases and their studies instead; -1: every core); the numbers do not
        depend on it.

    Returns
    -------
    (DataFrame, list of str)
        The table and notes (methods whose study failed, with the reason).
    """
    return rows_from_studies(run_studies(design, outcome, seed=seed, conf_level=conf_level,
                                         n_units=n_units, methods=methods, n_jobs=n_jobs),
                             estimates)


def build_calibration_section(design: Design, outcome: str, estimates: Mapping[str, float], *,
                              seed: int = SEED, conf_level: float = CONF_LEVEL,
                              n_units: int = CALIBRATION_UNITS) -> Section:
    """The calibration section of one outcome (see the module notes)."""
    studies = run_studies(design, outcome, seed=seed, conf_level=conf_level, n_units=n_units)
    return section_from_studies(outcome, design.adoption, studies, estimates, seed=seed,
                                conf_level=conf_level)


def section_from_studies(outcome: str, adoption: int, studies: Sequence[Study],
                         estimates: Mapping[str, float], *, seed: int = SEED,
                         conf_level: float = CONF_LEVEL) -> Section:
    """The calibration section of ``outcome`` from its placebo studies (:func:`run_studies`
    with ``seed`` and ``conf_level``, fake adoptions in ``adoption``) and each method's
    estimate: :func:`build_calibration_section` once the studies are run."""
    table, notes = rows_from_studies(studies, estimates)
    alpha = 1 - conf_level
    n = int(table["n_placebo"].max()) if len(table) else 0
    se = float(np.sqrt(alpha * (1 - alpha) / n)) if n else float("nan")
    lead = (
        f"Each method, with the inference it reports, run on {n} fake adoptions in "
        f"{adoption}: comparison units drawn with seed {seed}, each made the treated "
        f"unit against the rest of the pool. A valid test rejects in about {alpha:.0%} of them "
        f"(Monte Carlo s.e. about {se:.1%} with {n} units); 'power_at_estimate' is the share "
        "that would detect an effect the size of the method's own estimate, and "
        f"'detectable_effect' the smallest effect in its direction detected in "
        f"{DETECT_POWER:.0%} of them, both read from the placebo intervals. Where a method's "
        "test is an exact permutation over this same pool, a size near the level holds by "
        "construction; there the power and the detectable effect are the informative numbers."
    )
    bad = table[(table["size"] - alpha).abs() > 2 * se + 0.025] if len(table) else table
    flags = [f"{r.method}: size {r.size:.2f} on these data, far from {alpha:.2f}; its p-value "
             "and interval should be read with care." for r in bad.itertuples()]
    return Section(key=f"calibration_{outcome}", title=f"Size and power on these data: {outcome}",
                   tables=(("calibration", table),), notes=(lead, *flags, *notes))
