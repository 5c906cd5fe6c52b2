"""The placebo study's batch of did2x2, twfe, att_gt and the Sun-Abraham and imputation event
studies equals one fit per placebo unit (for att_gt and the event studies see the sections
below for what is bitwise and what agrees to 1e-12).

``calibrate.did2x2`` and ``calibrate.twfe`` compute every placebo unit's permutation test at
once (``Adapter.placebo_batch``) on a balanced panel without missing outcomes (issue 16). The
reference is the adapter itself called on each fake panel, and the placebo study with the batch
switched off: intervals and p-values must agree to 1e-12 (they are the same arithmetic), the
estimates too (the batch gives the permutation statistic, the estimators their regression).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel import calibrate
from evalmodel.calibrate import Adapter

ADOPTION = 2006
TOL = 1e-12


def _panel(*, gaps: int = 0, missing: int = 0, seed: int = 3) -> em.Panel:
    """30 units whose ids do not follow their order in the frame (rows shuffled), a unit and
    period effect, a trend for some units and noise; no cohort."""
    rng = np.random.default_rng(seed)
    ids = [f"{u:04d}" for u in rng.choice(9000, size=30, replace=False)]
    years = list(range(2000, 2010))
    df = pd.DataFrame([(u, t) for u in ids for t in years], columns=["kommun", "year"])
    level = dict(zip(ids, rng.normal(0, 3, len(ids)), strict=True))
    trend = dict(zip(ids, rng.normal(0, 0.3, len(ids)), strict=True))
    df["y"] = (df["kommun"].map(level) + (df["year"] - 2000) * df["kommun"].map(trend)
               + 0.2 * (df["year"] - 2000) + rng.normal(0, 1, len(df)))
    if gaps:
        df = df.drop(index=rng.choice(len(df), size=gaps, replace=False))
    if missing:
        df.loc[df.index[rng.choice(len(df), size=missing, replace=False)], "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)
        return em.Panel(df.sample(frac=1, random_state=seed), unit="kommun", time="year")


ADAPTERS = {
    "did2x2": lambda: calibrate.did2x2(pre=[2004, 2005], post=[2006, 2007, 2008]),
    "twfe": lambda: calibrate.twfe(),
}


def _per_unit(adapter: Adapter, panel: em.Panel, units: list[str]) -> np.ndarray:
    rows = []
    for u in units:
        r = adapter(panel.with_cohorts({u: ADOPTION}), "y", u, ADOPTION)
        o = r.overall if hasattr(r, "overall") else None
        rows.append([float(o["estimate"]), float(o["ci_lower"]), float(o["ci_upper"]),
                     float(o["p_value"])] if o is not None else list(r))
    return np.array(rows)


def _assert_close(fast: np.ndarray, slow: np.ndarray) -> None:
    assert fast.shape == slow.shape
    assert np.isfinite(slow).all()
    np.testing.assert_allclose(fast, slow, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_batch_equals_one_fit_per_unit(kind: str) -> None:
    panel = _panel()
    adapter = ADAPTERS[kind]()
    units = panel.units[::5]
    fast = adapter.placebo_batch(panel, "y", units, ADOPTION)
    assert fast is not None  # the batch applies here: the comparison is not loop against loop
    _assert_close(np.array(fast), _per_unit(adapter, panel, units))


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_placebo_study_with_and_without_the_batch(kind: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    panel = _panel(seed=5)
    adapter = ADAPTERS[kind]()
    pool = panel.units
    fast = em.placebo_study(panel, "y", adapter, pool=pool, adoption=ADOPTION, n_units=12,
                            seed=2)
    monkeypatch.setattr(Adapter, "placebo_batch", lambda *a, **k: None)
    slow = em.placebo_study(panel, "y", adapter, pool=pool, adoption=ADOPTION, n_units=12,
                            seed=2)
    cols = ["estimate", "ci_lower", "ci_upper", "p_value"]
    _assert_close(fast.placebos[cols].to_numpy(float), slow.placebos[cols].to_numpy(float))
    for c in ("unit", "rejected", "covered"):
        assert fast.placebos[c].tolist() == slow.placebos[c].tolist()
    assert fast.warnings == slow.warnings and fast.notes == slow.notes
    pd.testing.assert_frame_equal(fast.table, slow.table, rtol=TOL)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
@pytest.mark.parametrize("gaps,missing", [(4, 0), (0, 3)])
def test_no_batch_on_unbalanced_or_missing_data(kind: str, gaps: int, missing: int) -> None:
    """Absent cells or missing outcomes change the estimators' samples: no batch, so the
    study fits each unit (tests/inference/test_calibration.py covers that loop)."""
    panel = _panel(gaps=gaps, missing=missing)
    assert not panel.is_balanced or np.isnan(panel.column("y")).any()
    assert ADAPTERS[kind]().placebo_batch(panel, "y", panel.units[:3], ADOPTION) is None


def test_no_batch_for_other_options_or_a_planted_effect() -> None:
    panel = _panel()
    units = panel.units[:3]
    assert calibrate.twfe(cluster=None).placebo_batch(panel, "y", units, ADOPTION) is None
    assert calibrate.did2x2(pre=2005, post=2006, n_draws=50).placebo_batch(
        panel, "y", units, ADOPTION) is None
    adapter = calibrate.twfe()
    s = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION,
                         effect=2.0, n_units=5, seed=1)  # the loop: the batch plants nothing
    wide = panel.wide("y")
    ref = np.vstack([_per_unit(adapter, panel.with_values("y", {
        (u, t): v + 2.0 for t, v in wide.loc[u].items() if t >= ADOPTION}), [u])
        for u in s.placebos["unit"]])
    _assert_close(s.placebos[["estimate", "ci_lower", "ci_upper", "p_value"]].to_numpy(float),
                  ref)


# -- att_gt: the aggregation's permutation test of every placebo unit at once ----------------
STAGGERED = {
    "simple": lambda: calibrate.att_gt("simple"),
    "dynamic": lambda: calibrate.att_gt("dynamic"),
}
FOUR = ["estimate", "ci_lower", "ci_upper", "p_value"]


def _assert_same(fast: np.ndarray, slow: np.ndarray) -> None:
    """Intervals and p-values bit for bit (the same arithmetic as the estimator's own test);
    the estimates to 1e-12 relative (the batch gives the permutation statistic, ``att_gt``
    its cells)."""
    assert fast.shape == slow.shape
    assert np.isfinite(slow).all()
    assert np.array_equal(fast[:, 1:], slow[:, 1:])
    np.testing.assert_allclose(fast[:, 0], slow[:, 0], rtol=TOL, atol=0)


@pytest.mark.parametrize("kind", sorted(STAGGERED))
def test_att_gt_batch_equals_one_fit_per_unit(kind: str) -> None:
    panel = _panel(seed=7)
    adapter = STAGGERED[kind]()
    units = panel.units[1::4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.SmallCohortWarning)
        fast = adapter.placebo_batch(panel, "y", units, ADOPTION)
        assert fast is not None  # the batch applies: the comparison is not loop against loop
        _assert_same(np.array(fast), _per_unit(adapter, panel, units))


def test_att_gt_placebo_study_with_and_without_the_batch(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Same rows, flags, table, notes and warnings: each fit's SmallCohortWarning (a cohort
    of one unit) is counted for every placebo unit of the batch too."""
    panel = _panel(seed=11)
    adapter = STAGGERED["simple"]()
    calls: list[int] = []
    batch = Adapter.placebo_batch

    def counted(self: Adapter, *a: object) -> object:
        out = batch(self, *a)  # type: ignore[arg-type]
        calls.append(out is not None)
        return out

    monkeypatch.setattr(Adapter, "placebo_batch", counted)
    fast = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION,
                            n_units=12, seed=2)
    assert calls == [True]
    monkeypatch.setattr(Adapter, "placebo_batch", lambda *a, **k: None)
    slow = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION,
                            n_units=12, seed=2)
    _assert_same(fast.placebos[FOUR].to_numpy(float), slow.placebos[FOUR].to_numpy(float))
    for c in ("unit", "rejected", "covered"):
        assert fast.placebos[c].tolist() == slow.placebos[c].tolist()
    assert fast.warnings == slow.warnings == (("SmallCohortWarning", 12),)
    assert fast.notes == slow.notes
    pd.testing.assert_frame_equal(fast.table, slow.table, rtol=0, atol=0)


@pytest.mark.parametrize("gaps,missing", [(4, 0), (0, 3)])
def test_att_gt_no_batch_on_unbalanced_or_missing_data(gaps: int, missing: int) -> None:
    panel = _panel(gaps=gaps, missing=missing)
    assert STAGGERED["simple"]().placebo_batch(panel, "y", panel.units[:3], ADOPTION) is None


def test_att_gt_no_batch_for_other_options() -> None:
    panel = _panel()
    units = panel.units[:3]
    for adapter in (calibrate.att_gt("simple", control_group="not_yet"),
                    calibrate.att_gt("group", inference="analytic")):
        assert adapter.placebo_batch(panel, "y", units, ADOPTION) is None


# -- event studies: the post average's permutation test of every placebo unit at once ---------
EVENT = {
    "sun_abraham": lambda: calibrate.event_study("sun_abraham", window=(-3, 3)),
    "imputation": lambda: calibrate.event_study("imputation", window=(-3, 3)),
}


#: The batch's event-study estimates against the estimator's own fit: its solution of each
#: unit's system, the same regression by another route (1e-12 seen on the report's data).
EVENT_TOL = 1e-10


def _assert_event(fast: np.ndarray, slow: np.ndarray) -> None:
    """p-values bit for bit (the rank of placebos equal to about 1e-14); estimates to
    ``EVENT_TOL`` relative (the batch solves each unit's regression from the shared blocks,
    the estimator by its own least squares) and intervals likewise (the placebo and pattern
    solutions of the batch add up in another order)."""
    assert fast.shape == slow.shape
    assert np.isfinite(slow).all()
    assert np.array_equal(fast[:, 3], slow[:, 3])
    np.testing.assert_allclose(fast[:, :3], slow[:, :3], rtol=EVENT_TOL, atol=0)


@pytest.mark.parametrize("kind", sorted(EVENT))
def test_event_study_batch_equals_one_fit_per_unit(kind: str) -> None:
    panel = _panel(seed=13)
    adapter = EVENT[kind]()
    units = panel.units[2::4]
    fast = adapter.placebo_batch(panel, "y", units, ADOPTION)
    assert fast is not None  # the batch applies: the comparison is not loop against loop
    _assert_event(np.array(fast), _per_unit(adapter, panel, units))


@pytest.mark.parametrize("kind", sorted(EVENT))
def test_event_study_placebo_study_with_and_without_the_batch(
        kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = _panel(seed=17)
    adapter = EVENT[kind]()
    fast = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION,
                            n_units=12, seed=4)
    assert adapter.placebo_batch(panel, "y", fast.placebos["unit"].tolist(),
                                 ADOPTION) is not None
    monkeypatch.setattr(Adapter, "placebo_batch", lambda *a, **k: None)
    slow = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION,
                            n_units=12, seed=4)
    _assert_event(fast.placebos[FOUR].to_numpy(float), slow.placebos[FOUR].to_numpy(float))
    for c in ("unit", "rejected", "covered"):
        assert fast.placebos[c].tolist() == slow.placebos[c].tolist()
    assert fast.warnings == slow.warnings and fast.notes == slow.notes
    pd.testing.assert_frame_equal(fast.table, slow.table, rtol=0, atol=0)


@pytest.mark.parametrize("kind", sorted(EVENT))
@pytest.mark.parametrize("gaps,missing", [(4, 0), (0, 3)])
def test_event_study_no_batch_on_unbalanced_or_missing_data(kind: str, gaps: int,
                                                            missing: int) -> None:
    panel = _panel(gaps=gaps, missing=missing)
    assert EVENT[kind]().placebo_batch(panel, "y", panel.units[:3], ADOPTION) is None


def test_event_study_no_batch_for_other_options() -> None:
    panel = _panel()
    units = panel.units[:3]
    for adapter in (calibrate.event_study("twfe", window=(-3, 3)),
                    calibrate.event_study("sun_abraham", window=(-3, 3), event_time=1),
                    calibrate.event_study("imputation", window=(-3, 3), inference="analytic"),
                    calibrate.event_study("sun_abraham", window=(-3, 3), reference=-2)):
        assert adapter.placebo_batch(panel, "y", units, ADOPTION) is None


@pytest.mark.parametrize("estimator", ["sun_abraham", "imputation"])
def test_single_unit_placebos_on_rows_not_in_id_order(estimator: str) -> None:
    """A Panel keeps its rows in id order; the batch of the event-study placebo is also right
    on a frame whose units come in another order (factorize order != id order): each unit's
    post average, interval and p-value are those of event_study_placebo on that frame."""
    from evalmodel.estimators.event_study_placebo import (
        event_study_placebo,
        single_unit_placebos,
    )
    from evalmodel.estimators.imputation import imputation_fit
    from evalmodel.estimators.sun_abraham import sun_abraham_fit

    panel = _panel(seed=19)
    df = panel.data.sample(frac=1, random_state=4).reset_index(drop=True)
    codes = pd.factorize(df["kommun"])[0]
    assert list(pd.unique(df["kommun"])) != sorted(panel.units)
    window, events = (-3, 3), np.array([-3, -2, 0, 1, 2, 3])
    if estimator == "imputation":
        events = np.arange(-3, 4)

    def estimates(u: str) -> np.ndarray:
        df["cohort"] = np.where(df["kommun"] == u, ADOPTION, 0).astype(np.int64)
        if estimator == "sun_abraham":
            return sun_abraham_fit(df, "y", "kommun", "year", "cohort", codes, -1, events)[0]
        pre, _, post, _ = imputation_fit(df, "y", "kommun", "year", "cohort", codes,
                                         np.arange(-3, 0), np.arange(0, 4))
        return np.concatenate([pre, post])

    units = panel.units[3::5]
    fast = single_unit_placebos(df, "y", "kommun", "year", treated=units, adoption=ADOPTION,
                                estimator=estimator, window=window, reference=-1,
                                anticipation=0, conf_level=0.95)
    assert fast is not None
    slow = []
    for u in units:
        coef = estimates(u)  # sets the cohort column to u
        over = event_study_placebo(
            df, "y", "kommun", "year", "cohort", estimator=estimator, events=events,
            coef=coef, reference=-1 if estimator != "imputation" else -4, window=window,
            anticipation=0, n_draws=None, seed=None, conf_level=0.95).overall
        post = events >= 0
        slow.append([float(post / post.sum() @ coef), over.ci_lower, over.ci_upper,
                     over.p_value])
    _assert_event(np.array(fast), np.array(slow))


def test_sun_abraham_batch_estimates_equal_the_single_unit_closed_form() -> None:
    """A second reference for the batch's own estimates: with one treated unit every period
    but the reference has its own cell, so its coefficient at event time e is the unit's
    change from the reference period minus the comparison units' mean change (their period
    effects, the panel being balanced); the post average is the mean over e >= 0."""
    panel = _panel(seed=23)
    y = panel.wide("y")
    years = np.asarray(y.columns)
    change = y.to_numpy(float)[:, years >= ADOPTION] - y[ADOPTION - 1].to_numpy(float)[:, None]
    n = len(change)
    closed = (change - (change.sum(axis=0) - change) / (n - 1)).mean(axis=1)
    units = list(y.index)
    fast = EVENT["sun_abraham"]().placebo_batch(panel, "y", units, ADOPTION)
    assert fast is not None
    np.testing.assert_allclose([f[0] for f in fast], closed, rtol=1e-12, atol=1e-12)
    assert np.ptp(closed) > 1  # the units' estimates differ: not one number compared n times


# -- a pool too small for the level: the batch keeps the test, as the estimators do -----------
SMALL_POOL = {**ADAPTERS, "att_gt": STAGGERED["simple"], **EVENT}


@pytest.mark.parametrize("kind", sorted(SMALL_POOL))
def test_batch_on_a_pool_too_small_for_the_level(kind: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """12 units give 12 assignments, a smallest p-value of 1/12 above 0.05: every fit keeps
    its permutation test (exact p-value, the whole line as interval) and warns
    (FewTreatedClustersWarning); the batch gives the same rows, warnings and table as one fit
    per unit, and is used."""
    full = _panel(seed=29)
    panel = full.select(units=full.units[:12])
    adapter = SMALL_POOL[kind]()
    assert "FewTreatedClustersWarning" in adapter.warnings_of_batch(panel)
    assert "FewTreatedClustersWarning" not in adapter.warnings_of_batch(full)
    calls: list[bool] = []
    batch = Adapter.placebo_batch

    def counted(self: Adapter, *a: object) -> object:
        out = batch(self, *a)  # type: ignore[arg-type]
        calls.append(out is not None)
        return out

    monkeypatch.setattr(Adapter, "placebo_batch", counted)
    fast = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION)
    assert calls == [True]
    monkeypatch.setattr(Adapter, "placebo_batch", lambda *a, **k: None)
    slow = em.placebo_study(panel, "y", adapter, pool=panel.units, adoption=ADOPTION)
    f, s = fast.placebos[FOUR].to_numpy(float), slow.placebos[FOUR].to_numpy(float)
    assert np.isneginf(s[:, 1]).all() and np.isposinf(s[:, 2]).all()
    assert np.array_equal(f[:, 1:], s[:, 1:])  # the whole line and the exact p-values
    assert len(np.unique(s[:, 3])) > 3  # p-values that differ between units
    np.testing.assert_allclose(f[:, 0], s[:, 0], rtol=EVENT_TOL, atol=0)
    for c in ("unit", "rejected", "covered"):
        assert fast.placebos[c].tolist() == slow.placebos[c].tolist()
    assert dict(fast.warnings)["FewTreatedClustersWarning"] == 12
    assert fast.warnings == slow.warnings and fast.notes == slow.notes
    pd.testing.assert_frame_equal(fast.table, slow.table, rtol=0, atol=0)
