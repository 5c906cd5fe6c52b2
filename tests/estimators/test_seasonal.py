"""Calendar-month effects in DiD and TWFE on monthly panels (issue 17, part 4): the seasonal
estimates equal a dummy-variable regression (statsmodels) and linearmodels' PanelOLS, the
permutation statistic equals the regression, a planted effect is recovered, the permutation
size holds, ignoring a treated unit's own seasonality biases and over-rejects, and synthetic
control and SDID run on the monthly world."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.panel import PanelOLS

import evalmodel as em
from evalmodel.core.demean import blockwise_demean, twoway_demean
from evalmodel.data.simulate_monthly import simulate_monthly
from evalmodel.errors import EstimationError
from evalmodel.estimators.seasonal import SeasonalStatistic
from evalmodel.months import month_code

JAN21 = month_code(2021, 1)


def _panel(data: pd.DataFrame, **roles: str) -> em.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # labels -> codes; gaps
        return em.Panel(data, unit="kommun", time="month", **roles)


def _small(seed: int = 3, *, n_units: int = 40, first: str = "2019-01",
           last: str = "2022-12") -> pd.DataFrame:
    """A corner of the monthly world: 40 units x 48 months, 12 treated from 2021-01 (effect
    0.3 added to the share), a covariate and unit-varying weights."""
    data, _ = simulate_monthly(seed, start=first, end=last, effects=False)
    ids = data["kommun"].unique()[:n_units]
    df = data[data["kommun"].isin(ids)].reset_index(drop=True)
    treated = set(ids[::n_units // 12][:12])
    df["cohort"] = np.where(df["kommun"].isin(treated), "2021-01", None)
    rng = np.random.default_rng(seed)
    df["x"] = rng.normal(size=len(df))
    df["share"] += 0.3 * (df["kommun"].isin(treated) & (df["month"] >= "2021-01"))
    df["share"] += 0.5 * df["x"]
    df["w"] = df["kommun"].map(dict(zip(ids, rng.uniform(0.5, 2.0, len(ids)), strict=True)))
    return df


def _dummies(df: pd.DataFrame, covariates: list[str], weight: str | None
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """statsmodels OLS/WLS of share on D, covariates, unit x calendar-month dummies and month
    dummies; coefficient and unit-clustered standard error (no statsmodels correction, then
    the residual degrees of freedom of the rank: n / (n - rank)) of D and the covariates."""
    codes = df["month"].map(lambda m: 12 * int(m[:4]) + int(m[5:]) - 1)
    d = ((df["cohort"].notna()) & (codes >= JAN21)).astype(float)
    ucm = df["kommun"] + "_" + df["month"].str[5:]
    X = pd.concat([pd.DataFrame({"D": d}), df[covariates],
                   pd.get_dummies(ucm, dtype=float),
                   pd.get_dummies(df["month"], dtype=float, drop_first=True)], axis=1)
    model = (sm.WLS(df["share"], X, weights=df[weight]) if weight else sm.OLS(df["share"], X))
    with warnings.catch_warnings():  # the dummies are collinear (12 blocks): pinv solves it
        warnings.simplefilter("ignore")
        fit = model.fit(cov_type="cluster", cov_kwds={
            "groups": pd.factorize(df["kommun"])[0], "use_correction": False})
    k = 1 + len(covariates)
    factor = np.sqrt(len(df) / fit.df_resid)
    return fit.params.to_numpy()[:k], fit.bse.to_numpy()[:k] * factor, float(fit.df_resid)


CASES = {  # name: (rows dropped, covariates, weight)
    "balanced": (0, [], None),
    "unbalanced": (60, [], None),
    "covariate, weights": (0, ["x"], "w"),
    "unbalanced, covariate, weights": (60, ["x"], "w"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_seasonal_twfe_equals_dummy_regression(case: str) -> None:
    """Estimate and unit-clustered standard error equal statsmodels' regression with unit x
    calendar-month and month dummies to 1e-8 (relative), the small-sample factor
    n / (n - rank) counting the effects by their rank (12 * units + months - 12)."""
    n_drop, covariates, weight = CASES[case]
    df = _small()
    if n_drop:
        rng = np.random.default_rng(2)
        df = df.drop(index=rng.choice(len(df), n_drop, replace=False)).reset_index(drop=True)
    r = em.twfe(_panel(df, cohort="cohort", weight=weight) if weight else
                _panel(df, cohort="cohort"), "share", covariates=covariates,
                seasonal="unit", inference="analytic")
    params, se, df_resid = _dummies(df, covariates, weight)
    np.testing.assert_allclose(r.table["estimate"], params, rtol=1e-8)
    np.testing.assert_allclose(r.table["std_error"], se, rtol=1e-8)
    fit = r.details["fit"]
    assert fit.df_resid == df_resid  # type: ignore[attr-defined]
    assert r.sample.n_units == 40 and fit.n_clusters == 40  # type: ignore[attr-defined]
    assert abs(r.estimate - 0.3) < 3 * r.table["std_error"].iloc[0]  # the planted 0.3


def test_seasonal_twfe_equals_panelols() -> None:
    """linearmodels' PanelOLS with the unit x calendar-month id as entity and time effects: the
    same coefficient to 1e-10 and, once its count of the effects (entities + periods - 1,
    where their rank is entities + periods - 12) is replaced, the same clustered error."""
    df = _small(5)
    r = em.twfe(_panel(df, cohort="cohort"), "share", covariates=["x"], seasonal="unit",
                inference="analytic")
    codes = df["month"].map(lambda m: 12 * int(m[:4]) + int(m[5:]) - 1)
    d = df.assign(treated=((df["cohort"].notna()) & (codes >= JAN21)).astype(float),
                  ucm=df["kommun"] + "_" + df["month"].str[5:], t=codes)
    d = d.set_index(["ucm", "t"])
    fit = PanelOLS(d["share"], d[["treated", "x"]], entity_effects=True,
                   time_effects=True).fit(cov_type="clustered",
                                          clusters=pd.DataFrame(
                                              {"c": pd.factorize(d["kommun"])[0]},
                                              index=d.index))
    np.testing.assert_allclose(r.table["estimate"], fit.params, rtol=1e-10)
    n, n_ucm, n_t, k = len(df), 40 * 12, 48, 2
    counted = n - (n_ucm + n_t - 1) - k
    ours = r.details["fit"].df_resid  # type: ignore[attr-defined]
    assert ours == n - (n_ucm + n_t - 12) - k == counted + 11
    np.testing.assert_allclose(r.table["std_error"],
                               fit.std_errors * np.sqrt(counted / ours), rtol=1e-8)


def test_blockwise_demean_equals_dummy_residuals() -> None:
    rng = np.random.default_rng(0)
    u, t = np.repeat(np.arange(6), 24), np.tile(np.arange(24), 6)
    keep = rng.random(len(u)) > 0.1
    u, t = u[keep], t[keep]
    block = t % 12
    ucm = u * 12 + block
    x = rng.normal(size=(len(u), 2))
    w = rng.uniform(0.5, 2, len(u))
    dummies = np.column_stack([ucm[:, None] == np.unique(ucm)[None, :],
                               t[:, None] == np.unique(t)[None, :]]).astype(float)
    sw = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(dummies * sw, x * sw, rcond=None)[0]
    np.testing.assert_allclose(blockwise_demean(x, ucm, t, block, weights=w),
                               x - dummies @ coef, atol=1e-12)
    # One block over all rows is plain two-way demeaning.
    np.testing.assert_allclose(blockwise_demean(x, u, t, np.zeros(len(u), int)),
                               twoway_demean(x, u, t), atol=1e-12)
    with pytest.raises(EstimationError, match="more than one block"):
        blockwise_demean(x, u, t, block)


def test_did2x2_seasonal_is_the_regression_and_the_calendar_month_average() -> None:
    """did2x2(seasonal='unit') is the regression with unit x calendar-month and month effects
    on the two groups' pre and post months, which on a balanced panel is the average of the
    calendar-month DiDs weighted by T_m q_m (1 - q_m); analytic errors as twfe's."""
    df = _small(7)
    panel = _panel(df, cohort="cohort")
    pre = list(range(month_code(2020, 1), JAN21))  # 2020: one pre month per calendar month
    post = list(range(JAN21, month_code(2021, 7)))  # 2021-01..06: Jul-Dec carry no weight
    r = em.did2x2(panel, "share", pre=pre, post=post, seasonal="unit", inference="analytic")
    codes = df["month"].map(lambda m: 12 * int(m[:4]) + int(m[5:]) - 1)
    sub = df[codes.isin(pre + post)].reset_index(drop=True)
    params, se, _ = _dummies(sub, [], None)
    assert r.estimate == pytest.approx(params[0], rel=1e-10)
    assert r.table["std_error"].iloc[0] == pytest.approx(se[0], rel=1e-8)
    wide = sub.assign(code=codes[codes.isin(pre + post)].to_numpy()).pivot(
        index="kommun", columns="code", values="share")
    treated = wide.index.isin(sub.loc[sub["cohort"].notna(), "kommun"])
    gaps = wide[treated].mean() - wide[~treated].mean()
    by_month = [gaps[c] - gaps[c - 12] for c in post]  # each month minus the same month of 2020
    assert r.estimate == pytest.approx(np.mean(by_month), rel=1e-10)
    assert "same calendar month" in " ".join(r.notes)


def test_seasonal_statistic_equals_the_regression() -> None:
    df = _small(11)
    panel = _panel(df.drop(columns="cohort"))
    stat = SeasonalStatistic("share", start=JAN21)
    rng = np.random.default_rng(4)
    z = np.zeros((4, len(panel.units)), dtype=bool)
    for row, k in zip(z, (1, 3, 7, 12), strict=True):
        row[rng.choice(len(panel.units), k, replace=False)] = True
    batch = stat.batch(panel, z)
    for row, value in zip(z, batch, strict=True):
        units = np.asarray(panel.units)[row]
        refit = em.twfe(panel.with_cohorts(dict.fromkeys(units, JAN21)), "share",
                        seasonal="unit", cluster=None, inference="analytic").estimate
        assert value == pytest.approx(refit, rel=1e-9)
    assert stat(panel, list(np.asarray(panel.units)[z[1]])) == pytest.approx(batch[1], rel=1e-12)


def test_default_inference_is_permutation_with_one_treated_unit() -> None:
    panel = em.datasets.simulated_monthly()
    panel = panel.select(units=[u for u in panel.units if u != "1280"]).with_cohorts(
        {"0580": JAN21})
    r = em.twfe(panel, "share", seasonal="unit")
    assert r.inference.startswith("permutation over 288 comparison units (exact)")
    perm = r.details["permutation"]
    assert perm.n_draws == 288  # type: ignore[attr-defined]
    refit = em.twfe(panel.with_cohorts({"S001": JAN21}), "share", seasonal="unit",
                    cluster=None, inference="analytic")  # Linköping a control, as in the test
    assert np.isclose(perm.distribution, refit.estimate,  # type: ignore[attr-defined]
                      rtol=1e-9).any()
    lkpg = panel.truth.query("unit == '0580' and outcome == 'share'")["effect"].mean()
    assert abs(r.estimate - lkpg) < 0.1
    assert r.table["p_value"].iloc[0] < 0.05


def test_errors_named() -> None:
    annual = em.datasets.simulated().with_cohorts({"0580": 2021})
    with pytest.raises(EstimationError, match=r"twfe: seasonal='unit' needs a monthly panel"):
        em.twfe(annual, "N31807", seasonal="unit")
    monthly = _panel(_small(), cohort="cohort")
    with pytest.raises(EstimationError, match="period effects absorb calendar-month effects"):
        em.twfe(monthly, "share", seasonal="common")
    with pytest.raises(EstimationError, match="2x2 difference removes calendar-month"):
        em.did2x2(monthly, "share", pre=[JAN21 - 1], post=[JAN21], seasonal="common")
    with pytest.raises(EstimationError, match=r"seasonal='units' is not one of .*did you mean"):
        em.twfe(monthly, "share", seasonal="units")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="share no calendar month"):
        em.did2x2(monthly, "share", pre=list(range(JAN21 - 6, JAN21)),
                  post=list(range(JAN21, JAN21 + 6)), seasonal="unit")


def _lkpg_world(seed: int, *, effects: bool) -> tuple[em.Panel, pd.DataFrame]:
    """The monthly world over 2020-01..2021-12 without Malmö (treated in its own case)."""
    data, truth = simulate_monthly(seed, start="2020-01", end="2021-12", effects=effects)
    return _panel(data[data["kommun"] != "1280"]), truth


def test_ignoring_seasonality_biases_and_over_rejects() -> None:
    """Linköping given its own winter peak (0.3 * cos, January highest) and no effect; pre =
    2020, post = 2021-01..03. The plain 2x2 DiD mistakes the winter for an effect: its bias is
    Linköping's winter peak over the comparison units' average one over January-March,
    (0.3 + 0.10 - 0.15) * mean(cos) = 0.197 (the simulator's amplitude is 0.10 for Linköping,
    0.15 on average for the others); over 40 worlds it averages 0.198 and its permutation test
    rejects 55 %. The seasonal DiD compares each winter month with the same month of 2020: mean
    -0.003, rejections 7.5 %."""
    months = [f"2020-{m:02d}" for m in range(1, 13)] + ["2021-01", "2021-02", "2021-03"]
    extra = 0.3 * np.cos(2 * np.pi * np.arange(12) / 12)
    pre, post = list(range(JAN21 - 12, JAN21)), [JAN21, JAN21 + 1, JAN21 + 2]
    plain, seasonal = [], []
    for seed in range(40):
        data, _ = simulate_monthly(seed, effects=False)
        data = data[data["month"].isin(months) & (data["kommun"] != "1280")].copy()
        lkpg = data["kommun"] == "0580"
        data.loc[lkpg, "share"] += extra[data.loc[lkpg, "month"].str[5:].astype(int) - 1]
        panel = _panel(data)
        for out, how in ((plain, "none"), (seasonal, "unit")):
            r = em.did2x2(panel, "share", pre=pre, post=post, treated=["0580"],
                          seasonal=how)  # type: ignore[arg-type]
            out.append((r.estimate, r.table["p_value"].iloc[0]))
    est_p, p_p = np.array(plain).T
    est_s, p_s = np.array(seasonal).T
    mcse_p, mcse_s = est_p.std(ddof=1) / np.sqrt(40), est_s.std(ddof=1) / np.sqrt(40)
    bias_plain = (0.3 + 0.10 - 0.15) * np.cos(2 * np.pi * np.arange(3) / 12).mean()
    assert abs(est_p.mean() - bias_plain) < 2 * mcse_p  # the plain DiD estimates the winter
    assert est_p.mean() > 10 * mcse_p
    assert abs(est_s.mean()) < 2.5 * mcse_s
    print(f"plain: mean {est_p.mean():.4f} (MC SE {mcse_p:.4f}), rejects "
          f"{(p_p <= 0.05).mean():.3f}; seasonal: mean {est_s.mean():.4f} (MC SE {mcse_s:.4f}), "
          f"rejects {(p_s <= 0.05).mean():.3f}")
    assert (p_p <= 0.05).mean() >= 0.4
    assert (p_s <= 0.05).mean() <= 0.15


@pytest.mark.slow
def test_planted_effect_recovered_and_permutation_size() -> None:
    """Linköping on the monthly world, pre = 2020, post = 2021 (one pre and one post month per
    calendar month, so the estimand is the planted effect's mean over 2021):

    - bias: over R = 300 worlds with the effect planted, the mean error of the seasonal DiD
      (analytic fit, the estimate only) is within 2 Monte Carlo standard errors of zero
      (-0.0068, MC SE 0.0040);
    - size: over the same 300 worlds without the effect, the default inference (exact
      permutation over the 288 comparison units) rejects at 5 % within 5 % +- 2.5 pp (4.3 %;
      the binomial SE at 5 % over 300 worlds is 1.26 pp, so +- 2.5 pp is 2 SE).

    The worlds run over 2020-01..2021-12 only (the months the DiD reads), to keep the study
    within about 15 s of CPU."""
    pre, post = list(range(JAN21 - 12, JAN21)), list(range(JAN21, JAN21 + 12))
    errors, rejections = [], []
    for seed in range(300):
        panel, truth = _lkpg_world(seed, effects=True)
        truth = truth.query("unit == '0580' and outcome == 'share'")
        target = truth.loc[truth["period"].isin(post), "effect"].mean()
        r = em.did2x2(panel, "share", pre=pre, post=post, treated=["0580"],
                      seasonal="unit", cluster=None, inference="analytic")
        errors.append(r.estimate - target)
        null, _ = _lkpg_world(seed, effects=False)
        r = em.did2x2(null, "share", pre=pre, post=post, treated=["0580"], seasonal="unit")
        assert r.inference.startswith("permutation over 288")
        rejections.append(r.table["p_value"].iloc[0] <= 0.05)
    err = np.array(errors)
    bias, mcse = err.mean(), err.std(ddof=1) / np.sqrt(len(err))
    size = np.mean(rejections)
    print(f"bias {bias:.5f}, MC SE {mcse:.5f} (R = {len(err)}); size {size:.4f} (R = 300)")
    assert abs(bias) < 2 * mcse, (bias, mcse)
    assert abs(size - 0.05) <= 0.025, size


def test_synth_and_sdid_on_the_monthly_world() -> None:
    """Synthetic control and SDID on 289 units x 126 months (Linköping from 2021-01: 84 pre
    months, 42 post) recover the planted effect's post-period mean (-0.452) within 0.1
    percentage points (22 % of it; on this world SC is off by 0.036, SDID by 0.010). Their
    speed on this shape is measured in benchmarks/bench_synth.py, not here."""
    panel = em.datasets.simulated_monthly()
    panel = panel.select(units=[u for u in panel.units if u != "1280"])
    truth = panel.truth.query("unit == '0580' and outcome == 'share'")["effect"].mean()
    assert truth == pytest.approx(-0.452, abs=0.001)
    sc = em.synth(panel, "share", treated="0580", start=JAN21, inference="none")
    sd = em.sdid(panel, "share", treated="0580", start=JAN21, inference="none")
    assert abs(sc.estimate - truth) < 0.1
    assert abs(sd.estimate - truth) < 0.1


def test_permutation_refits_when_the_closed_form_does_not_apply() -> None:
    """With a covariate (twfe) or a missing month (did2x2) each placebo is a seasonal refit:
    the permutation distribution holds the refit of a placebo unit, and the p-value is exact
    over the 39 comparison units."""
    df = _small(13).drop(columns="cohort")
    ids = sorted(df["kommun"].unique())
    df["cohort"] = np.where(df["kommun"] == ids[0], "2021-01", None)
    panel = _panel(df, cohort="cohort")
    r = em.twfe(panel, "share", covariates=["x"], seasonal="unit")
    perm = r.details["permutation"]
    assert r.inference.startswith("permutation over 39 comparison units (exact)")
    placebo = em.twfe(panel.with_cohorts({ids[5]: JAN21}), "share", covariates=["x"],
                      seasonal="unit", cluster=None, inference="analytic").estimate
    assert np.isclose(perm.distribution, placebo, rtol=1e-9).any()  # type: ignore[attr-defined]
    gap = df.drop(index=df.index[(df["kommun"] == ids[7]) & (df["month"] == "2020-03")])
    panel = _panel(gap.reset_index(drop=True), cohort="cohort")
    pre, post = list(range(JAN21 - 12, JAN21)), list(range(JAN21, JAN21 + 12))
    r = em.did2x2(panel, "share", pre=pre, post=post, seasonal="unit")
    perm = r.details["permutation"]
    placebo = em.did2x2(panel, "share", pre=pre, post=post, treated=[ids[5]],
                        control=[u for u in ids if u != ids[5]], seasonal="unit",
                        cluster=None, inference="analytic").estimate
    assert np.isclose(perm.distribution, placebo, rtol=1e-9).any()  # type: ignore[attr-defined]
    assert r.table["p_value"].iloc[0] * 40 == pytest.approx(
        1 + (np.abs(perm.distribution) >= abs(r.estimate) - 1e-12).sum())  # type: ignore[attr-defined]


def test_notes_name_months_by_their_labels() -> None:
    panel = _panel(_small(), cohort="cohort")
    r = em.did2x2(panel, "share", pre=[JAN21 - 1], post=[JAN21], inference="analytic")
    assert r.notes[0].startswith("pre periods ['2020-12'], post periods ['2021-01']")
    annual = em.did2x2(em.datasets.simulated().with_cohorts({"0580": 2021}), "N31807",
                       pre=[2020], post=[2021], cluster=None, inference="analytic")
    assert annual.notes[0].startswith("pre periods [2020], post periods [2021]")
