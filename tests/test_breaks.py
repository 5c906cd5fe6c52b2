"""Series breaks: the level-shift detector on simulated and real panels, announced revisions."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.breaks import (
    KNOWN_BREAKS,
    SERIES_BREAKS,
    THRESHOLD,
    BreakFinding,
    BreakScan,
    SeriesBreak,
    clean_windows,
    detect_breaks,
    series_breaks,
)
from evalmodel.errors import DesignError, GapWarning, MissingValueWarning, PanelError

#: Sizes taken from the real N31814 (long-term recipients, % of adult recipients): the spread of
#: municipalities' own year-to-year changes and of the common (median) change across years.
UNIT_SD = 3.6
YEAR_SD = 1.2


def simulate(
    seed: int,
    *,
    first: int = 2001,
    last: int = 2022,
    n_units: int = 290,
    break_at: int | None = None,
    size: float = 0.0,
    phi: float = 0.5,
    rho: float = 0.8,
    missing: float = 0.03,
) -> em.Panel:
    """A Kolada-like panel without (or with one) level shift.

    ``y[i, t] = mu_i + a_t + u[i, t]``: unit levels ``mu_i``; AR(1) unit deviations ``u``
    (autocorrelation ``rho``) whose changes have standard deviation :data:`UNIT_SD`; a common
    level ``a_t`` whose changes follow an AR(1) (autocorrelation ``phi``, standard deviation
    :data:`YEAR_SD`, drift 0.3); ``missing`` of the cells absent at random; ``size`` added to
    every unit from ``break_at`` on.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(first, last + 1)
    n_t, burn = len(years), 30
    eta = rng.standard_normal(n_t + burn)
    d = np.zeros(n_t + burn)
    for t in range(1, n_t + burn):
        d[t] = phi * d[t - 1] + math.sqrt(1 - phi**2) * eta[t]
    common = np.cumsum(0.3 + YEAR_SD * d[burn:])
    sigma = UNIT_SD * math.sqrt((1 + rho) / 2)  # so that sd(u_t - u_{t-1}) = UNIT_SD
    eps = rng.standard_normal((n_units, n_t + burn)) * sigma
    u = np.zeros_like(eps)
    u[:, 0] = eps[:, 0] / math.sqrt(1 - rho**2)
    for t in range(1, n_t + burn):
        u[:, t] = rho * u[:, t - 1] + eps[:, t]
    y = 25 + 8 * rng.standard_normal((n_units, 1)) + common + u[:, burn:]
    if break_at is not None:
        y[:, years >= break_at] += size
    y[rng.random(y.shape) < missing] = np.nan
    units = [f"{i:04d}" for i in range(n_units)]
    df = pd.DataFrame(
        {
            "unit": np.repeat(units, n_t),
            "year": np.tile(years, n_units),
            "y": y.ravel(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        return em.Panel(df, unit="unit", time="year")


# -- the detector on simulated panels -------------------------------------------------------------
def test_no_flag_without_a_break() -> None:
    scan = detect_breaks(simulate(1), "y")
    assert isinstance(scan, BreakScan) and scan.breaks == ()
    t = scan.table
    assert t["period"].tolist() == list(range(2002, 2023))
    assert t.columns.tolist() == [
        "period",
        "n_units",
        "median_change",
        "expected",
        "robust_z",
        "score",
        "flagged",
        "note",
    ]
    assert t["score"].notna().all() and (t["note"] == "").all()
    assert t["score"].abs().max() < 3.0
    assert t["n_units"].between(260, 290).all()
    assert scan.threshold == THRESHOLD == 3.3
    assert "21 of 21 year-to-year changes tested (2001-2022" in scan.describe()
    assert "no level shift with |score| > 3.3" in scan.describe()


@pytest.mark.parametrize("break_at", [2004, 2010, 2021])
def test_a_large_shift_is_flagged_at_its_period(break_at: int) -> None:
    shift = 8 * YEAR_SD
    base = detect_breaks(simulate(1), "y").table.set_index("period")
    scan = detect_breaks(simulate(1, break_at=break_at, size=shift), "y")
    assert scan.breaks == (break_at,)
    row = scan.table.set_index("period").loc[break_at]
    # the shift moves the median change at its period by exactly its size, nothing else
    assert row["median_change"] - base.loc[break_at, "median_change"] == pytest.approx(shift)
    assert row["score"] > 4.5
    assert f"at {break_at} (+" in scan.describe()


def test_a_downward_shift_has_a_negative_score() -> None:
    scan = detect_breaks(simulate(2, break_at=2012, size=-8 * YEAR_SD), "y")
    assert scan.breaks == (2012,)
    assert scan.table.set_index("period").loc[2012, "score"] < -4.0  # measured -4.04


def test_a_small_shift_is_not_flagged() -> None:
    scan = detect_breaks(simulate(1, break_at=2010, size=1.5 * YEAR_SD), "y")
    assert scan.breaks == ()


def test_scores_are_scale_and_location_free() -> None:
    panel = simulate(3, break_at=2015, size=6 * YEAR_SD)
    df = panel.data
    df["y"] = 100 * df["y"] - 7
    with pytest.warns(MissingValueWarning):
        scaled = em.Panel(df, unit="unit", time="year")
    a = detect_breaks(panel, "y").table["score"].to_numpy()
    b = detect_breaks(scaled, "y").table["score"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_few_units_are_not_tested_and_the_table_says_so() -> None:
    panel = simulate(4, n_units=60)
    df = panel.data
    # from 2015 on, only 15 units report
    df = df[(df["year"] < 2015) | (df["unit"].astype(int) < 15)]
    with pytest.warns(GapWarning), pytest.warns(MissingValueWarning):
        thin = em.Panel(df, unit="unit", time="year")
    scan = detect_breaks(thin, "y")
    t = scan.table.set_index("period")
    assert t.loc[2015:, "score"].isna().all() and not t.loc[2015:, "flagged"].any()
    assert t.loc[2016, "note"].startswith("not tested: ")
    assert "units in both periods (min_units=20)" in t.loc[2016, "note"]
    assert t.loc[:2014, "score"].notna().all()
    assert "13 of 21 year-to-year changes tested (2001-2014" in scan.describe()
    # too few tested changes: nothing is scored
    short = detect_breaks(thin, "y", min_changes=14)
    assert short.table["score"].isna().all()
    assert "only 13 changes have 20+ units (min_changes=14)" in short.describe()


def test_units_restrict_the_pool() -> None:
    panel = simulate(5, n_units=100, break_at=2012, size=8 * YEAR_SD)
    pool = [f"{i:04d}" for i in range(30)]
    scan = detect_breaks(panel, "y", units=pool)
    assert scan.table["n_units"].max() <= 30
    assert 2012 in scan.breaks
    small = detect_breaks(panel, "y", units=pool[:10])
    assert small.breaks == () and small.table["score"].isna().all()
    with pytest.raises(DesignError, match=r"units: 1 ids are not units of the panel \(e.g. '9999'"):
        detect_breaks(panel, "y", units=["0001", "9999"])


def test_bad_arguments() -> None:
    panel = simulate(6, n_units=40)
    with pytest.raises(PanelError, match="outcome 'x' is not a variable"):
        detect_breaks(panel, "x")
    with pytest.raises(DesignError, match="threshold must be a positive number"):
        detect_breaks(panel, "y", threshold=0)
    with pytest.raises(DesignError, match="min_units must be an integer >= 1"):
        detect_breaks(panel, "y", min_units=2.5)  # type: ignore[arg-type]


def _rates(
    seeds: range, *, first: int, break_at: int | None = None, size: float = 0.0
) -> tuple[float, float]:
    """Share of series with any flag, and with a flag at ``break_at``."""
    any_flag = at_break = 0
    for seed in seeds:
        scan = detect_breaks(
            simulate(seed, first=first, break_at=break_at, size=size, n_units=150), "y"
        )
        any_flag += bool(scan.breaks)
        at_break += break_at in scan.breaks
    return any_flag / len(seeds), at_break / len(seeds)


@pytest.mark.slow
def test_false_alarm_rate_of_simulated_series_without_break() -> None:
    # measured: 3 of 200 series of 21 changes, 2 of 200 of 12 changes (nominal about 2 % and
    # 1 %: a two-sided 0.001 per change at the default threshold)
    long_fa, _ = _rates(range(1000, 1200), first=2001)
    short_fa, _ = _rates(range(2000, 2200), first=2010)
    assert long_fa <= 0.03
    assert short_fa <= 0.03


@pytest.mark.slow
def test_power_for_a_shift_of_known_size() -> None:
    # shifts of 3, 5 and 8 common-change standard deviations at 2012, in series of 21 changes;
    # measured 0.20, 0.745 and 1.0 (0.22, 0.77 and 1.0 over 1,000 series of 290 units)
    power = {
        k: _rates(range(3000, 3200), first=2001, break_at=2012, size=k * YEAR_SD)[1]
        for k in (3, 5, 8)
    }
    assert 0.12 <= power[3] <= 0.30
    assert 0.68 <= power[5] <= 0.82
    assert power[8] >= 0.98


# -- announced revisions and windows --------------------------------------------------------------
def test_known_breaks_cover_kolada_announcements() -> None:
    got = {(k, b.period) for b in KNOWN_BREAKS for k in b.kpis}
    assert got == {
        ("N31814", 2010),
        ("N31814", 2017),
        ("N31816", 2017),
        ("N00914", 2019),
        ("U31004", 2020),
        ("N03920", 2023),
        ("N03926", 2023),
    }
    assert all(b.source and b.note and not b.together for b in KNOWN_BREAKS)
    # kolada_panel keeps warning about the same three breaks as before
    assert [(b.kpis, b.period, b.together) for b in SERIES_BREAKS] == [
        (("N31814", "N31816"), 2017, False),
        (("N31004",), 2024, False),
        (("N31004", "U31001"), 2024, True),
    ]
    assert SERIES_BREAKS[0] in KNOWN_BREAKS
    assert em.data.SeriesBreak is SeriesBreak and em.data.SERIES_BREAKS is SERIES_BREAKS


def _with_kpi(panel: em.Panel, name: str) -> em.Panel:
    df = panel.data.rename(columns={"y": name})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        return em.Panel(df, unit="unit", time="year")


def test_series_breaks_in_a_window() -> None:
    panel = _with_kpi(simulate(7, first=2001, break_at=2010, size=8 * YEAR_SD), "N31814")
    found = series_breaks(panel, "N31814")
    assert [(f.period, f.kind) for f in found] == [
        (2010, "detected"),
        (2010, "announced"),
        (2017, "announced"),
    ]
    assert all(isinstance(f, BreakFinding) and f.outcome == "N31814" for f in found)
    assert found[0].score == found[1].score > 4.5  # measured 4.64
    assert found[0].note.startswith("median change +")
    assert "precision" in found[1].note and "2021 revision" in found[2].note
    # a break at p is inside a window only with both p - 1 and p
    assert [f.period for f in series_breaks(panel, "N31814", periods=range(2010, 2020))] == [2017]
    assert [f.period for f in series_breaks(panel, "N31814", periods=range(2005, 2017))] == [
        2010,
        2010,
    ]
    assert series_breaks(panel, "N31814", periods=range(2011, 2017)) == ()
    # an outcome without announced revisions only reports what is detected
    other = _with_kpi(simulate(7, first=2001, break_at=2010, size=8 * YEAR_SD), "N31807")
    assert [(f.period, f.kind) for f in series_breaks(other, "N31807")] == [(2010, "detected")]


def test_announced_break_outside_the_data_is_not_reported() -> None:
    panel = _with_kpi(simulate(8, first=2010, last=2022), "N03920")
    assert series_breaks(panel, "N03920") == ()  # the age group changes in 2023


@pytest.mark.parametrize(
    ("periods", "breaks", "expected"),
    [
        (range(2005, 2016), [2010], [(2005, 2009), (2010, 2015)]),
        (range(2005, 2016), [], [(2005, 2015)]),
        (range(2005, 2016), [2005, 2016, 1990], [(2005, 2015)]),
        (range(2005, 2016), [2010, 2011], [(2005, 2009), (2010, 2010), (2011, 2015)]),
        ([2001, 2002, 2004, 2005, 2006], [2006], [(2001, 2002), (2004, 2005), (2006, 2006)]),
        ([2003, 2001, 2002, 2002], [2002], [(2001, 2001), (2002, 2003)]),
        ([], [2010], []),
    ],
)
def test_clean_windows(
    periods: list[int], breaks: list[int], expected: list[tuple[int, int]]
) -> None:
    assert clean_windows(periods, breaks) == expected


def test_clean_windows_takes_findings_and_announcements() -> None:
    finding = BreakFinding("N31814", 2010, "detected", "", 4.6)
    assert clean_windows(range(2001, 2023), [finding, KNOWN_BREAKS[1]]) == [
        (2001, 2009),
        (2010, 2016),
        (2017, 2022),
    ]


# -- the real extract -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_panel(real_extract: Path) -> em.Panel:
    df = pd.read_csv(real_extract, dtype={"municipality_id": str, "kpi": str, "gender": str})
    df = df[(df["gender"] == "T") & ~df["municipality_id"].str.startswith("00")]
    df = df[["kpi", "municipality_id", "year", "value"]]
    with pytest.warns(GapWarning), pytest.warns(MissingValueWarning):
        panel = em.Panel(df, unit="municipality_id", time="year", variable="kpi", value="value")
    assert len(panel.units) == 290
    return panel


@pytest.mark.real
def test_real_n31814_seam_at_2010_is_flagged(real_panel: em.Panel) -> None:
    scan = detect_breaks(real_panel, "N31814")
    assert scan.breaks == (2010,)
    t = scan.table.set_index("period")
    assert t.index.tolist() == list(range(2002, 2023)) and t["score"].notna().all()
    assert t.loc[2010, "n_units"] == 282
    assert t.loc[2010, "median_change"] == pytest.approx(5.565, abs=5e-4)
    assert t.loc[2010, "expected"] == pytest.approx(0.85, abs=1e-9)
    assert 4.55 < t.loc[2010, "robust_z"] < 4.65  # measured 4.61
    assert 3.4 < t.loc[2010, "score"] < 3.55  # measured 3.47
    assert t.drop(index=2010)["score"].abs().max() < 1.9  # next: 2003, -1.84
    assert abs(t.loc[2017, "score"]) < 0.5  # the 2017 revision leaves no visible level shift
    found = series_breaks(real_panel, "N31814")
    assert [(f.period, f.kind) for f in found] == [
        (2010, "detected"),
        (2010, "announced"),
        (2017, "announced"),
    ]
    assert clean_windows(real_panel.periods, [f.period for f in found]) == [
        (1994, 2009),
        (2010, 2016),
        (2017, 2022),
    ]


@pytest.mark.real
@pytest.mark.parametrize(
    ("kpi", "n_tested", "top_period", "top_low", "top_high"),
    [
        ("N31807", 28, 1996, 2.5, 2.65),  # measured +2.56
        ("U31804", 12, 2021, -2.25, -2.1),  # measured -2.16
        ("N31910", 10, 2022, -2.4, -2.25),  # measured -2.31
    ],
)
def test_real_primary_outcomes_have_no_detected_break(
    real_panel: em.Panel, kpi: str, n_tested: int, top_period: int, top_low: float, top_high: float
) -> None:
    scan = detect_breaks(real_panel, kpi)
    assert scan.breaks == ()
    tested = scan.table.dropna(subset=["score"])
    assert len(tested) == n_tested
    top = tested.loc[tested["score"].abs().idxmax()]
    assert top["period"] == top_period and top_low < top["score"] < top_high


@pytest.mark.real
def test_real_n31910_covers_half_the_municipalities_before_2020(real_panel: em.Panel) -> None:
    t = detect_breaks(real_panel, "N31910").table.set_index("period")
    assert t.loc[2013:2019, "n_units"].between(85, 120).all()
    assert t.loc[2021:, "n_units"].min() > 280


@pytest.mark.real
def test_real_flags_across_the_extract(real_panel: em.Panel) -> None:
    flags = {k: detect_breaks(real_panel, k).breaks for k in real_panel.outcomes}
    assert {k: v for k, v in flags.items() if v} == {
        "N00914": (2009,),  # the 2008-09 recession, not the 2019 source change
        "N01951": (2016,),  # population growth with the 2015-16 refugee reception
        "N31814": (2010,),
    }
    n00914 = detect_breaks(real_panel, "N00914").table.set_index("period")
    assert -3.5 < n00914.loc[2009, "score"] < -3.35  # measured -3.42
    assert abs(n00914.loc[2019, "score"]) < 1.0  # measured -0.84
