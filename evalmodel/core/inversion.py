"""Confidence intervals by test inversion: the hull of the nulls a test does not reject."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["accept_count", "invert_linear_permutation", "invert_test", "rank_p_value",
           "rank_p_values"]


def invert_test(
    p_value: Callable[[float], float],
    centre: float,
    alpha: float,
    *,
    first_step: float,
    tol: float,
    max_expand: int,
    max_bisect: int,
) -> tuple[float, float]:
    """Lower and upper bound where ``p_value(null)`` falls to ``alpha``, searching out from
    ``centre``.

    On each side the step from ``centre`` doubles (from ``first_step``, at most ``max_expand``
    times) until the test rejects, then bisection narrows the bracket to ``tol`` (at most
    ``max_bisect`` halvings). A side on which the test never rejects gives an infinite bound.
    """
    bounds = []
    for sign in (-1.0, 1.0):
        inner, step = centre, first_step
        outer = centre + sign * step
        for _ in range(max_expand):
            if p_value(outer) <= alpha:
                break
            inner, step = outer, step * 2
            outer = centre + sign * step
        else:
            bounds.append(sign * np.inf)
            continue
        for _ in range(max_bisect):
            mid = (inner + outer) / 2
            if p_value(mid) > alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= tol:
                break
        bounds.append((inner + outer) / 2)
    return float(bounds[0]), float(bounds[1])


def accept_count(n: int, alpha: float) -> int:
    """The fewest placebos at least as extreme as the observed statistic for the rank test
    ``p = (1 + #{|placebo| >= |observed|}) / (1 + n)`` not to reject at ``alpha``.

    The test rejects when ``p <= alpha``; ``K`` is the smallest count with
    ``(1 + K) / (1 + n) > alpha``, computed with the same floating-point expression as the
    p-value, so that ``p > alpha`` exactly when the count is at least ``K``.
    """
    k = np.arange(n + 1)
    return int(np.argmax((1 + k) / (1 + n) > alpha))


def rank_p_values(observed: np.ndarray, placebo: np.ndarray, *, rel_tol: float = 1e-12
                  ) -> np.ndarray:
    """Two-sided rank p-values ``(1 + #{|placebo| >= |observed|}) / (1 + n)`` per column.

    ``observed`` has one value per statistic (shape ``(m,)``), ``placebo`` one row per placebo
    (shape ``(n, m)``); a placebo within ``rel_tol * max(1, |observed|)`` below ``|observed|``
    counts as a tie, at least as extreme.
    """
    obs = np.abs(np.asarray(observed, dtype=float))
    pl = np.abs(np.asarray(placebo, dtype=float))
    tol = rel_tol * np.maximum(1.0, obs)
    return (1 + (pl >= obs - tol).sum(axis=0)) / (1 + pl.shape[0])


def rank_p_value(observed: float, placebo: np.ndarray, *, rel_tol: float = 1e-12) -> float:
    """:func:`rank_p_values` of one statistic: ``observed`` a number, ``placebo`` one value
    per placebo (shape ``(n,)``). The same operations on the same numbers, so the same value,
    without the arrays of one column (a test inversion asks for it dozens of times per bound).
    """
    obs = abs(float(observed))
    count = int(np.count_nonzero(np.abs(placebo) >= obs - rel_tol * max(1.0, obs)))
    return (1 + count) / (1 + np.shape(placebo)[0])


def invert_linear_permutation(
    a0: np.ndarray, c0: np.ndarray, a: np.ndarray, c: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of the effects ``tau`` a rank permutation test of a linear statistic accepts.

    The statistic is linear in the outcome, so with the effect ``tau D`` removed it is
    ``a0 - tau c0`` at the actual assignment and ``a_j - tau c_j`` at placebo ``j`` (``a``:
    the statistic of the outcome, ``c``: of the treatment pattern ``D``). The test of ``tau``
    counts the placebos with ``|a_j - tau c_j| >= |a0 - tau c0|``; for ``|c_j| < |c0|`` that
    holds on the closed interval between ``(a0 - a_j) / (c0 - c_j)`` and ``(a0 + a_j) /
    (c0 + c_j)``, which contains the point estimate ``a0 / c0``. The test accepts ``tau``
    (``p > alpha``) where at least ``K`` (:func:`accept_count`) of these intervals hold it: an
    interval from the ``K``-th smallest lower end to the ``K``-th largest upper end. So the
    interval holds 0 exactly when the rank p-value of ``a0`` exceeds ``alpha``.

    Parameters
    ----------
    a0, c0 : ndarray, shape (m,)
        The observed statistic and its value on ``D``, one per statistic.
    a, c : ndarray, shape (n, m)
        The same at each of ``n`` placebo assignments.
    alpha : float
        Level of the test.

    Returns
    -------
    lower, upper : ndarray, shape (m,)
        NaN where ``c0 == 0`` (the effect pattern does not move the statistic); infinite when
        the test cannot reject (``K == 0``) or a placebo moves as much as the actual
        assignment (``|c_j| >= |c0|``).
    """
    a0, c0 = np.atleast_1d(np.asarray(a0, float)), np.atleast_1d(np.asarray(c0, float))
    a, c = np.asarray(a, float).reshape(-1, a0.size), np.asarray(c, float).reshape(-1, a0.size)
    n = a.shape[0]
    k = accept_count(n, alpha)
    lower = np.full(a0.size, -np.inf)
    upper = np.full(a0.size, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = (a0 - a) / (c0 - c)
        r2 = (a0 + a) / (c0 + c)
    lo_j, hi_j = np.minimum(r1, r2), np.maximum(r1, r2)
    bounded = np.abs(c) < np.abs(c0)
    lo_j = np.where(bounded, lo_j, -np.inf)
    hi_j = np.where(bounded, hi_j, np.inf)
    if k > 0:
        lower = np.sort(lo_j, axis=0)[k - 1]
        upper = np.sort(hi_j, axis=0)[n - k]
    nan = c0 == 0
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper)
