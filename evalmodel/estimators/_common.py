"""Checks and small pieces shared by the estimators' entry points."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError, FewTreatedClustersWarning, MissingValueWarning
from evalmodel.months import period_label, period_labels, period_span
from evalmodel.panel import NEVER, Panel
from evalmodel.vocabulary import DidInference, check_conf_level, check_option, check_period

__all__ = [
    "MIN_TREATED_CLUSTERS",
    "check_anticipation",
    "check_choice",
    "check_cohort_design",
    "check_conf_level",
    "check_periods",
    "check_pre_post",
    "check_two_periods",
    "column_frame",
    "drop_missing",
    "missing_cause",
    "treated_indicator",
    "unreachable_note",
    "use_permutation",
    "warn_few_clusters",
]

#: Below this many treated clusters, cluster-robust inference is not trusted (DESIGN.md).
MIN_TREATED_CLUSTERS = 5


def check_choice(fn: str, name: str, value: Any, literal: Any) -> None:
    """Raise unless ``value`` is one of the options of ``literal``: :func:`check_option`."""
    check_option(fn, name, value, literal)


def check_anticipation(fn: str, anticipation: Any) -> int:
    """Return ``anticipation`` as an int, raising unless it is a non-negative integer."""
    if not isinstance(anticipation, int | np.integer) or anticipation < 0:
        raise EstimationError(
            f"{fn}: anticipation={anticipation!r} must be a non-negative integer number of "
            "periods, e.g. anticipation=1."
        )
    return int(anticipation)


def _shown(periods: list[int], frequency: str) -> list[int] | list[str]:
    """Periods for a message: month codes by their labels (a number below the codes of the
    year 1000, such as a year given for a month, as it was given)."""
    if frequency != "month":
        return periods
    return [period_label(p, frequency) if p >= 12 * 1000 else str(p) for p in periods]


def check_periods(fn: str, name: str, value: int | Iterable[int], panel: Panel) -> list[int]:
    """Return ``value`` as a list of periods, each present in ``panel``."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        value = [value]
    seq = [check_period(fn, name, v, panel.periods, frequency=panel.frequency) for v in value]
    if not seq:
        raise EstimationError(f"{fn}: {name} is empty; give at least one period.")
    known = set(panel.periods.tolist())
    bad = [p for p in seq if p not in known]
    if bad:
        raise EstimationError(
            f"{fn}: {name} has periods not in the panel ({_shown(bad[:5], panel.frequency)}); "
            f"the panel covers {period_span(panel.periods[0], panel.periods[-1], panel.frequency)}"
            + (" (months: pass e.g. '2021-01')." if panel.frequency == "month" else ".")
        )
    return [int(p) for p in seq]


def check_cohort_design(fn: str, panel: Panel) -> None:
    """Raise, naming the cause, when the cohorts leave the treatment indicator absorbed by the
    unit and period effects: every treated unit treated from the first period (no pre-period),
    or every unit adopting in the same period with none left untreated (no comparison unit)."""
    if panel.cohort is None:
        return
    cohorts = panel.cohorts().to_numpy()  # one per unit; numpy, not the text-indexed Series
    first, last = int(panel.periods[0]), int(panel.periods[-1])
    treated = cohorts[(cohorts != NEVER) & (cohorts <= last)]
    if not len(treated):
        return
    if (treated <= first).all():
        raise EstimationError(
            f"{fn}: every treated unit ({len(treated)}) is treated from the panel's first period "
            f"({period_label(first, panel.frequency)}), so none has a pre-period and the fixed "
            "effects absorb the treatment; "
            "use a panel that starts before adoption."
        )
    untreated = len(cohorts) - len(treated)
    if untreated == 0 and (treated == treated[0]).all():
        raise EstimationError(
            f"{fn}: every unit ({len(treated)}) adopts in period "
            f"{period_label(treated[0], panel.frequency)} and none "
            "is never treated or treated later, so there is no comparison unit and the period "
            "effects absorb the treatment; add never-treated units to the panel."
        )


def check_two_periods(fn: str, panel: Panel) -> None:
    """Raise unless ``panel`` has at least two periods (a difference needs a before and after)."""
    if len(panel.periods) < 2:
        only = f" ({int(panel.periods[0])})" if len(panel.periods) else ""
        raise EstimationError(
            f"{fn}: the panel has {len(panel.periods)} period{only}; a difference-in-differences "
            "needs periods before and after adoption: use a panel with at least two periods."
        )


def missing_cause(df: pd.DataFrame, rows: np.ndarray, outcome: str,
                  covariates: Sequence[str]) -> str:
    """Which of ``outcome`` and ``covariates`` are missing in the treated ``rows`` (a boolean
    mask) of ``df``, with counts: ``"covariate 'x' is missing in 30 of the 30 treated rows"``
    clauses joined by ``"; "``."""
    n = int(rows.sum())
    sub = df.loc[rows]
    return "; ".join(
        f"{'outcome' if c == outcome else 'covariate'} {c!r} is missing in "
        f"{int(sub[c].isna().sum())} of the {n} treated rows"
        for c in [outcome, *covariates] if sub[c].isna().any())


def check_pre_post(fn: str, pre: list[int], post: list[int], frequency: str = "year") -> None:
    """Raise unless the ``pre`` periods are disjoint from and all before the ``post`` periods
    (named as the reader writes them: months ``"2021-01"`` when ``frequency="month"``)."""
    def shown(periods: list[int]) -> list[int] | list[str]:
        return period_labels(periods, frequency) if frequency == "month" else periods

    if set(pre) & set(post):
        raise EstimationError(
            f"{fn}: pre and post share periods {shown(sorted(set(pre) & set(post)))}; "
            "they must be disjoint."
        )
    if max(pre) > min(post):
        raise EstimationError(
            f"{fn}: pre={shown(pre)} ends after post={shown(post)} begins; the pre periods come "
            "before adoption and the post periods after it: swap them or pick other periods."
        )


def drop_missing(fn: str, df: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame,
                                                                              list[str]]:
    """Drop rows with NaN in ``columns``; count them in a note and a warning."""
    notes: list[str] = []
    miss = df[list(columns)].isna().any(axis=1)
    if miss.any():
        n = int(miss.sum())
        cols = [c for c in columns if df[c].isna().any()]
        msg = f"{n} rows with missing {', '.join(map(repr, cols))} left out of the estimate"
        notes.append(msg)
        warnings.warn(f"{fn}: {msg}.", MissingValueWarning, stacklevel=3)
    return (df.loc[~miss] if miss.any() else df.copy(deep=False)), notes  # no copy of data


def column_frame(panel: Panel, names: Iterable[str | None]) -> pd.DataFrame:
    """The panel's columns ``names`` as a frame over the panel's own arrays (read-only, no copy
    of the data), with the row labels of :attr:`Panel.data` (``0..n-1``). ``None`` and names
    that are not columns of the panel are left out; each column comes once."""
    have = {panel.unit, panel.time, panel.cohort, panel.weight, panel.group, *panel.outcomes}
    cols = [c for c in dict.fromkeys(names) if c is not None and c in have]
    return pd.DataFrame({c: panel.column(c) for c in cols}, copy=False)


def treated_indicator(df: pd.DataFrame, panel: Panel) -> np.ndarray:
    """1 where a unit's cohort is set and the period has reached it, else 0."""
    if panel.cohort is None:
        raise EstimationError(
            "the panel has no cohort role, so the treatment is unknown; build it with "
            "Panel(..., cohort='first_treated') or use panel.with_cohorts({unit: period})."
        )
    c = df[panel.cohort].to_numpy()
    return ((c != NEVER) & (df[panel.time].to_numpy() >= c)).astype(float)


def use_permutation(fn: str, inference: DidInference, n_treated_clusters: int) -> bool:
    """Whether ``inference`` (checked) means the permutation test: asked for, or ``"auto"``
    with fewer than :data:`MIN_TREATED_CLUSTERS` treated clusters."""
    check_option(fn, "inference", inference, DidInference)
    return inference == "permutation" or (
        inference == "auto" and n_treated_clusters < MIN_TREATED_CLUSTERS)


def unreachable_note(fn: str, perm: Any) -> str:
    """Warn (:class:`FewTreatedClustersWarning`) and return a note that a permutation test
    ``perm`` (a :class:`~evalmodel.inference.permutation.PermutationResult`) cannot reach its
    level: its smallest attainable p-value exceeds ``1 - conf_level``, so it never rejects and
    its interval is the whole line; the note names the fix."""
    level = perm.conf_level
    msg = (f"{len(perm.pool)} comparison units give {perm.n_draws + 1} assignments, so the "
           f"smallest attainable p-value is {perm.min_p_value:.4f}, above {1 - level:.4f}: the "
           f"test cannot reject at the {level:.0%} level and the interval is the whole line; "
           f"use more comparison units or lower conf_level to at most "
           f"{1 - perm.min_p_value:.4f}")
    warnings.warn(f"{fn}: {msg}.", FewTreatedClustersWarning, stacklevel=3)
    return msg


def warn_few_clusters(fn: str, n_treated_clusters: int) -> list[str]:
    """Warn (and return a note) when cluster-robust inference rests on few treated clusters."""
    if n_treated_clusters >= MIN_TREATED_CLUSTERS:
        return []
    msg = (
        f"cluster-robust standard errors with {n_treated_clusters} treated cluster(s) are not "
        f"reliable (fewer than {MIN_TREATED_CLUSTERS}; Conley and Taber 2011, MacKinnon and Webb "
        "2017); prefer design-based (placebo/permutation) inference"
    )
    warnings.warn(f"{fn}: {msg}.", FewTreatedClustersWarning, stacklevel=3)
    return [msg]
