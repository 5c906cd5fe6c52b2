"""Monthly periods in Panel (issue 17, part 1): four forms, one panel; aggregation to years.

A month is the code ``12 * year + month - 1`` (:mod:`evalmodel.months`). The same data given as
text ``"2021-01"``, SCB's ``"2021M01"``, pandas ``Period[M]`` (dtype or object column) or
month-start dates must give the same panel and the same estimates; ``to_annual`` is checked
against a pandas groupby computed here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import CoercedValuesWarning, GapWarning, PanelError, RowsDroppedWarning
from evalmodel.months import month_code
from evalmodel.vocabulary import check_period

UNITS = ["0114", "0180", "0580", "1280", "1287", "1490"]
TREATED = {"0580", "1287"}
EFFECT = 5.0  # planted, from 2021-01


def monthly_frame(seed: int = 7) -> pd.DataFrame:
    """6 units x 2019-01..2021-12: unit level, a seasonal cycle, noise, and EFFECT on the
    treated from 2021-01; the time column as Period[M], the cohort as text (None = never)."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2019-01", "2021-12", freq="M")
    df = pd.DataFrame({"kommun": np.repeat(UNITS, len(months)),
                       "month": list(months) * len(UNITS)})
    level = np.repeat(np.arange(len(UNITS), dtype=float) * 10, len(months))
    season = 3 * np.sin(2 * np.pi * df["month"].dt.month.to_numpy() / 12)
    treated = df["kommun"].isin(TREATED).to_numpy()
    after = (df["month"] >= pd.Period("2021-01", "M")).to_numpy()
    df["y"] = level + season + rng.normal(0, 0.5, len(df)) + EFFECT * (treated & after)
    df["first"] = np.where(treated, "2021-01", None)
    return df


FORMS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "text": lambda m: m.astype(str),
    "scb-text": lambda m: m.dt.strftime("%YM%m"),
    "period-dtype": lambda m: m,
    "period-objects": lambda m: m.astype(object),
    "month-start-dates": lambda m: m.dt.start_time,
}


def build(form: str, cohort_form: str | None = None, **kw: object) -> em.Panel:
    df = monthly_frame()
    df["month"] = FORMS[form](df["month"])
    if cohort_form is not None:
        first = pd.Series(pd.PeriodIndex(df["first"], freq="M"))
        df["first"] = FORMS[cohort_form](first).where(df["first"].notna(), None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoercedValuesWarning)
        return em.Panel(df, unit="kommun", time="month", cohort="first", **kw)


@pytest.mark.filterwarnings("ignore::evalmodel.errors.FewTreatedClustersWarning")
def test_the_four_forms_give_equal_panels_and_estimates() -> None:
    panels = {form: build(form) for form in FORMS}
    ref = panels["text"]
    assert ref.frequency == "month"
    assert ref.periods[0] == month_code(2019, 1) == 24228 and len(ref.periods) == 36
    assert ref.periods.dtype == np.int64
    assert ref.cohorts().to_dict() == {u: (24252 if u in TREATED else 0) for u in UNITS}
    pre = [month_code(2020, m) for m in range(1, 13)]
    post = [month_code(2021, m) for m in range(1, 13)]
    ref_twfe = em.twfe(ref, "y", inference="analytic")
    ref_did = em.did2x2(ref, "y", pre=pre, post=post, inference="analytic")
    assert ref_twfe.estimate == pytest.approx(EFFECT, abs=0.5)  # planted truth
    assert ref_did.estimate == pytest.approx(EFFECT, abs=0.5)
    for form, p in panels.items():
        assert p.frequency == "month", form
        np.testing.assert_array_equal(p.periods, ref.periods)
        pd.testing.assert_frame_equal(p.data, ref.data)
        assert em.twfe(p, "y", inference="analytic").estimate == ref_twfe.estimate
        assert em.did2x2(p, "y", pre=pre, post=post,
                         inference="analytic").estimate == ref_did.estimate


def test_integer_month_codes_with_frequency_month_give_the_same_panel() -> None:
    df = monthly_frame()
    df["month"] = df["month"].dt.year * 12 + df["month"].dt.month - 1
    df["first"] = np.where(df["first"].notna(), 24252, 0)
    p = em.Panel(df, unit="kommun", time="month", cohort="first", frequency="month")
    ref = build("text")
    assert p.frequency == "month" and p.notes == []
    pd.testing.assert_frame_equal(p.data, ref.data)
    annual = em.Panel(df.assign(month=df["month"] // 12).drop(columns="first")
                      .groupby(["kommun", "month"], as_index=False).mean(),
                      unit="kommun", time="month")
    assert annual.frequency == "year"


def test_the_note_counts_the_conversion() -> None:
    df = monthly_frame().drop(columns="first")
    df["month"] = df["month"].astype(str)
    with pytest.warns(CoercedValuesWarning, match=r"^Panel: time column 'month': 216 month "
                                                  r"labels converted to month codes\.$"):
        p = em.Panel(df, unit="kommun", time="month")
    assert p.notes == ["time column 'month': 216 month labels converted to month codes"]


@pytest.mark.parametrize("cohort_form", list(FORMS))
def test_cohort_months_in_every_form(cohort_form: str) -> None:
    p = build("month-start-dates", cohort_form)
    assert p.cohorts().to_dict() == build("text").cohorts().to_dict()


def test_labels_repr_and_frequency_survive_derived_panels() -> None:
    p = build("scb-text")
    assert p.period_labels[:2] == ["2019-01", "2019-02"] and p.period_labels[-1] == "2021-12"
    assert "(2019-01-2021-12)" in repr(p)
    sub = p.select(periods=p.periods[:6])
    assert sub.frequency == "month" and sub.period_labels[-1] == "2019-06"
    assert p.with_cohorts({"0114": 24240}).frequency == "month"
    assert p.with_values("y", {("0114", 24228): 1.0}).frequency == "month"
    assert p.with_notes(["x"]).frequency == "month"
    annual = em.Panel(pd.DataFrame({"k": ["a", "a"], "t": [2020, 2021], "y": [1.0, 2.0]}),
                      unit="k", time="t")
    assert annual.frequency == "year" and annual.period_labels == ["2020", "2021"]
    assert "(2020-2021)" in repr(annual)


@pytest.mark.parametrize(("values", "pattern"), [
    ([2019, "2019-02", "2019-03"], r"time column 'month' mixes years and months \(e\.g\. 2019 "
                                   r"in row 0 beside '2019-02'\)"),
    (pd.to_datetime(["2019-01-01", "2019-01-02", "2019-02-01"]),
     r"holds dates within a month \(e\.g\. 2019-01-02 in row 1\): daily data is not "
     r"supported; monthly and annual periods are supported"),
    (pd.to_datetime(["2019-01-01", "2019-04-01", "2019-10-01"]),
     r"holds dates on quarter starts only \(months 01, 04, 10\): quarterly periods are not "
     r"supported; monthly and annual periods are supported"),
    (pd.period_range("2019Q1", periods=3, freq="Q"),
     r"holds quarterly pandas Periods \(e\.g\. 2019Q1\); monthly and annual periods are "
     r"supported"),
])
def test_mixed_or_unsupported_frequencies_are_refused(values: object, pattern: str) -> None:
    df = pd.DataFrame({"k": ["a", "a", "a"], "month": values, "y": [1.0, 2.0, 3.0]})
    with pytest.raises(PanelError, match=pattern):
        em.Panel(df, unit="k", time="month")


def test_quarter_start_dates_are_months_when_declared() -> None:
    df = pd.DataFrame({"k": ["a"] * 3, "y": [1.0, 2.0, 3.0],
                       "month": pd.to_datetime(["2019-01-01", "2019-04-01", "2019-10-01"])})
    with pytest.warns(CoercedValuesWarning, match=r"3 month-start dates converted"):
        p = em.Panel(df, unit="k", time="month", frequency="month")
    assert p.period_labels == ["2019-01", "2019-04", "2019-10"]


def test_a_cohort_of_the_other_frequency_is_refused() -> None:
    df = monthly_frame().assign(first=lambda d: np.where(d["first"].notna(), 2021, 0))
    with pytest.raises(PanelError, match=r"cohort column 'first' holds years \(e\.g\. 2021\) "
                                         r"but the time column is monthly"):
        em.Panel(df, unit="kommun", time="month", cohort="first")
    annual = monthly_frame().assign(month=lambda d: d["month"].dt.year)
    annual = annual.drop_duplicates(["kommun", "month"])
    with pytest.raises(PanelError, match=r"cohort column 'first' holds months \(e\.g\. "
                                         r"'2021-01'\) but the time column is annual"):
        em.Panel(annual, unit="kommun", time="month", cohort="first")


def test_check_period_reads_month_labels() -> None:
    assert check_period("x", "start", "2021-01") == 24252
    assert check_period("x", "start", "2021M01") == 24252
    assert check_period("x", "start", pd.Period("2021-01", "M")) == 24252
    assert check_period("x", "start", pd.Timestamp("2021-01-01")) == 24252
    with pytest.raises(em.errors.EstimationError, match=r"start='2019'"):
        check_period("x", "start", "2019")


# -- to_annual -----------------------------------------------------------------------------
def expected_annual(df: pd.DataFrame, how: str) -> pd.Series:
    """The pandas reading of the same aggregation."""
    year = df["month"].dt.year.rename("year")
    grouped = df.groupby(["kommun", year])["y"]
    if how == "mean":
        return grouped.mean()
    if how == "sum":
        return grouped.sum()
    jan = df[df["month"].dt.month == 1]
    return jan.groupby(["kommun", jan["month"].dt.year.rename("year")])["y"].first()


@pytest.mark.parametrize("how", ["mean", "sum", "month"])
def test_to_annual_matches_a_pandas_groupby(how: str) -> None:
    p = build("period-dtype")
    a = p.to_annual(how, month=1 if how == "month" else None)
    assert a.frequency == "year" and a.periods.tolist() == [2019, 2020, 2021]
    got = a.data.set_index(["kommun", "month"])["y"]
    want = expected_annual(monthly_frame(), how)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    assert a.cohorts().to_dict() == {u: (2021 if u in TREATED else 0) for u in UNITS}
    assert any("aggregated to years" in n for n in a.notes)
    assert not any("other than January" in n for n in a.notes)


def test_to_annual_drops_incomplete_years_and_counts_them() -> None:
    df = monthly_frame()
    cut = (df["kommun"] == "0114") & (df["month"] >= pd.Period("2021-07", "M"))
    cut |= (df["kommun"] == "0180") & (df["month"] == pd.Period("2019-03", "M"))
    df = df[~cut].assign(month=lambda d: d["month"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # conversion, gaps
        p = em.Panel(df, unit="kommun", time="month", cohort="first")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GapWarning)  # the annual panel lacks those unit-years
        with pytest.warns(RowsDroppedWarning, match=r"^Panel\.to_annual: 2 unit-years with "
                                                    r"fewer than 12 months present dropped "
                                                    r"\(e\.g\. \('0114', 2021\): 6 months\)\.$"):
            a = p.to_annual("sum")
    assert "unbalanced panel: 2 (unit, period) cells are absent (2 units lack some periods); " \
           "kept" in a.notes
    assert len(a.data) == 6 * 3 - 2
    assert "2 unit-years with fewer than 12 months present dropped (e.g. ('0114', 2021): 6 " \
           "months)" in a.notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)
        kept = p.to_annual("mean", min_months=6)
    assert len(kept.data) == 18
    got = kept.data.set_index(["kommun", "month"])["y"]
    want = df.assign(month=pd.PeriodIndex(df["month"], freq="M").year) \
        .groupby(["kommun", "month"])["y"].mean()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)


def test_to_annual_notes_a_cohort_after_january() -> None:
    df = monthly_frame().assign(first=lambda d: np.where(d["first"].notna(), "2020-07", None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoercedValuesWarning)
        a = em.Panel(df, unit="kommun", time="month", cohort="first").to_annual()
    assert a.cohorts()["0580"] == 2020
    assert ("cohort column 'first': 2 units first treated in a month other than January "
            "(e.g. '0580': 2020-07); their cohort is that year, which is then partly "
            "treated") in a.notes


@pytest.mark.parametrize(("kw", "pattern"), [
    ({"how": "median"}, r"how='median' is not a way to aggregate months"),
    ({"how": "month"}, r"how='month' needs month= a calendar month 1-12, got month=None"),
    ({"how": "month", "month": 13}, r"how='month' needs month= a calendar month 1-12, got "
                                    r"month=13"),
    ({"how": "mean", "month": 1}, r"month=1 is used only with how='month'"),
    ({"min_months": 0}, r"min_months=0 is not a number of months 1-12"),
])
def test_to_annual_arguments_are_checked(kw: dict[str, object], pattern: str) -> None:
    with pytest.raises(PanelError, match=r"^Panel\.to_annual: " + pattern):
        build("text").to_annual(**kw)  # type: ignore[arg-type]


def test_to_annual_refuses_an_annual_panel() -> None:
    annual = em.Panel(pd.DataFrame({"k": ["a", "a"], "t": [2020, 2021], "y": [1.0, 2.0]}),
                      unit="k", time="t")
    with pytest.raises(PanelError, match=r"the panel is annual already"):
        annual.to_annual()
