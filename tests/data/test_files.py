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


def test_kolada_long_export(tmp_path: Path) -> None:
    path = tmp_path / "kolada.csv"
    path.write_text(KOLADA_CSV, encoding="utf-8")
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
    assert got.attrs["notes"] == ["2 unit ids got their leading zeros back (e.g. '580' -> '0580')"]


def test_wide_export_without_variable_column_uses_the_argument(tmp_path: Path) -> None:
    path = tmp_path / "households.csv"
    path.write_text("Kommun,2012,2013\n1287 Trelleborg,1.5,2\n", encoding="utf-8")
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
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
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
    path = tmp_path / "districts.csv"
    path.write_text(DISTRICTS, encoding="utf-8")
    panel = read_district_panel(path)
    assert panel.units == ["Hyllie", "Lindängen"]
    assert panel.outcomes == ["households", "recipients_share"]
    assert panel.cohorts().to_dict() == {"Hyllie": 0, "Lindängen": 2011}
    assert panel.wide("households").loc["Lindängen"].tolist() == [1200.0, 1150.0]
    assert panel.source["city"] == {"Hyllie": "1280", "Lindängen": "1280"}


def test_district_panel_needs_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("area,year,y\nA,2010,1\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"lacks the column\(s\) \['district'\]"):
        read_district_panel(path)
