"""read_export and read_district_panel on small hand-written files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.files import read_district_panel, read_export
from evalmodel.errors import DataSourceError

KOLADA_CSV = """Kolada, export 2026-04-01
Kommun-ID;Kommun;KPI;År;Kön;Värde
0580;Linköping;N31807;2012;Totalt;4,1
1287;Trelleborg;N31807;2012;Totalt;..
1287;Trelleborg;N31807;2013;Kvinnor;5,25
1287;Trelleborg;N31807;2013;Män;5,5
"""

SOS_CSV = """Ekonomiskt bistånd efter region och år
Källa: Socialstyrelsen

Region,Mått,2012,2013
580 Linköping,Biståndshushåll,"2 087","2 110"
1287 Trelleborg,Biståndshushåll,900,X
"""


def tidy(rows: list[tuple[str, int, str, float, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "period", "variable", "value", "gender", "status"])


def _file(tmp_path: Path, name: str, text: str) -> Path:
    """``text`` written as UTF-8 to the file ``name`` in ``tmp_path``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_kolada_long_export(tmp_path: Path) -> None:
    path = _file(tmp_path, "kolada.csv", KOLADA_CSV)
    got = read_export(path)
    expected = tidy(
        [
            ("0580", 2012, "N31807", 4.1, "T", ""),
            ("1287", 2012, "N31807", np.nan, "T", ".."),
            ("1287", 2013, "N31807", 5.25, "K", ""),
            ("1287", 2013, "N31807", 5.5, "M", ""),
        ]
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["notes"] == []


def test_socialstyrelsen_wide_export_in_windows_encoding(tmp_path: Path) -> None:
    path = tmp_path / "sos.csv"
    path.write_bytes(SOS_CSV.encode("cp1252"))
    got = read_export(path)
    expected = tidy(
        [
            ("0580", 2012, "Biståndshushåll", 2087.0, "T", ""),
            ("0580", 2013, "Biståndshushåll", 2110.0, "T", ""),
            ("1287", 2012, "Biståndshushåll", 900.0, "T", ""),
            ("1287", 2013, "Biståndshushåll", np.nan, "T", "X"),
        ]
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["notes"] == [
        "1 unit ids got their leading zeros back in 2 rows (e.g. '580' -> '0580')"
    ]


def test_wide_export_without_variable_column_uses_the_argument(tmp_path: Path) -> None:
    path = _file(tmp_path, "households.csv", "Kommun,2012,2013\n1287 Trelleborg,1.5,2\n")
    assert read_export(path)["variable"].unique().tolist() == ["households"]
    got = read_export(path, variable="N31910")
    assert got[["unit", "period", "variable", "value"]].values.tolist() == [
        ["1287", 2012, "N31910", 1.5],
        ["1287", 2013, "N31910", 2.0],
    ]


def test_excel_without_reader_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not really excel")

    def no_reader(*args: object, **kw: object) -> pd.DataFrame:
        raise ImportError("Missing optional dependency 'openpyxl'.")

    monkeypatch.setattr(pd, "read_excel", no_reader)
    with pytest.raises(DataSourceError, match=r"needs an Excel reader .* `pip install openpyxl`"):
        read_export(path)


def test_excel_sheet_is_read_like_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"stand-in")
    sheet = pd.DataFrame([["Kommun-ID", "År", "Värde"], ["0580", "2012", "4.1"]])
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: sheet)
    got = read_export(path, variable="N31807")
    assert got.values.tolist() == [["0580", 2012, "N31807", 4.1, "T", ""]]


def test_real_excel_export_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "kolada.xlsx"
    sheet = pd.DataFrame({"Kommun-ID": ["0580", "1287"], "År": [2012, 2012],
                          "Värde": [4.1, 5.2]})
    with pd.ExcelWriter(path) as xl:  # openpyxl, a test extra
        pd.DataFrame([["Kolada export, N31807"]]).to_excel(xl, index=False, header=False)
        sheet.to_excel(xl, index=False, startrow=2)
    got = read_export(path, variable="N31807")
    assert got.values.tolist() == [["0580", 2012, "N31807", 4.1, "T", ""],
                                   ["1287", 2012, "N31807", 5.2, "T", ""]]


@pytest.mark.parametrize(
    ("text", "name", "match"),
    [
        ("a,b\n1,2\n", "x.csv", r"no header row with a unit column"),
        ("Kommun-ID,År,Värde\n0580,2012,many\n", "x.csv", r"value 'many' in .* is not a number"),
        ("Kommun-ID,År,Värde\n0580,20x2,1\n", "x.csv", r"year '20x2' in .* is not an integer"),
        (
            "Kommun-ID,År,Värde\nLinköping,2012,1\n",
            "x.csv",
            r"unit cell 'Linköping' .* no "
            r"municipality code",
        ),
        ("Kommun-ID,År,Värde\n", "x.json", r"unknown extension '\.json'"),
    ],
)
def test_export_errors(tmp_path: Path, text: str, name: str, match: str) -> None:
    path = _file(tmp_path, name, text)
    with pytest.raises(DataSourceError, match=match):
        read_export(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        read_export(tmp_path / "nope.csv")
    with pytest.raises(DataSourceError, match="does not exist"):
        read_district_panel(tmp_path / "nope.csv")


DISTRICTS = """district,city,year,first_treated,households,recipients_share
Lindängen,1280,2010,2011,1200,14.2
Lindängen,1280,2011,2011,1150,13.6
Hyllie,1280,2010,,800,6.1
Hyllie,1280,2011,,810,6.0
"""


def test_district_panel(tmp_path: Path) -> None:
    path = _file(tmp_path, "districts.csv", DISTRICTS)
    panel = read_district_panel(path)
    assert panel.units == ["Hyllie", "Lindängen"]
    assert panel.outcomes == ["households", "recipients_share"]
    assert panel.cohorts().to_dict() == {"Hyllie": 0, "Lindängen": 2011}
    assert panel.wide("households").loc["Lindängen"].tolist() == [1200.0, 1150.0]
    assert panel.source["city"] == {"Hyllie": "1280", "Lindängen": "1280"}


def test_district_panel_needs_its_columns(tmp_path: Path) -> None:
    path = _file(tmp_path, "d.csv", "area,year,y\nA,2010,1\n")
    with pytest.raises(DataSourceError, match=r"lacks the column\(s\) \['district'\]"):
        read_district_panel(path)


# -- the formats researchers have (read_export) ---------------------------------------------

KOLADA_LONG = """kpi,municipality_id,year,gender,value
N31807,0000,2012,T,4.4
N31807,0580,2012,K,3.9
N31807,0580,2012,M,4.3
N31807,0580,2012,T,4.1
N31807,G33860,2012,T,5.0
N31814,1287,2009,T,40.5
"""


def test_kolada_long_extract(tmp_path: Path) -> None:
    path = _file(tmp_path, "dump.csv", KOLADA_LONG)
    got = read_export(path)
    assert got.values.tolist() == [
        ["0000", 2012, "N31807", 4.4, "T", ""],
        ["0580", 2012, "N31807", 3.9, "K", ""],
        ["0580", 2012, "N31807", 4.3, "M", ""],
        ["0580", 2012, "N31807", 4.1, "T", ""],
        ["G33860", 2012, "N31807", 5.0, "T", ""],
        ["1287", 2009, "N31814", 40.5, "T", ""],
    ]
    src = got.attrs["source"]
    assert (src["layout"], src["encoding"], src["separator"]) == ("long", "utf-8", ",")
    assert len(src["sha256"]) == 64


def test_kolada_status_column_keeps_the_flag(tmp_path: Path) -> None:
    path = _file(tmp_path, "api.csv", "kpi,municipality,period,gender,value,status\n"
                 "N31807,1287,2012,T,4.0,Preliminär\nN31807,1287,2013,T,,\n")
    got = read_export(path)
    assert got["status"].tolist() == ["Preliminär", ""]
    assert got["value"].isna().tolist() == [False, True]


def test_wide_by_variable(tmp_path: Path) -> None:
    path = _file(tmp_path, "mine.csv", "kommun,kommunnamn,year,N31807,N31814\n"
                 "1287,Trelleborg,2012,\"4,0\",30.1\n580,Linköping,2012,4.1,..\n")
    got = read_export(path)
    assert got.fillna(-1.0).values.tolist() == [
        ["0580", 2012, "N31807", 4.1, "T", ""],
        ["1287", 2012, "N31807", 4.0, "T", ""],
        ["0580", 2012, "N31814", -1.0, "T", ".."],
        ["1287", 2012, "N31814", 30.1, "T", ""],
    ]
    assert got.attrs["source"]["layout"] == "wide by variable"
    assert got.attrs["notes"] == [
        "1 unit ids got their leading zeros back in 2 rows (e.g. '580' -> '0580')"
    ]


def test_wide_by_variable_text_in_a_variable_names_the_column(tmp_path: Path) -> None:
    path = _file(tmp_path, "mine.csv", "kommun,year,N31807,comment\n1287,2012,4.0,good year\n")
    with pytest.raises(DataSourceError, match=r"value 'good year' in column 'comment' of"):
        read_export(path)


def test_wide_by_year_with_gender_column(tmp_path: Path) -> None:
    path = _file(tmp_path, "N31814.csv", "Kommun;Kön;2009;2010\n"
                 "1287 Trelleborg;Kvinnor;40,1;36\n1287 Trelleborg;Män;41;37,2\n")
    got = read_export(path)
    assert got.values.tolist() == [
        ["1287", 2009, "N31814", 40.1, "K", ""],
        ["1287", 2009, "N31814", 41.0, "M", ""],
        ["1287", 2010, "N31814", 36.0, "K", ""],
        ["1287", 2010, "N31814", 37.2, "M", ""],
    ]
    assert got.attrs["source"]["layout"] == "wide by year"


LONG_ROWS = [
    ["Kommun-ID", "Kommun", "KPI", "År", "Värde"],
    ["1280", "Malmö", "Biståndsmottagare", "2012", "9,5"],
    ["1490", "Borås", "Biståndsmottagare", "2012", "4,15"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "export.csv"
    text = "Ekonomiskt bistånd, Kolada\n" + "\n".join(";".join(r) for r in LONG_ROWS) + "\n"
    path.write_bytes(text.encode(encoding))
    got = read_export(path)
    assert got[["unit", "variable", "value"]].values.tolist() == [
        ["1280", "Biståndsmottagare", 9.5],
        ["1490", "Biståndsmottagare", 4.15],
    ]
    assert got.attrs["source"]["encoding"] == encoding
    assert got.attrs["source"]["header_row"] == 1


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab"), (",", "comma")])
def test_separators(tmp_path: Path, sep: str, name: str) -> None:
    rows = [[c.replace(",", ".") for c in r] for r in LONG_ROWS]
    path = _file(tmp_path, "export.tsv" if sep == "\t" else "export.csv",
                 "\n".join(sep.join(r) for r in rows) + "\n")
    got = read_export(path)
    assert got["value"].tolist() == [9.5, 4.15]
    assert got.attrs["source"]["separator"] == sep


def test_comma_file_with_a_semicolon_in_its_title(tmp_path: Path) -> None:
    path = _file(tmp_path, "x.csv", "Källa: Kolada; hämtad 2026\n"
                 "Kommun-ID,År,Värde,Kommun\n0580,2012,4.1,Linköping\n")
    got = read_export(path, variable="N31807")
    assert got.values.tolist() == [["0580", 2012, "N31807", 4.1, "T", ""]]
    assert got.attrs["source"]["separator"] == ","


def test_no_header_says_what_was_tried(tmp_path: Path) -> None:
    path = _file(tmp_path, "x.csv", "a;b\n1;2\n")
    with pytest.raises(
        DataSourceError,
        match=r"read as utf-8; separators tried: semicolon ';', tab '\\t', comma ','; if the "
        r"file uses another separator, pass it, e\.g\. sep='\|'",
    ):
        read_export(path)


def test_undecodable_file_says_what_was_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalmodel.data import sniff

    path = tmp_path / "x.csv"
    path.write_bytes(b"Kommun-ID;\x81r;V\x8drde\n")  # neither UTF-8 nor cp1252
    monkeypatch.setattr(sniff, "_guess", lambda data: None)
    with pytest.raises(
        DataSourceError,
        match=r"tried the encodings utf-8, cp1252, charset-normalizer's detection; save it as "
        r"CSV UTF-8",
    ):
        read_export(path)


def test_charset_normalizer_reads_what_cp1252_cannot(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    text = "Kommun-ID;År;Värde\n" + "".join(f"{1280 + i};2012;{i},5\n" for i in range(40))
    path.write_bytes(text.encode("utf-16-le"))  # no byte-order mark
    got = read_export(path, variable="N31807")
    assert len(got) == 40 and got["value"].iloc[1] == 1.5
    assert got.attrs["source"]["encoding"] not in ("utf-8", "cp1252")


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("Kommun-ID;År;Värde;Värde", r"\['Värde'\]"),
        ("kommun;year;N31807;N31807.1", r"\['N31807.1'\]"),
        ("kommun;year;value;value;kpi", r"\['value'\]"),
    ],
)
def test_duplicate_columns_are_named(tmp_path: Path, header: str, named: str) -> None:
    row = ";".join(["1287", "2012", "1", "2", "N31807"][: header.count(";") + 1])
    path = _file(tmp_path, "dup.csv", f"{header}\n{row}\n")
    with pytest.raises(DataSourceError, match=rf"repeated column names {named}"):
        read_export(path)


def test_footnotes_below_the_table_are_skipped(tmp_path: Path) -> None:
    path = _file(tmp_path, "sos.csv", "Region;År;Värde\n1287 Trelleborg;2012;4,0\n\n"
                 "Källa: Socialstyrelsen\nUppgifterna avser ...\n")
    got = read_export(path, variable="N31807")
    assert got.values.tolist() == [["1287", 2012, "N31807", 4.0, "T", ""]]
    assert got.attrs["notes"] == ["2 footnote lines below the table skipped"]


def _cache_with(root: Path) -> Path:
    from evalmodel.data.cache import Cache

    cache = Cache(root)
    for kpi, values in {"N31807": [4.0, 4.4], "N31814": [40.5, 36.6]}.items():
        df = pd.DataFrame({"unit": ["1287", "0000"], "period": [2009, 2009],
                           "variable": kpi, "value": values, "gender": "T", "status": ""})
        cache.write_table(f"kolada/values/{kpi}", df, source="kolada",
                          extra={"kpi": kpi, "years": [2009]})
    return root


def test_cache_folder(tmp_path: Path) -> None:
    root = _cache_with(tmp_path / "cache")
    got = read_export(root)
    assert got.values.tolist() == [
        ["0000", 2009, "N31807", 4.4, "T", ""],
        ["1287", 2009, "N31807", 4.0, "T", ""],
        ["0000", 2009, "N31814", 36.6, "T", ""],
        ["1287", 2009, "N31814", 40.5, "T", ""],
    ]
    src = got.attrs["source"]
    assert src["layout"] == "cache"
    assert sorted(src["entries"]) == ["kolada/values/N31807", "kolada/values/N31814"]
    with pytest.raises(
        DataSourceError, match=r"variable='x', sheet=None and sep=None apply to files"
    ):
        read_export(root, variable="x")


def test_cache_folder_without_entries(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"holds no Kolada cache entries .*evalmodel data "
                                              r"fetch --cache-dir"):
        read_export(tmp_path)


def test_corrupt_cache_entry_is_reported(tmp_path: Path) -> None:
    from evalmodel.data.cache import Cache, CacheCorruptError

    root = _cache_with(tmp_path / "cache")
    table = Cache(root).table_path("kolada/values/N31807")
    assert table is not None
    table.write_bytes(b"tampered")
    with pytest.raises(CacheCorruptError, match="does not match the manifest"):
        read_export(root)


def test_group_ids_keep_their_letter(tmp_path: Path) -> None:
    path = _file(tmp_path, "g.csv", "Kommun-ID;År;Värde\nG33860;2012;1\n12;2012;2\n")
    assert read_export(path, variable="v")["unit"].tolist() == ["0012", "G33860"]
