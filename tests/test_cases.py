"""The case registry and designs."""

from __future__ import annotations

import pytest

import evalmodel as em
from evalmodel.errors import DesignError


def test_registry_entries() -> None:
    assert em.cases.names() == ["boras", "lindangen", "linkoping", "malmo", "trelleborg"]
    lk = em.cases.get("linkoping")
    assert lk.treated == ("0580",) and lk.adoption == 2021 and lk.level == "municipality"
    assert em.cases.get("lindangen").level == "district"
    for name in em.cases.names():
        c = em.cases.get(name)
        assert c.adoption_range[0] <= c.adoption <= c.adoption_range[1]
        assert c.outcomes and c.sources and c.adoption_note
        assert all(isinstance(u, str) for u in (*c.treated, *c.exclude, *c.similar_group))
    assert len(em.cases.get("trelleborg").similar_group) == 7


def test_unknown_case() -> None:
    with pytest.raises(DesignError, match=r"unknown case 'lund'; known cases are \['boras'"):
        em.cases.get("lund")


def test_design_pool_excludes_treated_and_exposed(municipalities: em.Panel) -> None:
    d = em.cases.get("trelleborg").design(municipalities)
    assert d.treated == ("1287",) and d.adoption == 2010
    assert set(d.excluded) == {"1280", "1490", "0580"}  # exposed neighbours are not simulated
    assert not set(d.comparison) & {"1287", "1280", "1490", "0580"}
    assert len(d.comparison) == 286
    assert d.pre_periods[-1] == 2009 and d.post_periods[0] == 2010
    assert d.panel.cohorts().to_dict()["1287"] == 2010
    assert (d.panel.cohorts().drop("1287") == 0).all()
    assert d.outcomes == ("N31814", "N31807", "U31804")


def test_design_district_neighbours_excluded(districts: em.Panel) -> None:
    d = em.cases.get("lindangen").design(districts)
    assert set(d.excluded) == {"hermodsdal", "nydala", "almvik"}
    assert len(d.comparison) == len(districts.units) - 4
    kept = em.cases.get("lindangen").design(districts, exclude_exposed=False)
    assert len(kept.comparison) == len(districts.units) - 1


def test_adoption_override(municipalities: em.Panel) -> None:
    d = em.cases.get("boras").design(municipalities, adoption=2011)
    assert d.adoption == 2011 and d.post_periods[0] == 2011
    assert d.panel.cohorts()["1490"] == 2011
    assert any("adoption set to 2011" in n for n in d.notes)
    with pytest.raises(DesignError, match=r"adoption=1998 must be a period of the panel after"):
        em.cases.get("boras").design(municipalities, adoption=1998)


def test_treated_not_in_panel(districts: em.Panel) -> None:
    with pytest.raises(DesignError, match=r"treated unit '1287' is not in the panel.*"
                                          r"municipality-level case"):
        em.cases.get("trelleborg").design(districts)


def test_empty_pool(municipalities: em.Panel) -> None:
    # The simulated panel has synthetic ids: Kolada's similar group is absent from it.
    with pytest.raises(DesignError, match=r"comparison pool is empty \(pool='similar'"):
        em.cases.get("trelleborg").design(municipalities, pool="similar")
    with pytest.raises(DesignError, match=r"pool='nearest' is not one of"):
        em.cases.get("trelleborg").design(municipalities, pool="nearest")  # type: ignore[arg-type]
