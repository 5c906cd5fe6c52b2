"""Placebos in space for the augmented synthetic control (issue 14 follow-up).

Checked three ways: the batched placebo fits equal a loop of the augmented fit over the donors
(each against the others, its penalty cross-validated on its own data) to 1e-10; the interval
and the p-value come from one test (the interval is exactly the set of effects the test does
not reject), for the studentized test (the default) and the raw effect-rank test; the
forecast scales equal a loop of rolling-origin augmented fits; and a placebo study in a world
whose extreme units lie outside the others' hull keeps both tests' size when the treated unit
is any unit of the world, while the planted outside unit is rejected far more often by the
raw test (it needs the treated unit's effect to spread like its donors'; an extreme unit's
does not) and within 10 % + 2 MC SE by the studentized one.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.core.ascm import ascm_fit
from evalmodel.core.ascm_placebo import forecast_scales, placebo_ascm_gaps, rolling_folds
from evalmodel.core.inversion import rank_p_values
from evalmodel.errors import EstimationError
from evalmodel.inference.placebo_ascm import AscmPlaceboResult, ascm_placebo_in_space


def factor_world(seed: int, *, j: int = 20, t: int = 25, outside: float = 1.8) -> np.ndarray:
    """Outcomes (units x periods), donors first, the treated last: two random-walk factors and
    a treated unit whose loadings are ``outside`` times the largest donor's."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(t, 2)).cumsum(axis=0) + np.linspace(0, 4, t)[:, None]
    load = rng.uniform(0.2, 1.0, size=(j + 1, 2))
    load[-1] = outside * load[:-1].max(axis=0)
    return load @ f.T + rng.normal(scale=0.5, size=(j + 1, t)) + 10.0


def as_panel(y: np.ndarray) -> em.Panel:
    ids = [f"u{i:02d}" for i in range(y.shape[0] - 1)] + ["TR"]
    df = pd.DataFrame([(ids[i], 2000 + s, y[i, s]) for i in range(y.shape[0])
                       for s in range(y.shape[1])], columns=["unit", "year", "y"])
    return em.Panel(df, unit="unit", time="year")


def _synth(y: np.ndarray, t0: int, **kw: object) -> em.SynthResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.ConvexHullWarning)
        return em.synth(as_panel(y), "y", treated="TR", start=2000 + t0, **kw)


def _loop(y0: np.ndarray, pre: np.ndarray, **kw: object) -> tuple[np.ndarray, np.ndarray]:
    """The brute force: ascm_fit of each donor against the others."""
    gaps, lams = [], []
    for j in range(y0.shape[0]):
        pool = np.arange(y0.shape[0]) != j
        fit = ascm_fit(y0[pool], y0[j], pre, **kw)  # type: ignore[arg-type]
        gaps.append(y0[j] - fit.path)
        lams.append(fit.lam)
    return np.array(gaps), np.array(lams)


@pytest.mark.parametrize(("augment", "lam"), [("ridge", None), ("ridge_fe", None),
                                              ("ridge", 3.0)])
def test_batched_placebos_equal_a_loop_of_augmented_fits(augment: str, lam: float | None
                                                           ) -> None:
    y, t0 = factor_world(4), 18
    r = _synth(y, t0, augment=augment, ridge_lambda=lam, inference="placebo",
               max_pre_mspe_ratio=float("inf"))
    assert r.placebo is not None
    gaps, lams = _loop(y[:-1], np.arange(t0), demean=augment == "ridge_fe", lam=lam)
    ours = r.placebo.gaps.to_numpy()
    np.testing.assert_allclose(ours[:-1], gaps, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours[-1], r.gaps.to_numpy(), rtol=0, atol=0)
    if lam is None:  # each placebo's own cross-validated penalty, not the treated unit's
        assert np.unique(lams).size > 1
        assert f"range {lams.min():.4g}-{lams.max():.4g}" in r.inference
    else:
        assert "the given penalty 3" in r.inference
    # the treated unit is in no placebo's pool: changing its outcome moves no placebo
    y2 = y.copy()
    y2[-1] += 7.0
    r2 = _synth(y2, t0, augment=augment, ridge_lambda=lam, inference="placebo")
    assert r2.placebo is not None
    np.testing.assert_array_equal(r2.placebo.gaps.to_numpy()[:-1], ours[:-1])


def test_batched_placebos_with_given_weights_and_the_1se_rule() -> None:
    y0, pre = factor_world(6)[:-1], np.arange(18)
    rng = np.random.default_rng(1)
    n = y0.shape[0]
    omegas = rng.dirichlet(np.ones(n - 1), size=n)
    full = np.zeros((n, n))
    for j in range(n):
        full[j, np.arange(n) != j] = omegas[j]
    gaps, lams = placebo_ascm_gaps(y0, pre, omegas=full, rule="1se")
    for j in range(n):
        pool = np.arange(n) != j
        fit = ascm_fit(y0[pool], y0[j], pre, omega=omegas[j], rule="1se")
        assert lams[j] == fit.lam
        np.testing.assert_allclose(gaps[j], y0[j] - fit.path, rtol=0, atol=1e-10)


def _check_duality(table: pd.DataFrame, placebo: pd.DataFrame, scale: float,
                   alpha: float) -> None:
    """The table's interval is exactly the set of shifts the table's test does not reject:
    the treated statistic ``(est - tau) / scale`` ranked among the fixed ``placebo`` ones."""
    for _, row in table.iterrows():
        lo, hi, est = row["ci_lower"], row["ci_upper"], row["estimate"]
        assert np.isfinite(lo) and np.isfinite(hi) and lo < est < hi
        # 0 is outside the interval exactly when the p-value rejects at alpha
        assert (row["p_value"] <= alpha + 1e-12) == (not lo <= 0 <= hi)
        z = placebo[row["term"]].to_numpy()[:, None]
        assert rank_p_values(np.array([est / scale]), z)[0] == row["p_value"]
        width = hi - lo
        for tau in np.linspace(lo - width, hi + width, 41):
            p = rank_p_values(np.array([(est - tau) / scale]), z)[0]
            assert (p > alpha + 1e-12) == (lo - 1e-9 <= tau <= hi + 1e-9), (tau, p)
        for tau, accepted in ((lo + 1e-7, True), (hi - 1e-7, True), (lo - 1e-7, False),
                              (hi + 1e-7, False)):
            p = rank_p_values(np.array([(est - tau) / scale]), z)[0]
            assert (p > alpha + 1e-12) == accepted


def test_interval_and_p_value_come_from_one_test() -> None:
    y, t0 = factor_world(7), 18
    y[-1, t0:] += 3.0
    for conf in (0.8, 0.9):
        r = _synth(y, t0, augment="ridge", inference="placebo", conf_level=conf)
        pl = r.placebo
        assert isinstance(pl, AscmPlaceboResult) and pl.studentized
        s0 = float(pl.scale["TR"])
        # the table is the studentized test: effects over each unit's forecast error
        z = pl.placebo_statistics()
        np.testing.assert_allclose(
            z.to_numpy(), pl.placebo_effects().to_numpy()
            / pl.scale.loc[z.index].to_numpy()[:, None], rtol=1e-14)
        _check_duality(r.table, z, s0, 1 - conf)
        pd.testing.assert_frame_equal(r.table[["ci_lower", "ci_upper", "p_value"]],
                                      pl.table[["ci_lower", "ci_upper", "p_value"]])
        # the raw effect-rank test stays available, with its own interval
        _check_duality(pl.effect_rank_table, pl.placebo_effects(), 1.0, 1 - conf)
        assert pl.p_value_effect_rank == pl.effect_rank_table["p_value"].iloc[-1]
        assert f"raw effect-rank p-value {pl.p_value_effect_rank:.4f}" in r.inference
        # the two tests differ here: studentizing changes the intervals
        assert not np.allclose(r.table["ci_upper"], pl.effect_rank_table["ci_upper"])


def test_forecast_scales_equal_a_loop_of_rolling_origin_fits() -> None:
    """Each unit's scale is its augmented fit against all other units (penalty by its own
    leave-one-period-out cross-validation on the pre-periods), predicting each of the last
    third of the pre-periods from the periods before it: checked against ascm_fit."""
    y, t0 = factor_world(3, j=12), 15
    pre = np.arange(t0)
    for demean, lam in ((False, None), (True, None), (False, 2.0)):
        scales, lams = forecast_scales(y, pre, lam=lam, demean=demean)
        assert [int(t) for t, _ in rolling_folds(pre)] == [10, 11, 12, 13, 14]
        for i in range(y.shape[0]):
            pool = np.arange(y.shape[0]) != i
            fit = ascm_fit(y[pool][:, :t0], y[i, :t0], pre, demean=demean, lam=lam)
            assert lams[i] == pytest.approx(fit.lam, rel=1e-12)
            # de-meaning uses the whole pre-period, as the cross-validation of ascm_fit does
            off = y[:, :t0].mean(axis=1) if demean else np.zeros(y.shape[0])
            yd = y[:, :t0] - off[:, None]
            errs = []
            for t in range(10, t0):
                f = ascm_fit(yd[pool][:, : t + 1], yd[i, : t + 1], np.arange(t), lam=fit.lam)
                errs.append(yd[i, t] - f.path[t])
            assert scales[i] == pytest.approx(np.sqrt(np.mean(np.square(errs))), rel=1e-9)


def test_placebo_with_predictors_augments_each_placebos_own_v_search() -> None:
    y, t0 = factor_world(9, j=10), 18
    preds = [("y", [2000 + s for s in range(0, 18, 3)], "mean"), ("y", [2017], "mean")]
    r = _synth(y, t0, augment="ridge", predictors=preds, inference="placebo",
               max_pre_mspe_ratio=float("inf"))
    plain = _synth(y, t0, predictors=preds, inference="placebo",
                   max_pre_mspe_ratio=float("inf"))
    assert r.placebo is not None and plain.placebo is not None
    y0, pre = y[:-1], np.arange(t0)
    for j in range(y0.shape[0]):
        pool = np.arange(y0.shape[0]) != j
        # the plain placebo's weights (its own V search), recovered from its gaps
        w, *_ = np.linalg.lstsq(y0[pool].T, y0[j] - plain.placebo.gaps.to_numpy()[j],
                                rcond=None)
        assert w.min() > -1e-8 and w.sum() == pytest.approx(1.0, abs=1e-8)
        fit = ascm_fit(y0[pool], y0[j], pre, omega=w)  # augmented, penalty cross-validated
        np.testing.assert_allclose(r.placebo.gaps.to_numpy()[j], y0[j] - fit.path,
                                   rtol=0, atol=1e-8)


def test_too_few_donors_for_placebos_is_refused() -> None:
    y = factor_world(1, j=2)
    with pytest.raises(EstimationError, match="2 donors leave each placebo fewer than 2"):
        ascm_placebo_in_space(y, y[-1], pre_cols=np.arange(18), periods=np.arange(25),
                              start=18, units=["a", "b", "TR"])


@pytest.mark.slow
def test_studentized_placebo_keeps_its_size_for_a_unit_outside_the_hull() -> None:
    """60 worlds of 16 units with no effect, the 16th's loadings 1.8 times the largest of the
    others (outside their hull). Each unit in turn is the treated one (the others its donors
    and, each against the rest, its placebos), tested at 10 % by the augmented SC's placebo
    test with the default pre-fit exclusion. With ``n`` kept placebos the rank test's exact
    size is ``floor(0.1 (n + 1)) / (n + 1)`` (1/15 with all 14 kept).

    - Over all 960 tests, the studentized test (the default) and the raw effect-rank test
      both reject within 2 Monte Carlo SE of the mean attainable size, and not above
      10 % + 2 SE.
    - The planted outside unit alone: the raw test rejects it in most worlds (0.5; it
      assumes the treated unit's effect spreads like an interior placebo's), the studentized
      test within 10 % + 2 SE (0.13 over 200 worlds in the study behind this test, MC SE
      0.02; 0.13 here).
    - Power: an effect of 2 (about 4 noise SDs; the outside unit's forecast error is about
      2.5 noise SDs) planted on the outside unit and on an interior unit is found by the
      studentized test in at least 35 % of the worlds (0.5 and 0.6 here).
    """
    tic = time.process_time()
    t0, t, alpha, n_worlds, effect = 15, 25, 0.1, 60, 2.0
    pre, periods = np.arange(t0), np.arange(t)

    def test(yi: np.ndarray) -> tuple[bool, bool, int]:
        fit = ascm_fit(yi[:-1], yi[-1], pre)
        res, _ = ascm_placebo_in_space(yi, yi[-1] - fit.path, pre_cols=pre, periods=periods,
                                       start=t0, units=[str(u) for u in range(len(yi))],
                                       conf_level=1 - alpha)
        p_stud = float(res.table["p_value"].iloc[-1])
        return (p_stud <= alpha + 1e-12, res.p_value_effect_rank <= alpha + 1e-12,
                res.n_kept + 1)

    stud, raw, exact, out_stud, out_raw, power_out, power_in = [], [], [], [], [], [], []
    for s in range(n_worlds):
        y = factor_world(1000 + s, j=15, t=t)
        n = y.shape[0]
        for i in range(n):
            yi = y[np.append(np.flatnonzero(np.arange(n) != i), i)]
            rs, rr, k = test(yi)
            stud.append(rs)
            raw.append(rr)
            exact.append(np.floor(alpha * k + 1e-9) / k)
            if i == n - 1:
                out_stud.append(rs)
                out_raw.append(rr)
                yi = yi.copy()
                yi[-1, t0:] += effect
                power_out.append(test(yi)[0])
            if i == 0:
                yi = yi.copy()
                yi[-1, t0:] += effect
                power_in.append(test(yi)[0])
    level = float(np.mean(exact))
    se = np.sqrt(level * (1 - level) / len(stud))
    se_out = np.sqrt(alpha * (1 - alpha) / n_worlds)
    rate_s, rate_r = float(np.mean(stud)), float(np.mean(raw))
    out_s, out_r = float(np.mean(out_stud)), float(np.mean(out_raw))
    pw_out, pw_in = float(np.mean(power_out)), float(np.mean(power_in))
    print(f"size over {len(stud)} tests (attainable {level:.3f}, MC SE {se:.3f}): "
          f"studentized {rate_s:.3f}, raw {rate_r:.3f}; outside unit over {n_worlds} "
          f"worlds (MC SE {se_out:.3f}): studentized {out_s:.3f}, raw {out_r:.3f}; power "
          f"at {effect:g}: outside {pw_out:.3f}, interior {pw_in:.3f}; "
          f"CPU {time.process_time() - tic:.1f} s")
    for rate in (rate_s, rate_r):
        assert abs(rate - level) <= 2 * se, (rate, level)
        assert rate <= alpha + 2 * se
    assert out_r > alpha + 3 * se_out, out_r  # the raw test's failure, pinned
    assert out_s <= alpha + 2 * se_out, out_s
    assert pw_out >= 0.35 and pw_in >= 0.35, (pw_out, pw_in)
