"""Arrays for the staggered estimators: a units x periods panel with cohorts.

:func:`prepare` turns a :class:`~evalmodel.Panel` into :class:`StaggeredData` (outcome and
covariates as dense arrays, one cohort, weight and cluster per unit). Every unit it drops is
counted in a named warning and in the notes, with the reason:

* units with an absent row or a missing outcome or covariate value (the panel estimators need
  every unit in every period, as R ``did`` does by default); with ``allow_unbalanced=True``
  only the rows with a missing value are dropped (and units left with no row), the others
  kept, and the mask of rows present is returned in :attr:`StaggeredData.present` (``None``
  when every unit is observed in every period, where the panel estimators apply, as R ``did``
  with ``allow_unbalanced_panel = TRUE`` decides after its other data steps);
* units with zero weight;
* units treated in the first period (or within ``anticipation`` periods of it), which have no
  untreated base period;
* with ``control_group="not_yet"`` and no never-treated units, the periods from the last
  cohort's adoption on, the last cohort then serving as the comparison group.

Units first treated after the last period are handled as R ``did``'s preprocessing does,
whether the panel already set their cohort to 0 (:attr:`~evalmodel.Panel.late_cohorts`) or a
selection of periods left it after the last period:

* after the last period plus ``anticipation``: never treated within the sample (cohort 0);
* after the last period but within ``anticipation`` of it: anticipation affects them inside the
  sample, so they are not never treated; they keep their cohort, which has pre-treatment cells
  only, and serve as not-yet-treated comparisons before their anticipation starts.

Both are counted in the notes, with a :class:`~evalmodel.errors.LateCohortWarning` where a
unit's cohort differs from the panel's (the panel warned of its own recoding).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalmodel.errors import (
    EstimationError,
    LateCohortWarning,
    RowsDroppedWarning,
    SmallCohortWarning,
)
from evalmodel.months import period_label
from evalmodel.panel import Panel, late_cohort_note

__all__ = ["StaggeredData", "cohort_codes", "prepare", "unit_clusters"]


def cohort_codes(cohort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct cohorts and each unit's position among them (``np.unique`` with
    ``return_inverse``), in one pass when the units are already in cohort order or the cohorts
    span a small range of integers."""
    c = np.asarray(cohort)
    if len(c) == 0:
        return np.unique(c, return_inverse=True)
    if bool(np.all(c[1:] >= c[:-1])):  # in cohort order (StaggeredData)
        change = np.empty(len(c), dtype=bool)
        change[0] = True
        np.not_equal(c[1:], c[:-1], out=change[1:])
        return c[change], np.cumsum(change) - 1
    lo, hi = int(c.min()), int(c.max())
    if c.dtype.kind in "iu" and hi - lo <= 4 * len(c) + 1024:  # a table over the range
        seen = np.zeros(hi - lo + 1, dtype=bool)
        seen[c - lo] = True
        position = np.cumsum(seen) - 1
        return np.flatnonzero(seen) + lo, position[c - lo]
    return np.unique(c, return_inverse=True)


@dataclass(frozen=True)
class StaggeredData:
    """A panel as arrays (balanced unless :attr:`present` is set).

    Attributes
    ----------
    units : ndarray (n,)
        Unit ids.
    periods : ndarray (T,)
        Sorted periods.
    y : ndarray (n, T)
        The outcome (NaN where a row is not in :attr:`present`).
    x : ndarray (n, T, p) or None
        Covariates (without intercept).
    w : ndarray (n,)
        Unit weights (ones without a weight role).
    cohort : ndarray (n,) of int
        First treated period, 0 for never treated (and for the recoded last cohort).
    cluster : ndarray (n,) of int or None
        Cluster codes when clustering above the unit.
    notes : tuple of str
        What was dropped or recoded.
    present : ndarray (n, T) of bool or None
        The rows that enter an unbalanced panel (``allow_unbalanced=True``); ``None`` when the
        panel is balanced.
    frequency : str
        The panel's frequency (``"month"``: periods are month codes, named by their labels).
    """

    units: np.ndarray
    periods: np.ndarray
    y: np.ndarray
    x: np.ndarray | None
    w: np.ndarray
    cohort: np.ndarray
    cluster: np.ndarray | None
    notes: tuple[str, ...]
    present: np.ndarray | None = None
    frequency: str = "year"

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.y.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of (unit, period) rows that enter."""
        return int(self.y.size if self.present is None else self.present.sum())

    @property
    def cohorts(self) -> np.ndarray:
        """Sorted treatment cohorts (never-treated excluded)."""
        c = cohort_codes(self.cohort)[0]
        return c[c > 0]


def _per_unit(values: pd.Series, codes: np.ndarray, n: int, what: str, fn: str) -> np.ndarray:
    """One value per unit, raising when it varies within a unit."""
    v = values.to_numpy()
    out = np.empty(n, dtype=v.dtype)
    out[codes] = v
    varies = out[codes] != v
    if varies.any():
        n_bad = len(np.unique(codes[varies]))
        raise EstimationError(
            f"{fn}: {what} changes within {n_bad} units; the staggered estimators "
            f"need one {what} per unit: make it constant within each unit."
        )
    return out


def unit_clusters(
    panel: Panel, cluster: str | None, fn: str, df: pd.DataFrame | None = None
) -> tuple[pd.Index, np.ndarray | None]:
    """Unit ids (in order of appearance) and, when clustering above the unit, cluster codes."""
    if cluster is not None and not isinstance(cluster, str):
        raise EstimationError(f"{fn}: cluster={cluster!r} must be 'unit', None or the name of a "
                              "column constant within units.")
    if df is None:
        df = panel.data
    codes, uniq = panel.unit_codes()  # df holds the panel's rows, in order
    units = pd.Index(uniq)
    if cluster is None or cluster in ("unit", panel.unit):
        return units, None
    if cluster not in df.columns:
        raise EstimationError(
            f"{fn}: cluster={cluster!r} is not a column of the panel; columns are "
            f"{list(df.columns)[:12]}; pass cluster='unit' or the name of a column constant "
            "within units."
        )
    per = _per_unit(df[cluster].astype(str), codes, len(units), f"cluster {cluster!r}", fn)
    return units, pd.factorize(per)[0]


def _check_covariates(df: pd.DataFrame, covariates: Sequence[str], fn: str) -> None:
    """Raise naming a constant covariate or the first covariate collinear with earlier ones."""
    x = df[list(covariates)].to_numpy(float)
    ok = ~np.isnan(x).any(axis=1)
    x = x[ok]
    for j, name in enumerate(covariates):
        if x.shape[0] == 0 or np.ptp(x[:, j]) == 0:
            raise EstimationError(
                f"{fn}: covariate {name!r} is constant; it cannot be separated from the "
                "intercept: drop it from covariates."
            )
    design = np.column_stack([np.ones(len(x)), (x - x.mean(0)) / x.std(0)])
    for j in range(2, design.shape[1] + 1):
        if np.linalg.matrix_rank(design[:, :j]) < j:
            raise EstimationError(
                f"{fn}: covariate {covariates[j - 2]!r} is collinear with "
                f"{['intercept', *covariates[: j - 2]]}; drop one of them from covariates."
            )


def _check_observed(cohort: np.ndarray, missing: np.ndarray, outcome: str, fn: str) -> None:
    """Raise naming the first cohort (0: the never treated) whose outcome is missing in every
    row; ``missing`` is the units x periods mask of absent or missing values."""
    if not missing.any():
        return
    values, code = cohort_codes(cohort)
    observed = np.bincount(code, weights=~missing.all(axis=1), minlength=len(values))
    if (observed == 0).any():
        bad = int(values[np.flatnonzero(observed == 0)[0]])
        label = "the never-treated units" if bad == 0 else f"cohort {bad}"
        raise EstimationError(
            f"{fn}: outcome {outcome!r} is missing for every row of {label}; choose another "
            "outcome or drop those units with panel.select(units=...)."
        )


def _rows_present(
    y: np.ndarray, x: np.ndarray | None, w: np.ndarray, n_rows: int, what: list[str],
    notes: list[str], fn: str,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Rows with every value present, and the units to keep (a row left, positive weight).

    Returns ``y`` and ``x`` with NaN in every row not present, the mask of rows present and
    the units kept; the dropped rows and units are counted in ``notes`` and a warning.
    """
    present = ~np.isnan(y)
    if x is not None:
        present &= ~np.isnan(x).any(axis=2)
        x = np.where(present[:, :, None], x, np.nan)
    y = np.where(present, y, np.nan)
    seen = present.any(axis=1)
    n_missing = n_rows - int(present.sum())
    if n_missing:
        msg = f"dropped {n_missing} rows with a missing value of {what}"
        if not seen.all():
            msg += f", leaving {int((~seen).sum())} units with no row"
        notes.append(msg)
        warnings.warn(f"{fn}: {msg}.", RowsDroppedWarning, stacklevel=4)
    zero = seen & (w <= 0)
    if zero.any():
        msg = f"dropped {int(zero.sum())} units with zero weight"
        notes.append(msg)
        warnings.warn(f"{fn}: {msg}.", RowsDroppedWarning, stacklevel=4)
    return y, x, present, seen & (w > 0)


def _after_sample(
    panel: Panel, units: np.ndarray, cohort: np.ndarray, periods: np.ndarray,
    anticipation: int, notes: list[str], fn: str,
) -> np.ndarray:
    """R ``did``'s rule for units first treated after the sample (see the module docstring).

    Returns the cohorts with 0 for the units first treated after the last period plus
    ``anticipation`` and their first treated period for those within ``anticipation`` of it.
    """
    last = int(periods[-1])
    given = cohort.copy()  # the first treated period as given, also where the panel set 0
    late = panel.late_cohorts
    if len(late):
        pos = pd.Index(units).get_indexer(late.index)
        given[pos[pos >= 0]] = late.to_numpy()[pos >= 0]
    never = given > last + anticipation
    within = (given > last) & ~never
    out = np.where(never, 0, given)
    if never.any():
        after = f" plus anticipation {anticipation}" if anticipation else ""
        msg = late_cohort_note(dict(zip(units[never].astype(str), given[never].tolist(),
                                        strict=True)), last, after, panel.frequency)
        notes.append(msg)
        if (cohort[never] > 0).any():  # set to 0 here, not already by the panel
            warnings.warn(f"{fn}: {msg}.", LateCohortWarning, stacklevel=4)
    if within.any():
        counts = pd.Series(given[within]).value_counts().sort_index()
        lab = [f"{period_label(g, panel.frequency)} ({n} units)" for g, n in counts.items()]
        msg = (f"{int(within.sum())} units first treated after the last period "
               f"({period_label(last, panel.frequency)}) but within anticipation {anticipation} "
               f"of it (cohort{'s' * (len(counts) > 1)} {', '.join(lab)}) are affected inside "
               "the sample, so they are not never treated: as in R did, their cohorts have "
               "pre-treatment cells only and serve as not-yet-treated comparisons before "
               "anticipation starts")
        notes.append(msg)
        if (cohort[within] != given[within]).any():  # the panel had set them to 0
            warnings.warn(f"{fn}: {msg}.", LateCohortWarning, stacklevel=4)
    return out


def _no_treated_left(fn: str, df: pd.DataFrame, panel: Panel, ucode: np.ndarray,
                     treated: np.ndarray, keep: np.ndarray, early: np.ndarray, outcome: str,
                     covariates: Sequence[str], first: int) -> str:
    """The message when every treated unit was dropped: which step removed how many."""
    n = int(treated.sum())
    causes = []
    lost = treated & ~keep
    if lost.any():
        rows = lost[ucode]
        counts = {c: int(pd.unique(ucode[rows & df[c].isna().to_numpy()]).size)
                  for c in [outcome, *covariates]}
        what = ", ".join(f"{'outcome' if c == outcome else 'covariate'} {c!r} in "
                         f"{k} of them" for c, k in counts.items() if k)
        causes.append(f"{int(lost.sum())} have a missing value ({what or 'or an absent period'})")
    if (treated & early & keep).any():
        causes.append(f"{int((treated & early & keep).sum())} are treated in the first period "
                      f"({period_label(first, panel.frequency)}) and have no untreated base "
                      "period")
    fix = ("fill the missing values or leave that covariate out" if lost.any() else
           "use a panel that starts before adoption")
    return (f"{fn}: no treated unit is left of the {n} in the panel: {'; '.join(causes)}; "
            f"{fix}.")


def prepare(
    panel: Panel,
    outcome: str,
    *,
    covariates: Sequence[str] = (),
    anticipation: int = 0,
    control_group: str = "never",
    cluster: str | None = None,
    allow_unbalanced: bool = False,
    fn: str = "att_gt",
) -> StaggeredData:
    """Validate ``panel`` for a staggered estimator and return it as arrays.

    With ``allow_unbalanced`` units with absent periods are kept (see the module docstring).

    Raises
    ------
    EstimationError
        No cohort role, a group role, an unknown covariate, a constant or collinear covariate,
        an outcome missing for a whole cohort, no never-treated units with
        ``control_group="never"``, or nothing left to estimate.
    """
    panel.check_outcome(outcome)
    if panel.cohort is None:
        raise EstimationError(
            f"{fn}: the panel has no cohort role; build it with Panel(..., cohort='<first "
            "treated period column>') or panel.with_cohorts({unit: period})."
        )
    if panel.group is not None:
        raise EstimationError(
            f"{fn}: the panel has a group role ({panel.group!r}); select one group first with "
            "panel.select(groups=[...])."
        )
    for c in covariates:
        if c not in panel.outcomes:
            raise EstimationError(
                f"{fn}: covariate {c!r} is not a variable of the panel; variables are "
                f"{panel.outcomes[:12]}."
            )
    u, t = panel.unit, panel.time
    col = panel.column  # read-only columns, no copy of the frame
    if covariates:
        _check_covariates(pd.DataFrame({c: col(c) for c in covariates}), covariates, fn)
    notes: list[str] = []
    ucode, units = panel.unit_codes()
    clusters = None
    if cluster is not None and cluster not in ("unit", u):
        _, clusters = unit_clusters(panel, cluster, fn)
    periods = panel.periods
    n, n_t = len(units), len(periods)
    n_rows = len(ucode)
    covs = np.column_stack([col(c).astype(float) for c in covariates]) if covariates else None
    if n_rows == n * n_t:  # balanced: rows are sorted by unit and period, so a reshape
        y = col(outcome).astype(float, copy=False).reshape(n, n_t)  # read only until sorted
        x = covs.reshape(n, n_t, len(covariates)) if covs is not None else None
    else:
        tcode = np.searchsorted(periods, col(t))
        y = np.full((n, n_t), np.nan)
        y[ucode, tcode] = col(outcome)
        x = None
        if covs is not None:
            x = np.full((n, n_t, len(covariates)), np.nan)
            x[ucode, tcode, :] = covs
    # the Panel checked that the cohort is constant within units: any row of a unit gives it
    cohort = np.empty(n, dtype=np.int64)
    if n_rows == n * n_t:
        cohort[:] = col(panel.cohort)[::n_t]
    else:
        cohort[ucode] = col(panel.cohort)
    missing = np.isnan(y)  # also where a row is absent
    _check_observed(cohort, missing, outcome, fn)
    w = (np.ones(n) if panel.weight is None
         else _per_unit(pd.Series(col(panel.weight)), ucode, n, f"weight {panel.weight!r}",
                        fn).astype(float))
    cohort = _after_sample(panel, units, cohort, periods, anticipation, notes, fn)
    treated_given = cohort > 0
    present: np.ndarray | None = None
    if allow_unbalanced:
        y, x, present, keep = _rows_present(y, x, w, n_rows, [outcome, *covariates], notes,
                                            fn)
    else:
        keep = ~missing.any(axis=1) if missing.any() else np.ones(n, dtype=bool)
        if x is not None:
            keep &= ~np.isnan(x).any(axis=(1, 2))
        keep &= w > 0
        if not keep.all():
            msg = (f"dropped {int((~keep).sum())} units with an absent period or a missing "
                   f"value of {[outcome, *covariates]} (or zero weight) to balance the panel")
            notes.append(msg)
            warnings.warn(f"{fn}: {msg}.", RowsDroppedWarning, stacklevel=3)
    early = (cohort > 0) & (cohort - anticipation <= periods[0])
    if (early & keep).any():
        msg = (f"dropped {int((early & keep).sum())} units treated in the first period "
               f"{int(periods[0])} (anticipation {anticipation}): they have no untreated base "
               "period")
        notes.append(msg)
        warnings.warn(f"{fn}: {msg}.", RowsDroppedWarning, stacklevel=3)
    if treated_given.any() and not (treated_given & keep & ~early).any():
        raise EstimationError(_no_treated_left(fn, panel.data, panel, ucode, treated_given,
                                               keep, early, outcome, covariates,
                                               int(periods[0])))
    keep &= ~early
    units_arr = units
    if not keep.all():
        y, w, cohort, units_arr = y[keep], w[keep], cohort[keep], units[keep]
        x = x[keep] if x is not None else None
        present = present[keep] if present is not None else None
        clusters = clusters[keep] if clusters is not None else None
    if not (cohort > 0).any():
        raise EstimationError(
            f"{fn}: no treated units are left (cohorts are all 0 after dropping units treated "
            "in the first period and counting units first treated after the last period as "
            "never treated); check the cohort column."
        )
    if not (cohort == 0).any():
        if control_group == "never":
            raise EstimationError(
                f"{fn}: there are no never-treated units, so control_group='never' has no "
                "comparison group; set control_group='not_yet' to compare with units not yet "
                "treated."
            )
        last = int(cohort.max())
        if (cohort[cohort > 0] == last).all():
            raise EstimationError(
                f"{fn}: every treated unit ({int((cohort > 0).sum())}) adopts in period "
                f"{period_label(last, panel.frequency)} and "
                "none is never treated, so there is no comparison group: control_group="
                "'not_yet' needs units treated later (the last cohort is the comparison group "
                "before it adopts) or never-treated units; add never-treated units to the panel."
            )
        cut = periods < last - anticipation
        msg = (f"no never-treated units: periods from "
               f"{period_label(last - anticipation, panel.frequency)} on were dropped and cohort "
               f"{period_label(last, panel.frequency)} serves as the comparison group")
        notes.append(msg)
        warnings.warn(f"{fn}: {msg}.", RowsDroppedWarning, stacklevel=3)
        periods, y = periods[cut], y[:, cut]
        x = x[:, cut] if x is not None else None
        cohort = np.where(cohort == last, 0, cohort)
        present = present[:, cut] if present is not None else None
        seen = present.any(axis=1) if present is not None else np.ones(len(y), dtype=bool)
        if not seen.all():
            msg = (f"dropped {int((~seen).sum())} units with no row before period "
                   f"{last - anticipation}")
            notes.append(msg)
            warnings.warn(f"{fn}: {msg}.", RowsDroppedWarning, stacklevel=3)
            y, w, cohort, units_arr = y[seen], w[seen], cohort[seen], units_arr[seen]
            x = x[seen] if x is not None else None
            present = present[seen] if present is not None else None
            clusters = clusters[seen] if clusters is not None else None
    if present is not None and present.all():
        present = None  # every unit in every period: the panel estimators apply
    values, rank = cohort_codes(cohort)  # np.unique's values and inverse, in one pass
    counts = np.bincount(rank, minlength=len(values))
    single = values[(counts == 1) & (values > 0)]
    if len(single):
        msg = (f"cohorts {single.tolist()} have a single unit; their group-time effects rest "
               "on one unit")
        notes.append(msg)
        warnings.warn(f"{fn}: {msg}.", SmallCohortWarning, stacklevel=3)
    if clusters is not None:
        clusters = pd.factorize(clusters)[0]
    # cohorts in contiguous blocks: a stable sort of the cohorts' ranks (a radix sort on small
    # integers; the same order as a stable sort of the cohorts themselves)
    order = np.argsort(rank.astype(np.min_scalar_type(int(rank.max()))), kind="stable")
    y, w, cohort, units_arr = (y.take(order, axis=0), w.take(order), cohort.take(order),
                               units_arr.take(order))
    x = x.take(order, axis=0) if x is not None else None
    clusters = clusters.take(order) if clusters is not None else None
    present = present.take(order, axis=0) if present is not None else None
    return StaggeredData(units=units_arr, periods=periods, y=y, x=x, w=w, cohort=cohort,
                         cluster=clusters, notes=tuple(notes), present=present,
                         frequency=panel.frequency)
