"""Month labels wherever a reader sees a period (issue 17: periods are integer codes inside and
labels outside): messages, notes, summaries and figures of a monthly panel write ``"2021-01"``,
never the month code ``24252``; result tables keep the codes; annual output is unchanged."""

from __future__ import annotations

import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel import calibrate
from evalmodel.coverage import estimation_window, span
from evalmodel.data.simulate_monthly import simulate_monthly
from evalmodel.months import month_code, period_label, period_labels, period_span
from evalmodel.panel import late_cohort_note
from evalmodel.results import label_periods

matplotlib.use("Agg")

JAN21, APR21 = month_code(2021, 1), month_code(2021, 4)
#: A month code of the years 2000-2099 as it would be printed (a 5-digit 24000-25199).
CODE = re.compile(r"(?<![\d.])2[45]\d{3}(?![\d.])")


def codes_in(text: str) -> list[str]:
    return CODE.findall(text)


def views(result: em.results.Result) -> str:
    """Every text view of a result: str, Markdown, HTML and LaTeX of its summary."""
    s = result.summary()
    return "\n".join([str(s), s.to_markdown(), s._repr_html_(), s.to_latex()])


def _frame() -> pd.DataFrame:
    """20 units x 30 months (2019-07 to 2021-12) of the monthly world, 4 treated: two from
    2021-01, two from 2021-04 (effect 0.3)."""
    data, _ = simulate_monthly(3, start="2019-07", end="2021-12", effects=False)
    ids = data["kommun"].unique()[:20]
    df = data[data["kommun"].isin(ids)].reset_index(drop=True)
    first = {ids[0]: "2021-01", ids[1]: "2021-01", ids[2]: "2021-04", ids[3]: "2021-04"}
    df["cohort"] = df["kommun"].map(first)
    df["share"] += 0.3 * (df["cohort"].notna() & (df["month"] >= df["cohort"].fillna("9999")))
    return df


def _panel(df: pd.DataFrame, **roles: str) -> em.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.CoercedValuesWarning)  # labels -> codes
        return em.Panel(df, unit="kommun", time="month", **roles)


@pytest.fixture(scope="module")
def panel() -> em.Panel:
    return _panel(_frame(), cohort="cohort")


@pytest.fixture(scope="module")
def units(panel: em.Panel) -> dict[str, list[str]]:
    c = panel.cohorts()
    return {"jan": sorted(c.index[c == JAN21]), "apr": sorted(c.index[c == APR21]),
            "never": sorted(c.index[c == 0])}


def test_the_rule() -> None:
    assert period_label(24252, "month") == "2021-01"
    assert period_label(np.int64(24251), "month") == "2020-12"
    assert period_label(2021) == period_label(2021.0, "year") == "2021"
    assert period_label(float("nan"), "month") == period_label(pd.NA) == ""
    assert period_labels([24251, 24252], "month") == ["2020-12", "2021-01"]
    assert period_span(24252, 24263, "month") == "2021-01-2021-12"
    assert period_span(2010, 2015) == "2010-2015"
    assert span([24240, 24241, 24242, 24250], "month") == "2020-01-2020-03, 2020-11"
    assert span([2001, 2002, 2003, 2007]) == "2001-2003, 2007"  # annual as before


def test_did2x2_and_twfe_summaries(panel: em.Panel, units: dict[str, list[str]]) -> None:
    did = em.did2x2(panel, "share", pre=JAN21 - 1, post=JAN21, treated=units["jan"],
                    control=units["never"])
    text = views(did)
    assert "Periods           2 (2020-12-2021-01)" in str(did)
    assert "pre periods ['2020-12'], post periods ['2021-01']" in text
    assert codes_in(text) == []
    assert did.sample.periods == (JAN21 - 1, JAN21) and did.sample.frequency == "month"
    with pytest.raises(em.errors.EstimationError,
                       match=r"pre=\['2021-01'\] ends after post=\['2020-12'\] begins") as err:
        em.did2x2(panel, "share", pre=JAN21, post=JAN21 - 1, treated=units["jan"])
    assert codes_in(str(err.value)) == []
    with pytest.raises(em.errors.EstimationError,
                       match=r"\(\['2021'\]\); the panel covers 2019-07-2021-12 \(months"):
        em.did2x2(panel, "share", pre=JAN21 - 1, post=2021, treated=units["jan"])
    with pytest.raises(em.errors.EstimationError,
                       match=r"start='2021-13' is not a month.*2019-07-2021-12.*start='2019-07'"):
        em.synth(panel, "share", treated=units["jan"][0], start="2021-13")
    tw = em.twfe(panel.select(units=units["jan"] + units["never"]), "share", seasonal="unit",
                 n_draws=20, seed=1)
    assert "30 (2019-07-2021-12)" in str(tw) and codes_in(views(tw)) == []


def test_synth_gaps_by_month(panel: em.Panel, units: dict[str, list[str]]) -> None:
    sub = panel.select(units=[units["jan"][0], *units["never"]])
    with warnings.catch_warnings():  # the first unit is above its donors: the labels' test
        warnings.simplefilter("ignore", em.errors.ConvexHullWarning)
        res = em.synth(sub, "share", treated=units["jan"][0], start=JAN21)
    text = views(res)
    assert codes_in(text) == []
    shown = res.summary().table
    assert list(shown["term"][:2]) == ["2021-01", "2021-02"]
    assert list(shown["time"][:2]) == ["2021-01", "2021-02"]
    # the data keep the codes: the time column is the month code, the term its text
    assert list(res.table["time"][:2]) == [JAN21, JAN21 + 1]
    assert list(res.table["term"][:2]) == [str(JAN21), str(JAN21 + 1)]
    placebo = res.placebo.summary()  # the placebos' own summary names the months too
    assert dict(placebo.header)["First treated period"] == "2021-01"
    assert list(placebo.table["term"][:2]) == ["2021-01", "2021-02"]
    assert codes_in(views(res.placebo)) == []
    for draw in (res.plot, lambda: em.plotting.synth.gaps_plot(res)):
        ax = draw()
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks == ["2020-01", "2021-01"]  # the Januaries of 2019-07..2021-12
        matplotlib.pyplot.close(ax.figure)


def test_sdid_cohort_terms(panel: em.Panel) -> None:
    res = em.sdid(panel, "share", inference="placebo", n_draws=20, seed=1)
    assert list(res.table["term"]) == ["cohort 2021-01", "cohort 2021-04", "ATT"]
    assert codes_in(views(res)) == []
    ax = res.plot()
    assert "2021-01" in [t.get_text() for t in ax.get_xticklabels()]
    matplotlib.pyplot.close(ax.figure)


def test_att_gt_and_aggregations(panel: em.Panel) -> None:
    res = em.att_gt(panel, "share", n_draws=99, seed=1)
    assert codes_in(views(res)) == []
    shown = res.summary().table
    assert shown["cohort"].iloc[0] == "2021-01" and shown["time"].iloc[0] == "2019-08"
    assert shown["base_period"].iloc[0] == "2019-07"
    assert res.table["cohort"].iloc[0] == JAN21  # integer codes in the data
    assert shown["event_time"].iloc[0] == -17  # event time counts months
    with warnings.catch_warnings():  # 4 treated clusters: analytic errors, flagged
        warnings.simplefilter("ignore", em.errors.FewTreatedClustersWarning)
        group = res.aggregate("group", inference="analytic")
        cal = res.aggregate("calendar", inference="analytic")
    assert list(group.summary().table["term"]) == ["g=2021-01", "g=2021-04", "overall"]
    assert list(group.table["term"][:2]) == [f"g={JAN21}", f"g={APR21}"]
    assert cal.summary().table["term"].iloc[0] == "t=2021-01"
    assert codes_in(views(group) + views(cal)) == []
    ax = res.plot()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["cohort 2021-01", "cohort 2021-04"]
    matplotlib.pyplot.close(ax.figure)
    ax = cal.plot()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2021-01"]
    matplotlib.pyplot.close(ax.figure)
    ax = em.plotting.core.coefficient_plot(cal)  # rows named by their terms
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["t=2021-01", "t=2021-02"] and codes_in(" ".join(labels)) == []
    matplotlib.pyplot.close(ax.figure)


def test_event_study_keeps_event_time(panel: em.Panel) -> None:
    res = em.event_study(panel, "share", window=(-3, 3))
    text = views(res)
    assert "30 (2019-07-2021-12)" in text and codes_in(text) == []
    assert list(res.summary().table["event_time"]) == [-3, -2, -1, 0, 1, 2, 3]


def test_coverage_notes_by_month() -> None:
    df = _frame().drop(columns="cohort")
    ids = df["kommun"].unique()
    df.loc[(df["kommun"] == ids[5]) & (df["month"] == "2020-06"), "share"] = np.nan
    df.loc[(df["kommun"] == ids[0]) & (df["month"] == "2019-09"), "share"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # the gaps
        panel = _panel(df)
    win = estimation_window(panel, "share", treated=[ids[0]], pool=list(ids[4:]),
                            adoption=JAN21, treated_gaps="trim")
    text = " ".join(win.decisions)
    assert "window shortened to 2019-10-2021-12" in text
    assert "lack some of 2019-10-2021-12" in text
    assert codes_in(text) == []
    assert win.table()["window"].iloc[0] == "2019-10-2021-12"
    with pytest.raises(em.errors.MissingCellError, match=r"window 2019-07-2021-12;") as err:
        estimation_window(panel, "share", treated=[ids[0]], pool=list(ids[4:]), adoption=JAN21)
    assert codes_in(str(err.value)) == []


def test_panel_messages_by_month() -> None:
    df = _frame()
    df["cohort"] = df["cohort"].replace("2021-04", "2022-03")  # after the last month
    with pytest.warns(em.errors.LateCohortWarning) as rec:
        _panel(df, cohort="cohort")
    msg = str(rec[0].message)
    assert "after the last period (2021-12)" in msg and "cohort 2022-03 (2 units)" in msg
    assert codes_in(msg) == []
    df["cohort"] = df["cohort"].replace("2022-03", "2019-03")  # before the first month
    with pytest.raises(em.errors.PanelError, match=r"'2019-03'.*\(2019-07-2021-12\)") as err:
        _panel(df, cohort="cohort")
    assert codes_in(str(err.value)) == []


def test_case_design_notes_by_month() -> None:
    units = ["0580", "0180", "0114", "0115", "0117", "0120", "0125", "0127"]
    codes = np.arange(month_code(2020, 1), month_code(2021, 12) + 1)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"kommun": np.repeat(units, len(codes)),
                          "month": np.tile([period_label(c, "month") for c in codes],
                                           len(units)),
                          "share": rng.normal(3, 0.1, len(units) * len(codes))})
    design = em.cases.get("linkoping").design(_panel(frame), adoption="2021-03")
    text = " ".join(design.notes)
    assert "adoption set to 2021-03 (registry: 2021-01)" in text and codes_in(text) == []
    with pytest.raises(em.errors.DesignError, match=r"\(2020-01-2021-12\)") as err:
        em.cases.get("linkoping").design(_panel(frame), adoption="2020-01")
    assert codes_in(str(err.value)) == []


def test_annual_output_unchanged() -> None:
    table = pd.DataFrame({"term": ["2010", "average"], "time": [2010, pd.NA],
                          "estimate": [1.0, 1.0]})
    assert label_periods(table, "year") is table
    assert late_cohort_note({"a": 2012, "b": 2013}, 2011) == late_cohort_note(
        {"a": 2012, "b": 2013}, 2011, frequency="year")
    assert "after the last period (2011)" in late_cohort_note({"a": 2012}, 2011)
    assert "cohort 2012 (1 unit)" in late_cohort_note({"a": 2012}, 2011)
    sample = em.results.Sample(n_obs=4, n_units=2, n_periods=2, treated_units=("a",),
                               periods=(2009, 2010))
    assert dict(sample.describe())["Periods"] == "2 (2009-2010)"


def test_synthetic_estimators_name_months_in_errors(panel: em.Panel,
                                                    units: dict[str, list[str]]) -> None:
    df = _frame()
    df.loc[(df["kommun"] == units["never"][0]) & (df["month"] == "2020-06"), "share"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # the gap
        holed = _panel(df, cohort="cohort")
    for fit in (lambda: em.synth(holed, "share", treated=units["jan"][0], start=JAN21),
                lambda: em.sdid(holed, "share", treated=units["jan"][0], start=JAN21)):
        with pytest.raises(em.errors.EstimationError, match=r"in period '2020-06' \(1 missing"):
            fit()
    with pytest.raises(em.errors.EstimationError,
                       match=r"periods \['2021-02'\] that are not pre-periods "
                             r"\(2019-07-2020-12\)"):
        em.synth(panel, "share", treated=units["jan"][0], start=JAN21,
                 predictors=[("share", [JAN21 - 1, JAN21 + 1], "mean")])


def test_att_gt_cell_errors_name_months() -> None:
    df = _frame()
    first = df["kommun"].unique()[:2]  # the 2021-01 cohort, without its December 2020
    df = df[~(df["kommun"].isin(first) & (df["month"] == "2020-12"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # the gaps
        holed = _panel(df, cohort="cohort")
    with pytest.raises(em.errors.EstimationError,
                       match=r"cell \(cohort 2021-01, period 2020-12\) has no treated rows in "
                             r"period 2020-12 of the unbalanced panel") as err:
        em.att_gt(holed, "share", allow_unbalanced_panel=True, n_draws=9, seed=1)
    assert codes_in(str(err.value)) == []


def test_placebo_study_and_placebo_in_time_name_months(
        panel: em.Panel, units: dict[str, list[str]]) -> None:
    """The placebo study's summary and messages, and placebo_in_time's, name months by label;
    the annual message is unchanged (the year without quotes)."""
    never = units["never"]
    study = em.placebo_study(panel, "share", calibrate.twfe(), pool=never, adoption="2021-01",
                             n_units=4, seed=1)
    text = "\n".join([views(study), study.describe(), *study.describe_sample().values()])
    assert "fake adoption in 2021-01" in text and "fake adoptions in 2021-01" in text
    assert dict(study.summary().header)["Fake adoption"] == "2021-01"
    assert codes_in(text) == []
    with pytest.raises(em.errors.EstimationError,
                       match=r"adoption='2019-07' must be a period of the panel after its "
                             r"first \(2019-07-2021-12\)"):
        em.placebo_study(panel, "share", calibrate.twfe(), pool=never, adoption="2019-07")
    sub = panel.select(units=[units["jan"][0], *never])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.ConvexHullWarning)
        res = em.synth(sub, "share", treated=units["jan"][0], start=JAN21)
        with pytest.raises(em.errors.EstimationError,
                           match=r"fake start 2019-08 must be a pre-period with at least 2 "
                                 r"periods before it \(2019-09-2020-12\)"):
            em.placebo_in_time(res, starts=["2019-08"])
    years = em.datasets.simulated()
    with pytest.raises(em.errors.EstimationError,
                       match=r"adoption=1998 must be a period of the panel after its first"):
        em.placebo_study(years, "N31807", calibrate.twfe(), pool=list(years.units[:5]),
                         adoption=1998)
