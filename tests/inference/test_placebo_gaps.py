"""Every placebo's gaps from one kept pool array equal one copied pool per placebo, bit for bit.

``placebo._gaps_of`` gives each donor's outcome minus its synthetic control under its weights on
the other donors. It used to copy the other donors' outcome rows for every placebo (285 rows of
the report's pools, 286 times a run); it now keeps one pool array and swaps one row in per
placebo (issue 16). The product is the same BLAS call on the same numbers, so the gaps must be
those of ``SynthProblem.gaps`` on a fresh copy of the pool, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evalmodel.core.synth_solver import SynthProblem
from evalmodel.inference import placebo as pl

#: The ``awkward_outcomes`` fixture's generator (tests/conftest.py).
Outcomes = Callable[..., np.ndarray]


def _loop(problem: SynthProblem, n: int, w: np.ndarray) -> np.ndarray:
    """The old path: the pool's rows copied for every placebo."""
    donors = np.arange(n)
    out = np.empty((n, problem.y.shape[1]))
    for j in donors:
        pool = donors[donors != j]
        out[j] = problem.gaps(int(j), pool, w[j, pool])
    return out


def _weights(rng: np.random.Generator, n: int, support: int) -> np.ndarray:
    """Simplex weights on the others for each of ``n`` units (zero diagonal), sparse as the
    solver's are."""
    w = np.zeros((n, n))
    for j in range(n):
        others = np.flatnonzero(np.arange(n) != j)
        on = rng.choice(others, size=min(support, others.size), replace=False)
        w[j, on] = rng.dirichlet(np.ones(on.size))
    return w


@pytest.mark.parametrize(("n", "periods"), [(2, 3), (5, 7), (40, 14), (287, 27)])
def test_gaps_equal_a_copied_pool_per_placebo_bit_for_bit(n: int, periods: int) -> None:
    """Report-sized pools (287 units, 27 periods) and small ones; a treated row after the
    donors that no placebo may use; dense weights as well as sparse."""
    rng = np.random.default_rng(n)
    y = 50.0 + rng.normal(0.0, 10.0, (n + 1, periods)).cumsum(axis=1)
    problem = SynthProblem(x=y[:, :2].T, y=y, fit_cols=np.arange(2), scale=False)
    for w in (_weights(rng, n, 12), _weights(rng, n, n)):
        got = pl._gaps_of(problem, np.arange(n), w)
        assert np.array_equal(got, _loop(problem, n, w))
        assert np.array_equal(y[:n], y[:n].copy())  # the outcomes are left as they were


def test_gaps_recover_a_planted_synthetic_control(awkward_outcomes: Outcomes) -> None:
    """Planted truth: a donor that is exactly a mix of two others has zero gaps under that
    mix, and every other donor's gap is its outcome minus its weighted pool."""
    y = awkward_outcomes(3, units=12, periods=9)
    y[4] = 0.25 * y[2] + 0.75 * y[7]
    n = y.shape[0] - 1
    w = np.zeros((n, n))
    w[4, 2], w[4, 7] = 0.25, 0.75
    for j in range(n):
        if j != 4:
            w[j, (j + 1) % n] = 1.0
    problem = SynthProblem(x=y[:, :2].T, y=y, fit_cols=np.arange(2), scale=False)
    got = pl._gaps_of(problem, np.arange(n), w)
    assert np.allclose(got[4], 0.0, atol=1e-12)
    for j in range(n):
        if j != 4:
            assert np.allclose(got[j], y[j] - y[(j + 1) % n], rtol=0, atol=1e-12)
