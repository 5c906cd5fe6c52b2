"""Multiplier bootstrap: the compiled kernel, its BLAS twin and explicit signs agree; the
bootstrap standard error recovers a known sampling SD; seeds reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.inference.multiplier import (
    _rademacher_draws_blas,
    low_rank,
    multiplier_bootstrap,
    support_patterns,
)
from evalmodel.inference.multiplier_kernel import rademacher_draws_kernel


def staggered_like(n: int, k_coh: int = 5, n_coh: int = 4, seed: int = 0) -> np.ndarray:
    """Influence-like rows: cohort units non-zero in their own columns, controls everywhere."""
    rng = np.random.default_rng(seed)
    coh = rng.integers(0, n_coh + 1, n)
    s = np.zeros((n, k_coh * n_coh))
    for g in range(1, n_coh + 1):
        rows = coh == g
        s[np.ix_(rows, np.arange((g - 1) * k_coh, g * k_coh))] = rng.normal(
            size=(rows.sum(), k_coh))
    s[coh == 0] = rng.normal(size=((coh == 0).sum(), k_coh * n_coh))
    return s


def explicit(s: np.ndarray, bits: np.ndarray, n_boot: int) -> np.ndarray:
    signs = np.unpackbits(bits, axis=1, count=n_boot, bitorder="little").astype(float) * 2 - 1
    return signs.T @ s


@pytest.mark.parametrize("n_boot", [1, 8, 13, 999])
@pytest.mark.parametrize("n", [3, 1_001])
def test_kernel_and_blas_equal_explicit_signs(n: int, n_boot: int) -> None:
    s = staggered_like(n)
    bits = np.random.default_rng(1).integers(0, 256, size=(n, (n_boot + 7) // 8),
                                             dtype=np.uint8)
    ref = explicit(s, bits, n_boot)
    pattern, cols = support_patterns(s)
    scale = np.abs(ref).max()
    for parts in (1, 2, 3):
        got = rademacher_draws_kernel(s, bits, n_boot, pattern=pattern, cols=cols,
                                      n_parts=parts)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(_rademacher_draws_blas(s, bits, n_boot), ref, rtol=0,
                               atol=1e-13 * scale)


def test_support_patterns() -> None:
    s = staggered_like(500, k_coh=3, n_coh=3)
    pattern, cols = support_patterns(s)
    assert sorted(len(c) for c in cols) == [3, 3, 3, 9]
    for p, c in enumerate(cols):
        rows = s[pattern == p]
        off = np.setdiff1d(np.arange(s.shape[1]), c)
        assert np.all(rows[:, off] == 0)
    dense = np.random.default_rng(2).normal(size=(200, 12))
    dense[dense > 1.0] = 0.0  # many distinct patterns: one dense group
    pattern, cols = support_patterns(dense)
    assert len(cols) == 1 and np.all(pattern == 0) and list(cols[0]) == list(range(12))
    wide = staggered_like(300, k_coh=20, n_coh=4)  # 80 columns: keys wider than 8 bytes
    assert sorted(len(c) for c in support_patterns(wide)[1]) == [20, 20, 20, 20, 80]


def test_numpy_route_matches_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    psi = staggered_like(400)
    fast = multiplier_bootstrap(psi, n_draws=199, seed=5)
    monkeypatch.setenv("EVALMODEL_NUMBA", "0")
    slow = multiplier_bootstrap(psi, n_draws=199, seed=5)
    np.testing.assert_allclose(fast.std_error, slow.std_error, rtol=1e-10)
    assert fast.crit_value == pytest.approx(slow.crit_value, rel=1e-10)


def test_same_seed_same_numbers_and_seed_matters() -> None:
    psi = staggered_like(2_000)
    a = multiplier_bootstrap(psi, n_draws=299, seed=11)
    b = multiplier_bootstrap(psi, n_draws=299, seed=11)
    c = multiplier_bootstrap(psi, n_draws=299, seed=12)
    assert np.array_equal(a.std_error, b.std_error) and a.crit_value == b.crit_value
    assert not np.array_equal(a.std_error, c.std_error)


@pytest.mark.parametrize("multipliers", ["rademacher", "gaussian"])
def test_bootstrap_se_recovers_known_sd(multipliers: str) -> None:
    """Mean of n iid draws with SD 2 (and a second estimate with SD 1): the bootstrap SE
    equals the analytic SD / sqrt(n) within Monte Carlo error of 999 draws (about 3 %)."""
    rng = np.random.default_rng(3)
    n = 20_000
    x = np.column_stack([rng.normal(0, 2, n), rng.normal(0, 1, n)])
    psi = x - x.mean(axis=0)
    r = multiplier_bootstrap(psi, n_draws=999, seed=4, multipliers=multipliers)  # type: ignore[arg-type]
    truth = psi.std(axis=0) / np.sqrt(n)
    np.testing.assert_allclose(r.std_error, truth, rtol=0.08)
    assert 1.9 < r.crit_value < 2.5  # two nearly independent estimates: about 2.24


def test_clusters_sum_before_drawing() -> None:
    psi = staggered_like(600)
    cluster = np.repeat(np.arange(200), 3)
    r = multiplier_bootstrap(psi, n_draws=99, seed=1, cluster=cluster)
    summed = psi.reshape(200, 3, -1).sum(axis=1)
    q = multiplier_bootstrap(summed, n_draws=99, seed=1)
    assert r.n_clusters == 200
    # Same multipliers per cluster; the draws are divided by the number of rows.
    np.testing.assert_allclose(r.std_error * 600, q.std_error * 200, rtol=1e-12)


def test_low_rank_factor_is_exact_and_used() -> None:
    """A never-treated-like block of rank 4 in 40 columns is factorised; the draws through the
    factor equal explicit signs; a full-rank block and a block with one stray row are not."""
    rng = np.random.default_rng(8)
    n, k, r = 2_000, 40, 4
    s = rng.normal(size=(n, r)) @ rng.normal(size=(r, k))
    factor = low_rank(s)
    assert factor is not None and factor[0].shape == (n, r)
    np.testing.assert_allclose(factor[0] @ factor[1].T, s, atol=1e-12 * np.abs(s).max())
    assert low_rank(rng.normal(size=(n, k))) is None
    stray = s.copy()
    stray[1_001] = rng.normal(size=k)  # not in the sampled rows' span
    assert low_rank(stray) is None
    bits = rng.integers(0, 256, size=(n, 125), dtype=np.uint8)
    pattern = np.zeros(n, dtype=np.int64)
    got = rademacher_draws_kernel(s, bits, 999, pattern=pattern, cols=[np.arange(k)],
                                  factors={0: factor})
    ref = explicit(s, bits, 999)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11 * np.abs(ref).max())


def test_compiled_route_with_mixed_patterns_equals_explicit() -> None:
    """Cohort blocks plus a low-rank dense block (the att_gt shape) through the full route."""
    rng = np.random.default_rng(9)
    s = staggered_like(3_000, k_coh=5, n_coh=4)
    never = np.flatnonzero(np.all(s != 0, axis=1))
    s[never] = rng.normal(size=(len(never), 3)) @ rng.normal(size=(3, 20))
    bits = rng.integers(0, 256, size=(3_000, 63), dtype=np.uint8)
    from evalmodel.inference.multiplier import _rademacher_draws_compiled

    ref = explicit(s, bits, 500)
    np.testing.assert_allclose(_rademacher_draws_compiled(s, bits, 500), ref, rtol=0,
                               atol=1e-11 * np.abs(ref).max())
