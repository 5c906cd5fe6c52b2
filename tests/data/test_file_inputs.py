"""Files as researchers have them (issue 15): Windows encodings, other separators, merged
header rows, repeated columns, and files that are not tables at all.

Each class of input has a test that reads it correctly against a planted truth, or pins the
named error with ``match=``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalmodel.data.files import read_district_panel, read_export
from evalmodel.data.read import read_panel
from evalmodel.errors import DataSourceError

#: What Excel writes on Swedish Windows ("CSV (semikolonavgränsad)"): cp1252, ';', ','.
EXCEL_SV = (
    "Kommun;År;Värde\n1287 Trelleborg;2012;4,5\n0580 Linköping;2012;3,25\n1490 Borås;2012;1\n"
)


def _bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- 1. encodings ------------------------------------------------------------------------------
def test_cp1252_semicolon_file_from_swedish_excel(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "andel.csv", EXCEL_SV.encode("cp1252"))
    assert b"V\xe4rde" in path.read_bytes()  # the planted fact: cp1252, not UTF-8
    got = read_export(path, variable="N31807")
    assert got[["unit", "period", "value"]].values.tolist() == [
        ["0580", 2012, 3.25],
        ["1287", 2012, 4.5],
        ["1490", 2012, 1.0],
    ]
    assert got.attrs["source"]["encoding"] == "cp1252"
    assert got.attrs["source"]["separator"] == ";"
    panel = read_panel(path, variable="N31807")
    assert panel.source["encoding"] == "cp1252" and panel.units == ["0580", "1287", "1490"]


def test_names_with_swedish_letters_survive_cp1252(tmp_path: Path) -> None:
    text = "Region;Mått;2012\n1287 Trelleborg;Biståndshushåll, år;9\n"
    got = read_export(_bytes(tmp_path, "sos.csv", text.encode("cp1252")))
    assert got["variable"].tolist() == ["Biståndshushåll, år"]


def test_binary_file_says_what_was_tried(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.csv", bytes(range(256)) * 20)
    with pytest.raises(
        DataSourceError,
        match=r"x\.csv is not readable as text: tried the encodings charset-normalizer's "
        r"detection, not utf-8 or cp1252: the file holds NUL bytes",
    ):
        read_export(path)


@pytest.mark.parametrize(
    ("magic", "what"),
    [
        (b"PK\x03\x04", r"a zip archive \(an Excel \.xlsx workbook\?\); give it the \.xlsx"),
        (b"\xd0\xcf\x11\xe0", r"an old Excel \.xls workbook"),
        (b"PAR1", r"a Parquet file"),
    ],
)
def test_workbook_under_a_csv_name_is_named(tmp_path: Path, magic: bytes, what: str) -> None:
    path = _bytes(tmp_path, "export.csv", magic + bytes(200))
    with pytest.raises(DataSourceError, match=rf"export\.csv is not a text table but {what}"):
        read_export(path)


# -- 2. separators -----------------------------------------------------------------------------
@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_separator_is_sniffed_and_recorded(tmp_path: Path, sep: str, name: str) -> None:
    text = EXCEL_SV.replace(";", sep)
    got = read_export(_bytes(tmp_path, "x.csv", text.encode("utf-8")), variable="v")
    assert got["value"].tolist() == [3.25, 4.5, 1.0]
    assert got.attrs["source"]["separator"] == sep


def test_unknown_separator_message_lists_those_tried_and_sep_reads_it(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.csv", EXCEL_SV.replace(";", "|").encode("utf-8"))
    with pytest.raises(
        DataSourceError,
        match=r"separators tried: semicolon ';', tab '\\t', comma ','; if the file uses "
        r"another separator, pass it, e\.g\. sep='\|'",
    ):
        read_export(path)
    got = read_export(path, variable="v", sep="|")
    assert got["value"].tolist() == [3.25, 4.5, 1.0]
    assert got.attrs["source"]["separator"] == "|"


def test_wrong_sep_given_says_so(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.csv", EXCEL_SV.encode("utf-8"))
    with pytest.raises(
        DataSourceError, match=r"separator comma ',' as sep= asks; leave sep out to have"
    ):
        read_export(path, sep=",")
    with pytest.raises(DataSourceError, match=r"sep=';;' is not a field separator; pass one"):
        read_export(path, sep=";;")


def test_mixed_separators_are_named(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.csv", b"Kommun;\xc5r;V\xe4rde\n1287;2012;4,5\n0580,2012,3\n")
    with pytest.raises(
        DataSourceError,
        match=r"mixes separators: its header is split by semicolons \(';'\) but 1 rows by "
        r"commas \(','\), e\.g\. '0580,2012,3'",
    ):
        read_export(path)


# -- 3. two header rows (merged cells) ---------------------------------------------------------
MERGED = (
    "Kommun;Andel med bistånd (%);\n;2019;2020\n1287 Trelleborg;4,1;4,3\n0580 Linköping;3;3,1\n"
)


def test_merged_title_over_the_years_is_read(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "andel.csv", MERGED.encode("cp1252"))
    got = read_export(path)
    assert got[["unit", "period", "variable", "value"]].values.tolist() == [
        ["0580", 2019, "Andel med bistånd (%)", 3.0],
        ["0580", 2020, "Andel med bistånd (%)", 3.1],
        ["1287", 2019, "Andel med bistånd (%)", 4.1],
        ["1287", 2020, "Andel med bistånd (%)", 4.3],
    ]
    assert got.attrs["source"]["header_rows"] == [0, 1]
    assert got.attrs["notes"][0].startswith("two header rows (lines 1 and 2) read as one")
    renamed = read_export(path, variable="N31807")
    assert renamed["variable"].unique().tolist() == ["N31807"]
    assert renamed.attrs["notes"][-1] == (
        "variable='N31807' names the header title 'Andel med bistånd (%)'"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Kommun;2019;;2020;\n;Antal;Andel;Antal;Andel\n1287;10;4,1;11;4,3\n",  # years above
        "Kommun;Antal;;Andel;\n;2019;2020;2019;2020\n1287;10;11;4,1;4,3\n",  # titles above
        "Titel\n;Antal;;Andel;\nKommun;2019;2020;2019;2020\n1287;10;11;4,1;4,3\n",  # unit below
    ],
)
def test_two_measures_under_merged_cells(tmp_path: Path, text: str) -> None:
    got = read_export(_bytes(tmp_path, "x.csv", text.encode("utf-8")))
    assert got[["variable", "period", "value"]].values.tolist() == [
        ["Andel", 2019, 4.1],
        ["Andel", 2020, 4.3],
        ["Antal", 2019, 10.0],
        ["Antal", 2020, 11.0],
    ]


def test_merged_header_in_an_excel_sheet(tmp_path: Path) -> None:
    path = tmp_path / "andel.xlsx"
    sheet = pd.DataFrame(
        [["Kolada", None, None], ["Kommun", "Andel", None], [None, "2019", "2020"],
         ["1287", "4.1", "4.3"]]
    )
    sheet.to_excel(path, index=False, header=False)
    got = read_export(path)
    assert got[["unit", "period", "variable", "value"]].values.tolist() == [
        ["1287", 2019, "Andel", 4.1],
        ["1287", 2020, "Andel", 4.3],
    ]
    assert got.attrs["notes"][0].startswith("two header rows (rows 2 and 3) read as one")


def test_workbook_with_merged_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Kommun", "Andel (%)", None, "Antal", None])
    ws.append([None, 2019, 2020, 2019, 2020])
    ws.append(["1287 Trelleborg", 4.1, 4.3, 10, 11])
    for cells in ("A1:A2", "B1:C1", "D1:E1"):
        ws.merge_cells(cells)
    wb.save(tmp_path / "merged.xlsx")
    got = read_export(tmp_path / "merged.xlsx")
    assert got[["variable", "period", "value"]].values.tolist() == [
        ["Andel (%)", 2019, 4.1],
        ["Andel (%)", 2020, 4.3],
        ["Antal", 2019, 10.0],
        ["Antal", 2020, 11.0],
    ]
    assert got.attrs["source"]["header_rows"] == [0, 1]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "Kommun;Antal;;;\n;2019;2020;2019;2020\n1287;10;11;4,1;4,3\n",
            r"two header rows \(lines 1 and 2\) of \S+ give \['Antal 2019', 'Antal 2020'\] to "
            r"more than one column; make lines 1 and 2 of \S+ one header row",
        ),
        (
            "Kommun;Mått;Antal;\n;;2019;2020\n1287;x;10;11\n",
            r"two header rows \(lines 1 and 2\) of \S+ name variables \['Antal'\] beside the "
            r"column 'Mått'",
        ),
        (
            "Kommun;;;Andel;\n;2018;2019;2019;2020\n1287;1;2;4,1;4,3\n",
            r"name a variable over some year columns but not over \['2018', '2019'\]",
        ),
    ],
)
def test_merged_headers_that_do_not_combine_name_the_rows(
    tmp_path: Path, text: str, match: str
) -> None:
    with pytest.raises(DataSourceError, match=match):
        read_export(_bytes(tmp_path, "x.csv", text.encode("utf-8")))


# -- 4. repeated columns -----------------------------------------------------------------------
def test_repeated_csv_column_names_its_positions(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.csv", b"Kommun;\xc5r;N31807;N31814;N31807\n1287;2012;1;2;3\n")
    with pytest.raises(
        DataSourceError,
        match=r"repeated column names \['N31807'\]: 'N31807' in columns 3 \(C\) and 5 \(E\); "
        r"each column needs its own name and none is renamed",
    ):
        read_export(path)


def test_pandas_renamed_repeat_names_both_columns(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.csv", b"kommun,year,N31807,N31807.1\n1287,2012,1,2\n")
    with pytest.raises(
        DataSourceError, match=r"'N31807\.1' in columns 3 \(C\) and 4 \(D\)"
    ):
        read_export(path)


def test_repeated_excel_column_names_its_letters(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    pd.DataFrame([["Kommun", "År", "N31807", "N31807"], ["1287", "2012", "1", "2"]]).to_excel(
        path, index=False, header=False
    )
    with pytest.raises(DataSourceError, match=r"'N31807' in columns 3 \(C\) and 4 \(D\)"):
        read_export(path)


# -- the district panel reader ------------------------------------------------------------------
DISTRICTS = (
    "district,city,year,first_treated,households\n"
    "Lindängen,1280,2010,2011,1200\nLindängen,1280,2011,2011,1150\n"
    "Hyllie,1280,2010,,800\nHyllie,1280,2011,,810\n"
)


@pytest.mark.parametrize(
    ("encoding", "sep"), [("utf-8", ","), ("cp1252", ";"), ("utf-8-sig", "\t"), ("utf-16", ";")]
)
def test_district_panel_in_any_encoding_and_separator(
    tmp_path: Path, encoding: str, sep: str
) -> None:
    path = _bytes(tmp_path, "d.csv", DISTRICTS.replace(",", sep).encode(encoding))
    panel = read_district_panel(path)
    assert panel.units == ["Hyllie", "Lindängen"]
    assert panel.source["separator"] == sep
    assert panel.source["encoding"] == encoding


def test_district_panel_errors(tmp_path: Path) -> None:
    semi = _bytes(tmp_path, "d.csv", DISTRICTS.replace(",", ";").encode("utf-8"))
    with pytest.raises(
        DataSourceError,
        match=r"lacks the column\(s\) \['district', 'year'\]; its header read with sep=',' is "
        r"\['district;city;year;first_treated;households'\].*leave sep out",
    ):
        read_district_panel(semi, sep=",")
    dup = _bytes(tmp_path, "dup.csv", DISTRICTS.replace("households", "households,households")
                 .replace("\n", ",1\n").replace("households,1\n", "households\n").encode())
    with pytest.raises(
        DataSourceError,
        match=r"read_district_panel: \S+ has repeated column names \['households'\]: "
        r"'households' in columns 5 \(E\) and 6 \(F\)",
    ):
        read_district_panel(dup)
    with pytest.raises(DataSourceError, match=r"read_district_panel: \S+ is a folder"):
        read_district_panel(tmp_path)
