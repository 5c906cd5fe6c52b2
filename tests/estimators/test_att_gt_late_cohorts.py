"""``att_gt`` and units first treated after the last period: R ``did``'s preprocessing.

A unit first treated after the last period plus ``anticipation`` is never treated within the
sample; one first treated after the last period but within ``anticipation`` of it keeps its
cohort (pre-treatment cells only) and is not a never-treated comparison. Checked against
the same panel recoded by hand (exactly), across the two ways a late cohort reaches
``att_gt`` (the Panel's recoding and a selection of periods), and against the csdid peer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.sim_staggered import simulate_staggered
from evalmodel.errors import LateCohortWarning
from evalmodel.estimators.staggered import att_gt
from evalmodel.panel import Panel

LAST = 2007  # the last period of the truncated panel


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulated frame over 2001-2008 (cohort 2010 after its end) and its truncation to
    2001-2007: cohort 2007 at the last period, 2008 one period after it, 2010 three after."""
    df = simulate_staggered(300, cohorts=(2003, 2005, 2007, 2008, 2010), weights=True,
                            seed=3).drop(columns="att")
    return df, df[df["period"] <= LAST].reset_index(drop=True)


def _panel(df: pd.DataFrame) -> Panel:
    return Panel(df, unit="unit", time="period", cohort="cohort", weight="w")


@pytest.fixture(scope="module")
def truncated(frames: tuple[pd.DataFrame, pd.DataFrame]) -> Panel:
    with pytest.warns(LateCohortWarning, match=r"units first treated after the last period "
                      r"\(2007\) are never treated within the sample: cohorts 2008 \(\d+ units\), "
                      r"2010 \(\d+ units\)"):
        return _panel(frames[1])


@pytest.fixture(scope="module")
def selected(frames: tuple[pd.DataFrame, pd.DataFrame]) -> Panel:
    """The full panel with periods after 2007 left out: cohort 2008 stays in the data, after
    the last period (cohort 2010 was set to 0 by the full panel)."""
    with pytest.warns(LateCohortWarning, match=r"after the last period \(2008\)"):
        full = _panel(frames[0])
    return full.select(periods=range(2001, LAST + 1))


def _late_count(df: pd.DataFrame, low: int, high: float = np.inf) -> int:
    g = df.groupby("unit")["cohort"].first()
    return int(((g > low) & (g <= high)).sum())


def test_late_cohorts_equal_the_panel_recoded_by_hand(frames, truncated) -> None:  # type: ignore[no-untyped-def]
    df = frames[1]
    by_hand = _panel(df.assign(cohort=df["cohort"].where(df["cohort"] <= LAST, 0)))
    assert truncated.cohorts().equals(by_hand.cohorts())
    res = att_gt(truncated, "y", covariates=["x1"])  # the panel warned already: no warning
    ref = att_gt(by_hand, "y", covariates=["x1"])
    pd.testing.assert_frame_equal(res.table, ref.table, check_exact=True)
    np.testing.assert_array_equal(res.influence, ref.influence)
    assert res.aggregate("simple").estimate == ref.aggregate("simple").estimate
    n = _late_count(df, LAST)
    assert res.notes[0].startswith(f"{n} units first treated after the last period (2007) are "
                                   "never treated within the sample: cohorts 2008")
    assert res.notes[1:] == ref.notes


def test_a_selection_of_periods_leaves_a_late_cohort(frames, selected) -> None:  # type: ignore[no-untyped-def]
    """Before: cohort 2008 of a selection ending in 2007 gave pre-treatment cells only; now
    att_gt sets it to 0 itself, with the warning."""
    df = frames[1]
    n = _late_count(df, LAST)
    with pytest.warns(LateCohortWarning, match=rf"^att_gt: {n} units first treated after the "
                      r"last period \(2007\) are never treated within the sample"):
        res = att_gt(selected, "y", covariates=["x1"])
    by_hand = _panel(df.assign(cohort=df["cohort"].where(df["cohort"] <= LAST, 0)))
    ref = att_gt(by_hand, "y", covariates=["x1"])
    pd.testing.assert_frame_equal(res.table, ref.table, check_exact=True)
    assert 2008 not in res.table["cohort"].to_numpy()


def test_anticipation_keeps_a_cohort_within_it_of_the_end(frames, truncated, selected) -> None:  # type: ignore[no-untyped-def]
    """anticipation=1: cohort 2008 is affected in 2007, so it is no never-treated comparison;
    it keeps its cohort (pre-treatment cells) whichever way it reached att_gt, and cohort 2007
    (the last period) keeps its post-treatment cell. Cohort 2010 is never treated."""
    n = _late_count(frames[1], LAST, LAST + 1)
    with pytest.warns(LateCohortWarning, match=rf"^att_gt: {n} units first treated after the "
                      r"last period \(2007\) but within anticipation 1 of it \(cohort 2008 "):
        res = att_gt(truncated, "y", covariates=["x1"], anticipation=1)
    ref = att_gt(selected, "y", covariates=["x1"], anticipation=1)  # no change: no warning
    pd.testing.assert_frame_equal(res.table, ref.table, check_exact=True)
    assert res.notes == ref.notes
    assert res.notes[0].startswith(f"{_late_count(frames[1], LAST + 1)} units first treated "
                                   "after the last period (2007) plus anticipation 1 are never "
                                   "treated within the sample: cohort 2010")
    tab = res.table
    assert (tab.loc[tab["cohort"] == 2008, "event_time"] < 0).all()
    assert ((tab["cohort"] == 2007) & (tab["time"] == 2007)).sum() == 1


@pytest.mark.parametrize(("control", "anticipation"),
                         [("never", 0), ("not_yet", 0), ("never", 1), ("not_yet", 1)])
def test_late_cohorts_equal_csdid(frames, truncated, control: str, anticipation: int,  # type: ignore[no-untyped-def]
                                  capsys, csdid_fit) -> None:
    """csdid (a port of R did) gets the late cohorts in the data as given and applies R's rule."""
    df = frames[1]
    if anticipation:
        with pytest.warns(LateCohortWarning):
            res = att_gt(truncated, "y", covariates=["x1"], control_group=control,
                         anticipation=anticipation)
    else:
        res = att_gt(truncated, "y", covariates=["x1"], control_group=control)
    peer = csdid_fit(df, "dr", control, ["x1"], anticipation=anticipation)
    tab = res.table
    np.testing.assert_array_equal(tab["cohort"], np.asarray(peer.results["group"]))
    np.testing.assert_array_equal(tab["time"], np.asarray(peer.results["year"]))
    np.testing.assert_allclose(tab["estimate"], peer.results["att"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(tab["std_error"], np.ravel(peer.results["se"]), rtol=0,
                               atol=1e-8)
    for kind in ("simple", "dynamic", "calendar"):
        ref = peer.aggte(typec=kind, bstrap=False).atte
        agg = res.aggregate(kind)
        assert agg.estimate == pytest.approx(ref["overall_att"], abs=1e-8)
        assert agg.overall["std_error"] == pytest.approx(ref["overall_se"], abs=1e-8)
    capsys.readouterr()


def test_late_cohorts_give_a_never_treated_group(frames) -> None:  # type: ignore[no-untyped-def]
    """Recoded before the never-treated check, as in R: with no unit coded 0, the late units
    are the never-treated comparison group."""
    df = frames[1]
    df = df[df["cohort"] > 0]
    with pytest.warns(LateCohortWarning):
        panel = _panel(df)
    res = att_gt(panel, "y", control_group="never")
    assert set(res.table["cohort"]) == {2003, 2005, 2007}
    assert res.sample.n_units == df["unit"].nunique()
