"""The restricted wild cluster bootstrap against the wildboottest package (same weights, draws
and seed), its inverted interval, and its size with few clusters (planted null)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from wildboottest.wildboottest import WildboottestCL

from evalmodel.errors import EstimationError
from evalmodel.inference.wild import wild_bootstrap, wild_weights


def _data(n: int, g: int, seed: int, beta1: float = 0.05) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    cl = rng.integers(0, g, n)
    y = x @ np.array([1.0, beta1, 0.3]) + rng.normal(size=n) + rng.normal(size=g)[cl]
    return y, x, cl


def _peer(y: np.ndarray, x: np.ndarray, cl: np.ndarray, weights: str, seed: int, b: int
          ) -> WildboottestCL:
    wb = WildboottestCL(X=x, Y=y, cluster=cl, R=np.array([0.0, 1.0, 0.0]), B=b, seed=seed,
                        parallel=False)
    wb.get_scores(bootstrap_type="11", impose_null=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.get_weights(weights_type=weights)
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue()
    return wb


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_matches_wildboottest_same_draws(weights: str) -> None:
    y, x, cl = _data(1500, 30, seed=3)
    ours = wild_bootstrap(y, x, cl, coef=1, weights=weights, n_draws=1999, seed=11,
                          interval=False)
    peer = _peer(y, x, cl, weights, seed=11, b=1999)
    # same weights and draws: identical p-values (no Monte Carlo difference at all)
    assert ours.p_value == pytest.approx(float(peer.pvalue), abs=1e-12)
    assert ours.t_stat == pytest.approx(float(np.ravel(peer.t_stat)[0]), rel=1e-10)
    np.testing.assert_allclose(ours.t_boot, np.ravel(peer.t_boot), rtol=1e-9)


def test_full_enumeration_matches_wildboottest() -> None:
    y, x, cl = _data(400, 8, seed=5, beta1=0.2)
    ours = wild_bootstrap(y, x, cl, coef=1, n_draws=999, seed=1, interval=False)
    peer = _peer(y, x, cl, "rademacher", seed=1, b=999)
    assert ours.full_enumeration and ours.n_draws == 256
    assert ours.p_value == pytest.approx(float(peer.pvalue), abs=1e-12)


def test_interval_inverts_the_test() -> None:
    y, x, cl = _data(1200, 20, seed=9)
    r = wild_bootstrap(y, x, cl, coef=1, weights="webb", n_draws=999, seed=2)
    assert r.ci_lower < r.estimate < r.ci_upper
    inside = wild_bootstrap(y, x, cl, coef=1, weights="webb", n_draws=999, seed=2,
                            null=r.ci_lower + 1e-4 * r.std_error, interval=False)
    outside = wild_bootstrap(y, x, cl, coef=1, weights="webb", n_draws=999, seed=2,
                             null=r.ci_lower - 1e-4 * r.std_error, interval=False)
    assert inside.p_value > 0.05 >= outside.p_value
    # roughly the t interval width (many clusters)
    assert (r.ci_upper - r.ci_lower) / (2 * 2.09 * r.std_error) == pytest.approx(1, abs=0.2)


def test_dataframe_input_and_table() -> None:
    y, x, cl = _data(300, 15, seed=1)
    xd = pd.DataFrame(x, columns=["const", "treated", "z"])
    r = wild_bootstrap(pd.Series(y), xd, pd.Series(cl), coef="treated", n_draws=199, seed=0,
                       interval=False)
    assert r.term == "treated"
    assert list(r.table.columns) == ["term", "estimate", "std_error", "ci_lower", "ci_upper",
                                       "p_value"]
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    assert r.estimate == pytest.approx(ols[1], rel=1e-10)


def test_weights_stream() -> None:
    v = wild_weights(5, 3, weights="webb", seed=4)
    expected = np.random.default_rng(4).choice(
        np.concatenate([-np.sqrt([1.5, 1.0, 0.5]), np.sqrt([0.5, 1.0, 1.5])]), size=15)
    np.testing.assert_allclose(v, expected.reshape(5, 3))


def test_errors_are_named() -> None:
    y, x, cl = _data(100, 10, seed=1)
    with pytest.raises(EstimationError, match="n_draws=10; use at least 99"):
        wild_bootstrap(y, x, cl, coef=1, n_draws=10)
    with pytest.raises(EstimationError, match="weights='mammen' is not one of"):
        wild_bootstrap(y, x, cl, coef=1, weights="mammen")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="coef='d' is not a column"):
        wild_bootstrap(y, x, cl, coef="d")
    with pytest.raises(EstimationError, match="y has 99 rows, x 100"):
        wild_bootstrap(y[:-1], x, cl, coef=1)
    with pytest.raises(EstimationError, match="1 cluster; at least 2"):
        wild_bootstrap(y, x, np.zeros(100), coef=1)


@pytest.mark.slow
def test_size_with_few_clusters() -> None:
    # planted null beta1 = 0 with 10 clusters and a cluster-level regressor: the WCR with Webb
    # weights rejects close to 5 %
    rng = np.random.default_rng(123)
    reps, rej = 300, 0
    for _ in range(reps):
        g, n = 10, 200
        cl = np.repeat(np.arange(g), n // g)
        xc = rng.normal(size=g)[cl]
        x = np.column_stack([np.ones(n), xc])
        y = 1 + rng.normal(size=g)[cl] + rng.normal(size=n)
        r = wild_bootstrap(y, x, cl, coef=1, weights="webb", n_draws=399,
                           seed=int(rng.integers(1 << 31)), interval=False)
        rej += r.p_value <= 0.05
    assert abs(rej / reps - 0.05) < 0.035
