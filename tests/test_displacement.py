"""Displacement: planted effects found, nominal size under the null, DDD = hand-built
regression, ring design moving the right way, named errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import evalmodel as em
from evalmodel import displacement as dp
from evalmodel.data.simulate import simulate_districts, simulate_municipalities
from evalmodel.errors import EstimationError

WINDOW = dict(pre=[2005, 2006, 2007, 2008, 2009], post=[2010, 2011, 2012, 2013, 2014])


def _trelleborg_test(panel: em.Panel, outcome: str = "N03939",
                     transform: dp.Transform = "log") -> dp.DisplacementTest:
    d = em.cases.get("trelleborg").design(panel)
    return dp.outcome_displacement(panel, outcome, treated=d.treated, pool=d.comparison,
                                   transform=transform, **WINDOW)


def test_planted_displacement_detected_and_covered(municipalities: em.Panel) -> None:
    truth = municipalities.truth
    planted = truth[(truth["outcome"] == "N03939") & truth["period"].isin(WINDOW["post"])]
    t = _trelleborg_test(municipalities, transform="level")
    assert t.detected and t.p_value <= 0.01
    assert t.ci_lower < planted["effect"].mean() < t.ci_upper
    y = municipalities.wide("N03939").loc["1287", WINDOW["post"]].to_numpy()
    planted_log = np.mean(np.log(y) - np.log(y - planted["effect"].to_numpy()))
    t = _trelleborg_test(municipalities)
    assert t.detected and t.p_value <= 0.01
    assert t.ci_lower < planted_log < t.ci_upper
    assert t.n_placebo == 286 and t.mde > 0
    assert em.displacement.verdict(t).startswith("Displacement detected on N03939")


def test_verdict_never_claims_no_displacement(municipalities: em.Panel) -> None:
    t = _trelleborg_test(municipalities, "N03937")  # nothing planted on open unemployment
    assert not t.detected
    text = dp.verdict(t)
    assert "not detectable at this sample size" in text
    assert f"smallest detectable effect is {t.mde:.3f}" in text
    assert "not evidence of no displacement" in text and "log points" in text


@pytest.mark.slow
def test_size_under_the_null_is_nominal() -> None:
    draws = 250
    reject = np.empty(draws, dtype=bool)
    for i in range(draws):
        df, _ = simulate_municipalities(5000 + i, displacement=False)
        panel = em.Panel(df, unit="kommun", time="year")
        reject[i] = _trelleborg_test(panel).detected
    # 5 % test; Monte Carlo standard error sqrt(.05 * .95 / 250) = 1.4 percentage points.
    assert abs(reject.mean() - 0.05) <= 3 * 0.0138


def test_triple_difference_equals_hand_built_regression() -> None:
    rng = np.random.default_rng(4)
    units = [f"a{i:02d}" for i in range(30)]
    rows = [(u, g, t) for u in units for g in ("target", "other") for t in range(1, 9)]
    df = pd.DataFrame(rows, columns=["area", "group", "year"])
    treated = df["area"].isin(units[:6])
    df["y"] = (rng.normal(size=len(df)) + 0.3 * df["year"] + treated * 0.5
               + 1.5 * (treated & (df["group"] == "target") & (df["year"] >= 5))
               - 0.4 * (treated & (df["group"] == "other") & (df["year"] >= 5)))
    df.loc[[3, 77], "y"] = np.nan
    df["cohort"] = np.where(treated, 5, 0)
    with pytest.warns(em.errors.MissingValueWarning):
        panel = em.Panel(df, unit="area", time="year", group="group", cohort="cohort")
    with pytest.warns(em.errors.MissingValueWarning):
        r = dp.triple_difference(panel, "y", target="target", pre=[1, 2, 3, 4],
                                 post=[5, 6, 7, 8], shares=(0.3, 0.7))
    d = df.dropna(subset=["y"]).assign(T=treated.astype(float), P=(df["year"] >= 5) * 1.0,
                                       G=(df["group"] == "target") * 1.0)
    peer = smf.ols("y ~ T * P * G", data=d).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["area"])[0]})
    tab = r.table.set_index("term")
    b, v = peer.params, peer.cov_params()
    assert abs(tab.loc["ddd", "estimate"] - b["T:P:G"]) < 1e-10
    assert abs(tab.loc["non_target", "estimate"] - b["T:P"]) < 1e-10
    assert abs(tab.loc["target", "estimate"] - (b["T:P"] + b["T:P:G"])) < 1e-10
    assert abs(tab.loc["ddd", "std_error"] - peer.bse["T:P:G"]) < 1e-10
    w = pd.Series(0.0, index=b.index)
    w["T:P"], w["T:P:G"] = 1.0, 0.3  # 0.3 * (T:P + T:P:G) + 0.7 * T:P
    assert abs(tab.loc["net", "estimate"] - w @ b) < 1e-10
    assert abs(tab.loc["net", "std_error"] - np.sqrt(w @ v @ w)) < 1e-10
    assert r.overall is not None and r.overall["term"] == "net"
    # The cell-mean contrast, computed without any regression.
    m = d.groupby(["T", "P", "G"])["y"].mean()
    ddd = ((m[1, 1, 1] - m[1, 0, 1]) - (m[0, 1, 1] - m[0, 0, 1])) - (
        (m[1, 1, 0] - m[1, 0, 0]) - (m[0, 1, 0] - m[0, 0, 0]))
    assert abs(tab.loc["ddd", "estimate"] - ddd) < 1e-10


def test_removing_exposed_units_moves_estimate_as_planted() -> None:
    case = em.cases.get("lindangen")
    shifts = {}
    for spill in (True, False):
        df, _ = simulate_districts(spillover=spill)
        panel = em.Panel(df, unit="district", time="year")
        d = case.design(panel)
        ring = dp.spillover(panel, "N31807", treated=d.treated, exposed=case.exclude,
                            pool=d.comparison, pre=[2006, 2007, 2008, 2009, 2010],
                            post=[2011, 2012, 2013, 2014, 2015])
        shifts[spill] = ring
    on, off = shifts[True], shifts[False]
    # The neighbours gained recipients: kept in the pool they make Lindängen's fall look larger,
    # so removing them moves the estimate up, by the planted spill-over's share of the pool.
    assert on.shift > off.shift
    _, truth = simulate_districts()
    planted = truth[truth["unit"].isin(case.exclude) & truth["period"].between(2011, 2015)]
    expected = 3 / 17 * planted.groupby("unit")["effect"].mean().mean()
    assert abs((on.shift - off.shift) - expected) < 0.01  # rounding of the data to 0.01
    assert on.exposed.detected and on.exposed.ci_lower > 0


def test_named_errors(districts: em.Panel) -> None:
    pairs = pd.DataFrame({"a": ["lindangen", "lindangen"], "b": ["nydala", "atlantis"]})
    with pytest.raises(EstimationError, match=r"1 units in the neighbour list are not in the "
                                              r"panel: \['atlantis'\]"):
        dp.exposed_units(districts, ["lindangen"], neighbours=pairs)
    ok = pd.DataFrame({"a": ["lindangen", "hermodsdal", "oxie"],
                       "b": ["nydala", "lindangen", "husie"]})
    assert dp.exposed_units(districts, ["lindangen"], neighbours=ok) == ("hermodsdal", "nydala")
    dist = pd.DataFrame({"a": ["lindangen"] * 2, "b": ["almvik", "oxie"], "km": [1.2, 6.0]})
    assert dp.exposed_units(districts, ["lindangen"], distances=dist, radius=2) == ("almvik",)
    d = em.cases.get("lindangen").design(districts)
    with pytest.raises(EstimationError, match=r"exposure list contains treated units "
                                              r"\['lindangen'\]"):
        dp.spillover(districts, "N31807", treated=["lindangen"], exposed=["lindangen", "nydala"],
                     pool=d.comparison, pre=[2009, 2010], post=[2011, 2012])
    one = districts.data.assign(group="target")
    panel = em.Panel(one, unit="district", time="year", group="group")
    with pytest.raises(EstimationError, match=r"group column 'group' has 1 level\(s\) "
                                              r"\['target'\]; a triple difference needs"):
        dp.triple_difference(panel, "N31807", target="target", pre=[2009], post=[2011],
                             treated=["lindangen"])
    with pytest.raises(EstimationError, match=r"smallest attainable p-value is 0\.067"):
        dp.outcome_displacement(districts, "N03939", treated=["lindangen"],
                                pool=d.comparison, pre=[2009, 2010], post=[2011, 2012])
