"""Issue 13, part 1 (synth and sdid): ``inference="auto"`` is design-based with one treated
unit and says so; the table's interval and p-value come from one test (exact duality); the
RMSPE-ratio p-value has its own name; bootstrap/jackknife with few treated units warn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evalmodel as em
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators.sdid import sdid
from evalmodel.estimators.synth import synth

LEVELS = (0.5, 0.8, 0.9, 0.95)


def _panel(seed: int, *, n: int = 25, t: int = 16, t0: int = 10, n_tr: int = 1,
           effect: float = 0.0) -> em.Panel:
    """Two-factor panel; the last ``n_tr`` units are treated from period ``t0`` (a mix of
    donors' loadings, so inside the hull)."""
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.5, 1.5, (n, 2))
    load[n - n_tr:] = load[: n - n_tr].mean(axis=0)
    fac = np.cumsum(rng.normal(0, 1, (t, 2)), axis=0)
    y = 5 + load @ fac.T + rng.normal(0, 0.3, (n, t))
    y[n - n_tr:, t0:] += effect
    years = np.arange(2000, 2000 + t)
    start = np.zeros(n, dtype=int)
    start[n - n_tr:] = years[t0]
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(years, n), "y": y.ravel(),
                       "cohort": np.repeat(start, t)})
    return em.Panel(df, unit="unit", time="year", cohort="cohort")


def _excludes_zero(tab: pd.DataFrame) -> np.ndarray:
    return ((tab["ci_lower"] > 0) | (tab["ci_upper"] < 0)).to_numpy()


# -- synth -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted() -> dict[float, em.SynthResult]:
    panel = _panel(1, effect=0.6)
    return {c: synth(panel, "y", treated="u24", start=2010, conf_level=c) for c in LEVELS}


def test_synth_auto_is_placebo_and_says_why(fitted: dict[float, em.SynthResult]) -> None:
    r = fitted[0.95]
    assert r.placebo is not None
    assert any("inference='auto': design-based (placebos in space), because one treated unit"
               in n for n in r.notes)
    explicit = synth(_panel(1, effect=0.6), "y", treated="u24", start=2010, inference="placebo")
    pd.testing.assert_frame_equal(r.table, explicit.table)
    none = synth(_panel(1), "y", treated="u24", start=2010, inference="none")
    assert none.placebo is None and none.table["p_value"].isna().all()
    assert np.isnan(none.p_value_rmspe_ratio)
    with pytest.raises(EstimationError, match=r"inference='analytic' is not one of \['auto'"):
        synth(_panel(1), "y", treated="u24", start=2010, inference="analytic")  # type: ignore[arg-type]


def test_synth_interval_and_p_value_are_one_test(fitted: dict[float, em.SynthResult]) -> None:
    """Across rows and levels: the interval excludes 0 exactly when p <= 1 - conf_level, and
    both outcomes occur (the old placebo-quantile interval broke this on some rows)."""
    seen = set()
    for c, r in fitted.items():
        reject = (r.table["p_value"] <= 1 - c).to_numpy()
        np.testing.assert_array_equal(_excludes_zero(r.table), reject)
        seen |= set(reject.tolist())
    assert seen == {True, False}


def test_synth_p_values_and_interval_against_a_loop(fitted: dict[float, em.SynthResult]
                                                    ) -> None:
    r = fitted[0.8]
    assert r.placebo is not None
    eff = r.placebo.placebo_effects()
    grid = np.linspace(-3, 3, 601)
    for _, row in r.table.iterrows():
        e = eff[row["term"]].to_numpy()
        n = len(e)
        count = 0
        for v in e:  # the rank p-value, one placebo at a time
            count += abs(v) >= abs(row["estimate"]) - 1e-12
        assert row["p_value"] == pytest.approx((1 + count) / (1 + n))
        for tau in grid:  # the interval: exactly the effects the same test accepts
            p_tau = (1 + sum(abs(v) >= abs(row["estimate"] - tau) for v in e)) / (1 + n)
            inside = row["ci_lower"] - 1e-9 <= tau <= row["ci_upper"] + 1e-9
            assert (p_tau > 0.2) == inside or min(abs(tau - row["ci_lower"]),
                                                  abs(tau - row["ci_upper"])) < 1e-9


def test_synth_rmspe_ratio_p_value_is_named_apart(fitted: dict[float, em.SynthResult]) -> None:
    r = fitted[0.95]
    pl = r.placebo
    assert pl is not None
    ratio = pl.ratio.to_numpy()
    treated = float(pl.ratio[pl.treated])
    loop = sum(1 for v in ratio if v >= treated) / len(ratio)
    assert r.p_value_rmspe_ratio == pl.p_value_rmspe_ratio == pytest.approx(loop)
    with pytest.warns(DeprecationWarning, match="p_value_rmspe_ratio"):
        assert pl.p_value_ratio == r.p_value_rmspe_ratio
    text = str(r.summary())
    assert "RMSPE-ratio p-value (joint test; not the table's p_value)" in text
    assert f"{r.p_value_rmspe_ratio:.4f}" in text
    assert "effect-rank p-values and the intervals inverting that test" in r.inference
    assert list(r.table.columns[-5:]) == ["estimate", "std_error", "ci_lower", "ci_upper",
                                          "p_value"]


def test_synth_adapter_gives_the_table_numbers() -> None:
    panel = _panel(2)
    out = em.calibrate.synth()(panel, "y", "u24", 2010)
    assert out.overall["p_value"] == out.table.iloc[-1]["p_value"]
    assert out.overall["ci_lower"] == out.table.iloc[-1]["ci_lower"]


# -- sdid --------------------------------------------------------------------------------------
def test_sdid_auto_is_placebo_with_one_treated_and_bootstrap_with_many() -> None:
    one = _panel(3)
    r = sdid(one, "y", n_draws=50, seed=1)
    assert r.inference.startswith("placebo standard error")
    assert any("inference='auto': placebo (design-based), because 1 treated unit" in n
               for n in r.notes)
    p = sdid(one, "y", inference="placebo", n_draws=50, seed=1)
    pd.testing.assert_frame_equal(r.table, p.table)
    many = sdid(_panel(3, n=30, n_tr=6), "y", n_draws=30, seed=1)
    assert many.inference.startswith("bootstrap")
    assert any("inference='auto': bootstrap, with 6 treated units" in n for n in many.notes)


def test_sdid_resampling_with_few_treated_warns_and_is_undefined_with_one() -> None:
    with pytest.warns(FewTreatedClustersWarning, match="bootstrap standard errors with 1"):
        r = sdid(_panel(4), "y", inference="bootstrap", n_draws=20, seed=1)
    assert np.isnan(r.overall["std_error"]) and np.isnan(r.overall["p_value"])
    assert "bootstrap undefined with one treated unit" in " ".join(r.notes)
    assert r.inference.startswith("none")
    with pytest.warns(FewTreatedClustersWarning, match="jackknife standard errors with 2"):
        sdid(_panel(4, n_tr=2), "y", inference="jackknife")


def test_sdid_interval_and_p_value_share_one_standard_error() -> None:
    panel = _panel(5, effect=2.0)  # p about 0.08: rejected at 50 %, not at 5 %
    seen = set()
    for c in LEVELS:
        r = sdid(panel, "y", n_draws=60, seed=2, conf_level=c)
        row = r.overall
        se = row["std_error"]
        z = stats.norm.ppf(0.5 + c / 2)
        assert row["ci_upper"] - row["estimate"] == pytest.approx(z * se)
        assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(row["estimate"]) / se))
        reject = row["p_value"] < 1 - c
        assert reject == bool(_excludes_zero(r.table.tail(1))[0])
        seen.add(reject)
    assert seen == {True, False}
