"""Panel: validation errors with pinned messages, coercions and gaps counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import (
    CoercedValuesWarning,
    GapWarning,
    LateCohortWarning,
    MissingValueWarning,
    PanelError,
)


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "kommun": ["0580", "0580", "0580", "1287", "1287", "1287"],
        "year": [2019, 2020, 2021, 2019, 2020, 2021],
        "y": [1.0, 2.0, 3.0, 1.5, 1.7, 1.9],
        "first": [2021, 2021, 2021, 0, 0, 0],
    })


def test_valid_panel_roles_and_views() -> None:
    p = em.Panel(frame(), unit="kommun", time="year", cohort="first")
    assert p.units == ["0580", "1287"]
    assert p.periods.tolist() == [2019, 2020, 2021]
    assert p.outcomes == ["y"]
    assert p.cohorts().to_dict() == {"0580": 2021, "1287": 0}
    assert p.is_balanced and p.notes == []
    assert p.wide("y").loc["1287", 2020] == 1.7
    assert isinstance(PanelError("x"), ValueError)


def test_empty_frame() -> None:
    with pytest.raises(PanelError, match=r"empty \(0 rows\)"):
        em.Panel(frame().iloc[:0], unit="kommun", time="year")


def test_missing_column_named() -> None:
    with pytest.raises(PanelError, match=r"the time column 'år' is not in the data.*time="):
        em.Panel(frame(), unit="kommun", time="år")


def test_duplicate_keys() -> None:
    df = pd.concat([frame(), frame().iloc[[1]]])
    with pytest.raises(PanelError, match=r"2 rows share their \(kommun, year\) key "
                                         r"\(e\.g\. \['0580', 2020\]\).*drop_duplicates"):
        em.Panel(df, unit="kommun", time="year")


def test_non_integer_time_shows_value_and_row() -> None:
    df = frame().astype({"year": object})
    df.loc[4, "year"] = "2013a"
    with pytest.raises(PanelError, match=r"column 'year' has 1 non-integer values "
                                         r"\(e\.g\. '2013a' in row 4\).*pd\.to_numeric"):
        em.Panel(df, unit="kommun", time="year")


def test_fractional_time_rejected() -> None:
    df = frame().astype({"year": float})
    df.loc[0, "year"] = 2019.5
    with pytest.raises(PanelError, match=r"non-integer values \(e\.g\. 2019\.5 in row 0\)"):
        em.Panel(df, unit="kommun", time="year")


def test_non_numeric_outcome() -> None:
    df = frame().astype({"y": object})
    df.loc[2, "y"] = "n/a"
    with pytest.raises(PanelError, match=r"column 'y' is not numeric: 1 values are not numbers "
                                         r"\(e\.g\. 'n/a' in row 2\).*outcomes="):
        em.Panel(df, unit="kommun", time="year")


def test_cohort_changing_within_unit() -> None:
    df = frame()
    df.loc[0, "first"] = 2020
    with pytest.raises(PanelError, match=r"cohort column 'first' changes within unit '0580' "
                                         r"\(values \[2020, 2021\]\)"):
        em.Panel(df, unit="kommun", time="year", cohort="first")


def test_cohort_after_the_last_period_is_never_treated_within_the_sample() -> None:
    """As R did's preprocessing: cohort 0, a LateCohortWarning, a count in the notes, and the
    first treated period kept in late_cohorts."""
    df = pd.concat([frame(), frame().iloc[:3].assign(kommun="1280", first=2023)],
                   ignore_index=True)
    df.loc[:2, "first"] = 2030
    with pytest.warns(LateCohortWarning, match=r"^Panel: 2 units first treated after the last "
                      r"period \(2021\) are never treated within the sample: cohorts 2023 "
                      r"\(1 unit\), 2030 \(1 unit\), units '0580', '1280'"):
        p = em.Panel(df, unit="kommun", time="year", cohort="first")
    assert p.cohorts().to_dict() == {"0580": 0, "1280": 0, "1287": 0}
    assert p.late_cohorts.to_dict() == {"0580": 2030, "1280": 2023}
    assert p.notes == ["2 units first treated after the last period (2021) are never treated "
                       "within the sample: cohorts 2023 (1 unit), 2030 (1 unit), units '0580', "
                       "'1280'; set to cohort 0, as R did does"]
    assert p.select(units=["1280", "1287"]).late_cohorts.to_dict() == {"1280": 2023}
    assert em.Panel(frame(), unit="kommun", time="year", cohort="first").late_cohorts.empty


def test_cohort_inf_means_never() -> None:
    df = frame().astype({"first": float})
    df.loc[3:, "first"] = np.inf
    p = em.Panel(df, unit="kommun", time="year", cohort="first")  # no warning
    assert p.cohorts().to_dict() == {"0580": 2021, "1287": 0}
    assert p.notes == [] and p.late_cohorts.empty


@pytest.mark.parametrize(("value", "drop", "why"), [
    (2017, None, r"which is before the first period of the panel \(2019-2021\): a unit "
                 r"treated before the panel starts has no untreated period; drop the unit"),
    (2020, 2020, r"which is not a period of the panel \(2019-2021\): no row has period 2020; "
                 r"add that period's rows"),
    (2020.5, None, r"which is not a period of the panel \(2019-2021\): a first treated "
                   r"period is a whole period"),
])
def test_cohort_before_the_first_period_or_between_periods_raises(
        value: float, drop: int | None, why: str) -> None:
    df = frame().astype({"first": float})
    df.loc[:2, "first"] = value
    if drop is not None:  # no unit has that period: a gap in the panel's periods
        df = df[df["year"] != drop]
    with pytest.raises(PanelError, match=rf"cohort column 'first' has value {value}.* \(unit "
                                         rf"'0580'\), {why}.*a period after the last one means "
                                         r"never treated within the sample"):
        em.Panel(df, unit="kommun", time="year", cohort="first")


def test_cohort_nan_means_never() -> None:
    df = frame().astype({"first": float})
    df.loc[3:, "first"] = np.nan
    p = em.Panel(df, unit="kommun", time="year", cohort="first")
    assert p.cohorts().to_dict() == {"0580": 2021, "1287": 0}


def test_lost_leading_zeros_detected_with_known_ids() -> None:
    df = frame().assign(kommun=[580, 580, 580, 1287, 1287, 1287])
    with pytest.raises(PanelError, match=r"lost their leading zeros \(e\.g\. '580', known as "
                                         r"'0580'.*str\.zfill\(4\)"):
        em.Panel(df, unit="kommun", time="year", ids=["0580", "1287", "1280"])
    # Without the id list the integers are kept as strings, and the coercion is counted.
    with pytest.warns(CoercedValuesWarning, match=r"6 numeric ids converted to strings"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.units == ["1287", "580"]
    assert p.notes == ["unit column 'kommun': 6 numeric ids converted to strings"]


def test_gaps_and_missing_values_kept_counted_and_warned() -> None:
    df = frame().drop(index=4)
    df.loc[0, "y"] = np.nan
    with pytest.warns(GapWarning, match=r"1 \(unit, period\) cells are absent"), \
            pytest.warns(MissingValueWarning, match=r"'y': 1 missing values kept"):
        p = em.Panel(df, unit="kommun", time="year")
    assert len(p.data) == 5 and not p.is_balanced
    assert p.data["y"].isna().sum() == 1
    assert len(p.notes) == 2


def test_text_time_coerced_and_noted() -> None:
    df = frame().assign(year=lambda d: d["year"].astype(str))
    with pytest.warns(CoercedValuesWarning, match=r"6 values converted from text to integers"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.periods.dtype.kind == "i"
    assert p.notes == ["time column 'year': 6 values converted from text to integers"]


def test_long_input_pivots_by_variable() -> None:
    long = frame().melt(id_vars=["kommun", "year"], value_vars=["y"], var_name="kpi",
                        value_name="v")
    p = em.Panel(long, unit="kommun", time="year", variable="kpi", value="v")
    assert p.outcomes == ["y"]
    assert p.wide("y").loc["0580", 2021] == 3.0
    dup = pd.concat([long, long.iloc[[0]]])
    with pytest.raises(PanelError, match=r"long rows share their \(kommun, year, kpi\) key"):
        em.Panel(dup, unit="kommun", time="year", variable="kpi", value="v")


def test_select_and_with_cohorts() -> None:
    p = em.Panel(frame(), unit="kommun", time="year")
    q = p.with_cohorts({"1287": 2020})
    assert q.cohorts().to_dict() == {"0580": 0, "1287": 2020}
    assert p.cohort is None  # the original is unchanged
    assert q.select(units=["1287"]).units == ["1287"]
    with pytest.raises(PanelError, match=r"units \['9999'\] are not in the panel"):
        p.select(units=["9999"])
    with pytest.warns(LateCohortWarning, match=r"^Panel.with_cohorts: 1 unit first treated "
                      r"after the last period \(2021\) is never treated within the sample"):
        late = q.with_cohorts({"1287": 2030, "0580": 2021})
    assert late.cohorts().to_dict() == {"0580": 2021, "1287": 0}
    assert late.late_cohorts.to_dict() == {"1287": 2030}
    assert late.notes[-1].startswith("1 unit first treated after the last period (2021)")
    assert late.with_cohorts({"1287": 2020}).late_cohorts.empty  # a new cohort role
    assert p.with_cohorts({"1287": 0, "0580": float("nan")}).cohorts().eq(0).all()
    with pytest.raises(PanelError, match=r"cohort 2018 of unit '1287' is before the first "
                                         r"period of the panel \(2019-2021\)"):
        p.with_cohorts({"1287": 2018})
    with pytest.raises(PanelError, match=r"cohort 'x' of unit '1287' is not a number"):
        p.with_cohorts({"1287": "x"})


def test_unknown_outcome_named() -> None:
    p = em.Panel(frame(), unit="kommun", time="year")
    with pytest.raises(PanelError, match=r"outcome 'N31807' is not a variable of the panel"):
        p.wide("N31807")


def test_rows_sorted_and_unit_codes_follow_the_rows() -> None:
    """Shuffled input comes out sorted by (unit, time); unit_codes index Panel.units row by row,
    also after select() (recomputed) and with a group role."""
    rng = np.random.default_rng(0)
    units = ["0580", "1280", "1287", "1490"]
    df = pd.DataFrame({"u": np.repeat(units, 5), "t": np.tile(np.arange(2001, 2006), 4),
                       "y": rng.normal(size=20)}).sample(frac=1.0, random_state=1)
    p = em.Panel(df, unit="u", time="t")
    data = p.data
    assert list(zip(data["u"], data["t"], strict=True)) == sorted(zip(df["u"], df["t"],
                                                                      strict=True))
    codes, ids = p.unit_codes()
    assert list(ids) == p.units and np.array_equal(np.asarray(ids)[codes], data["u"].to_numpy())
    sub = p.select(units=["1287", "0580"])
    codes, ids = sub.unit_codes()
    assert list(ids) == ["0580", "1287"]
    assert np.array_equal(np.asarray(ids)[codes], sub.data["u"].to_numpy())
    grouped = df.assign(g="a").pipe(lambda d: pd.concat([d, d.assign(g="b")]))
    with pytest.raises(PanelError, match=r"rows share their \(u, t\) key"):
        em.Panel(grouped, unit="u", time="t")
    pg = em.Panel(grouped, unit="u", time="t", group="g")
    assert pg.is_balanced and len(pg.data) == 40


def test_sort_keys_fallback_equals_combined_key() -> None:
    """Keys too wide for one 63-bit integer fall back to lexsort with the same order."""
    from evalmodel.panel_columns import _sort_keys

    rng = np.random.default_rng(3)
    codes = [rng.integers(0, 50, 500), rng.integers(0, 7, 500), rng.integers(0, 30, 500)]
    order, key = _sort_keys(codes, [50, 7, 30])
    order_w, rank = _sort_keys(codes, [2**40, 2**20, 2**10])  # product above 2**62
    assert np.array_equal(order, order_w)
    assert np.array_equal(key[1:] == key[:-1], rank[1:] == rank[:-1])


# -- issue 15: periods, ids, labels and values a new user gets wrong -------------------------


@pytest.mark.parametrize("day", ["01-01", "12-31"])
def test_dates_on_one_day_of_each_year_become_their_year(day: str) -> None:
    df = frame().assign(year=lambda d: pd.to_datetime(d["year"].astype(str) + "-" + day))
    with pytest.warns(CoercedValuesWarning, match=rf"time column 'year': 6 dates \(all on "
                                                  rf"{day}\) converted to their year"):
        p = em.Panel(df, unit="kommun", time="year", cohort="first")
    assert p.periods.tolist() == [2019, 2020, 2021]  # not timestamp counts
    assert p.data["year"].tolist() == df["year"].dt.year.tolist()  # pandas' own reading
    assert p.cohorts().to_dict() == {"0580": 2021, "1287": 0}
    assert p.notes == [f"time column 'year': 6 dates (all on {day}) converted to their year"]


def test_time_zone_aware_dates_use_their_local_year() -> None:
    stamps = pd.to_datetime(frame()["year"].astype(str) + "-01-01")
    df = frame().assign(year=stamps.dt.tz_localize("Europe/Stockholm"))
    with pytest.warns(CoercedValuesWarning, match=r"6 dates \(all on 01-01\)"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.periods.tolist() == [2019, 2020, 2021]  # UTC would put them in the year before


@pytest.mark.parametrize("as_period", [False, True])
def test_monthly_dates_make_a_monthly_panel(as_period: bool) -> None:
    months = pd.Series(pd.date_range("2019-01-01", periods=3, freq="MS").tolist() * 2)
    df = frame().assign(year=months.dt.to_period("M") if as_period else months)
    what = "monthly periods" if as_period else "month-start dates"
    with pytest.warns(CoercedValuesWarning, match=rf"time column 'year': 6 {what} converted "
                                                  r"to month codes"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.frequency == "month"
    assert p.periods.tolist() == [24228, 24229, 24230]  # 12 * 2019 + month - 1
    assert p.period_labels == ["2019-01", "2019-02", "2019-03"]


def test_years_dated_on_different_days_refused() -> None:
    df = frame().assign(year=pd.to_datetime(["2019-01-01", "2020-06-30", "2021-01-01"] * 2))
    with pytest.raises(PanelError, match=r"dates its years on different calendar days "
                                         r"\(01-01, 06-30\).*\.dt\.year"):
        em.Panel(df, unit="kommun", time="year")


def test_annual_pandas_periods_become_their_year() -> None:
    df = frame().assign(year=lambda d: d["year"].astype(str).pipe(pd.PeriodIndex, freq="Y"))
    with pytest.warns(CoercedValuesWarning, match=r"6 annual periods converted to their year"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.periods.tolist() == [2019, 2020, 2021]


def test_cohort_dates_become_years_and_missing_dates_never_treated() -> None:
    df = frame().assign(first=pd.to_datetime(["2021-01-01"] * 3 + [None] * 3))
    with pytest.warns(CoercedValuesWarning, match=r"cohort column 'first': 3 dates \(all on "
                                                  r"01-01\) converted to their year"):
        p = em.Panel(df, unit="kommun", time="year", cohort="first")
    assert p.cohorts().to_dict() == {"0580": 2021, "1287": 0}


@pytest.mark.parametrize(("ids", "pattern"), [
    ([1, 1, 1, "0001", "0001", "0001"],
     r"unit column 'kommun' mixes value types: int \(e\.g\. 1\) and str \(e\.g\. '0001'\), so "
     r"one unit can appear under two ids; 1 and '0001' would be the same unit once padded, 1 "
     r"such pairs; make the column text of one width first: df\['kommun'\] = "
     r"df\['kommun'\]\.astype\(str\)\.str\.zfill\(4\)"),
    ([580, 580, 580, "1287", "1287", "1287"],
     r"mixes value types: int \(e\.g\. 580\) and str \(e\.g\. '1287'\), so one unit can appear "
     r"under two ids; make the column text"),
])
def test_ids_of_mixed_types_refused(ids: list[object], pattern: str) -> None:
    with pytest.raises(PanelError, match=pattern):
        em.Panel(frame().assign(kommun=ids), unit="kommun", time="year")


def test_labels_differing_only_in_unicode_normalisation_merge_with_a_warning() -> None:
    import unicodedata

    composed, decomposed = "Lindängen", unicodedata.normalize("NFD", "Lindängen")
    assert composed != decomposed
    df = frame().assign(kommun=[composed] * 3 + [decomposed] * 3, year=[2016, 2017, 2018] * 2
                        ).assign(year=lambda d: d["year"] + np.repeat([0, 3], 3))
    with pytest.warns(CoercedValuesWarning, match=r"unit column 'kommun': 2 labels that differ "
                                                  r"only in Unicode normalisation merged into 1"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.units == [composed] and len(p.data) == 6
    assert p.select(units=[decomposed]).units == [composed]
    # Alone, a decomposed label becomes NFC without a warning: nothing merged.
    q = em.Panel(frame().assign(kommun=[decomposed] * 3 + ["1287"] * 3), unit="kommun",
                 time="year")
    assert q.units == ["1287", composed] and q.notes == []
    # Merged labels that then share a period: the duplicate error says why they are equal.
    same_years = frame().assign(kommun=[composed] * 3 + [decomposed] * 3)
    with pytest.raises(PanelError, match=r"6 rows share their \(kommun, year\) key.*The labels "
                                         r"were made equal first: unit column 'kommun': 2 "
                                         r"labels that differ only in Unicode normalisation"):
        em.Panel(same_years, unit="kommun", time="year")


def test_surrounding_spaces_in_ids_removed_and_counted() -> None:
    df = frame().assign(kommun=["0580 ", "0580", " 0580", "1287", "1287", "1287"])
    with pytest.warns(CoercedValuesWarning, match=r"unit column 'kommun': surrounding spaces "
                                                  r"removed from 2 values \(2 labels"):
        p = em.Panel(df, unit="kommun", time="year")
    assert p.units == ["0580", "1287"] and len(p.data) == 6


@pytest.mark.parametrize("role", ["outcome", "weight"])
def test_infinite_values_refused_with_their_rows(role: str) -> None:
    df = frame().assign(w=1.0)
    col = "y" if role == "outcome" else "w"
    df.loc[[1, 4], col] = [np.inf, -np.inf]
    with pytest.raises(PanelError, match=rf"column '{col}' has 2 infinite values \(e\.g\. inf "
                                         r"at \(kommun, year\) = \('0580', 2020\), \('1287', "
                                         r"2020\)\); replace them with NaN"):
        em.Panel(df, unit="kommun", time="year", weight="w")


def test_duplicate_column_names_refused() -> None:
    df = frame()
    df.columns = ["kommun", "year", "y", "y"]
    with pytest.raises(PanelError, match=r"1 column name is used more than once: \['y'\]; give "
                                         r"each column its own name"):
        em.Panel(df, unit="kommun", time="year")


@pytest.mark.parametrize(("value", "what"), [
    (0.0, "zero"), (-1.0, "negative"), (np.nan, "missing")])
def test_weights_must_be_positive(value: float, what: str) -> None:
    df = frame().assign(w=2.0)
    df.loc[3, "w"] = value
    with pytest.raises(PanelError, match=rf"weight column 'w' has 1 {what} values \(e\.g\. "
                                         r".* at \(kommun, year\) = \('1287', 2019\)\)"):
        em.Panel(df, unit="kommun", time="year", weight="w")


def test_sort_keys_counting_sort_equals_lexsort() -> None:
    """The counting sort used for distinct keys gives numpy's lexsort order; with duplicate keys
    the stable argsort does, in 300 random key sets."""
    from evalmodel.panel_columns import _sort_keys

    rng = np.random.default_rng(11)
    distinct = 0
    for _ in range(300):
        sizes = [int(m) for m in rng.integers(1, 30, rng.integers(1, 4))]
        n = int(rng.integers(1, 60))
        codes = [rng.integers(0, m, n) for m in sizes]
        order, key = _sort_keys(codes, sizes)
        assert np.array_equal(order, np.lexsort(codes[::-1]))
        assert np.all(np.diff(key) >= 0)
        distinct += int(np.unique(key).size == n)
    assert 30 < distinct < 270  # both paths were taken
