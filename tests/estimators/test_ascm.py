"""Augmented synthetic control (issue 14, part 2): ``synth(augment="ridge" | "ridge_fe")``.

Checked three ways: against ``augsynth-py`` 0.6 (``AugSynth``, the peer) on the same data in the
same run, both with the cross-validated penalty and with a given one; by the algebra of the
ridge (the augmentation sums to zero, the bias is the plain minus the augmented effect); and by
a Monte Carlo world whose treated unit is outside the donors' hull, where plain SC is biased
and the augmented SC with its conformal interval covers the planted effect.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.core.ascm import ascm_fit, ascm_residuals, cv_lambda, lambda_grid, ridge_gamma
from evalmodel.errors import EstimationError
from evalmodel.inference.conformal import conformal_inference

J, T, T0 = 20, 25, 18


def factor_world(seed: int, *, j: int = J, t: int = T, outside: float = 1.8,
                 noise: float = 0.5) -> np.ndarray:
    """Outcomes (units x periods), donors first, the treated last: two random-walk factors,
    and a treated unit whose loadings are ``outside`` times the largest donor's (so it lies
    outside the donors' hull whenever the factors move)."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(t, 2)).cumsum(axis=0) + np.linspace(0, 4, t)[:, None]
    load = rng.uniform(0.2, 1.0, size=(j + 1, 2))
    load[-1] = outside * load[:-1].max(axis=0)
    return load @ f.T + rng.normal(scale=noise, size=(j + 1, t)) + 10.0


def as_panel(y: np.ndarray) -> em.Panel:
    ids = [f"u{i:02d}" for i in range(y.shape[0] - 1)] + ["TR"]
    df = pd.DataFrame([(ids[i], 2000 + s, y[i, s]) for i in range(y.shape[0])
                       for s in range(y.shape[1])], columns=["unit", "year", "y"])
    return em.Panel(df, unit="unit", time="year")


def peer(y: np.ndarray, *, fixedeff: bool, lambda_: float | None = None) -> object:
    """augsynth-py's AugSynth on the same outcomes (it sorts unit names: u00 < ... < TR)."""
    pl = pytest.importorskip("polars")
    from augsynth_py import AugSynth

    ids = [f"u{i:02d}" for i in range(y.shape[0] - 1)] + ["TR"]
    rows = [(ids[i], s, float(y[i, s])) for i in range(y.shape[0]) for s in range(y.shape[1])]
    df = pl.DataFrame(rows, schema=["unit", "time", "y"], orient="row")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AugSynth(fixedeff=fixedeff, lambda_=lambda_).fit(
            df, unit="unit", time="time", outcome="y", treated="TR", treatment_time=T0)


def _fit(y: np.ndarray, **kw: object) -> em.SynthResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.ConvexHullWarning)
        return em.synth(as_panel(y), "y", treated="TR", start=2000 + T0, **kw)


@pytest.mark.parametrize(("augment", "fixedeff"), [("ridge", False), ("ridge_fe", True)])
def test_equals_augsynth_py_with_cross_validated_penalty(augment: str, fixedeff: bool) -> None:
    y = factor_world(3)
    r = _fit(y, augment=augment, inference="none")
    a = peer(y, fixedeff=fixedeff)
    assert r.augmentation is not None
    assert r.augmentation.penalty == pytest.approx(a.lambda_, rel=1e-12)
    assert r.estimate == pytest.approx(a.att_, abs=1e-4)
    np.testing.assert_allclose(r.gaps.to_numpy(), a.gap_, atol=1e-4)
    ours = r.weights.to_numpy()
    theirs = np.array([a.weights_[u] for u in r.weights.index])
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    scm = np.array([a.scm_weights_[u] for u in r.weights.index])
    np.testing.assert_allclose(r.augmentation.scm_weights.to_numpy(), scm, atol=1e-4)
    # the effective weights are not on the simplex: some are negative
    assert (ours < -1e-3).any()


@pytest.mark.parametrize(("augment", "fixedeff"), [("ridge", False), ("ridge_fe", True)])
def test_equals_augsynth_py_at_a_given_penalty(augment: str, fixedeff: bool) -> None:
    y = factor_world(8)
    for lam in (0.5, 25.0):
        r = _fit(y, augment=augment, ridge_lambda=lam, inference="none")
        a = peer(y, fixedeff=fixedeff, lambda_=lam)
        assert r.augmentation is not None and r.augmentation.cv is None
        assert r.estimate == pytest.approx(a.att_, abs=1e-4)
        np.testing.assert_allclose(r.paths["synthetic"].to_numpy(), a.synthetic_, atol=1e-4)


def test_bias_is_the_plain_minus_the_augmented_effect() -> None:
    y = factor_world(5)
    plain = _fit(y, inference="none")
    aug = _fit(y, augment="ridge", inference="none")
    assert aug.augmentation is not None
    assert aug.augmentation.scm_estimate == pytest.approx(plain.estimate, abs=1e-6)
    assert aug.bias == pytest.approx(plain.estimate - aug.estimate, abs=1e-9)
    assert aug.augmentation.ridge_weights.sum() == pytest.approx(0.0, abs=1e-9)
    assert aug.method == "augmented synthetic control"
    text = str(aug.summary())
    assert "estimated bias" in text and f"{aug.bias:.4f}" in text
    assert np.isnan(plain.bias)
    # the augmented fit is closer in the pre-period than the plain one
    assert aug.pre_rmspe < plain.pre_rmspe


def test_ridge_algebra() -> None:
    rng = np.random.default_rng(0)
    y0, y1 = rng.normal(size=(12, 30)), rng.normal(size=12)
    w = np.full(30, 1 / 30)
    g = ridge_gamma(y0, y1, w, 2.0)
    assert g.sum() == pytest.approx(0.0, abs=1e-12)
    # the closed form with donors as columns, after centring each period on the donors' mean
    a = y0 - y0.mean(axis=1, keepdims=True)
    b = y1 - y0.mean(axis=1)
    direct = np.linalg.solve(a.T @ a + 2.0 * np.eye(30), a.T @ (b - a @ w))
    np.testing.assert_allclose(g, direct, atol=1e-10)
    # a huge penalty gives back the plain synthetic control
    assert np.abs(ridge_gamma(y0, y1, w, 1e12)).max() < 1e-9
    grid = lambda_grid(y1)
    assert grid[0] == pytest.approx(1e-4 * np.var(y1)) and grid.size == 50
    lam_min, path = cv_lambda(y0, y1, grid)
    lam_1se, _ = cv_lambda(y0, y1, grid, rule="1se")
    assert lam_min == grid[np.argmin(path[:, 1])] and lam_1se >= lam_min


def test_augment_checks() -> None:
    y = factor_world(1)
    p = as_panel(y)
    with pytest.raises(EstimationError, match="augment='rige' is not one of"):
        em.synth(p, "y", treated="TR", start=2018, augment="rige")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="ridge_lambda=-1 must be a positive number"):
        em.synth(p, "y", treated="TR", start=2018, augment="ridge", ridge_lambda=-1)
    with pytest.raises(EstimationError, match="needs augment='ridge'"):
        em.synth(p, "y", treated="TR", start=2018, ridge_lambda=1.0)
    with pytest.raises(EstimationError, match="does not use predictors="):
        em.synth(p, "y", treated="TR", start=2018, augment="ridge_fe", predictors=["y"])


def test_auto_inference_with_augment_is_placebo_and_conformal_on_request() -> None:
    # one treated unit: 'auto' is design-based (placebos in space of the augmented fit)
    r = _fit(factor_world(2), augment="ridge")
    assert r.inference.startswith("placebos in space of the augmented synthetic control")
    assert r.placebo is not None and r.table["std_error"].notna().all()
    assert any("inference='conformal' gives conformal inference" in n for n in r.notes)
    c = _fit(factor_world(2), augment="ridge", inference="conformal")
    assert c.inference.startswith("conformal inference") and c.placebo is None
    assert c.table["std_error"].isna().all()
    assert c.table["p_value"].between(0, 1).all()
    assert c.estimate == r.estimate


@pytest.mark.slow
def test_ascm_covers_the_planted_effect_where_plain_sc_is_biased() -> None:
    """200 draws of a world whose treated unit is outside the hull, planted effect 2.0: plain
    SC's average effect is biased (mean error about 5.6, 15 Monte Carlo SEs from 0), the
    augmented SC's bias is far smaller (about 0.9), and its 95% conformal interval of the
    average effect covers 2.0 in 95 +- 5 % of draws (99.5 % in this world: conservative)."""
    effect, draws, t0, t = 2.0, 200, 15, 25
    pre, post = np.arange(t0), np.arange(t0, t)
    plain_err, aug_err, covered = [], [], []
    for s in range(draws):
        y = factor_world(1000 + s, j=15, t=t)
        y[-1, t0:] += effect
        y0, y1 = y[:-1], y[-1]
        fit = ascm_fit(y0, y1, pre)
        gaps = y1 - fit.path
        plain_err.append((y1 - fit.scm_path)[post].mean() - effect)
        aug_err.append(gaps[post].mean() - effect)
        lam = fit.lam

        def refit(cols: np.ndarray, y1c: np.ndarray, lam: float = lam,
                  y0: np.ndarray = y0) -> np.ndarray:
            return ascm_residuals(y0[:, cols], y1c, lam=lam)

        est = np.append(gaps[post], gaps[post].mean())
        res = conformal_inference(refit, y1, pre_cols=pre, post_cols=post, estimates=est,
                                  terms=[*map(str, post), "average"], conf_level=0.95,
                                  grid_size=20, rel_tol=1e-2, per_period=False)
        lo, hi = res.table.iloc[-1][["ci_lower", "ci_upper"]]
        covered.append(lo <= effect <= hi)
    plain, aug = np.array(plain_err), np.array(aug_err)
    mc_se = plain.std(ddof=1) / np.sqrt(draws)
    print(f"plain SC error {plain.mean():.3f} (MC SE {mc_se:.3f}), ASCM error "
          f"{aug.mean():.3f}, coverage {np.mean(covered):.3f}")
    assert abs(plain.mean()) > 5 * mc_se, plain.mean()  # plain SC is biased here
    assert abs(aug.mean()) < abs(plain.mean()) / 3
    assert abs(np.mean(covered) - 0.95) <= 0.05, np.mean(covered)
