"""A catalogue of malformed inputs to :class:`evalmodel.Panel` (issue 15).

Each case is an id, a call building a Panel from a small frame (3 units, 2019-2021), the
:class:`~evalmodel.errors.EvalModelError` subclass it must raise (pinned exactly, not a parent
class) or the :class:`~evalmodel.errors.EvalModelWarning` subclass it must warn with, and a
pinned ``match=`` pattern naming the column, the bad value and the fix. No case expects a
foreign exception type.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import (
    CoercedValuesWarning,
    EvalModelError,
    EvalModelWarning,
    GapWarning,
    LateCohortWarning,
    MissingValueWarning,
    PanelError,
)

NFD = unicodedata.normalize("NFD", "Lindängen")


def base(**changes: Any) -> pd.DataFrame:
    """3 units x 3 years; unit '0580' treated from 2021; weights, a covariate and groups."""
    df = pd.DataFrame({
        "kommun": np.repeat(["0580", "1280", "1287"], 3),
        "year": np.tile([2019, 2020, 2021], 3),
        "y": np.arange(9, dtype=float),
        "x": np.linspace(0.0, 1.0, 9),
        "first": np.repeat([2021, 0, 0], 3),
        "w": np.repeat([1.0, 2.0, 3.0], 3),
    })
    for col, value in changes.items():
        df[col] = value
    return df


def at(df: pd.DataFrame, col: str, rows: list[int], values: list[Any]) -> pd.DataFrame:
    """``df`` with ``col`` (as object) set to ``values`` in ``rows``."""
    df = df.astype({col: object})
    for r, v in zip(rows, values, strict=True):
        df.at[r, col] = v
    return df


def panel(df: Any, **kw: Any) -> em.Panel:
    return em.Panel(df, **({"unit": "kommun", "time": "year"} | kw))


def renamed(df: pd.DataFrame, columns: list[Any]) -> pd.DataFrame:
    df = df.copy()
    df.columns = columns
    return df


def long(df: pd.DataFrame) -> pd.DataFrame:
    return df.melt(id_vars=["kommun", "year"], value_vars=["y", "x"], var_name="kpi",
                   value_name="v")


def dates(days: list[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(days * 3))


Call = Callable[[], Any]
CASES: list[tuple[str, Call, type[Exception] | type[Warning], str]] = [
    # -- the frame and the roles ----------------------------------------------------------
    ("frame-dict", lambda: panel({"kommun": ["0580"], "year": [2019]}),
     PanelError, r"^Panel: data must be a pandas DataFrame, got dict; build one with "
                 r"pd\.DataFrame\(\.\.\.\)\.$"),
    ("frame-array", lambda: panel(np.zeros((3, 3))),
     PanelError, r"^Panel: data must be a pandas DataFrame, got ndarray"),
    ("frame-no-rows", lambda: panel(base().iloc[:0]),
     PanelError, r"^Panel: the DataFrame is empty \(0 rows\); pass a frame with at least one "
                 r"row per unit and period\.$"),
    ("frame-no-columns", lambda: panel(pd.DataFrame()),
     PanelError, r"^Panel: the DataFrame is empty \(0 rows\)"),
    ("columns-multiindex",
     lambda: panel(renamed(base(), pd.MultiIndex.from_product([["a"], list("abcdef")]))),
     PanelError, r"^Panel: the columns are a MultiIndex of 2 levels \(e\.g\. \('a', 'a'\)\); "
                 r"flatten them first"),
    ("columns-duplicate-role",
     lambda: panel(renamed(base(), ["kommun", "year", "y", "kommun", "first", "w"])),
     PanelError, r"^Panel: 1 column name is used more than once: \['kommun'\]; give each "
                 r"column its own name .*df\.columns\.duplicated\(\)"),
    ("columns-duplicate-outcomes",
     lambda: panel(renamed(base(), ["kommun", "year", "y", "y", "x", "x"])),
     PanelError, r"^Panel: 2 column names are used more than once: \['y', 'x'\]"),
    ("columns-duplicate-by-type",
     lambda: panel(renamed(base(), ["kommun", "year", 1, "1", "first", "w"])),
     PanelError, r"used more than once: \['1'\] \(they differ only in type or Unicode "
                 r"normalisation\)"),
    ("columns-duplicate-by-normalisation",
     lambda: panel(renamed(base(), ["kommun", "year", "Lindängen", NFD, "first", "w"])),
     PanelError, r"used more than once: \['Lindängen'\] \(they differ only in type or "
                 r"Unicode normalisation\)"),
    ("role-missing-typo", lambda: panel(base(), time="yaer"),
     PanelError, r"^Panel: the time column 'yaer' is not in the data; columns are \['kommun', "
                 r"'year', .*\] \(did you mean 'year'\?\); pass time='<column name>'\.$"),
    ("role-in-the-index", lambda: panel(base().set_index("year")),
     PanelError, r"^Panel: the time column 'year' is not in the data; .*'year' is an index "
                 r"level: call df\.reset_index\(\) first"),
    ("role-not-text", lambda: panel(renamed(base(), [0, 1, 2, 3, 4, 5]), unit=0, time=1),
     PanelError, r"^Panel: unit must be the name of a column \(a string\), got int 0; .*"
                 r"df\.columns = df\.columns\.astype\(str\)"),
    ("role-a-list", lambda: panel(base(), unit=["kommun"]),
     PanelError, r"^Panel: unit must be the name of a column \(a string\), got list "
                 r"\['kommun'\]"),
    ("role-given-twice", lambda: panel(base(), cohort="first", weight="first"),
     PanelError, r"^Panel: column 'first' is given two roles \(cohort and weight\); each role "
                 r"needs its own column\.$"),
    ("outcomes-a-string", lambda: panel(base(), outcomes="y"),
     PanelError, r"^Panel: outcomes must be a list of column names, got 'y'; pass "
                 r"outcomes=\['y'\]\.$"),
    ("outcomes-typo", lambda: panel(base(), outcomes=["yy"]),
     PanelError, r"^Panel: outcome column 'yy' is not in the data; columns are .* \(did you "
                 r"mean 'y'\?\)\.$"),
    ("outcomes-twice", lambda: panel(base(), outcomes=["y", "x", "y"]),
     PanelError, r"^Panel: outcomes name \['y'\] more than once; name each once\.$"),
    ("outcomes-a-role", lambda: panel(base(), outcomes=["y", "year"]),
     PanelError, r"^Panel: outcome 'year' is the time column; an outcome is a variable"),
    ("long-half-given", lambda: panel(long(base()), variable="kpi"),
     PanelError, r"^Panel: long input needs both 'variable' and 'value' column names; got "
                 r"variable='kpi', value=None\.$"),
    # -- periods --------------------------------------------------------------------------
    ("time-monthly-dates-declared-annual",
     lambda: panel(base(year=dates(["2019-01-01", "2019-02-01", "2019-03-01"])),
                   frequency="year"),
     PanelError, r"^Panel: time column 'year' holds several dates within one year \(e\.g\. "
                 r"2019: 01-01, 02-01, 03-01\) but the panel is annual: aggregate to years "
                 r"first"),
    ("time-monthly-periods-declared-annual",
     lambda: panel(base(year=pd.Series(pd.period_range("2019-01", periods=3, freq="M")
                                       .tolist() * 3)), frequency="year"),
     PanelError, r"^Panel: time column 'year' holds months \(e\.g\. '2019-01'\) but "
                 r"frequency='year' was given; leave frequency out"),
    ("time-years-and-months-mixed", lambda: panel(base(year=[2019, "2019-02", "2019-03"] * 3)),
     PanelError, r"^Panel: time column 'year' mixes years and months \(e\.g\. 2019 in row 0 "
                 r"beside '2019-02'\); a column has one frequency"),
    ("time-text-years-and-months-mixed",
     lambda: panel(base(year=["2019-01", "2019M02", "2019"] * 3)),
     PanelError, r"^Panel: time column 'year' mixes years and months \(e\.g\. '2019' in row "
                 r"2 beside '2019-01'\)"),
    ("time-month-13", lambda: panel(base(year=["2019-01", "2019-13", "2019-03"] * 3)),
     PanelError, r"^Panel: time column 'year' has 3 values that are not months \(e\.g\. "
                 r"'2019-13' in row 1\) beside months such as '2019-01'; write months as "
                 r"'2021-01' or '2021M01'"),
    ("time-daily-dates",
     lambda: panel(base(year=dates(["2019-01-01", "2019-01-15", "2019-02-01"]))),
     PanelError, r"^Panel: time column 'year' holds dates within a month \(e\.g\. 2019-01-15 "
                 r"in row 1\): daily data is not supported; monthly and annual periods are "
                 r"supported"),
    ("time-quarter-start-dates",
     lambda: panel(base(year=dates(["2019-01-01", "2019-04-01", "2019-07-01"]))),
     PanelError, r"^Panel: time column 'year' holds dates on quarter starts only \(months "
                 r"01, 04, 07\): quarterly periods are not supported; monthly and annual "
                 r"periods are supported\. If these are months, pass frequency='month'"),
    ("time-quarterly-periods",
     lambda: panel(base(year=pd.Series(pd.period_range("2019Q1", periods=3, freq="Q")
                                       .tolist() * 3))),
     PanelError, r"^Panel: time column 'year' holds quarterly pandas Periods \(e\.g\. "
                 r"2019Q1\); monthly and annual periods are supported"),
    ("frequency-unknown", lambda: panel(base(), frequency="quarter"),
     PanelError, r"^Panel: frequency='quarter' is not a period frequency; pass one of "
                 r"\['year', 'month'\]"),
    ("frequency-month-on-years", lambda: panel(base(), frequency="month"),
     PanelError, r"^Panel: time column 'year' holds 2019, which is not a month code \(codes "
                 r"are 12 \* year \+ month - 1, e\.g\. 24252 for 2021-01\)"),
    ("time-dates-on-different-days",
     lambda: panel(base(year=dates(["2019-01-01", "2020-07-01", "2021-01-01"]))),
     PanelError, r"^Panel: time column 'year' dates its years on different calendar days "
                 r"\(01-01, 07-01\)"),
    ("time-fraction", lambda: panel(at(base(), "year", [4], [2020.5])),
     PanelError, r"^Panel: column 'year' has 1 non-integer values \(e\.g\. 2020\.5 in row "
                 r"4\); time must be an integer period"),
    ("time-nan", lambda: panel(at(base(), "year", [2, 5], [np.nan, np.nan])),
     PanelError, r"^Panel: time column 'year' has 2 missing periods \(e\.g\. nan in row 2\); "
                 r"every row needs a period: drop those rows \(df\.dropna\(subset=\['year'\]"),
    ("time-nat",
     lambda: panel(base(year=dates(["2019-01-01", "2020-01-01", "2021-01-01"])
                        .where(lambda s: s.index != 3))),
     PanelError, r"^Panel: time column 'year' has 1 missing periods \(e\.g\. NaT in row 3\)"),
    ("time-text", lambda: panel(at(base(), "year", [7], ["2020a"])),
     PanelError, r"^Panel: column 'year' has 1 non-integer values \(e\.g\. '2020a' in row "
                 r"7\)"),
    ("time-date-text", lambda: panel(base(year=["2019-01-01", "2020-01-01", "2021-01-01"] * 3)),
     PanelError, r"non-integer values \(e\.g\. '2019-01-01' in row 0\).*; for dates use "
                 r"pd\.to_datetime\(df\['year'\]\)\.dt\.year\.$"),
    ("time-booleans", lambda: panel(base(year=[True, False, True] * 3)),
     PanelError, r"^Panel: time column 'year' holds booleans \(e\.g\. True\), not periods"),
    ("time-durations", lambda: panel(base(year=pd.to_timedelta([1, 2, 3] * 3, unit="D"))),
     PanelError, r"^Panel: time column 'year' holds durations \(e\.g\. 1 days 00:00:00\), "
                 r"not periods"),
    ("time-inf", lambda: panel(at(base(), "year", [0], [np.inf]).astype({"year": float})),
     PanelError, r"^Panel: time column 'year' has 1 infinite or too large values \(e\.g\. inf "
                 r"in row 0\)"),
    ("time-huge", lambda: panel(base(year=[1e20, 2e20, 3e20] * 3)),
     PanelError, r"^Panel: time column 'year' has 9 infinite or too large values \(e\.g\. "
                 r"1e\+20 in row 0\)"),
    # -- unit ids and labels --------------------------------------------------------------
    ("unit-mixed-int-and-text",
     lambda: panel(at(base(), "kommun", [0, 1], [580, 580])),
     PanelError, r"^Panel: unit column 'kommun' mixes value types: int \(e\.g\. 580\) and str "
                 r"\(e\.g\. '0580', '1280'\), so one unit can appear under two ids; 580 and "
                 r"'0580' would be the same unit once padded, 1 such pairs; make the column "
                 r"text of one width first: df\['kommun'\] = df\['kommun'\]\.astype\(str\)\."
                 r"str\.zfill\(4\)\.$"),
    ("unit-mixed-float-and-text",
     lambda: panel(at(base(), "kommun", [0, 1, 2], [580.0, 580.0, 580.0])),
     PanelError, r"mixes value types: float \(e\.g\. 580\.0\) and str"),
    ("unit-tuples", lambda: panel(base(kommun=[("a",)] * 3 + [("b",)] * 3 + [("c",)] * 3)),
     PanelError, r"^Panel: unit column 'kommun' holds tuple \(e\.g\. \('a',\), \('b',\)\); "
                 r"unit ids must be text"),
    ("unit-missing", lambda: panel(at(base(), "kommun", [5], [None])),
     PanelError, r"^Panel: column 'kommun' has 1 missing unit ids \(e\.g\. row 5\); every row "
                 r"needs a unit: drop those rows or fill the ids\.$"),
    ("unit-fractions", lambda: panel(base(kommun=np.repeat([580.5, 1280.0, 1287.0], 3))),
     PanelError, r"^Panel: unit column 'kommun' holds numbers that are not whole \(e\.g\. "
                 r"580\.5\); unit ids must be strings"),
    ("unit-booleans", lambda: panel(base(kommun=np.repeat([True, False, True], 3))),
     PanelError, r"^Panel: unit column 'kommun' holds boolean values \(e\.g\. True, False\)"),
    ("unit-lost-leading-zeros",
     lambda: panel(base(kommun=np.repeat([580, 1280, 1287], 3)), ids=["0580", "1280", "1287"]),
     PanelError, r"^Panel: unit column 'kommun' has ids that lost their leading zeros \(e\.g\. "
                 r"'580', known as '0580'; 1 ids in all\)"),
    ("ids-a-string", lambda: panel(base(), ids="0580"),
     PanelError, r"^Panel: ids must be a list of unit ids, got the string '0580'\.$"),
    ("group-missing", lambda: panel(at(base(g="a"), "g", [4], [np.nan]), group="g"),
     PanelError, r"^Panel: column 'g' has 1 missing group labels \(e\.g\. row 4\); every row "
                 r"needs a group: drop those rows or fill the labels\.$"),
    ("group-mixed-types", lambda: panel(at(base(g="1"), "g", [0], [1]), group="g"),
     PanelError, r"^Panel: group column 'g' mixes value types: int \(e\.g\. 1\) and str "
                 r"\(e\.g\. '1'\), so one group can appear under two labels; make the column "
                 r"text first: df\['g'\] = df\['g'\]\.astype\(str\)\.$"),
    ("keys-duplicate", lambda: panel(pd.concat([base(), base().iloc[[4]]])),
     PanelError, r"^Panel: 2 rows share their \(kommun, year\) key \(e\.g\. \['1280', 2020\]\); "
                 r"each unit may appear once per period"),
    ("keys-duplicate-after-normalisation",
     lambda: panel(base(kommun=["Lindängen"] * 3 + [NFD] * 3 + ["x"] * 3)),
     PanelError, r"6 rows share their \(kommun, year\) key .* The labels were made equal "
                 r"first: unit column 'kommun': 2 labels that differ only in Unicode "
                 r"normalisation merged into 1"),
    ("long-duplicate-rows", lambda: panel(pd.concat([long(base()), long(base()).iloc[[0]]]),
                                          variable="kpi", value="v"),
     PanelError, r"^Panel: 2 long rows share their \(kommun, year, kpi\) key \(e\.g\. "
                 r"\['0580', 2019, 'y'\]\)"),
    ("long-variable-named-like-a-role",
     lambda: panel(long(base()).replace({"kpi": {"x": "year"}}), variable="kpi", value="v"),
     PanelError, r"^Panel: variable column 'kpi' names variables that are also role columns "
                 r"\(\['year'\]\)"),
    ("long-variables-equal-after-normalisation",
     lambda: panel(long(base()).replace({"kpi": {"y": "Lindängen", "x": NFD}}),
                   variable="kpi", value="v"),
     PanelError, r"long rows share their \(kommun, year, kpi\) key \(e\.g\. \['0580', 2019, "
                 r"'Lindängen'\]\)"),
    # -- values ---------------------------------------------------------------------------
    ("outcome-text", lambda: panel(at(base(), "y", [3], ["n/a"])),
     PanelError, r"^Panel: column 'y' is not numeric: 1 values are not numbers \(e\.g\. 'n/a' "
                 r"in row 3\); convert it with pd\.to_numeric"),
    ("outcome-decimal-comma", lambda: panel(base(y=["1,5"] * 9)),
     PanelError, r"not numbers \(e\.g\. '1,5' in row 0\) \(a decimal comma\? then "
                 r"s\.str\.replace\(',', '\.'\) first\)"),
    ("outcome-complex", lambda: panel(base(y=np.ones(9) + 1j)),
     PanelError, r"^Panel: column 'y' holds complex numbers \(e\.g\. \(1\+1j\)\), not real "
                 r"numbers"),
    ("outcome-dates", lambda: panel(base(y=pd.to_datetime(["2020-01-01"] * 9))),
     PanelError, r"^Panel: column 'y' holds datetime64 values \(e\.g\. Timestamp"),
    ("outcome-inf", lambda: panel(at(base(), "y", [2, 8], [np.inf, np.inf])),
     PanelError, r"^Panel: column 'y' has 2 infinite values \(e\.g\. inf at \(kommun, year\) = "
                 r"\('0580', 2021\), \('1287', 2021\)\); replace them with NaN"),
    ("covariate-minus-inf", lambda: panel(at(base(), "x", [4], [-np.inf])),
     PanelError, r"^Panel: column 'x' has 1 infinite values \(e\.g\. -inf at \(kommun, year\) "
                 r"= \('1280', 2020\)\)"),
    ("weight-inf", lambda: panel(at(base(), "w", [0], [np.inf]), weight="w"),
     PanelError, r"^Panel: column 'w' has 1 infinite values \(e\.g\. inf at \(kommun, year\) "
                 r"= \('0580', 2019\)\)"),
    ("weight-zero", lambda: panel(base(w=0.0), weight="w"),
     PanelError, r"^Panel: weight column 'w' has 9 zero values \(e\.g\. 0\.0 at \(kommun, "
                 r"year\) = \('0580', 2019\)\); a zero weight leaves its rows out"),
    ("weight-negative", lambda: panel(at(base(), "w", [8], [-2.0]), weight="w"),
     PanelError, r"^Panel: weight column 'w' has 1 negative values \(e\.g\. -2\.0 at "
                 r"\(kommun, year\) = \('1287', 2021\)\)"),
    ("weight-missing", lambda: panel(at(base(), "w", [8], [np.nan]), weight="w"),
     PanelError, r"^Panel: weight column 'w' has 1 missing values .*df\.dropna\(subset="
                 r"\['w'\]\)"),
    ("weight-text", lambda: panel(at(base(), "w", [1], ["heavy"]), weight="w"),
     PanelError, r"^Panel: column 'w' is not numeric: 1 values are not numbers \(e\.g\. "
                 r"'heavy' in row 1\)"),
    # -- cohorts --------------------------------------------------------------------------
    ("cohort-text", lambda: panel(at(base(), "first", [0], ["2021a"]), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' has a non-numeric value '2021a' in row 0"),
    ("cohort-varies", lambda: panel(at(base(), "first", [0], [2020]), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' changes within unit '0580' \(values "
                 r"\[2020, 2021\]\)"),
    ("cohort-fraction", lambda: panel(base(first=np.repeat([2020.5, 0, 0], 3)), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' has value 2020\.5 \(unit '0580'\), which is "
                 r"not a period of the panel \(2019-2021\): a first treated period is a whole"),
    ("cohort-before-the-first-period",
     lambda: panel(base(first=np.repeat([2010, 0, 0], 3)), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' has value 2010 \(unit '0580'\), which is "
                 r"before the first period of the panel \(2019-2021\)"),
    ("cohort-between-periods",
     lambda: panel(base(first=np.repeat([2020, 0, 0], 3)).query("year != 2020"),
                   cohort="first"),
     PanelError, r"has value 2020 \(unit '0580'\), which is not a period of the panel "
                 r"\(2019-2021\): no row has period 2020"),
    ("cohort-huge", lambda: panel(base(first=np.repeat([1e300, 0, 0], 3)), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' has 3 values too large to be periods \(e\.g\. "
                 r"1e\+300\)"),
    ("cohort-booleans",
     lambda: panel(base(first=np.repeat([True, False, False], 3)), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' holds booleans \(e\.g\. True\), not periods"),
    ("cohort-monthly-dates",
     lambda: panel(base(first=dates(["2021-01-01", "2021-02-01", "2021-03-01"])),
                   cohort="first"),
     PanelError, r"^Panel: cohort column 'first' holds several dates within one year"),
    ("cohort-months-beside-years",
     lambda: panel(base(first=np.repeat(["2021-01", "", ""], 3)), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' holds months \(e\.g\. '2021-01'\) but the "
                 r"time column is annual; give the first treated year"),
    ("cohort-years-beside-months",
     lambda: panel(base(year=["2019-01", "2019-02", "2019-03"] * 3), cohort="first"),
     PanelError, r"^Panel: cohort column 'first' holds years \(e\.g\. 2021\) but the time "
                 r"column is monthly; give each unit's first treated month \('2021-01' or its "
                 r"code 24252\)"),
    # -- accepted with a named warning and a note -----------------------------------------
    ("warn-monthly-dates",
     lambda: panel(base(year=dates(["2019-01-01", "2019-02-01", "2019-03-01"]))),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 month-start dates converted to "
                           r"month codes\.$"),
    ("warn-monthly-periods",
     lambda: panel(base(year=pd.Series(pd.period_range("2019-01", periods=3, freq="M")
                                       .tolist() * 3))),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 monthly periods converted to month "
                           r"codes\.$"),
    ("warn-month-labels", lambda: panel(base(year=["2019M01", "2019M02", "2019M03"] * 3)),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 month labels converted to month "
                           r"codes\.$"),
    ("warn-dates-on-new-year",
     lambda: panel(base(year=dates(["2019-01-01", "2020-01-01", "2021-01-01"]))),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 dates \(all on 01-01\) converted "
                           r"to their year\.$"),
    ("warn-dates-at-year-end",
     lambda: panel(base(year=dates(["2019-12-31", "2020-12-31", "2021-12-31"]))),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 dates \(all on 12-31\) converted"),
    ("warn-annual-periods",
     lambda: panel(base(year=pd.Series(pd.period_range("2019", periods=3, freq="Y").tolist()
                                       * 3))),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 annual periods converted to their "
                           r"year\.$"),
    ("warn-text-years", lambda: panel(base(year=["2019", "2020", "2021"] * 3)),
     CoercedValuesWarning, r"^Panel: time column 'year': 9 values converted from text to "
                           r"integers\.$"),
    ("warn-numeric-ids", lambda: panel(base(kommun=np.repeat([580, 1280, 1287], 3))),
     CoercedValuesWarning, r"^Panel: unit column 'kommun': 9 numeric ids converted to "
                           r"strings\.$"),
    ("warn-labels-merged-by-normalisation",
     lambda: panel(base(kommun=["Lindängen"] * 2 + [NFD] + ["x"] * 3 + ["z"] * 3)),
     CoercedValuesWarning, r"^Panel: unit column 'kommun': 2 labels that differ only in "
                           r"Unicode normalisation merged into 1 \(e\.g\. 'Lindängen'; labels "
                           r"are kept in NFC form\)\.$"),
    ("warn-spaces-removed", lambda: panel(at(base(), "kommun", [1], [" 0580 "])),
     CoercedValuesWarning, r"^Panel: unit column 'kommun': surrounding spaces removed from 1 "
                           r"values \(1 labels, e\.g\. ' 0580 '\)\.$"),
    ("warn-boolean-outcome", lambda: panel(base(y=[True, False, True] * 3)),
     CoercedValuesWarning, r"^Panel: column 'y': booleans converted to 0/1\.$"),
    ("warn-numbers-in-text", lambda: panel(base(y=["1.5"] * 9)),
     CoercedValuesWarning, r"^Panel: column 'y': 9 numbers converted from text\.$"),
    ("warn-cohort-text", lambda: panel(base(first=np.repeat(["2021", "0", "0"], 3)),
                                       cohort="first"),
     CoercedValuesWarning, r"^Panel: cohort column 'first': 9 values converted from text to "
                           r"numbers\.$"),
    ("warn-cohort-dates",
     lambda: panel(base(first=pd.Series(pd.to_datetime(["2021-01-01"] * 3 + [None] * 6))),
                   cohort="first"),
     CoercedValuesWarning, r"^Panel: cohort column 'first': 3 dates \(all on 01-01\) "
                           r"converted to their year\.$"),
    ("warn-gaps", lambda: panel(base().drop(index=[4, 5])),
     GapWarning, r"^Panel: unbalanced panel: 2 \(unit, period\) cells are absent \(1 units "
                 r"lack some periods\); kept\.$"),
    ("warn-missing-outcome", lambda: panel(at(base(), "y", [1], [np.nan])),
     MissingValueWarning, r"^Panel: column 'y': 1 missing values kept as NaN\.$"),
    ("warn-all-missing-outcome", lambda: panel(base(y=np.nan)),
     MissingValueWarning, r"^Panel: column 'y': all 9 values are missing \(kept as NaN\)\.$"),
    ("warn-cohort-after-the-panel",
     lambda: panel(base(first=np.repeat([2030, 0, 0], 3)), cohort="first"),
     LateCohortWarning, r"^Panel: 1 unit first treated after the last period \(2021\) is "
                        r"never treated within the sample: cohort 2030 \(1 unit\)"),
]


def test_the_catalogue_is_large_and_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) >= 35
    assert len(set(ids)) == len(ids)
    assert all(issubclass(e, EvalModelError | EvalModelWarning) for _, _, e, _ in CASES)
    assert all(e not in (EvalModelError, EvalModelWarning) for _, _, e, _ in CASES)


@pytest.mark.parametrize(("call", "expected", "pattern"),
                         [pytest.param(call, exp, pat, id=name) for name, call, exp, pat in CASES])
def test_malformed_panel_input(call: Call, expected: type[Exception] | type[Warning],
                               pattern: str) -> None:
    if issubclass(expected, Warning):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalModelWarning)  # only the pinned one is checked
            with pytest.warns(expected, match=pattern):
                call()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        with pytest.raises(expected, match=pattern) as info:
            call()
    assert type(info.value) is expected  # exactly the class pinned, not a parent


def test_one_unit_or_one_period_is_a_valid_panel() -> None:
    """Decided: Panel accepts them (a unit's series can be plotted, selected); an estimator
    that needs several units or periods refuses with its own EstimationError."""
    one_unit = panel(base().query("kommun == '0580'"))
    one_period = panel(base().query("year == 2020"))
    assert one_unit.units == ["0580"] and one_unit.periods.tolist() == [2019, 2020, 2021]
    assert one_period.units == ["0580", "1280", "1287"] and one_period.periods.tolist() == [2020]
