"""Socialstyrelsen's monthly files through read_export (evalmodel.data.socialstyrelsen).

Every file is written here into ``tmp_path`` from a planted truth (:func:`truth`), in the
layouts the reader recognises; no third-party data is stored. The layouts are the plausible
ones of the database's export (see the module docstring: not verified against a real download).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.files import read_export
from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.data.read import read_panel
from evalmodel.data.socialstyrelsen import monthly_layout
from evalmodel.data.socialstyrelsen_labels import measure_name, month_number
from evalmodel.errors import DataSourceError, RowsDroppedWarning
from evalmodel.months import month_code

MONTHS = ("Januari", "Februari", "Mars", "April", "Maj", "Juni", "Juli", "Augusti",
          "September", "Oktober", "November", "December")
#: (code, Kolada name) of the planted regions.
REGIONS = (("0580", "Linköping"), ("1280", "Malmö"), ("0114", "Upplands Väsby"))
LABELS = {"households": "Antal hushåll", "recipients": "Antal biståndsmottagare"}


def truth(months: int = 24, start: tuple[int, int] = (2020, 1)) -> pd.DataFrame:
    """The planted values: one per region, month and measure, with a decimal part so that
    decimal commas are exercised (households 1000*r + m + 0.5, recipients twice that)."""
    rows = []
    first = month_code(*start)
    for r, (code, _) in enumerate(REGIONS):
        for k in range(months):
            c = first + k
            h = 1000.0 * (r + 1) + k + 0.5
            for var, v in (("households", h), ("recipients", 2 * h)):
                rows.append({"unit": code, "code": c, "variable": var, "value": v})
    df = pd.DataFrame(rows)
    df["year"], df["month"] = df["code"] // 12, df["code"] % 12 + 1
    df["period"] = [f"{y:04d}-{m:02d}" for y, m in zip(df["year"], df["month"], strict=True)]
    return df


def expected(t: pd.DataFrame) -> pd.DataFrame:
    out = t.assign(gender="T", status="")[list(TIDY_COLUMNS)]
    return out.sort_values(["variable", "unit", "period"]).reset_index(drop=True)


def _num(v: float) -> str:
    return f"{v:.1f}".replace(".", ",")


def _name(code: str) -> str:
    return dict(REGIONS)[code]


def write_sample(
    path: Path,
    t: pd.DataFrame,
    layout: str,
    *,
    encoding: str = "cp1252",
    region: str = "code",
    month: str = "name",
    title: bool = True,
) -> Path:
    """Write the planted values ``t`` in one of Socialstyrelsen's monthly layouts.

    layout: ``long`` (Region;År;Månad;Mått;Värde), ``long-text`` (Region;Månad;Mått;Värde
    with 2021M01), ``wide`` (Region;År;Mått;Januari..), ``wide-text`` (Region;Mått;2021-01..)
    or ``two-rows`` (years over month names; one measure). ``region``: ``code``, ``both``
    ("0580 Linköping") or ``name``. A title line and a footnote frame the table when
    ``title``. CSV with ``;`` and decimal commas; ``.xlsx`` paths get an Excel sheet.
    """
    t = t.copy()
    t["Region"] = {"code": t["unit"], "both": t["unit"] + " " + t["unit"].map(_name),
                   "name": t["unit"].map(_name)}[region]
    t["Mått"] = t["variable"].map(LABELS)
    t["År"] = t["year"]
    t["Månad"] = t["month"].map(lambda m: MONTHS[m - 1]) if month == "name" else t["month"]
    xlsx = path.suffix == ".xlsx"
    cell = (lambda v: v) if xlsx else _num
    if layout == "long":
        rows = [["Region", "År", "Månad", "Mått", "Värde"]] + [
            [r.Region, r.year, r.Månad, r.Mått, cell(r.value)] for r in t.itertuples()]
    elif layout == "long-text":
        rows = [["Region", "Månad", "Mått", "Värde"]] + [
            [r.Region, f"{r.year}M{r.month:02d}", r.Mått, cell(r.value)] for r in t.itertuples()]
    elif layout in ("wide", "wide-text"):
        if layout == "wide":
            keys, cols = ["Region", "År", "Mått"], "Månad"
        else:
            t["Period"] = t["period"]
            keys, cols = ["Region", "Mått"], "Period"
        wide = t.pivot_table(index=keys, columns=cols, values="value", aggfunc="first")
        if layout == "wide":
            wide = wide[[m for m in MONTHS if m in wide.columns]]
        wide = wide.reset_index()
        rows = [list(wide.columns)] + [
            [*r[: len(keys)], *("" if pd.isna(v) else cell(v) for v in r[len(keys):])]
            for r in wide.itertuples(index=False)]
    elif layout == "two-rows":
        one = t[t["variable"] == "households"]
        wide = one.pivot_table(index="Region", columns=["year", "Månad"], values="value",
                               aggfunc="first")
        order = sorted(wide.columns, key=lambda c: (c[0], MONTHS.index(c[1])))
        wide = wide[order]
        top, bottom, last = ["Region"], [""], None
        for y, m in order:
            top.append(str(y) if y != last else "")
            bottom.append(m)
            last = y
        rows = [top, bottom] + [[idx, *(cell(v) for v in r)] for idx, r in
                                zip(wide.index, wide.to_numpy(), strict=True)]
    else:
        raise ValueError(layout)
    if xlsx:
        pd.DataFrame(rows).to_excel(path, header=False, index=False)
        return path
    lines = ([f"Ekonomiskt bistånd - månadsstatistik ({layout})", ""] if title else [])
    lines += [";".join(str(c) for c in r) for r in rows]
    lines += (["", "Källa: planted test data"] if title else [])
    bom = encoding == "utf-8-sig"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding if not bom else "utf-8")
                     if not bom else b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())
    return path


def _read(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is dropped in the clean samples
        return read_export(path)


# ---------------------------------------------------------------- layouts against the truth

@pytest.mark.parametrize(
    ("layout", "encoding", "region", "month"),
    [
        ("long", "cp1252", "code", "name"),
        ("long", "utf-8-sig", "both", "number"),
        ("long-text", "utf-8-sig", "code", "name"),
        ("wide", "cp1252", "code", "name"),
        ("wide-text", "utf-8-sig", "both", "name"),
    ],
)
def test_csv_layouts_recover_the_planted_values(tmp_path, layout, encoding, region, month):
    t = truth()
    p = write_sample(tmp_path / "bistand.csv", t, layout, encoding=encoding, region=region,
                     month=month)
    got = _read(p)
    pd.testing.assert_frame_equal(got, expected(t))
    src = got.attrs["source"]
    assert src["encoding"] == encoding and src["separator"] == ";"
    assert src["layout"].startswith("socialstyrelsen monthly") and src["frequency"] == "month"
    assert got.attrs["notes"] == ["1 footnote lines below the table skipped"]


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_xlsx_layouts_recover_the_planted_values(tmp_path, layout):
    t = truth(months=12)
    got = _read(write_sample(tmp_path / "bistand.xlsx", t, layout))
    pd.testing.assert_frame_equal(got, expected(t))
    assert got.attrs["source"]["sheet"] == 0


def test_xlsx_with_month_start_dates_as_headers(tmp_path):
    """Excel shows month columns as dates; read with dtype=str they are '2021-01-01 00:00:00'."""
    t = truth(months=3, start=(2021, 1))
    h = t[t["variable"] == "households"]
    wide = h.pivot_table(index="unit", columns="code", values="value", aggfunc="first")
    wide.columns = [pd.Timestamp(year=c // 12, month=c % 12 + 1, day=1) for c in wide.columns]
    wide.index.name = "Regionkod"
    p = tmp_path / "households.xlsx"
    wide.reset_index().to_excel(p, index=False)
    got = _read(p)
    assert got["period"].unique().tolist() == ["2021-01", "2021-02", "2021-03"]
    assert got["variable"].unique().tolist() == ["households"]  # the file's stem
    np.testing.assert_array_equal(got["value"], h.sort_values(["unit", "code"])["value"])


def test_two_header_rows_years_over_month_names(tmp_path):
    t = truth(months=4, start=(2020, 11))
    p = write_sample(tmp_path / "households.csv", t, "two-rows", encoding="cp1252")
    got = _read(p)
    want = expected(t[t["variable"] == "households"])
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs["source"]["layout"] == "socialstyrelsen monthly, two header rows"


def test_long_and_wide_files_of_the_same_data_agree(tmp_path):
    """The same values written in four layouts read back identically (a consistency check
    between independent code paths: melt of month columns, month names, month text)."""
    t = truth(months=12, start=(2021, 1))
    frames = [_read(write_sample(tmp_path / f"{lay}.csv", t, lay)) for lay in
              ("long", "long-text", "wide", "wide-text")]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])


def test_annual_kolada_files_stay_annual(tmp_path):
    p = tmp_path / "export.csv"
    p.write_text("Kommun-ID;KPI;År;Värde\n1287;N31807;2012;4,5\n", encoding="cp1252")
    got = read_export(p)
    assert got["period"].tolist() == [2012] and got.attrs["source"]["layout"] == "long"
    assert monthly_layout(["Kommun-ID", "KPI", "År", "Värde"],
                          pd.DataFrame({"År": ["2012"]})) is None


# ------------------------------------------------------------- missing cells, names, measures

def test_suppressed_and_missing_cells_become_nan_with_status(tmp_path):
    p = tmp_path / "bistand.csv"
    p.write_text(
        "Region;År;Månad;Mått;Värde\n"
        "0580;2021;1;Antal hushåll;X\n0580;2021;2;Antal hushåll;..\n"
        "0580;2021;3;Antal hushåll;--\n0580;2021;4;Antal hushåll;-\n"
        "0580;2021;5;Antal hushåll;\n0580;2021;6;Antal hushåll;1 234,5\n"
        "1280;2021;1;Antal hushåll;x\n",
        encoding="cp1252",
    )
    got = read_export(p)
    assert got["status"].tolist() == ["suppressed", "missing", "missing", "missing", "missing",
                                      "", "suppressed"]
    assert got["value"].isna().tolist() == [True] * 5 + [False, True]
    assert got["value"].iloc[5] == 1234.5
    notes = got.attrs["notes"]
    for n in ("1 cells 'X' read as NaN with status 'suppressed'",
              "1 cells 'x' read as NaN with status 'suppressed'",
              "1 cells '--' read as NaN with status 'missing'",
              "1 cells empty read as NaN with status 'missing'"):
        assert n in notes
    assert len(got) == 7  # nothing dropped


def test_names_only_regions_resolve_and_unknown_names_are_counted(tmp_path):
    p = tmp_path / "bistand.csv"
    p.write_text(
        "Kommun;År;Januari;Februari\n"
        "Linköping;2021;10;11\nMALMÖ STAD;2021;20;21\nUpplands Väsby kommun;2021;5;6\n"
        "Hela riket;2021;100;110\nGnarp;2021;1;2\nLinkoping;2021;3;4\n",
        encoding="utf-8",
    )
    with pytest.warns(RowsDroppedWarning, match=r"2 region names .* \(4 rows\).*Gnarp"):
        got = read_export(p)
    assert sorted(got["unit"].unique()) == ["0000", "0114", "0580", "1280"]
    assert got.loc[got["unit"] == "1280", "value"].tolist() == [20.0, 21.0]
    assert any("4 region names mapped to Kolada ids" in n for n in got.attrs["notes"])
    assert any("['Gnarp', 'Linkoping']" in n for n in got.attrs["notes"])


def test_measure_labels_map_to_stable_names_and_unknown_ones_are_slugged(tmp_path):
    assert [measure_name(x) for x in ("Antal hushåll", "ANTAL BISTÅNDSMOTTAGARE",
                                      "Antal vuxna biståndsmottagare", "Antal barn",
                                      "Utbetalt ekonomiskt bistånd (tkr)")] == [
        "households", "recipients", "adults", "children", "paid_tsek"]
    p = tmp_path / "bistand.csv"
    p.write_text("Region;År;Månad;Mått;Värde\n0580;2021;1;Antal ärenden (st);7\n"
                 "0580;2021;1;Antal barn;3\n", encoding="utf-8")
    got = read_export(p)
    assert sorted(got["variable"]) == ["antal_arenden_st", "children"]
    assert any("'Antal ärenden (st)' -> 'antal_arenden_st'" in n for n in got.attrs["notes"])


def test_wide_by_measure_and_whole_year_rows_set_aside(tmp_path):
    p = tmp_path / "bistand.csv"
    p.write_text("Region;År;Månad;Antal hushåll;Antal barn\n"
                 "0580;2021;Januari;10;4\n0580;2021;Hela året;120;48\n", encoding="utf-8")
    with pytest.warns(RowsDroppedWarning, match=r"2 rows of whole-year totals"):
        got = read_export(p)
    assert got[["variable", "period", "value"]].values.tolist() == [
        ["children", "2021-01", 4.0], ["households", "2021-01", 10.0]]


def test_month_numbers_and_names():
    assert [month_number(x) for x in ("1", "01", "12", "Maj", "OKT", "sept", "13", "0",
                                      "", "Hela året")] == [1, 1, 12, 5, 10, 9] + [None] * 4


# ---------------------------------------------------------------------------------- errors

@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Region;Januari;Februari\n0580;1;2\n", r"month 'Januari' .* has no year.*'År'"),
        ("Region;Månad;Värde\n0580;3;1\n", r"month '3' .* has no year"),
        ("Region;År;Månad;Värde\n0580;2021;13;1\n0580;2021;12;1\n",
         r"month '13' in column 'Månad' is not a month \(1 cells\)"),
        ("Region;År;Månad;Värde\n0580;2021;Hela året;1\n",
         r"the month column 'Månad' holds no months"),
        ("Region;År;Månad;Mått;Värde\n0580;2021;1;Antal hushåll;1\n"
         "0580;2021;Januari;Antal biståndshushåll;2\n",
         r"2 rows repeat a \(region, month, measure\) \(e.g. 0580, 2021-01, households\)"),
        ("Region;År;Månad;Värde\n0580;2021;2020-01;1\n",
         r"month '2020-01' disagrees with year '2021'"),
        ("Region;År;Månad;Värde\n0580;2021;1;many\n", r"value 'many' is not a number"),
        ("Region;År;Månad;Värde\n0580;20x1;1;1\n", r"year '20x1' .* is not an integer year"),
        ("Region;År;Månad;Värde\n;2021;1;1\n", r"1 empty cells in the region column 'Region'"),
        ("Region;År;Månad;Kön;Värde\n0580;2021;1;Q;1\n", r"gender 'Q' in column 'Kön'"),
    ],
)
def test_errors_are_named(tmp_path, text, match):
    p = tmp_path / "bistand.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"Socialstyrelsen monthly layout\): " + match):
        read_export(p)


def test_variable_refused_when_the_file_names_its_measures(tmp_path):
    p = tmp_path / "bistand.csv"
    p.write_text("Region;År;Månad;Mått;Värde\n0580;2021;1;Antal hushåll;1\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"variable='y' .* measure column 'Mått'"):
        read_export(p, variable="y")
    q = tmp_path / "raw.csv"
    q.write_text("Region;År;Månad;Värde\n0580;2021;1;1\n", encoding="utf-8")
    assert read_export(q, variable="households")["variable"].tolist() == ["households"]


def test_a_period_column_of_month_texts_and_a_gender_column(tmp_path):
    """SCB-style ``Tid`` cells (2021M01) make a file monthly; Kön keeps its genders."""
    p = tmp_path / "mottagare.csv"
    p.write_text("Region,Kön,Tid,Värde\n0580,Kvinnor,2021M01,5\n0580,Män,2021M01,6\n"
                 "0580,Totalt,2021M12,11\n", encoding="utf-8")
    got = read_export(p)
    assert got[["gender", "period", "value"]].values.tolist() == [
        ["K", "2021-01", 5.0], ["M", "2021-01", 6.0], ["T", "2021-12", 11.0]]
    assert got.attrs["source"]["separator"] == ","
    assert got["variable"].unique().tolist() == ["mottagare"]


# ------------------------------------------------------------------- panel and the command

def test_monthly_file_builds_a_monthly_panel(tmp_path):
    t = truth()
    p = write_sample(tmp_path / "bistand.csv", t, "wide", region="name")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the panel's own notes (e.g. series breaks) aside
        panel = read_panel(p)
    assert panel.frequency == "month"
    assert panel.units == ["0114", "0580", "1280"]
    codes = sorted(t["code"].unique())
    assert panel.periods.tolist() == codes
    assert set(panel.outcomes) == {"households", "recipients"}
    frame = panel.data
    got = frame.set_index([panel.unit, panel.time])["households"].sort_index()
    want = t[t["variable"] == "households"].set_index(["unit", "code"])["value"].sort_index()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())


def test_evalmodel_run_data_reads_a_monthly_file(tmp_path):
    """`evalmodel run --data FILE` goes through cli.load_panels -> read_panel -> read_export."""
    from evalmodel.cli import load_panels

    p = write_sample(tmp_path / "bistand.csv", truth(months=3), "long-text",
                     encoding="utf-8-sig")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panels = load_panels(str(p))
    panel = panels["municipality"]
    assert panel.frequency == "month" and len(panel.periods) == 3
    assert panel.source["layout"] == "socialstyrelsen monthly, long"


def test_result_table_years_over_months_beside_a_measure_column(tmp_path):
    """The database's result page: row dimensions region and measure, column dimensions year
    (merged over its months) and month."""
    p = tmp_path / "resultat.csv"
    p.write_text(
        "Ekonomiskt bistånd, preliminär månadsstatistik\n"
        "Region;Mått;2020;;2021;\n"
        ";;November;December;Januari;Februari\n"
        "0580 Linköping;Antal hushåll;2 650;2 700;2 703;X\n"
        "0580 Linköping;Antal biståndsmottagare;5 100;5 150;5 180;5 200\n"
        "1280 Malmö;Antal hushåll;9 000;9 100;--;9 300\n",
        encoding="cp1252",
    )
    got = read_export(p)
    assert got.attrs["source"]["layout"] == "socialstyrelsen monthly, two header rows"
    hh = got[(got["unit"] == "0580") & (got["variable"] == "households")]
    assert hh["period"].tolist() == ["2020-11", "2020-12", "2021-01", "2021-02"]
    np.testing.assert_array_equal(hh["value"], [2650.0, 2700.0, 2703.0, np.nan])
    assert got.loc[got["unit"] == "1280", "status"].tolist() == ["", "", "missing", ""]
    assert sorted(got["variable"].unique()) == ["households", "recipients"]
    assert len(got) == 12
    assert any("the months ['November', 'December', 'Januari', 'Februari']" in n
               for n in got.attrs["notes"])
