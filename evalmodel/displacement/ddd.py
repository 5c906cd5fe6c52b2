"""The triple difference: target and non-target groups within each unit."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from evalmodel.core.inversion import invert_linear_permutation, rank_p_values
from evalmodel.core.ols import ols
from evalmodel.displacement._shared import resolve_inference
from evalmodel.errors import EstimationError
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    check_periods,
    check_pre_post,
    drop_missing,
    warn_few_clusters,
)
from evalmodel.inference.permutation import placebo_assignments
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Sample, inference_table
from evalmodel.vocabulary import (
    DisplacementInference,
    check_conf_level,
    check_option,
    check_seed,
)

__all__ = ["triple_difference"]

#: The columns of the saturated regression, in the order of ``details["fit"].params``.
DDD_TERMS = ["const", "T", "P", "G", "T:P", "T:G", "P:G", "T:P:G"]


# -- triple difference -----------------------------------------------------------------------
def triple_difference(
    panel: Panel,
    outcome: str,
    *,
    target: str,
    pre: Sequence[int],
    post: Sequence[int],
    treated: Iterable[str] | None = None,
    shares: tuple[float, float] | None = None,
    cluster: str | None = "unit",
    conf_level: float = 0.95,
    inference: DisplacementInference = "auto",
    max_exact: int = 10_000,
    seed: int = 0,
) -> EstimateResult:
    """Triple difference with a ``group`` role: effects on the target and non-target groups.

    The regression ``y ~ T * P * G`` with every interaction (T treated area, P post period, G
    target group) is saturated, so its coefficients are the cell-mean contrasts: the non-target
    group's DiD is the T:P coefficient, the DDD the T:P:G coefficient, the target group's DiD
    their sum. The net effect is ``s_target * target + s_non_target * non_target`` with
    ``shares`` (default ``(1, 1)``: the sum, right for counts; pass population shares for
    rates). With analytic inference all four share one cluster-robust covariance, so the net
    interval is joint.

    ``inference="auto"`` (default) is design-based with fewer than ``MIN_TREATED_CLUSTERS`` (5)
    treated clusters (one treated municipality is one cluster): the treatment is re-assigned to
    every other unit of the panel in turn (every set of as many units as are treated, or
    ``max_exact`` sets drawn with ``seed``), the four contrasts are re-computed from the cell
    sums for all assignments at once, and each term's p-value is the rank of its absolute
    value. Each interval inverts that same test for a constant additive effect on the treated
    units' post-period rows (in closed form,
    :func:`~evalmodel.core.inversion.invert_linear_permutation`): on the target group's rows
    for ``target`` and ``ddd``, on the non-target group's for ``non_target``, and
    ``tau / (s_target + s_non_target)`` on both for ``net``; so each interval excludes 0
    exactly when its ``p_value <= 1 - conf_level``.
    ``std_error`` is the placebo estimates' standard deviation. With at least 5 treated
    clusters ``"auto"`` is ``"analytic"``: cluster-robust errors (``cluster``; HC1 for None)
    with a t reference; ``"analytic"`` with fewer warns
    :class:`~evalmodel.errors.FewTreatedClustersWarning`.

    Returns
    -------
    EstimateResult
        Terms ``target``, ``non_target``, ``ddd`` and ``net`` (the headline);
        ``details["permutation"]`` holds the placebo estimates (assignments x terms) with
        design-based inference; with analytic inference ``details["fit"]`` holds the
        regression (an :class:`~evalmodel.core.ols.OlsFit` on the columns
        :data:`~evalmodel.displacement.ddd.DDD_TERMS`; ``to_statsmodels()`` gives
        statsmodels' results object) and ``details["contrasts"]`` the rows that map its
        coefficients to the four terms.

    Raises
    ------
    EstimationError
        With analytic inference, when a (treated, post, group) cell has no rows: the
        saturated regression's coefficients are then not identified.
    """
    fn = "triple_difference"
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    check_option(fn, "inference", inference, DisplacementInference)
    if panel.group is None:
        raise EstimationError(f"{fn}: the panel has no group role; build it with "
                              "Panel(..., group='<target/non-target column>').")
    df = panel.data
    levels = sorted(df[panel.group].unique())
    if len(levels) != 2:
        raise EstimationError(
            f"{fn}: group column {panel.group!r} has {len(levels)} level(s) {levels[:5]}; a "
            "triple difference needs exactly two (target and non-target).")
    if str(target) not in levels:
        raise EstimationError(f"{fn}: target={target!r} is not a level of {panel.group!r} "
                              f"({levels}).")
    check_seed(fn, seed)
    pre_p = check_periods(fn, "pre", pre, panel)
    post_p = check_periods(fn, "post", post, panel)
    check_pre_post(fn, pre_p, post_p, panel.frequency)
    cohorts = panel.cohorts()
    t_units = sorted(cohorts.index[cohorts != 0]) if treated is None else [str(u) for u in
                                                                           treated]
    if not t_units:
        raise EstimationError(f"{fn}: no treated units; set the cohort role or pass treated=.")
    df = df[df[panel.time].isin(pre_p + post_p)]
    df, notes = drop_missing(fn, df, [outcome])
    T = df[panel.unit].isin(t_units).to_numpy(float)
    P = df[panel.time].isin(post_p).to_numpy(float)
    G = (df[panel.group] == str(target)).to_numpy(float)
    s_t, s_n = shares or (1.0, 1.0)
    if cluster is None or cluster == "unit":
        n_tc = len(t_units)
    else:
        n_tc = int(df.loc[T == 1, cluster].nunique())
    few = n_tc < MIN_TREATED_CLUSTERS
    inference, why = resolve_inference(inference, n_tc)
    notes.append(why)
    notes.append(f"target group {target!r}; net = {s_t:g} x target + {s_n:g} x non-target")
    terms = {"term": ["target", "non_target", "ddd", "net"]}
    if inference == "permutation":
        table, how, perm = _ddd_permutation(
            fn, df, panel.unit, outcome, t_units, P, G, (s_t, s_n), conf_level=conf_level,
            max_exact=max_exact, seed=seed, terms=terms, notes=notes)
        sample = Sample(n_obs=len(df), n_units=int(df[panel.unit].nunique()),
                        n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
                        periods=tuple(sorted(pre_p + post_p)), frequency=panel.frequency)
        return EstimateResult(method="triple_difference", outcome=outcome, table=table,
                              inference=how, sample=sample, conf_level=conf_level,
                              overall_term="net", notes=tuple(notes),
                              details={"permutation": perm, "n_treated_clusters": n_tc})
    if few:
        notes += warn_few_clusters(fn, n_tc)
    X = np.column_stack([np.ones_like(T), T, P, G, T * P, T * G, P * G, T * P * G])
    y = df[outcome].to_numpy()
    if cluster is None:
        fit = ols(y, X, names=DDD_TERMS, fn=fn)
        dof = None
        how = "heteroskedasticity-robust (HC1)"
    else:
        col = panel.unit if cluster == "unit" else cluster
        groups = pd.factorize(df[col])[0]
        fit = ols(y, X, cluster=groups, names=DDD_TERMS, fn=fn)
        dof = int(groups.max())
        how = f"cluster-robust by {cluster} ({dof + 1} clusters), t({dof})"
    L = np.zeros((4, 8))
    L[0, [4, 7]] = 1  # target: T:P + T:P:G
    L[1, 4] = 1  # non-target: T:P
    L[2, 7] = 1  # DDD
    L[3, 4], L[3, 7] = s_t + s_n, s_t  # net = s_t * target + s_n * non-target
    est = L @ fit.params
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, fit.cov, L))
    table = inference_table(terms, est, se, conf_level=conf_level, df=dof)
    sample = Sample(n_obs=len(df), n_units=int(df[panel.unit].nunique()),
                    n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
                    periods=tuple(sorted(pre_p + post_p)),
                    n_clusters=None if dof is None else dof + 1, frequency=panel.frequency)
    return EstimateResult(method="triple_difference", outcome=outcome, table=table,
                          inference=how, sample=sample, conf_level=conf_level,
                          overall_term="net", notes=tuple(notes),
                          details={"fit": fit, "contrasts": L, "n_treated_clusters": n_tc})


def _ddd_contrasts(sums: np.ndarray, counts: np.ndarray, z: np.ndarray,
                   shares: tuple[float, float]) -> np.ndarray:
    """Target, non-target, DDD and net contrasts for each assignment (rows of ``z``).

    ``sums`` and ``counts`` are units x cells, cells ordered (pre, non-target), (pre, target),
    (post, non-target), (post, target); the contrasts are those of the saturated regression,
    differences of cell means over rows.
    """
    zt = z.astype(float)
    zc = 1.0 - zt
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = (zt @ sums) / (zt @ counts)
        m0 = (zc @ sums) / (zc @ counts)
    non = (m1[:, 2] - m1[:, 0]) - (m0[:, 2] - m0[:, 0])
    tgt = (m1[:, 3] - m1[:, 1]) - (m0[:, 3] - m0[:, 1])
    return np.column_stack([tgt, non, tgt - non, shares[0] * tgt + shares[1] * non])


def _ddd_permutation(
    fn: str, df: pd.DataFrame, unit: str, outcome: str, t_units: list[str], P: np.ndarray,
    G: np.ndarray, shares: tuple[float, float], *, conf_level: float, max_exact: int,
    seed: int, terms: dict[str, list[str]], notes: list[str],
) -> tuple[pd.DataFrame, str, np.ndarray]:
    """The DDD contrasts re-estimated for every placebo assignment, with rank p-values and the
    intervals that invert the same test."""
    units = sorted(df[unit].astype(str).unique())
    codes = pd.Categorical(df[unit].astype(str), categories=units).codes
    cell = (2 * P + G).astype(int)
    n = len(units)
    sums = np.zeros((n, 4))
    counts = np.zeros((n, 4))
    np.add.at(sums, (codes, cell), df[outcome].to_numpy(float))
    np.add.at(counts, (codes, cell), 1.0)
    actual = np.isin(units, t_units)
    k = int(actual.sum())
    alpha = 1 - conf_level
    total = math.comb(n, k)
    if 1 / (min(total - 1, max_exact) + 1) > alpha:
        raise EstimationError(
            f"{fn}: {n} units give {total - 1} placebo assignments of {k} treated unit(s), so "
            f"the smallest attainable p-value is {1 / total:.3f} > {alpha:.3f}; add comparison "
            "units or lower conf_level.")
    z, exact = placebo_assignments(n, k, actual, max_exact, seed)
    kind = "all" if exact else f"{max_exact} random (seed {seed})"
    # the effect patterns D, as cell sums: treated units' post rows of one group or both
    tr = actual[:, None].astype(float)
    d_tgt = counts * np.array([0.0, 0.0, 0.0, 1.0]) * tr
    d_non = counts * np.array([0.0, 0.0, 1.0, 0.0]) * tr
    total_share = shares[0] + shares[1]
    d_net = (d_tgt + d_non) / total_share if total_share != 0 else np.zeros_like(d_tgt)
    one = actual[None, :]
    a0 = _ddd_contrasts(sums, counts, one, shares)[0]
    a = _ddd_contrasts(sums, counts, z, shares)
    c_all = [_ddd_contrasts(d, counts, np.vstack([one, z]), shares) for d in (d_tgt, d_non,
                                                                              d_net)]
    pick = [(0, 0), (1, 1), (0, 2), (2, 3)]  # (pattern, term): target, non_target, ddd, net
    c = np.column_stack([c_all[p][:, t] for p, t in pick])
    c0, c = c[0], c[1:]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(c).all(axis=1)
    if not ok.all():
        notes.append(f"{int((~ok).sum())} placebo assignments left out: their fake treated "
                     "units have no rows in a (group, period) cell")
        a, c = a[ok], c[ok]
    p = rank_p_values(a0, a)
    lo, hi = invert_linear_permutation(a0, c0, a, c, alpha)
    sd = a.std(axis=0, ddof=1) if a.shape[0] > 1 else np.full(4, np.nan)
    table = pd.DataFrame(terms)
    table["estimate"] = a0
    table["std_error"] = sd
    table["ci_lower"] = lo
    table["ci_upper"] = hi
    table["p_value"] = p
    how = (f"design-based: permutation of the treatment over {kind} sets of {k} of the {n} "
           f"units ({a.shape[0]} placebo assignments); rank p-values, intervals by inverting "
           "that test")
    return table, how, a
