"""The faster steps of the relative-magnitudes intervals (issue 16) give the numbers of the
steps they replace, bit for bit: the hybrid test's candidate vertex subsets and its distinct
vertices. (The smoothness FLCI's solver is tested in test_honest_flci.py.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from evalmodel.errors import EstimationError
from evalmodel.inference import honest


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
