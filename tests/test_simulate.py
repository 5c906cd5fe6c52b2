"""The embedded simulated data: truth, levels, determinism, published anchors."""

from __future__ import annotations

import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.data.simulate import MUNICIPALITY_KPIS, simulate_municipalities


def test_shape_ids_and_schema(municipalities: em.Panel) -> None:
    assert len(municipalities.units) == 290
    assert municipalities.periods.tolist() == list(range(1998, 2025))
    assert {"1280", "1287", "1490", "0580"} <= set(municipalities.units)
    assert municipalities.outcomes == list(MUNICIPALITY_KPIS)
    assert municipalities.is_balanced and municipalities.notes == []
    assert municipalities.source["kind"] == "simulated"


def test_fixed_seed_identical_and_other_seed_differs() -> None:
    a, ta = simulate_municipalities(7)
    b, tb = simulate_municipalities(7)
    c, _ = simulate_municipalities(8)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    assert not a["N31807"].equals(c["N31807"])
    assert em.datasets.simulated().source["sha256"] == em.datasets.simulated().source["sha256"]


def test_levels_in_range(municipalities: em.Panel) -> None:
    d = municipalities.data
    national = d.groupby("year")["N31807"].mean()
    assert 4.0 <= national.loc[2005:2015].mean() <= 5.0
    assert (national.between(3.0, 6.5)).all()
    longterm = d.groupby("year")["N31814"].mean()
    assert longterm.between(30, 45).all()
    malmo = d[d["kommun"] == "1280"].set_index("year")["N31807"]
    assert (malmo > 1.5 * national).all()  # Malmö far above the mean
    assert d[list(MUNICIPALITY_KPIS)].ge(0).all().all()


def test_published_anchors(municipalities: em.Panel) -> None:
    d = municipalities.data.set_index(["kommun", "year"])
    assert abs(d.loc[("1490", 2011), "N31807"] - 4.4) < 0.05
    assert abs(d.loc[("1490", 2012), "N31807"] - 4.1) < 0.05
    assert abs(d.loc[("1490", 2011), "N31814"] - 40.9) < 0.1
    assert abs(d.loc[("1490", 2012), "N31814"] - 39.2) < 0.1
    assert abs(d.loc[("0580", 2020), "N31910"] - 2703) <= 1
    assert abs(d.loc[("0580", 2024), "N31910"] - 2087) <= 1
    t = d.loc["1287"]
    assert 0.35 <= t.loc[2009, "N31814"] / 100 <= 0.45  # "four in ten" in 2009


def test_truth_retrievable(municipalities: em.Panel, districts: em.Panel) -> None:
    truth = municipalities.truth
    assert set(truth.columns) == {"case", "unit", "outcome", "period", "event_time", "effect"}
    assert set(truth["case"]) == {"trelleborg", "boras", "linkoping", "malmo"}
    tr = truth[(truth["case"] == "trelleborg") & (truth["outcome"] == "N31814")]
    assert tr["period"].min() == 2010 and tr["event_time"].min() == 0
    assert (np.diff(tr.sort_values("period")["effect"]) < 0).all()  # grows over event time
    disp = truth[(truth["case"] == "trelleborg") & (truth["outcome"] == "N03939")]
    assert (disp["effect"] > 0).all()  # planted displacement
    dt = districts.truth
    assert set(dt[dt["effect"] < 0]["unit"]) == {"lindangen"}
    assert set(dt[dt["effect"] > 0]["unit"]) == {"hermodsdal", "nydala", "almvik"}


def test_district_panel(districts: em.Panel) -> None:
    assert 10 <= len(districts.units) <= 20 and "lindangen" in districts.units
    assert districts.periods.tolist() == list(range(2005, 2021))
