"""The faster steps of the robust intervals (issue 16) give the numbers of the steps they
replace, bit for bit: the FLCI's start of each bias search, the hybrid test's candidate
vertex subsets and its distinct vertices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from evalmodel.errors import EstimationError
from evalmodel.inference import honest


def _old_start(prob: honest._FLCIProblem, h: float, z_min: np.ndarray) -> float:
    """The bisection as it was written before: through ``variance``, on the segment from
    the zero weights."""
    z_bias = np.zeros(prob.n_free)
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if prob.variance(mid * z_min + (1 - mid) * z_bias) > h * h:
            hi = mid
        else:
            lo = mid
    return lo


@pytest.mark.parametrize(("npre", "npost"), [(2, 1), (4, 4), (4, 6), (7, 3)])
def test_flci_start_is_the_old_bisection(npre: int, npost: int) -> None:
    rng = np.random.default_rng(npre * 10 + npost)
    starts = []
    for _ in range(5):
        a = rng.normal(size=(npre + npost, npre + npost))
        sigma = a @ a.T / (npre + npost) + 0.05 * np.eye(npre + npost)
        lv = rng.dirichlet(np.ones(npost))
        prob = honest._FLCIProblem.build(sigma, npre, lv)
        z_min = prob.min_variance()
        h_min = np.sqrt(prob.variance(z_min))
        h0 = np.sqrt(prob.variance(np.zeros(prob.n_free)))
        for h in np.linspace(h_min, h0, 25)[1:]:
            t = prob.start(float(h), z_min)
            assert t == _old_start(prob, float(h), z_min)
            starts.append(t)
    # both ends occur (the bisection as written moves away from the point with sd h, so it
    # ends at 0 or 1), so a step taken the other way would fail the comparison above
    assert set(starts) == {0.0, 1.0}


def test_subsets_are_itertools_combinations() -> None:
    for n, size in [(1, 1), (5, 2), (12, 6), (8, 8), (3, 4)]:
        want = list(itertools.combinations(range(n), size))
        got = honest._subsets(n, size)
        assert got.shape == (len(want), size)
        assert [tuple(r) for r in got.tolist()] == want
        assert not got.flags.writeable


def test_too_many_vertex_subsets_is_named() -> None:
    m, k = 40, 19  # C(40, 20), about 1.4e11 subsets: refused before any is built
    with pytest.raises(EstimationError, match="137,846,528,820 candidate vertices"):
        honest._dual_vertices(np.ones(m), np.ones((m, k)))


def test_unique_rows_is_numpys_unique() -> None:
    rng = np.random.default_rng(7)
    values = np.array([0.0, -0.0, 1e-14, 0.25, 0.5, 1.0, 3.0, 0.1 + 0.2])
    n_dups = 0
    for trial in range(400):
        n, m = int(rng.integers(0, 40)), int(rng.integers(1, 13))
        a = rng.choice(values, size=(n, m))
        if n and trial % 2:
            a = np.vstack([a, a[rng.integers(0, n, size=n)]])
        want, got = np.unique(a, axis=0), honest._unique_rows(a)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        n_dups += a.shape[0] - got.shape[0]
        nonneg = np.abs(a)  # the vertices are >= 0: there the bits agree too
        assert (honest._unique_rows(nonneg).tobytes()
                == np.unique(nonneg, axis=0).tobytes())
    assert n_dups > 1000  # rows were merged, so the test can fail


def test_dual_vertices_are_the_old_ones() -> None:
    """Vertices of the hybrid test's dual as the old code found them (``np.unique`` of the
    rounded solutions of every subset)."""
    rng = np.random.default_rng(3)
    for m, k in [(6, 2), (8, 3), (12, 5)]:
        for _ in range(3):
            sd = rng.uniform(0.5, 2.0, size=m)
            half = rng.normal(size=(m // 2, k))
            half[: m // 4] = np.round(half[: m // 4])  # ties and degenerate subsets
            x = np.vstack([half, -half])  # so that some g >= 0 has x' g = 0
            got = honest._dual_vertices(sd, x)
            w = np.column_stack([sd, x])
            verts = []
            for s in itertools.combinations(range(m), k + 1):
                mat = w[list(s)].T
                if abs(np.linalg.det(mat)) <= 1e-12 * np.max(np.abs(w)) ** (k + 1):
                    continue
                rhs = np.zeros(k + 1)
                rhs[0] = 1.0
                sol = np.linalg.solve(mat, rhs)
                if np.all(sol >= -1e-12):
                    v = np.zeros(m)
                    v[list(s)] = np.maximum(sol, 0.0)
                    verts.append(v)
            want = np.unique(np.round(np.array(verts).reshape(-1, m), 14), axis=0)
            assert len(want) > 0
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
