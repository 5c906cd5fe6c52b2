"""fetch_kolada and kolada_panel: cache filling, offline use, faults, series breaks."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.cache import Cache, CacheCorruptError, CacheMissError
from evalmodel.data.kolada import KoladaClient
from evalmodel.data.kolada_panel import (
    CASE_KPIS,
    MUNICIPALITY_ENTRY,
    SeriesBreak,
    fetch_kolada,
    kolada_panel,
    series_break_notes,
    values_entry,
)
from evalmodel.errors import DataSourceError, SeriesBreakWarning, UnitsSetAsideWarning

KPIS = ["N31807", "N01951", "N31814"]
YEARS = range(2010, 2015)


def expected_wide(server: Any, kpi: str, years: range, units: list[str]) -> pd.DataFrame:
    """The fake's gender-T values as a units x periods frame, built without evalmodel."""
    recs = {
        (r["municipality"], r["period"]): v["value"]
        for r in server.rows[kpi]
        for v in r["values"]
        if v["gender"] == "T" and r["period"] in years and r["municipality"] in units
    }
    idx = pd.MultiIndex.from_tuples(sorted(recs))
    s = pd.Series([recs[k] for k in sorted(recs)], index=idx, dtype="float64")
    return s.unstack()


def client_for(server: Any, **kw: Any) -> KoladaClient:
    return KoladaClient(server.base_url, **({"backoff": 0.01, "timeout": (2.0, 2.0)} | kw))


def test_fetch_fills_cache_then_offline_reads_it(kolada_server: Any, tmp_path: Path) -> None:
    online = fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    n_requests = len(kolada_server.requests)
    offline = fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, offline=True)
    pd.testing.assert_frame_equal(online, offline)
    again = fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    assert len(kolada_server.requests) == n_requests  # all served from the cache
    pd.testing.assert_frame_equal(online, again)
    cache = Cache(tmp_path)
    assert cache.names() == [MUNICIPALITY_ENTRY, *sorted(values_entry(k) for k in KPIS)]
    m = cache.manifest(values_entry("N31807"))
    assert m is not None and m.extra["years"] == list(YEARS)
    assert m.urls[0]["url"].startswith(kolada_server.base_url + "/data/kpi/N31807/year/2010,")
    # 38 ids x 5 years, T only; N01951 and N31814 have K/M/T rows
    assert online["variable"].value_counts().to_dict() == {
        "N01951": 38 * 5 * 3,
        "N31814": 38 * 5 * 3,
        "N31807": 38 * 5,
    }


def test_offline_names_what_is_missing(kolada_server: Any, tmp_path: Path) -> None:
    with pytest.raises(
        CacheMissError,
        match=r"lacks 4 entries: kolada/municipality \(missing\), "
        r"kolada/values/N31807 \(missing\)",
    ):
        fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, offline=True)
    fetch_kolada(["N31807"], YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    with pytest.raises(
        CacheMissError,
        match=r"kolada/values/N31807 \(years 2015-2016 not "
        r"cached\)",
    ):
        fetch_kolada(["N31807"], range(2010, 2017), cache_dir=tmp_path, offline=True)


def test_wider_years_refetch_the_union(kolada_server: Any, tmp_path: Path) -> None:
    fetch_kolada(["N31807"], range(2010, 2013), cache_dir=tmp_path, base_url=kolada_server.base_url)
    got = fetch_kolada(
        ["N31807"], range(2008, 2011), cache_dir=tmp_path, base_url=kolada_server.base_url
    )
    assert sorted(got["period"].unique()) == [2008, 2009, 2010]
    m = Cache(tmp_path).manifest(values_entry("N31807"))
    assert m is not None and m.extra["years"] == list(range(2008, 2013))


def test_fetch_killed_midway_keeps_the_cache_consistent(kolada_server: Any, tmp_path: Path) -> None:
    kolada_server.inject("/data/kpi/N31814/", "status", times=99, status=500)
    with pytest.raises(DataSourceError, match=r"/data/kpi/N31814/.*returned HTTP 500"):
        fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, client=client_for(kolada_server, retries=0))
    cache = Cache(tmp_path)
    assert cache.status(values_entry("N31807")) == "ok"
    assert cache.status(values_entry("N01951")) == "ok"
    assert cache.status(values_entry("N31814")) == "missing"
    assert not [p for p in tmp_path.rglob("*") if p.suffix == ".tmp" or ".staged" in p.name]
    kolada_server.faults.clear()
    kolada_server.requests.clear()
    got = fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    assert {r.split("/")[4] for r in kolada_server.requests} == {"N31814"}  # only what was lacking
    assert set(got["variable"]) == set(KPIS)


def test_corrupted_cache_file_is_refetched_online_and_reported_offline(
    kolada_server: Any, tmp_path: Path
) -> None:
    fetch_kolada(["N31807"], YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    cache = Cache(tmp_path)
    path = cache.table_path(values_entry("N31807"))
    assert path is not None
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CacheCorruptError, match=r"kolada/values/N31807 \(corrupt\)"):
        fetch_kolada(["N31807"], YEARS, cache_dir=tmp_path, offline=True)
    kolada_server.requests.clear()
    got = fetch_kolada(["N31807"], YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    assert any("/data/kpi/N31807/" in r for r in kolada_server.requests)
    assert cache.status(values_entry("N31807")) == "ok" and len(got) == 38 * 5


def test_kolada_panel_matches_the_server(kolada_server: Any, tmp_path: Path) -> None:
    with (
        pytest.warns(SeriesBreakWarning, match=r"N31814: long-term assistance .* back to 2017"),
        pytest.warns(UnitsSetAsideWarning, match=r"^kolada_panel: 1 ids .* \(0012\)") as rec,
    ):
        panel = kolada_panel(
            KPIS,
            range(2014, 2020),
            cache_dir=tmp_path,
            base_url=kolada_server.base_url,
            include=["0000"],
        )
    assert sum(isinstance(w.message, UnitsSetAsideWarning) for w in rec) == 1
    munis = [m["id"] for m in kolada_server.municipalities if m["type"] == "K"]
    assert panel.units == sorted([*munis, "0000"]) and "0580" in panel.units
    assert "0012" not in panel.units and len(panel.units) == 37
    assert panel.periods.tolist() == list(range(2014, 2020))
    assert sorted(panel.outcomes) == sorted(KPIS) and panel.is_balanced
    for kpi in KPIS:
        exp = expected_wide(kolada_server, kpi, range(2014, 2020), panel.units)
        got = panel.wide(kpi)
        np.testing.assert_array_equal(got.to_numpy(), exp.to_numpy())
        assert got.index.tolist() == exp.index.tolist()
    notes = " | ".join(panel.notes)
    assert "series break in N31814" in notes
    # 3 KPIs x 6 years of region 0012 (total); 2 KPIs by gender x 38 ids x 6 years x K, M
    assert (
        "1 ids outside the municipalities set aside (18 rows): 1 of Kolada's country and "
        "regions (type L) and 0 groups (0012); include=[...] keeps chosen ones" in panel.notes
    )
    assert "1 ids outside the municipalities kept as include= asks (0000)" in panel.notes
    assert "gender T (total) kept: 912 rows of gender K, M left out" in panel.notes
    assert "gender=" not in notes and "scope=" not in notes  # kolada_panel has neither
    assert panel.source["set_aside"] == ["0012"] and panel.source["include"] == ["0000"]
    assert panel.source["gender"] == "T" and panel.source["scope"] == "municipalities"
    assert panel.source["name"] == "kolada"
    assert set(panel.source["entries"]) == {MUNICIPALITY_ENTRY, *(values_entry(k) for k in KPIS)}
    assert panel.source["base_url"] == kolada_server.base_url


def test_kolada_panel_offline_from_a_filled_cache(kolada_cache: Path) -> None:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        panel = kolada_panel(offline=True, cache_dir=kolada_cache)
    kinds = [type(w.message) for w in rec]
    assert kinds.count(SeriesBreakWarning) == 3  # N31814/N31816, N31004, N31004 with U31001
    assert kinds.count(UnitsSetAsideWarning) == 1 and len(kinds) == 4
    assert panel.source["set_aside"] == ["0000", "0012"]
    assert sorted(panel.outcomes) == sorted(CASE_KPIS)
    assert len(panel.units) == 36 and panel.periods.tolist() == list(range(1998, 2025))
    for u in ("1287", "1490", "0580", "1280"):
        assert u in panel.units


def test_kolada_panel_status_flags_and_bad_include(kolada_server: Any, tmp_path: Path) -> None:
    rows = [
        {
            "kpi": "N31807",
            "municipality": u,
            "period": y,
            "values": [
                {
                    "gender": "T",
                    "count": 1,
                    "status": "Missing" if u == "1287" else "x" if y == 2013 else "",
                    "value": None if u == "1287" else 1.0,
                }
            ],
        }
        for u in ("1287", "0580")
        for y in (2012, 2013)
    ]
    kolada_server.set_values("N31807", rows)
    from evalmodel.errors import MissingValueWarning

    with pytest.warns(MissingValueWarning, match="'N31807': 2 missing values"):
        panel = kolada_panel(
            ["N31807"], [2012, 2013], cache_dir=tmp_path, base_url=kolada_server.base_url
        )
    assert "2 missing values (NaN) marked 'Missing'" in panel.notes
    assert "1 values carry the status flag 'x'" in panel.notes
    assert panel.source["set_aside"] == []  # the fake serves no region here: no warning
    with pytest.raises(DataSourceError, match=r"include=\['9999'\] are not Kolada municipality"):
        kolada_panel(["N31807"], [2012, 2013], cache_dir=tmp_path, offline=True, include=["9999"])


def test_series_break_rules() -> None:
    assert series_break_notes(["N31814"], range(2010, 2017)) == []
    assert len(series_break_notes(["N31814"], range(2016, 2018))) == 1
    assert series_break_notes(["N31004"], range(2010, 2024)) == []
    assert len(series_break_notes(["N31004", "U31001"], range(2010, 2024))) == 1
    custom = [SeriesBreak(("X1",), 2005, "a made-up change")]
    assert series_break_notes(["X1"], [2004, 2005], custom) == [
        "series break in X1: a made-up change"
    ]


def test_bad_years() -> None:
    with pytest.raises(DataSourceError, match=r"years must be integers .* got \['a'\]"):
        fetch_kolada(["N31807"], ["a"], offline=True)  # type: ignore[list-item]
    with pytest.raises(DataSourceError, match="years is empty"):
        fetch_kolada(["N31807"], [], offline=True)


def test_fetch_interrupted_by_the_user_keeps_finished_kpis(
    kolada_server: Any, tmp_path: Path
) -> None:
    done: list[int] = []

    def ctrl_c_after_two(n: int) -> None:
        done.append(n)
        if len(done) == 2:  # the municipality list and the first KPI are in
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_kolada(
            KPIS,
            YEARS,
            cache_dir=tmp_path,
            base_url=kolada_server.base_url,
            progress=ctrl_c_after_two,
        )
    cache = Cache(tmp_path)
    assert [cache.status(values_entry(k)) for k in KPIS] == ["ok", "missing", "missing"]
    assert cache.clean() == []
    got = fetch_kolada(KPIS, YEARS, cache_dir=tmp_path, base_url=kolada_server.base_url)
    assert set(got["variable"]) == set(KPIS)


def test_kpi_without_values_is_named(kolada_server: Any, tmp_path: Path) -> None:
    # the regions set aside are warned about first: they may be all that a KPI has
    with (
        pytest.raises(
            DataSourceError, match=r"no total \(gender T\) values for kpis \['X99999'\]"
        ),
        pytest.warns(UnitsSetAsideWarning, match=r"\(0000, 0012\)"),
    ):
        kolada_panel(
            ["N31807", "X99999"], [2012], cache_dir=tmp_path, base_url=kolada_server.base_url
        )
    with pytest.raises(
        DataSourceError,
        match=r"no total \(gender T\) values for kpis \['X99999'\]"
        r" in the years",
    ):
        kolada_panel(["X99999"], [2012], cache_dir=tmp_path, base_url=kolada_server.base_url)


def test_regions_only_kpi_is_named(kolada_server: Any, tmp_path: Path) -> None:
    rows = [r for r in kolada_server.rows["N31807"] if r["municipality"] in ("0000", "0012")]
    kolada_server.set_values("N31807", rows)
    with (
        pytest.raises(DataSourceError, match=r"no total \(gender T\) values for kpis "
                      r"\['N31807'\] in the years asked among the municipalities"),
        pytest.warns(UnitsSetAsideWarning, match=r"2 ids .* \(2 rows\)"),
    ):
        kolada_panel(["N31807"], [2012], cache_dir=tmp_path, base_url=kolada_server.base_url)
    with pytest.warns(UnitsSetAsideWarning, match=r"\(0012\)"):
        panel = kolada_panel(["N31807"], [2012], cache_dir=tmp_path, offline=True,
                             include=["0000"])
    assert panel.units == ["0000"]


def _fact(note: str) -> str:
    """A note without the hint naming the caller's options (kolada_panel has fewer)."""
    return note.split("; scope=")[0].split("; include=")[0].removesuffix(
        " (gender= selects another)"
    )


def test_kolada_panel_and_read_panel_share_the_rules(kolada_cache: Path) -> None:
    """The API path and the cache-folder path are one path: same panel, notes and warnings."""
    from evalmodel.data.read import read_panel

    with warnings.catch_warnings(record=True) as api_warned:
        warnings.simplefilter("always")
        api = kolada_panel(offline=True, cache_dir=kolada_cache)
    with warnings.catch_warnings(record=True) as folder_warned:
        warnings.simplefilter("always")
        folder = read_panel(kolada_cache)
    pd.testing.assert_frame_equal(api.data, folder.data)
    assert api.units == folder.units and len(api.units) == 36
    assert [_fact(n) for n in api.notes] == [_fact(n) for n in folder.notes]
    assert api.notes[0] == "gender T (total) kept: 18468 rows of gender K, M left out"
    for key in ("gender", "scope", "include", "set_aside", "municipality_list"):
        assert api.source[key] == folder.source[key], key
    assert api.source["set_aside"] == ["0000", "0012"]
    assert api.source["municipality_list"] == "cache kolada/municipality"

    def said(caught: list[warnings.WarningMessage], where: str) -> list[tuple[type, str]]:
        return [(w.category, _fact(str(w.message).removeprefix(where).removesuffix(".")))
                for w in caught]

    assert said(api_warned, "kolada_panel: ") == said(folder_warned, "read_panel: kolada-cache: ")
    assert [c for c, _ in said(api_warned, "")].count(UnitsSetAsideWarning) == 1
