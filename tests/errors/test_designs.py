"""Impossible designs and malformed periods, seeds and solver options (issue 15).

Each class of the issue's ARGUMENTS and IMPOSSIBLE DESIGNS gets a test pinning its message:
an :class:`~evalmodel.errors.EvalModelError` subclass that names the real cause and the fix,
raised at the entry point before any heavy work (never linearmodels', numpy's or scipy's
exception, never an empty table). Where a value is accepted (whole numbers of any numeric
type as periods), the test checks the result equals the plain-int call's.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.data.simulate import simple_panel
from evalmodel.errors import DesignError, EstimationError, EvalModelWarning, PanelError


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    """The designs here are odd on purpose; warnings about them are not what is tested."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        yield


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """20 units, periods 1-10, cohort 6 for 6 units (u000, ...) and 0 for the others."""
    return simple_panel(n_units=20, seed=3)[0]


def _panel(df: pd.DataFrame) -> em.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        return em.Panel(df, unit="unit", time="time", cohort="cohort")


@pytest.fixture(scope="module")
def panel(frame: pd.DataFrame) -> em.Panel:
    return _panel(frame)


@pytest.fixture(scope="module")
def design() -> em.cases.Design:
    """Trelleborg's design on the simulated panel, its pool cut to 20 donors (fast fits)."""
    d = em.cases.get("trelleborg").design(em.datasets.simulated())
    return dataclasses.replace(d, panel=d.panel.select(units=["1287", *d.comparison[:20]]))


# -- 1. periods: whole numbers of any numeric type are ints; fractions and text are refused ---
@pytest.mark.parametrize("value", [np.int64(3), 3.0, np.float64(3.0), [np.int32(3)]])
def test_did2x2_takes_whole_periods_of_any_type(panel: em.Panel, value: object) -> None:
    ref = em.did2x2(panel, "y", pre=3, post=7, inference="analytic")
    got = em.did2x2(panel, "y", pre=value, post=np.int64(7),  # type: ignore[arg-type]
                    inference="analytic")
    assert got.estimate == ref.estimate
    assert got.sample.periods == (3, 7)


@pytest.mark.parametrize(("value", "pattern"), [
    (2.5, r"^did2x2: pre=2\.5 is not a whole number; a period is a whole number \(the panel "
          r"covers 1-10\): pass e\.g\. pre=2 or pre=3\.$"),
    ([3, 4.5], r"^did2x2: pre=4\.5 is not a whole number"),
    ("3", r"^did2x2: pre='3' is text; a period is a whole number \(the panel covers 1-10\): "
          r"pass pre=3 without quotes\.$"),
])
def test_did2x2_refuses_fractional_and_text_periods(panel: em.Panel, value: object,
                                                    pattern: str) -> None:
    with pytest.raises(EstimationError, match=pattern):
        em.did2x2(panel, "y", pre=value, post=7)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "pattern"), [
    (2010.5, r"^synth: start=2010\.5 is not a whole number; a period is a whole number \(the "
             r"panel covers 1998-2024\): pass e\.g\. start=2010 or start=2011\.$"),
    ("2010", r"^synth: start='2010' is text; .*: pass start=2010 without quotes\.$"),
])
def test_synth_refuses_fractional_and_text_starts(design: em.cases.Design, start: object,
                                                  pattern: str) -> None:
    with pytest.raises(EstimationError, match=pattern):
        em.synth(design.panel, "N31807", treated="1287", start=start,  # type: ignore[arg-type]
                 inference="none")


def test_sdid_takes_numpy_starts_and_refuses_fractions(design: em.cases.Design) -> None:
    ref = em.sdid(design.panel, "N31807", treated="1287", start=2010, inference="none")
    for start in (np.int64(2010), 2010.0):
        got = em.sdid(design.panel, "N31807", treated="1287", start=start,  # type: ignore[arg-type]
                      inference="none")
        assert got.estimate == ref.estimate
    with pytest.raises(EstimationError, match=r"^sdid: start=2010\.5 is not a whole number"):
        em.sdid(design.panel, "N31807", treated="1287", start=2010.5,  # type: ignore[arg-type]
                inference="none")


def test_event_study_windows_are_whole_event_times(panel: em.Panel) -> None:
    ref = em.event_study(panel, "y", window=(-2, 2), inference="analytic")
    got = em.event_study(panel, "y", window=(np.int64(-2), 2.0),  # type: ignore[arg-type]
                         inference="analytic")
    pd.testing.assert_frame_equal(got.table, ref.table)
    with pytest.raises(EstimationError, match=r"^event_study: window\[0\]=-2\.5 is not a whole "
                                              r"number; an event time is a whole number"):
        em.event_study(panel, "y", window=(-2.5, 2))  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"^event_study: window\[1\]='2' is text"):
        em.event_study(panel, "y", window=(-2, "2"))  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"^event_study: reference=-1\.5 is not a whole"):
        em.event_study(panel, "y", window=(-2, 2), reference=-1.5)  # type: ignore[arg-type]


def test_design_takes_numpy_adoption_years() -> None:
    """An adoption year read from a DataFrame cell is an ``np.int64``; ``design`` refused it
    (``isinstance(first, int)``) where a plain int worked."""
    sim = em.datasets.simulated()
    case = em.cases.get("trelleborg")
    cell = pd.DataFrame({"year": [2011]})["year"].iloc[0]
    assert isinstance(cell, np.int64)
    ref = case.design(sim, adoption=2011)
    for adoption in (cell, 2011.0):
        got = case.design(sim, adoption=adoption)  # type: ignore[arg-type]
        assert got.adoption == 2011 and type(got.adoption) is int
        assert got.pre_periods == ref.pre_periods and got.comparison == ref.comparison
    with pytest.raises(DesignError, match=r"^case 'trelleborg': adoption=2011\.5 is not a whole "
                                          r"number; .*\(the panel covers 1998-2024\)"):
        case.design(sim, adoption=2011.5)  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"adoption='2011' is text"):
        case.design(sim, adoption="2011")  # type: ignore[arg-type]


def test_numpy_adoptions_in_the_staggered_estimators_and_placebo_study(
        panel: em.Panel) -> None:
    """``with_cohorts`` with np.int64 years, and ``placebo_study(adoption=np.int64)``, give the
    same numbers as plain ints."""
    never = [u for u in panel.units if int(panel.cohorts()[u]) == 0]
    plain = panel.with_cohorts({"u000": 5})
    numpy_ = panel.with_cohorts({"u000": np.int64(5)})
    a = em.att_gt(plain, "y", inference="analytic").table
    b = em.att_gt(numpy_, "y", inference="analytic").table
    pd.testing.assert_frame_equal(a, b)
    adapter = em.calibrate.did2x2(pre=[np.int64(3), 4.0], post=[7])
    assert adapter.options["pre"] == [3, 4]
    r1 = em.placebo_study(panel, "y", adapter, pool=never[:6], adoption=6)
    r2 = em.placebo_study(panel, "y", adapter, pool=never[:6], adoption=np.int64(6))
    pd.testing.assert_frame_equal(r1.placebos, r2.placebos)
    with pytest.raises(EstimationError, match=r"^calibrate.did2x2: pre=3\.5 is not a whole"):
        em.calibrate.did2x2(pre=[3.5], post=[7])


# -- 2. seeds --------------------------------------------------------------------------------
SEED_MESSAGE = (r"seed='42' must be a non-negative whole number \(e\.g\. seed=42\), a numpy "
                r"Generator \(np\.random\.default_rng\(42\)\) or None: pass seed=42\.$")


def test_a_text_seed_is_refused_before_numpy(panel: em.Panel) -> None:
    """Before the check, ``att_gt(seed="42")`` died in numpy's SeedSequence with a TypeError
    and ``did2x2(seed="42")`` ran, ignoring it, when it enumerated every assignment."""
    with pytest.raises(EstimationError, match=r"^att_gt: " + SEED_MESSAGE):
        em.att_gt(panel, "y", inference="bootstrap", seed="42", n_draws=20)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"^did2x2: " + SEED_MESSAGE):
        em.did2x2(panel, "y", pre=3, post=7, seed="42")  # type: ignore[arg-type]


def test_a_generator_seed_is_accepted(panel: em.Panel) -> None:
    a = em.att_gt(panel, "y", inference="bootstrap", seed=np.random.default_rng(5), n_draws=50)
    b = em.att_gt(panel, "y", inference="bootstrap", seed=5, n_draws=50)
    np.testing.assert_allclose(a.table["std_error"], b.table["std_error"])


# -- 3. optimiser options ------------------------------------------------------------------
def test_an_optimiser_option_typo_is_refused_before_scipy(design: em.cases.Design) -> None:
    with pytest.raises(EstimationError, match=r"^synth: optimizer_options has 'maxitr', which is "
                                              r"not an option of scipy's 'Nelder-Mead'; its "
                                              r"options are \[.*'maxiter'.*\] \(did you mean "
                                              r"'maxiter'\?\)\.$"):
        em.synth(design.panel, "N31807", treated="1287", start=2010, predictors=["N31807"],
                 optimizer_options={"maxitr": 5}, inference="none")
    with pytest.raises(EstimationError, match=r"^synth: optimizer='neldermead' is not a method "
                                              r".* \(did you mean 'nelder-mead'\?\)\.$"):
        em.synth(design.panel, "N31807", treated="1287", start=2010, predictors=["N31807"],
                 optimizer="neldermead", inference="none")


# -- 5. impossible designs -----------------------------------------------------------------
def test_a_single_period(frame: pd.DataFrame) -> None:
    one = _panel(frame[frame["time"] == 5])
    msg = (r"the panel has 1 period \(5\); a difference-in-differences needs periods before "
           r"and after adoption: use a panel with at least two periods\.$")
    for fn, call in (("twfe", em.twfe), ("att_gt", em.att_gt), ("event_study", em.event_study)):
        with pytest.raises(EstimationError, match=rf"^{fn}: {msg}"):
            call(one, "y")


def test_every_treated_unit_adopting_in_the_first_period(frame: pd.DataFrame) -> None:
    """Before: linearmodels' AbsorbingEffectError (twfe), a message about collinearity that
    advised adding never-treated units although there were some (event_study)."""
    p = _panel(frame.assign(cohort=np.where(frame["cohort"] > 0, 1, 0)))
    first = (r"every treated unit \(6\) is treated from the panel's first period \(1\), so "
             r"none has a pre-period")
    with pytest.raises(EstimationError, match=rf"^twfe: {first}"):
        em.twfe(p, "y")
    with pytest.raises(EstimationError, match=rf"^event_study: {first}"):
        em.event_study(p, "y")
    with pytest.raises(EstimationError, match=r"^att_gt: no treated unit is left of the 6 in the "
                                              r"panel: 6 are treated in the first period \(1\) "
                                              r"and have no untreated base period; use a panel "
                                              r"that starts before adoption\.$"):
        em.att_gt(p, "y")
    with pytest.raises(EstimationError, match=r"^did2x2: pre=\[1\] reaches the first treated "
                                              r"period of 6 treated unit\(s\)"):
        em.did2x2(p, "y", pre=1, post=5)


def test_no_never_treated_unit(frame: pd.DataFrame) -> None:
    """Every unit adopting in period 6: twfe raised linearmodels' AbsorbingEffectError and
    att_gt(control_group="not_yet") returned a table of NaN."""
    p = _panel(frame.assign(cohort=6))
    with pytest.raises(EstimationError, match=r"^twfe: every unit \(20\) adopts in period 6 and "
                                              r"none is never treated or treated later, so "
                                              r"there is no comparison unit"):
        em.twfe(p, "y")
    with pytest.raises(EstimationError, match=r"^att_gt: every treated unit \(20\) adopts in "
                                              r"period 6 and none is never treated, so there is "
                                              r"no comparison group: control_group='not_yet' "
                                              r"needs units treated later"):
        em.att_gt(p, "y", control_group="not_yet")
    with pytest.raises(EstimationError, match=r"^att_gt: there are no never-treated units, so "
                                              r"control_group='never' has no comparison group"):
        em.att_gt(p, "y")
    with pytest.raises(EstimationError, match=r"^did2x2: there are no comparison units"):
        em.did2x2(p, "y", pre=3, post=7)
    with pytest.raises(EstimationError, match=r"^sdid: the donor pool has 0 unit\(s\)"):
        em.sdid(p, "y")


def test_not_yet_with_two_cohorts_and_no_never_treated_still_runs(frame: pd.DataFrame) -> None:
    """The refusal above is only for one cohort: with a later cohort as comparison, the cells
    of the earlier cohort are estimated (and finite)."""
    p = _panel(frame.assign(cohort=np.where(frame["cohort"] > 0, 5, 8)))
    res = em.att_gt(p, "y", control_group="not_yet", inference="analytic")
    assert set(res.table["cohort"]) == {5}
    assert np.isfinite(res.table["estimate"]).all()


def test_covariate_nans_that_remove_every_treated_unit(frame: pd.DataFrame) -> None:
    """Before: "no treated units are left (cohorts are all 0 after dropping units treated in
    the first period ...)" and "the treatment indicator does not vary" -- wrong causes."""
    df = frame.copy()
    df.loc[df["cohort"] > 0, "x"] = np.nan
    p = _panel(df)
    with pytest.raises(EstimationError, match=r"^att_gt: no treated unit is left of the 6 in the "
                                              r"panel: 6 have a missing value \(covariate 'x' in "
                                              r"6 of them\); fill the missing values or leave "
                                              r"that covariate out\.$"):
        em.att_gt(p, "y", covariates=["x"])
    with pytest.raises(EstimationError, match=r"^twfe: every treated row has a missing value, so "
                                              r"no treated observation is left: covariate 'x' is "
                                              r"missing in 30 of the 30 treated rows; fill"):
        em.twfe(p, "y", covariates=["x"])


def test_outcome_not_in_panel_suggests_a_close_name(design: em.cases.Design) -> None:
    with pytest.raises(PanelError, match=r"^outcome 'N31087' is not a variable of the panel; "
                                         r"variables are \[.*\] \(did you mean 'N31807'\?\)\.$"):
        em.did2x2(design.panel, "N31087", pre=2008, post=2012)


def test_treated_unit_not_in_panel(design: em.cases.Design) -> None:
    with pytest.raises(EstimationError, match=r"^synth: treated unit '9999' is not in the panel"):
        em.synth(design.panel, "N31807", treated="9999", start=2010, inference="none")
    with pytest.raises(EstimationError, match=r"^did2x2: treated has units not in the panel "
                                              r"\(\['1287x'\]\)"):
        em.did2x2(design.panel, "N31807", pre=2008, post=2012, treated=["1287x"])


def test_pre_outside_the_panel_and_post_before_pre(panel: em.Panel) -> None:
    with pytest.raises(EstimationError, match=r"^did2x2: pre has periods not in the panel "
                                              r"\(\[0\]\); the panel covers 1-10\.$"):
        em.did2x2(panel, "y", pre=0, post=7)
    with pytest.raises(EstimationError, match=r"^did2x2: pre=\[7\] ends after post=\[3\] begins"):
        em.did2x2(panel, "y", pre=7, post=3)


def test_conf_level_and_n_draws(panel: em.Panel) -> None:
    with pytest.raises(EstimationError, match=r"^did2x2: conf_level=95 must be a number strictly "
                                              r"between 0 and 1, e\.g\. 0\.95\.$"):
        em.did2x2(panel, "y", pre=3, post=7, conf_level=95)
    for bad in (0, -10, 99.5):
        with pytest.raises(EstimationError, match=rf"^did2x2: n_draws={bad!r} must be an "
                                                  r"integer of at least 1 or None"):
            em.did2x2(panel, "y", pre=3, post=7, n_draws=bad)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"^att_gt: n_draws=99\.0 must be an integer of at "
                                              r"least 2, e\.g\. n_draws=99\.$"):
        em.att_gt(panel, "y", inference="bootstrap", n_draws=99.0)  # type: ignore[arg-type]
