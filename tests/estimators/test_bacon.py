"""Goodman-Bacon decomposition: the TWFE identity, the diff-diff peer, planted truth, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.sim_staggered import simulate_staggered, to_panel
from evalmodel.errors import EstimationError, GapWarning
from evalmodel.estimators.bacon import bacon
from evalmodel.panel import Panel


def _twfe_static(panel: Panel) -> float:
    from linearmodels.panel import PanelOLS

    d = panel.data.set_index(["unit", "period"])
    treat = ((d["cohort"] > 0) & (d.index.get_level_values(1) >= d["cohort"])).astype(float)
    fit = PanelOLS(d["y"], treat.to_frame("D"), entity_effects=True, time_effects=True).fit()
    return float(fit.params["D"])


@pytest.mark.parametrize(("cohorts", "never"), [((2003, 2005, 2007), 0.35),
                                                 ((2001, 2004, 2006), 0.3),
                                                 ((2003, 2005, 2007), 0.0)])
def test_weighted_sum_equals_twfe(cohorts: tuple[int, ...], never: float) -> None:
    df = simulate_staggered(150, cohorts=cohorts, never_share=never, seed=2)
    panel = to_panel(df)
    res = bacon(panel, "y")
    comp = res.comparisons
    assert comp["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (comp["weight"] >= 0).all()
    assert res.estimate == pytest.approx(_twfe_static(panel), abs=1e-10)
    assert float(comp["weight"] @ comp["estimate"]) == pytest.approx(res.estimate, abs=1e-12)
    if 2001 in cohorts:
        assert "Treated vs Always Treated" in set(comp["type"])
    if never == 0:
        assert "Treated vs Never Treated" not in set(comp["type"])


def test_equals_diff_diff() -> None:
    from diff_diff.bacon import BaconDecomposition

    df = simulate_staggered(200, seed=5)
    res = bacon(to_panel(df), "y").comparisons
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = BaconDecomposition().fit(df, outcome="y", unit="unit", time="period",
                                        first_treat="cohort").to_dataframe()
    peer["control"] = peer["control_group"].replace("never_treated", 0).astype(int)
    peer = peer.rename(columns={"treated_group": "treated"})
    merged = res.merge(peer, on=["treated", "control"], suffixes=("", "_peer"))
    assert len(merged) == len(res) == len(peer) == 9
    np.testing.assert_allclose(merged["estimate"], merged["estimate_peer"], atol=1e-10)
    np.testing.assert_allclose(merged["weight"], merged["weight_peer"], atol=1e-10)


def test_planted_truth_constant_and_dynamic_effects() -> None:
    # constant effect 2 on top of unit and period effects: every 2x2 comparison recovers it
    df = simulate_staggered(120, seed=3)
    rng = np.random.default_rng(0)
    unit_fx = df["unit"].map(dict(zip(df["unit"].unique(), rng.normal(size=120), strict=True)))
    df["y"] = unit_fx + 0.3 * (df["period"] - 2000) ** 1.5 + 2.0 * (df["att"] > 0)
    res = bacon(to_panel(df), "y")
    np.testing.assert_allclose(res.comparisons["estimate"], 2.0, atol=1e-10)
    assert res.estimate == pytest.approx(2.0, abs=1e-10)
    # effects growing with exposure: later-vs-earlier comparisons are biased downwards
    dyn = bacon(to_panel(simulate_staggered(400, noise=0.0, seed=3, selection=0.0)), "y")
    by = dyn.by_type.set_index("type")["estimate"]
    assert by["Later vs Earlier Treated"] < by["Treated vs Never Treated"] - 1.0


def test_bacon_errors() -> None:
    df = simulate_staggered(60, missing=0.05, seed=4)
    with pytest.warns(GapWarning):
        panel = to_panel(df)
    with pytest.raises(EstimationError, match=r"bacon: the panel is unbalanced: \d+ units lack"):
        bacon(panel, "y")
    flat = Panel(pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2],
                               "y": [1.0, 2.0, 3.0, 4.0]}), unit="u", time="t")
    with pytest.raises(EstimationError, match="bacon: the panel has no cohort role"):
        bacon(flat, "y")
