"""read_panel (one reader, one set of rules), the CLI's --data PATH, and municipality names."""

from __future__ import annotations

import importlib.util
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel import names
from evalmodel.cli import build_parser, load_panels
from evalmodel.data.cache import Cache
from evalmodel.data.read import read_panel
from evalmodel.errors import (
    DataSourceError,
    EvalModelError,
    GapWarning,
    MissingValueWarning,
    SeriesBreakWarning,
    UnitsSetAsideWarning,
)

ROOT = Path(__file__).resolve().parents[2]

#: A Kolada long extract: the country, a region, a group and two municipalities, by gender.
EXTRACT = """kpi,municipality_id,year,gender,value
N31807,0000,2012,T,4.4
N31807,0000,2013,T,4.3
N31807,0012,2012,T,5.1
N31807,0012,2013,T,5.0
N31807,G33860,2012,T,6.0
N31807,G33860,2013,T,6.1
N31807,1287,2012,K,3.9
N31807,1287,2012,M,4.1
N31807,1287,2012,T,4.0
N31807,1287,2013,K,3.7
N31807,1287,2013,M,3.9
N31807,1287,2013,T,3.8
N31807,1490,2012,T,4.148111
N31807,1490,2013,T,4.2
N31807,1490,2012,K,4.0
N31807,1490,2013,K,4.1
N31807,1490,2012,M,4.3
N31807,1490,2013,M,4.3
"""


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    path = tmp_path / "extract.csv"
    path.write_text(EXTRACT, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's cache (names prefer a fresher municipality list there)."""
    monkeypatch.setenv("EVALMODEL_CACHE_DIR", str(tmp_path_factory.mktemp("no-cache")))


def _read(path: Path, **kw: object) -> em.Panel:
    with pytest.warns(UnitsSetAsideWarning) as caught:
        panel = read_panel(path, **kw)  # type: ignore[arg-type]
    assert sum(isinstance(w.message, UnitsSetAsideWarning) for w in caught) == 1
    return panel


# -- gender ---------------------------------------------------------------------------------


def test_total_by_default(extract: Path) -> None:
    panel = _read(extract)
    assert panel.units == ["1287", "1490"]
    assert panel.wide("N31807").values.tolist() == [[4.0, 3.8], [4.148111, 4.2]]
    assert "gender T (total) kept: 8 rows of gender K, M left out (gender= selects another)" in (
        panel.notes
    )
    assert panel.source["gender"] == "T"


@pytest.mark.parametrize(
    ("gender", "values"),
    [("K", [[3.9, 3.7], [4.0, 4.1]]), ("M", [[4.1, 3.9], [4.3, 4.3]]), ("kvinnor", None)],
)
def test_women_or_men_on_request(extract: Path, gender: str, values: list | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = read_panel(extract, gender=gender)  # type: ignore[arg-type]
    want = values or [[3.9, 3.7], [4.0, 4.1]]
    assert panel.wide("N31807").values.tolist() == want
    assert panel.source["set_aside"] == []  # the extract's regions and groups are totals only


def test_file_without_gender_column_is_total(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Kommun-ID;År;Värde\n1287;2012;4,0\n", encoding="utf-8")
    assert read_panel(path, variable="N31807").wide("N31807").values.tolist() == [[4.0]]
    with pytest.raises(
        DataSourceError,
        match=r"no values of gender 'K' \(women\); the genders in it are \['T'\] \(the file has "
        r"no gender column, so it holds totals\): pass gender= one of them",
    ):
        read_panel(path, gender="K")


def test_unknown_gender_is_named(extract: Path) -> None:
    with pytest.raises(DataSourceError,
                       match=r"read_panel: gender='X' is not one of \['T', 'K', 'M'\]"):
        read_panel(extract, gender="X")  # type: ignore[arg-type]


def test_gender_absent_from_the_file_names_those_present(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("kpi,municipality_id,year,gender,value\nN31807,1287,2012,K,1\n"
                    "N31807,1287,2012,Män,2\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"the genders in it are \['K', 'M'\]"):
        read_panel(path)
    path.write_text("kpi,municipality_id,year,gender,value\nN31807,1287,2012,Okänd,2\n",
                    encoding="utf-8")  # an unknown code is refused, not left out unseen
    with pytest.raises(DataSourceError, match=r"gender \['Okänd'\] in column 'gender' .* not a "
                       r"gender code"):
        read_panel(path)


# -- scope ----------------------------------------------------------------------------------


def test_regions_country_and_groups_are_set_aside(extract: Path) -> None:
    with pytest.warns(UnitsSetAsideWarning, match=r"3 ids outside the municipalities set aside "
                      r"\(6 rows\): 2 of Kolada's country and regions \(type L\) and 1 groups "
                      r"\(0000, 0012, G33860\); scope='all' keeps them"):
        panel = read_panel(extract)
    assert panel.source["set_aside"] == ["0000", "0012", "G33860"]
    assert panel.source["scope"] == "municipalities"
    assert sum("set aside" in n for n in panel.notes) == 1


def test_scope_all_keeps_everything(extract: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = read_panel(extract, scope="all")
    assert panel.units == ["0000", "0012", "1287", "1490", "G33860"]
    assert panel.source["set_aside"] == []
    assert "1 ids are not in Kolada's municipality list (G33860); kept" in panel.notes


def test_include_keeps_chosen_ids(extract: Path) -> None:
    with pytest.warns(UnitsSetAsideWarning, match=r"2 ids outside the municipalities set aside "
                      r"\(4 rows\): 1 of Kolada's country and regions \(type L\) and 1 groups "
                      r"\(0012, G33860\)"):
        panel = read_panel(extract, include=["0000"])
    assert panel.units == ["0000", "1287", "1490"]
    assert panel.source["set_aside"] == ["0012", "G33860"]
    assert panel.source["include"] == ["0000"]
    assert "1 ids outside the municipalities kept as include= asks (0000)" in panel.notes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        everything = read_panel(extract, include="0000 0012 G33860".split())
    assert everything.units == ["0000", "0012", "1287", "1490", "G33860"]
    assert everything.source["set_aside"] == []
    assert read_panel(extract, include="G33860", scope="all").source["include"] == ["G33860"]


def test_unknown_include_is_named(extract: Path) -> None:
    with pytest.raises(DataSourceError, match=r"read_panel: extract.csv: include=\['9999'\] are "
                                              r"not Kolada municipality ids nor ids in the data"):
        read_panel(extract, include=["0000", "9999"])


def test_unknown_scope(extract: Path) -> None:
    with pytest.raises(DataSourceError, match=r"scope='kommuner' is not one of "
                                              r"\['municipalities', 'all'\]"):
        read_panel(extract, scope="kommuner")  # type: ignore[arg-type]


def test_only_regions_in_scope_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text("Region;År;Värde\n0012 Region Skåne;2012;5,1\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"holds no municipalities .* pass scope='all'"):
        with pytest.warns(UnitsSetAsideWarning):
            read_panel(path, variable="N31807")


# -- what the notes count -------------------------------------------------------------------


def test_flags_markers_and_repairs_are_noted(tmp_path: Path) -> None:
    path = tmp_path / "sos.csv"
    text = ("Ekonomiskt bistånd efter region och år\nRegion;Mått;2012;2013\n"
            "580 Linköping;Biståndshushåll;2 087;2 110\n1287 Trelleborg;Biståndshushåll;900;X\n")
    path.write_bytes(text.encode("cp1252"))
    with pytest.warns(MissingValueWarning):
        panel = read_panel(path)
    assert panel.notes == [
        "column 'Biståndshushåll': 1 missing values kept as NaN",
        "sos.csv: 1 unit ids got their leading zeros back in 2 rows (e.g. '580' -> '0580')",
        "1 missing values (NaN) marked 'X'",
    ]
    assert panel.source["encoding"] == "cp1252"
    assert panel.source["layout"] == "wide by year"


def test_repeated_rows_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("kpi,municipality_id,year,value\nN31807,1287,2012,1\nN31807,1287,2012,2\n",
                    encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"2 rows repeating a \(unit, year, variable\) of "
                                              r"gender T \(e.g. \['1287', 2012, 'N31807'\]\)"):
        read_panel(path)


def test_series_breaks_are_flagged(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("kpi,municipality_id,year,value\nN31814,1287,2016,30\nN31814,1287,2017,31\n",
                    encoding="utf-8")
    with pytest.warns(SeriesBreakWarning, match="series break in N31814"):
        panel = read_panel(path)
    assert any(n.startswith("series break in N31814") for n in panel.notes)


# -- every format ends as the same panel ----------------------------------------------------


def _expected() -> pd.DataFrame:
    return pd.DataFrame({"unit": ["1280", "1490"], "period": [2012, 2012],
                         "N31807": [9.5, 4.15]})


FORMATS = {
    "kolada_long": ("dump.csv", "utf-8",
                    "kpi,municipality_id,year,gender,value\nN31807,0000,2012,T,4.4\n"
                    "N31807,1280,2012,T,9.5\nN31807,1490,2012,T,4.15\n"),
    "web_export": ("kolada.csv", "cp1252",
                   "Kolada, export 2026-04-01\n\nKommun-ID;Kommun;KPI;År;Kön;Värde\n"
                   "0000;Riket;N31807;2012;Totalt;4,4\n1280;Malmö;N31807;2012;Totalt;9,5\n"
                   "1490;Borås;N31807;2012;Totalt;4,15\n1490;Borås;N31807;2012;Kvinnor;4,0\n"),
    "wide_by_year": ("N31807.csv", "utf-8-sig",
                     "Region\t2012\n00 Riket\t4,4\n1280 Malmö\t9,5\n1490 Borås\t4,15\n"),
    "wide_by_variable": ("mine.csv", "utf-8",
                         "kommun,namn,year,N31807\n0,Riket,2012,4.4\n1280,Malmö,2012,9.5\n"
                         "1490,Borås,2012,4.15\n"),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_format_gives_the_same_panel(tmp_path: Path, kind: str) -> None:
    name, encoding, text = FORMATS[kind]
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    panel = _read(path)
    pd.testing.assert_frame_equal(panel.data, _expected())
    assert panel.source["set_aside"] == ["0000"]
    assert panel.source["encoding"] == encoding


def test_cache_folder_gives_the_same_panel(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    tidy = pd.DataFrame({"unit": ["0000", "1280", "1490", "1490"], "period": 2012,
                         "variable": "N31807", "value": [4.4, 9.5, 4.15, 4.0],
                         "gender": ["T", "T", "T", "K"], "status": ["", "", "", "x"]})
    cache.write_table("kolada/values/N31807", tidy, source="kolada",
                      extra={"kpi": "N31807", "years": [2012]})
    panel = _read(cache.root)
    pd.testing.assert_frame_equal(panel.data, _expected())
    assert panel.source["kind"] == "cache" and panel.source["layout"] == "cache"
    assert list(panel.source["entries"]) == ["kolada/values/N31807"]
    assert panel.source["municipality_list"].startswith("evalmodel.names")
    k = read_panel(cache.root, gender="K")
    assert k.wide("N31807").values.tolist() == [[4.0]]
    assert "1 values carry the status flag 'x'" in k.notes


def test_cache_folder_uses_its_own_municipality_list(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    tidy = pd.DataFrame({"unit": ["1280", "9999"], "period": 2012, "variable": "N31807",
                         "value": [9.5, 1.0], "gender": "T", "status": ""})
    cache.write_table("kolada/values/N31807", tidy, source="kolada")
    munis = pd.DataFrame({"id": ["1280", "9999"], "title": ["Malmö", "Test"], "type": ["K", "L"]})
    cache.write_table("kolada/municipality", munis, source="kolada")
    with pytest.warns(UnitsSetAsideWarning, match=r"\(9999\)"):
        panel = read_panel(cache.root)
    assert panel.units == ["1280"]
    assert panel.source["municipality_list"] == "cache kolada/municipality"


# -- the CLI applies the same rules ---------------------------------------------------------


def test_cli_reads_a_file_through_read_panel(extract: Path) -> None:
    direct = _read(extract, gender="T")
    with pytest.warns(UnitsSetAsideWarning):
        panels = load_panels(str(extract))
    assert list(panels) == ["municipality"]
    got = panels["municipality"]
    pd.testing.assert_frame_equal(got.data, direct.data)
    assert got.notes == direct.notes and got.source == direct.source
    women = load_panels(str(extract), gender="K")["municipality"]
    assert women.wide("N31807").values.tolist() == [[3.9, 3.7], [4.0, 4.1]]


def test_cli_gender_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["run"]).gender == "T"
    assert build_parser().parse_args(["run", "--gender", "M"]).gender == "M"
    try:  # a usage error of the command: exit status 2, the allowed values on stderr
        build_parser().parse_args(["run", "--gender", "X"])
        status: object = 0
    except SystemExit as stop:
        status = stop.code
    assert status == 2
    assert "argument --gender: invalid choice: 'X'" in capsys.readouterr().err
    with pytest.raises(EvalModelError, match=r"--data simulated holds totals \(T\) only"):
        load_panels("simulated", gender="K")


def test_cli_missing_path(tmp_path: Path) -> None:
    with pytest.raises(EvalModelError, match=r"--data: no file or folder .*nope"):
        load_panels(str(tmp_path / "nope"))


# -- names ----------------------------------------------------------------------------------


def test_shipped_municipality_table() -> None:
    df = names.municipalities()
    assert df.attrs["source"] == "shipped"
    assert list(df.columns) == ["id", "name", "type"]
    assert len(df) == 312 and (df["type"] == "K").sum() == 290
    assert df["id"].is_unique and df["id"].str.fullmatch(r"\d{4}").all()
    assert names.shipped_as_of() is not None
    text = (ROOT / "evalmodel" / "_data" / "municipalities.csv").read_text(encoding="utf-8")
    assert text.startswith("# Kolada's municipality list") and "\n# source: " in text


@pytest.mark.parametrize(
    ("unit", "name", "label", "muni"),
    [
        ("1287", "Trelleborg", "Trelleborg (1287)", True),
        ("1490", "Borås", "Borås (1490)", True),
        (580, "Linköping", "Linköping (0580)", True),
        ("1280", "Malmö", "Malmö (1280)", True),
        ("0000", "Riket", "Riket (0000)", False),
        ("0012", "Region Skåne", "Region Skåne (0012)", False),
        ("Lindängen", None, "Lindängen", False),
        ("G33860", None, "G33860", False),
        ("k001", None, "k001", False),
    ],
)
def test_unit_names(unit: object, name: str | None, label: str, muni: bool) -> None:
    assert names.unit_name(unit) == name
    assert names.unit_label(unit) == label
    assert em.unit_label(unit) == label
    assert names.is_municipality(unit) is muni


def _cache_list(root: Path) -> None:
    munis = pd.DataFrame({"id": ["1287", "9998"], "title": ["Trelleborgs kommun", "Nykommun"],
                          "type": ["K", "K"]})
    Cache(root).write_table("kolada/municipality", munis, source="kolada")


def test_fresher_cached_list_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALMODEL_CACHE_DIR", str(tmp_path))
    _cache_list(tmp_path)
    df = names.municipalities()
    assert df.attrs["source"] == "cache" and df["id"].tolist() == ["1287", "9998"]
    assert names.unit_label("9998") == "Nykommun (9998)"
    assert names.unit_name("1287") == "Trelleborgs kommun"


def test_older_cached_list_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_list(tmp_path)
    shipped, _ = names._shipped()
    monkeypatch.setattr(names, "_shipped", lambda: (shipped, datetime(2999, 1, 1, tzinfo=UTC)))
    df = names.municipalities(cache_dir=tmp_path)
    assert df.attrs["source"] == "shipped" and len(df) == 312


def test_corrupt_cached_list_falls_back_to_the_shipped(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_list(tmp_path)
    manifest = tmp_path / "kolada" / "municipality.json"
    m = json.loads(manifest.read_text(encoding="utf-8"))
    (manifest.parent / m["file"]).write_bytes(b"tampered")
    assert names.municipalities(cache_dir=tmp_path).attrs["source"] == "shipped"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("make_municipalities",
                                                  ROOT / "data" / "make_municipalities.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_municipalities_from_a_local_copy(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "municipalities.csv"
    src.write_text("id,title,type\n1287,Trelleborg,K\n0000,Riket,L\n0580,Linköping,K\n",
                   encoding="utf-8")
    out = tmp_path / "out.csv"
    assert _script().main([str(src), "--out", str(out), "--as-of", "2026-04-01"]) == 0  # type: ignore[attr-defined]
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("# source: local copy of Kolada's municipality list, "
                               "municipalities.csv (sha256 ")
    assert lines[2] == "# as of: 2026-04-01T00:00:00+00:00"
    assert lines[4:] == ["id,name,type", "0000,Riket,L", "0580,Linköping,K", "1287,Trelleborg,K"]
    assert "3 ids (2 municipalities)" in capsys.readouterr().out


def test_make_municipalities_through_kolada(tmp_path: Path, kolada_server: object) -> None:
    out = tmp_path / "out.csv"
    base = kolada_server.base_url  # type: ignore[attr-defined]
    assert _script().main(["--base-url", base, "--out", str(out)]) == 0  # type: ignore[attr-defined]
    text = out.read_text(encoding="utf-8")
    assert f"# source: Kolada API {base}/municipality?per_page=5000" in text
    assert "1287,Trelleborg,K" in text and "0012,Region Skåne,L" in text


def test_shipped_table_matches_its_script_output_format() -> None:
    shipped = (ROOT / "evalmodel" / "_data" / "municipalities.csv").read_text(encoding="utf-8")
    body = [ln for ln in shipped.splitlines() if not ln.startswith("#")]
    assert body[0] == "id,name,type" and body[1:] == sorted(body[1:])


# -- the real extract -----------------------------------------------------------------------


@pytest.mark.real
def test_real_extract(real_extract: Path, real_tidy: pd.DataFrame) -> None:
    kolada_list = names.municipalities()
    type_l = set(kolada_list.loc[kolada_list["type"] == "L", "id"])
    in_file = sorted(set(real_tidy["municipality_id"]) & type_l)
    assert len(in_file) == 22  # the country and 21 regions, counted from the file itself
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = read_panel(real_extract)
    kinds = [type(w.message) for w in caught]
    assert kinds.count(UnitsSetAsideWarning) == 1
    assert set(kinds) <= {UnitsSetAsideWarning, GapWarning, MissingValueWarning,
                          SeriesBreakWarning}
    assert len(panel.units) == 290 and all(names.is_municipality(u) for u in panel.units)
    assert panel.source["set_aside"] == in_file
    wide = panel.data.set_index(["unit", "period"])
    assert wide.loc[("1287", 2009), "N31814"] == pytest.approx(40.5, abs=1e-9)
    # the file holds 4.148111 and 4.690473 (4.15 and 4.69 to two decimals)
    assert wide.loc[("1490", 2012), "N31807"] == pytest.approx(4.148111, abs=1e-9)
    assert wide.loc[("0580", 2021), "N31807"] == pytest.approx(4.690473, abs=1e-9)
    assert round(wide.loc[("1490", 2012), "N31807"], 2) == 4.15
    assert round(wide.loc[("0580", 2021), "N31807"], 2) == 4.69
    assert len(panel.outcomes) == real_tidy["kpi"].nunique() == 24
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cli = load_panels(str(real_extract))["municipality"]
    pd.testing.assert_frame_equal(cli.data, panel.data)
    assert cli.notes == panel.notes and cli.source == panel.source


@pytest.mark.real
def test_real_extract_is_read_for_one_gender(real_extract: Path) -> None:
    """The women's series of the extract: every municipality, and values that are not the
    totals' (its speed is measured in benchmarks/bench_data.py, not asserted here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        women = read_panel(real_extract, gender="K")
        total = read_panel(real_extract)
    assert len(women.units) == len(total.units) == 290
    both = women.data.merge(total.data, on=["unit", "period"], suffixes=("_k", "_t"))
    assert len(both) > 0
    assert not np.allclose(both["N31814_k"], both["N31814_t"], equal_nan=True)


@pytest.mark.real
def test_real_extract_women(real_extract: Path, real_tidy: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = read_panel(real_extract, gender="K")
    raw = real_tidy.query("kpi == 'N31814' and municipality_id == '1287' and year == 2009 "
                          "and gender == 'K'")["value"]
    got = panel.data.set_index(["unit", "period"]).loc[("1287", 2009), "N31814"]
    assert got == pytest.approx(float(raw.iloc[0]), abs=1e-12)
    assert np.isfinite(got)
