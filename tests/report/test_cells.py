"""Table cells as text: ``format_rows`` against ``format_cell`` over ``itertuples`` (the path it
replaces), its rules, and the HTML, Markdown and LaTeX views built on it."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalmodel.cases import get
from evalmodel.report.case import CaseOutput, WrittenSection
from evalmodel.report.html import _table, write_html
from evalmodel.report.section import Section
from evalmodel.report.tables import frame_to_latex, frame_to_markdown
from evalmodel.results import Summary, format_cell, format_rows


def _reference(df: pd.DataFrame) -> list[list[str]]:
    """The old path: one ``format_cell`` per value of ``itertuples``."""
    return [[format_cell(v) for v in row] for row in df.itertuples(index=False)]


def _every_dtype() -> pd.DataFrame:
    df = pd.DataFrame({
        "f": [-0.123456, np.nan, 123456.7],
        "f32": np.array([0.1, np.inf, -np.inf], dtype="float32"),
        "i": [1, -2, 300000],
        "u8": np.array([1, 2, 3], dtype="uint8"),
        "b": [True, False, True],
        "s": ["a", None, "c&<"],
        "o": [np.float64(2.0), "x", None],
        "onum": [np.int64(7), 1.5, np.float32(np.nan)],
        "I": pd.array([1, None, 3], dtype="Int64"),
        "F": pd.array([1.25, None, 3], dtype="Float64"),
        "bb": pd.array([True, None, False], dtype="boolean"),
        "sp": pd.array(["q", None, "r"], dtype="string"),
        "dt": pd.to_datetime(["2020-01-01", None, "2021-03-04"]),
        "td": pd.to_timedelta([1, 2, None], unit="D"),
        "p": pd.period_range("2020-01", periods=3, freq="M"),
        "c": pd.Categorical(["u", None, "v"]),
        "cplx": [1 + 2j, 0j, np.nan],
    })
    df["dtz"] = df["dt"].dt.tz_localize("Europe/Stockholm")
    return df


def test_format_rows_equals_format_cell_over_itertuples_for_every_dtype() -> None:
    df = _every_dtype()
    assert format_rows(df) == _reference(df)
    for k in range(df.shape[1]):  # each column alone (a frame of one block, one dtype)
        one = df.iloc[:, [k]]
        assert format_rows(one) == _reference(one), df.columns[k]
    dup = df[["f", "s", "f"]]  # repeated column names
    assert format_rows(dup) == _reference(dup)


def test_format_rows_rules() -> None:
    df = pd.DataFrame({"x": [-0.123456, np.nan, 99999.99994, 123456.5, -1e7, np.inf],
                       "n": [1, 2, 3, 4, 5, 6], "t": ["a", "b&c", "", "d", "e", "f"],
                       "k": [True, False, True, True, False, True]})
    rows = format_rows(df)
    assert [r[0] for r in rows] == ["-0.1235", "", "99999.9999", "123,456", "-10,000,000",
                                    "inf"]
    assert [r[1] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r[2] for r in rows] == ["a", "b&c", "", "d", "e", "f"]  # escaped by each view
    assert [r[3] for r in rows][:2] == ["True", "False"]
    assert "<tr><td>-0.1235</td><td>1</td><td>a</td><td>True</td></tr>" in _table(df)
    assert "<tr><td></td><td>2</td><td>b&amp;c</td><td>False</td></tr>" in _table(df)


def test_format_rows_of_frames_without_rows_or_columns() -> None:
    assert format_rows(pd.DataFrame({"a": pd.Series([], dtype=float)})) == []
    no_columns = pd.DataFrame(index=range(3))
    assert format_rows(no_columns) == _reference(no_columns) == [[], [], []]


def _old_html_table(df: pd.DataFrame) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{e(format_cell(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _old_markdown(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(format_cell(v) for v in row) + " |" for row in
              df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("df", [_every_dtype(), pd.DataFrame(index=range(2)),
                                pd.DataFrame({"a <b>": pd.Series([], dtype=float)})])
def test_views_equal_the_old_cell_by_cell_rendering(df: pd.DataFrame) -> None:
    assert _table(df) == _old_html_table(df)
    assert frame_to_markdown(df) == _old_markdown(df)
    s = Summary(title="t", header=(), table=df)
    assert s._cells() == ([str(c) for c in df.columns], _reference(df))
    assert frame_to_latex(df, "t") == s.to_latex()


def test_write_html_case_page_is_the_case_part_of_the_index(tmp_path: Path) -> None:
    """Each case is rendered once and used on both pages: the case page holds exactly the
    case's part of ``index.html``."""
    df = pd.DataFrame({"method": ["2x2", "TWFE & co"], "estimate": [-0.1234567, np.nan]})
    sec = Section(key="did", title="DiD <2x2>", notes=("a note",), tables=(("est", df),))
    case = get("trelleborg")
    co = CaseOutput(case=case, sections=(WrittenSection(sec, (("est", df, ("a.csv",)),), ()),),
                    notes=("W: n",))
    (tmp_path / case.name).mkdir()
    index = write_html([co], tmp_path, manifest={"data": {"name": "x"}}, stamp="simulated data")
    page = (tmp_path / case.name / "index.html").read_text(encoding="utf-8")
    start = page.index(f'<h2 id="{case.name}">')
    body = page[start:page.index("</body>")]
    text = index.read_text(encoding="utf-8")
    assert body in text
    assert _old_html_table(df) in body
    assert "<h3 id=\"trelleborg-did\">DiD &lt;2x2&gt;</h3>" in body
