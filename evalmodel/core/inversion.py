"""Confidence intervals by test inversion: the hull of the nulls a test does not reject."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["invert_test"]


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
