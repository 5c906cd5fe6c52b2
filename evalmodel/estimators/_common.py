"""Checks and small pieces shared by the estimators' entry points."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError, FewTreatedClustersWarning, MissingValueWarning
from evalmodel.panel import NEVER, Panel
from evalmodel.vocabulary import DidInference, check_conf_level, check_option

__all__ = [
    "MIN_TREATED_CLUSTERS",
    "check_anticipation",
    "check_choice",
    "check_conf_level",
    "check_periods",
    "drop_missing",
    "treated_indicator",
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


def check_periods(fn: str, name: str, value: int | Iterable[int], panel: Panel) -> list[int]:
    """Return ``value`` as a list of periods, each present in ``panel``."""
    seq = [value] if isinstance(value, int | np.integer) else list(value)
    if not seq:
        raise EstimationError(f"{fn}: {name} is empty; give at least one period.")
    known = set(panel.periods.tolist())
    bad = [p for p in seq if p not in known]
    if bad:
        raise EstimationError(
            f"{fn}: {name} has periods not in the panel ({bad[:5]}); the panel covers "
            f"{int(panel.periods[0])}-{int(panel.periods[-1])}."
        )
    return [int(p) for p in seq]


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
    return df.loc[~miss], notes


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
