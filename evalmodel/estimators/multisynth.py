"""Staggered synthetic control: partially pooled weights (Ben-Michael, Feller and Rothstein 2022).

Each treated unit, adopting in its own period (the panel's cohort role), gets a synthetic control
from its donors: the never-treated units and, with ``control_group="not_yet"``, the units first
treated after the unit's effect window. The weights of all treated units are chosen together
(:mod:`evalmodel.core.multisynth_solver`): ``nu`` trades the imbalance of the average of the
synthetic controls (pooled) against the units' own imbalances (separate), and by default takes
the authors' heuristic value. ``fixedeff=True`` first removes each unit's pre-adoption mean (the
"intercept shift"), so the synthetic control matches changes rather than levels.

The result has the pooled effect by event time (the mean of the units' effects), each unit's
effect by event time, and the headline ``average``: the mean over treated units of each unit's
mean post-adoption effect (augsynth's "Average ATT").

**Inference.** ``inference="auto"`` is design-based (placebos in space) with fewer than
``MIN_TREATED_CLUSTERS`` (5) treated units, else the leave-one-unit-out jackknife of augsynth.
A placebo draws as many never-treated units as there are treated units, gives them the treated
units' adoption periods (one each, in order), and re-estimates everything (``nu`` included)
without the real treated units among the donors. Each row's p-value is the rank of its
absolute estimate among the placebos' and its interval inverts that test for a constant shift of
the row's effect (a shift moves the estimate one for one and no placebo), so the interval
excludes 0 exactly when ``p_value <= 1 - conf_level``; ``std_error`` is the placebo
estimates' standard deviation.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.core.inversion import invert_linear_permutation, rank_p_values
from evalmodel.core.multisynth_solver import NEVER_INDEX, StaggeredFit, fit_staggered
from evalmodel.errors import EstimationError, RowsDroppedWarning
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.panel import NEVER, Panel
from evalmodel.results import EstimateResult, Sample, inference_table
from evalmodel.vocabulary import (
    ControlGroup,
    MultisynthInference,
    check_conf_level,
    check_draws,
    check_option,
    check_seed,
)

__all__ = ["MultisynthResult", "multisynth"]


@dataclass(frozen=True)
class MultisynthResult(EstimateResult):
    """Result of :func:`multisynth`.

    Attributes
    ----------
    nu : float
        The weight of the pooled imbalance used.
    weights : pandas.DataFrame
        Donors x treated units: each treated unit's synthetic-control weights (0 where a unit
        is not its donor).
    imbalance : pandas.DataFrame
        Event time (pre-adoption lags) x treated units, plus the column ``pooled``: treated
        minus synthetic outcome before adoption.
    pooled_l2, separate_l2 : float
        ``||sum_j e_j||`` and ``sum_j ||e_j||`` of the pre-adoption imbalances ``e_j``.
    adoption : pandas.Series
        First treated period by treated unit.
    replicates : ndarray or None
        The placebo or jackknife statistics behind the inference (one row per replicate).
    """

    nu: float = float("nan")
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    imbalance: pd.DataFrame = field(default_factory=pd.DataFrame)
    pooled_l2: float = float("nan")
    separate_l2: float = float("nan")
    adoption: pd.Series = field(default_factory=pd.Series)
    replicates: np.ndarray | None = None

    def effects(self, unit: str = "pooled") -> pd.DataFrame:
        """The rows of :attr:`table` of one treated unit (or ``"pooled"``), by event time."""
        t = self.table
        return t[(t["unit"] == unit) & t["event_time"].notna()].reset_index(drop=True)


def _check(nu: Any, penalty: Any, n_lags: Any, n_leads: Any, control_group: Any,
           inference: Any, n_draws: Any, seed: Any, conf_level: Any) -> None:
    fn = "multisynth"
    if not (nu == "auto" or (isinstance(nu, int | float) and not isinstance(nu, bool)
                             and 0.0 <= float(nu) <= 1.0)):
        raise EstimationError(f"{fn}: nu={nu!r} must be a number in [0, 1] (0: a separate "
                              "synthetic control per unit, 1: only the average balanced) or "
                              "'auto' for Ben-Michael, Feller and Rothstein's heuristic.")
    if not isinstance(penalty, int | float) or isinstance(penalty, bool) or penalty < 0:
        raise EstimationError(f"{fn}: penalty={penalty!r} must be a non-negative number (the "
                              "ridge penalty on the weights; 0 as in augsynth).")
    for name, v in (("n_lags", n_lags), ("n_leads", n_leads)):
        if v is not None and (not isinstance(v, int | np.integer) or isinstance(v, bool)
                              or v < 1):
            raise EstimationError(f"{fn}: {name}={v!r} must be a positive whole number of "
                                  f"periods, or None for all of them.")
    check_option(fn, "control_group", control_group, ControlGroup)
    check_option(fn, "inference", inference, MultisynthInference)
    check_draws(fn, n_draws)
    check_seed(fn, seed)
    check_conf_level(fn, conf_level)


def _outcome_matrix(panel: Panel, outcome: str) -> pd.DataFrame:
    if outcome not in panel.outcomes:
        raise EstimationError(f"multisynth: outcome {outcome!r} is not in the panel; its "
                              f"variables are {panel.outcomes[:10]}.")
    if panel.cohort is None:
        raise EstimationError(
            "multisynth: the panel has no cohort role, so the adoption periods are unknown; "
            "build it with Panel(..., cohort='first_treated') or use "
            "panel.with_cohorts({unit: period}).")
    return panel.wide(outcome).reindex(index=panel.units, columns=panel.periods)


def _design(panel: Panel, y: pd.DataFrame, n_lags: int | None, n_leads: int | None
            ) -> tuple[np.ndarray, list[int], np.ndarray, int, int, list[str]]:
    """Cohort indices, treated rows, excluded donor rows, lags, leads and notes."""
    periods = [int(t) for t in panel.periods]
    cohorts = panel.cohorts().reindex(y.index).to_numpy()
    index = {t: i for i, t in enumerate(periods)}
    cohort = np.array([NEVER_INDEX if c == NEVER or c not in index else index[int(c)]
                       for c in cohorts])
    notes: list[str] = []
    first = cohort == 0
    if first.any():
        units = list(y.index[first])
        msg = (f"{len(units)} unit(s) treated from the first period ({units[:5]}) left out: "
               "no pre-adoption period to match")
        warnings.warn(f"multisynth: {msg}.", RowsDroppedWarning, stacklevel=3)
        notes.append(msg)
    treated = [int(i) for i in np.flatnonzero(cohort >= 1)]
    if not treated:
        raise EstimationError("multisynth: no treated unit with a pre-adoption period; the "
                              "panel's cohort role marks none adopting after its first period.")
    values = y.to_numpy(dtype=float)
    for j in treated:
        bad = np.flatnonzero(~np.isfinite(values[j]))
        if bad.size:
            raise EstimationError(
                f"multisynth: treated unit {y.index[j]!r} has no {y.columns.name or 'value'} "
                f"for period {periods[bad[0]]} ({bad.size} missing); select periods it covers "
                "(panel.select(periods=...)) or fill the gap first.")
    excluded = first | ~np.isfinite(values).all(axis=1)
    holes = np.flatnonzero(excluded & ~first & (cohort != 0))
    holes = np.setdiff1d(holes, treated)
    if holes.size:
        units = list(y.index[holes])
        msg = (f"{holes.size} comparison unit(s) with missing outcome values left out of the "
               f"donor pools ({units[:5]}{' ...' if holes.size > 5 else ''})")
        warnings.warn(f"multisynth: {msg}.", RowsDroppedWarning, stacklevel=3)
        notes.append(msg)
    starts = cohort[treated]
    lags = int(starts.max()) if n_lags is None else int(n_lags)
    leads = len(periods) - int(starts.min()) if n_leads is None else int(n_leads)
    return cohort, treated, excluded, lags, leads, notes


def _placebo(values: np.ndarray, cohort: np.ndarray, treated: list[int], excluded: np.ndarray,
             kw: dict[str, Any], n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Statistics of placebo assignments: the treated units' adoption periods given to drawn
    never-treated units, the real treated units kept out of the donor pools."""
    pool = np.flatnonzero((cohort == NEVER_INDEX) & ~excluded)
    if pool.size < len(treated) + 2:
        raise EstimationError(
            f"multisynth: placebo inference needs at least {len(treated) + 2} never-treated "
            f"units with complete outcomes; the panel has {pool.size}. Use inference='jackknife' "
            "or 'none'.")
    out = []
    for _ in range(n_draws):
        fake = rng.choice(pool, size=len(treated), replace=False)
        c = cohort.copy()
        c[fake] = cohort[treated]
        ex = excluded.copy()
        ex[treated] = True
        fit = fit_staggered(values, c, list(fake), excluded=ex, **kw)
        out.append(fit.statistics())
    return np.vstack(out)


def _jackknife(values: np.ndarray, cohort: np.ndarray, treated: list[int], excluded: np.ndarray,
               kw: dict[str, Any], fit: StaggeredFit) -> tuple[np.ndarray, int]:
    """Leave-one-unit-out statistics over the treated units and all donors (a donor without
    weight leaves the estimate unchanged, so only those with weight are re-fitted)."""
    used = set(treated)
    weighted: set[int] = set()
    for rows, w in zip(fit.donors, fit.weights, strict=True):
        used.update(int(r) for r in rows)
        weighted.update(int(r) for r in rows[w > 1e-10])
    base = fit.statistics()
    reps = []
    for i in sorted(used):
        if i not in weighted and i not in treated:
            reps.append(base)
            continue
        ex = excluded.copy()
        ex[i] = True
        keep = [j for j in treated if j != i]
        if not keep:
            continue
        f = fit_staggered(values, cohort, keep, excluded=ex, **kw)
        stat = np.full(base.size, np.nan)
        e_idx = np.searchsorted(fit.event_times, f.event_times)
        stat[0] = f.overall
        stat[1 + e_idx] = f.pooled
        for r, j in enumerate(keep):
            pos = treated.index(j)
            start = 1 + fit.event_times.size * (1 + pos)
            stat[start + e_idx] = f.unit_effects[r]
        reps.append(stat)
    return np.vstack(reps), len(used)


def _index(fit: StaggeredFit, units: list[str]) -> dict[str, list[Any]]:
    e = [int(k) for k in fit.event_times]
    rows_unit = ["pooled"] + ["pooled"] * len(e) + [u for u in units for _ in e]
    rows_e: list[Any] = [pd.NA, *e, *(e * len(units))]
    terms = ["average", *(f"pooled e{k:+d}" for k in e),
             *(f"{u} e{k:+d}" for u in units for k in e)]
    return {"term": terms, "unit": rows_unit, "event_time": rows_e}


def multisynth(
    panel: Panel,
    outcome: str,
    *,
    nu: float | str = "auto",
    fixedeff: bool = False,
    n_lags: int | None = None,
    n_leads: int | None = None,
    penalty: float = 0.0,
    control_group: ControlGroup = "not_yet",
    inference: MultisynthInference = "auto",
    n_draws: int = 199,
    seed: int | None = None,
    conf_level: float = 0.95,
) -> MultisynthResult:
    """Partially pooled synthetic control for staggered adoption (multisynth).

    Parameters
    ----------
    panel : Panel
        Panel with a cohort role (first treated period; 0 for never treated).
    outcome : str
        Outcome variable.
    nu : float in [0, 1] or "auto"
        Weight of the pooled imbalance against the units' separate imbalances. ``"auto"``:
        the ratio of the pooled to the summed separate imbalance of separate synthetic
        controls (Ben-Michael, Feller and Rothstein 2022; augsynth's default).
    fixedeff : bool
        Remove each unit's pre-adoption mean first (intercept shift; augsynth ``fixedeff``).
    n_lags : int, optional
        Most pre-adoption periods balanced per unit; all by default.
    n_leads : int, optional
        Most post-adoption periods estimated per unit; by default from the earliest adoption to
        the end of the panel (augsynth's default).
    penalty : float
        Ridge penalty on the weights (augsynth ``lambda``).
    control_group : {"not_yet", "never"}
        Donors: never-treated units and units first treated after the treated unit's window
        (``n_leads`` periods from its adoption), or never-treated units only.
    inference : {"auto", "placebo", "jackknife", "none"}
        ``"auto"``: placebos in space with fewer than 5 treated units, else the jackknife.
    n_draws : int
        Number of placebo assignments.
    seed : int, optional
        Seed of the placebo draws.
    conf_level : float
        Coverage of the intervals.

    Returns
    -------
    MultisynthResult
        ``table``: the row ``average`` (headline), the pooled effect by event time (``unit``
        ``"pooled"``) and each treated unit's (``unit`` its id); pre-adoption event times
        are the fit's imbalances.

    Raises
    ------
    EstimationError
        Without a cohort role or a treated unit with a pre-period, a treated unit with a missing
        outcome value, too few never-treated units for placebos, or a bad option.

    Warns
    -----
    RowsDroppedWarning
        Units treated from the first period, or comparison units with missing values, left out.

    Examples
    --------
    >>> import evalmodel as em
    >>> from evalmodel.data.sim_staggered import simulate_staggered, to_panel
    >>> panel = to_panel(simulate_staggered(60, n_periods=10, cohorts=(2005, 2007),
    ...                                     never_share=0.9, seed=1))
    >>> r = em.multisynth(panel, "y", fixedeff=True, inference="none")
    >>> round(r.nu, 3), round(r.estimate, 2)  # planted: 3.15 and 2.8 average by cohort
    (0.643, 2.97)
    """
    _check(nu, penalty, n_lags, n_leads, control_group, inference, n_draws, seed, conf_level)
    y = _outcome_matrix(panel, outcome)
    cohort, treated, excluded, lags, leads, notes = _design(panel, y, n_lags, n_leads)
    values = y.to_numpy(dtype=float)
    kw: dict[str, Any] = {"n_lags": lags, "n_leads": leads,
                          "nu": None if nu == "auto" else float(nu), "lam": float(penalty),
                          "fixedeff": bool(fixedeff), "not_yet": control_group == "not_yet"}
    fit = fit_staggered(values, cohort, treated, excluded=excluded, **kw)
    units = [str(y.index[j]) for j in treated]
    index = _index(fit, units)
    est = fit.statistics()
    n_treated = len(treated)
    how = inference
    if inference == "auto":
        how = "placebo" if n_treated < MIN_TREATED_CLUSTERS else "jackknife"
    replicates = None
    alpha = 1 - conf_level
    if how == "placebo":
        rng = np.random.default_rng(seed)
        replicates = _placebo(values, cohort, treated, excluded, kw, n_draws, rng)
        ok = np.isfinite(est)
        lo, hi = invert_linear_permutation(est, np.ones(est.size), np.nan_to_num(replicates),
                                           np.zeros_like(replicates), alpha)
        sd = np.full(est.size, np.nan)
        sd[ok] = replicates[:, ok].std(axis=0, ddof=1)
        table = inference_table(index, est, sd, conf_level=conf_level)
        table["ci_lower"], table["ci_upper"] = np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)
        table["p_value"] = np.where(ok, rank_p_values(est, np.nan_to_num(replicates)), np.nan)
        described = (f"placebos in space ({n_draws} draws of {n_treated} never-treated units "
                     "given the treated units' adoption periods): rank p-values and the "
                     "intervals inverting that test")
    elif how == "jackknife":
        kw_j = {**kw, "nu": fit.nu}
        replicates, n_used = _jackknife(values, cohort, treated, excluded, kw_j, fit)
        m = np.sum(np.isfinite(replicates), axis=0)
        filled = np.where(np.isfinite(replicates), replicates, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            dev = np.where(np.isfinite(replicates), replicates - filled.sum(axis=0) / m, 0.0)
            se = np.sqrt((m - 1) / m * np.sum(dev ** 2, axis=0))
        se = np.where(np.isfinite(est) & (m > 1), se, np.nan)
        table = inference_table(index, est, se, conf_level=conf_level)
        described = (f"jackknife (leave one of {n_used} units out, nu fixed at {fit.nu:.4f}): "
                     "normal intervals")
    else:
        table = inference_table(index, est, np.full(est.size, np.nan), conf_level=conf_level)
        described = "none"
    if inference == "auto":
        notes.append(f"inference='auto': {how}, because there are {n_treated} treated units "
                     f"({'fewer than' if n_treated < MIN_TREATED_CLUSTERS else 'at least'} "
                     f"{MIN_TREATED_CLUSTERS})")
    notes.append(f"nu = {fit.nu:.4f} ({'heuristic' if nu == 'auto' else 'given'}); "
                 f"{'intercept shift (fixedeff)' if fixedeff else 'no intercept shift'}")
    return _package(panel, outcome, y, fit, treated, units, table, described, notes,
                    conf_level, replicates, cohort, excluded)


def _package(panel: Panel, outcome: str, y: pd.DataFrame, fit: StaggeredFit,
             treated: list[int], units: list[str], table: pd.DataFrame, described: str,
             notes: Sequence[str], conf_level: float, replicates: np.ndarray | None,
             cohort: np.ndarray, excluded: np.ndarray) -> MultisynthResult:
    donors = sorted({int(r) for rows in fit.donors for r in rows})
    weights = pd.DataFrame(0.0, index=pd.Index(y.index[donors], name=panel.unit),
                           columns=pd.Index(units, name="treated"))
    for u, rows, w in zip(units, fit.donors, fit.weights, strict=True):
        weights.loc[y.index[rows], u] = w
    pre = fit.event_times < 0
    imb = pd.DataFrame(fit.unit_effects[:, pre].T, columns=units,
                       index=pd.Index(fit.event_times[pre], name="event_time"))
    imb["pooled"] = fit.pooled[pre]
    periods = tuple(int(t) for t in panel.periods)
    used = sorted({*treated, *donors})
    sample = Sample(n_obs=len(used) * len(periods), n_units=len(used), n_periods=len(periods),
                    treated_units=tuple(units), periods=periods, frequency=panel.frequency)
    adoption = pd.Series([periods[int(cohort[j])] for j in treated],
                         index=pd.Index(units, name=panel.unit), name="adoption")
    return MultisynthResult(
        method="multisynth (partially pooled synthetic control)", outcome=outcome,
        table=table, inference=described, sample=sample, conf_level=conf_level,
        overall_term="average", notes=tuple(notes),
        details={"n_excluded": int(excluded.sum())},
        nu=fit.nu, weights=weights, imbalance=imb, pooled_l2=fit.solution.pooled_l2,
        separate_l2=fit.solution.separate_l2, adoption=adoption, replicates=replicates)
