"""The window-and-donor policy of :mod:`evalmodel.coverage` on data with holes and a series break.

Fast tests pin the decisions of :func:`estimation_window` on one small hand-made panel. The slow
Monte Carlo tests simulate Kolada-like panels (60 units, 2005-2020, one treated unit adopting
in 2012, AR(1) noise) with scattered donor holes, early years covered by half of the units, an
interior pre-period hole of the treated unit in about a third of the replications, and a series
break in 2009 (a common shift plus a unit-specific part, the same for treated and donors). The
policy's window and donors are then fed to the randomisation inference of
:func:`~evalmodel.inference.permutation.permutation_inference` with the 2x2 DiD statistic, and
the planted effect must be inside the intervals at the nominal rate.

With one treated unit and ``n`` units in all, the exact test rejects with probability
``floor(0.05 n) / n`` (``n`` is about 40 here), so the attainable coverage is between 0.95 and
0.975; coverage is checked against both 0.95 and that attainable level, with a band of three
Monte Carlo standard errors.

The contrasts show that the checks can fail: a break that hits only the treated unit, with a
window crossing it, under-covers (the window from the break on restores coverage); filling the
donors' missing cells with 0 instead of leaving those donors out keeps the test valid only by
making the interval an order of magnitude wider, so that the planted effect is no longer found.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.coverage import EstimationWindow, estimation_window
from evalmodel.errors import MissingCellError
from evalmodel.inference.permutation import (
    DiD2x2Statistic,
    PermutationResult,
    permutation_inference,
)

pytestmark = pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")

ALPHA = 0.05


# -- decisions on a small hand-made panel ------------------------------------------------------

HY = list(range(2000, 2008))  # 2000 is covered by 3 of the 8 donors
H_ADOPT = 2005
H_TREATED = "T01"
H_POOL = [f"D0{i}" for i in range(1, 9)]


def _hand_panel() -> em.Panel:
    """``x``: donor D02 lacks 2002, D03 lacks 2003 and 2005, D04-D08 lack 2000; ``y``: the
    same plus a hole of the treated unit in 2002; ``z``: observed from adoption (2005) only."""
    rows = []
    for i, u in enumerate([H_TREATED, *H_POOL]):
        for t in HY:
            v = 10.0 * i + (t - 2000) + 0.5 * (t - 2000) ** 2 * (i % 3)
            rows.append({"unit": u, "year": t, "x": v, "y": v,
                         "z": v if t >= H_ADOPT else np.nan})
    df = pd.DataFrame(rows)
    holes = [("D02", 2002), ("D03", 2003), ("D03", 2005),
             *[(u, 2000) for u in H_POOL[3:]]]
    for u, t in holes:
        df.loc[(df.unit == u) & (df.year == t), ["x", "y"]] = np.nan
    df.loc[(df.unit == H_TREATED) & (df.year == 2002), "y"] = np.nan
    return em.Panel(df, unit="unit", time="year")


def _window(panel: em.Panel, outcome: str, **kw: object) -> EstimationWindow:
    return estimation_window(panel, outcome, treated=[H_TREATED], pool=H_POOL, adoption=H_ADOPT,
                             **kw)  # type: ignore[arg-type]


def test_window_leaves_out_low_coverage_years_and_incomplete_donors() -> None:
    w = _window(_hand_panel(), "x")
    assert w.years_with_data == tuple(range(2001, 2008))
    assert w.periods == tuple(range(2001, 2008))  # 2000: 3 of 8 donors (37.5 %) < 80 %
    assert w.pre == (2001, 2002, 2003, 2004) and w.post == (2005, 2006, 2007)
    assert w.dropped == (("D02", 1), ("D03", 2))
    # the donors lacking only 2000 stay: the window does not reach it
    assert w.donors == ("D01", *H_POOL[3:])
    assert w.filled == () and w.testable and w.reason == ""


def test_treated_interior_gap_error_fill_trim() -> None:
    panel = _hand_panel()
    with pytest.raises(MissingCellError, match=r"T01 in 2002 has no y value") as info:
        _window(panel, "y")  # treated_gaps="error" is the default
    assert "2001-2007" in str(info.value)
    with pytest.raises(MissingCellError, match="T01 in 2002"):
        _window(panel, "y", treated_gaps="error")

    wide = panel.wide("y")
    w = _window(panel, "y", treated_gaps="fill")
    mean = (wide.loc[H_TREATED, 2001] + wide.loc[H_TREATED, 2003]) / 2
    assert w.filled == ((H_TREATED, 2002, pytest.approx(mean)),)
    assert w.periods == tuple(range(2001, 2008)) and w.testable
    assert w.dropped == (("D02", 1), ("D03", 2))
    assert any("interpolation" in d for d in w.decisions)

    w = _window(panel, "y", treated_gaps="trim")
    assert w.periods == tuple(range(2003, 2008)) and w.pre == (2003, 2004)
    assert w.filled == () and w.testable
    # D02's hole (2002) is outside the shortened window, so D02 is a donor again
    assert w.dropped == (("D03", 2),)
    assert "D02" in w.donors
    assert any("shortened to 2003-2007" in d for d in w.decisions)


def test_outcome_starting_at_adoption_is_not_testable() -> None:
    w = _window(_hand_panel(), "z")
    assert w.testable is False
    assert w.years_with_data == (2005, 2006, 2007)
    assert "2005-2007" in w.reason and "adoption 2005" in w.reason
    assert w.periods == () and w.donors == ()


# -- Monte Carlo -------------------------------------------------------------------------------

YEARS = np.arange(2005, 2021)
ADOPT, BREAK, GAP_YEAR = 2012, 2009, 2008
N_UNITS = 60
TAU = -1.0
UNITS = [f"k{i:03d}" for i in range(N_UNITS)]
TREATED, POOL = UNITS[0], UNITS[1:]
P_HOLE = 0.03  # comparison cells missing at random
P_EARLY = 0.5  # share of units without 2005-2006
P_GAP = 1 / 3  # replications with a treated hole in GAP_YEAR
BREAK_MEAN, BREAK_SD = 2.0, 1.0  # the break: a common shift plus a unit-specific part
SIGMA, RHO = 0.4, 0.5  # AR(1) idiosyncratic noise (stationary sd SIGMA)


def _simulate(rng: np.random.Generator, *, tau: float = TAU, p_gap: float = P_GAP,
              treated_only_break: bool = False) -> tuple[np.ndarray, bool]:
    """Outcome matrix (units x years, NaN for holes) and whether the treated unit has a hole."""
    n, t = N_UNITS, YEARS.size
    unit_fe = rng.normal(50.0, 5.0, n)
    year_fe = np.cumsum(rng.normal(0.3, 1.0, t))
    e = np.empty((n, t))
    e[:, 0] = rng.normal(0.0, SIGMA, n)
    shocks = rng.normal(0.0, SIGMA * np.sqrt(1 - RHO**2), (n, t))
    for j in range(1, t):
        e[:, j] = RHO * e[:, j - 1] + shocks[:, j]
    shift = BREAK_MEAN + rng.normal(0.0, BREAK_SD, n)
    if treated_only_break:
        shift = np.zeros(n)
        shift[0] = BREAK_MEAN
    y = unit_fe[:, None] + year_fe[None, :] + e + shift[:, None] * (YEARS >= BREAK)[None, :]
    y[0] += tau * (YEARS >= ADOPT)
    miss = rng.random((n, t)) < P_HOLE
    miss[:, YEARS <= 2006] |= (rng.random(n) < P_EARLY)[:, None]
    miss[0] = False
    gap = bool(rng.random() < p_gap)
    miss[0, YEARS == GAP_YEAR] = gap
    return np.where(miss, np.nan, y), gap


def _panel(y: np.ndarray) -> em.Panel:
    df = pd.DataFrame({"unit": np.repeat(UNITS, YEARS.size), "year": np.tile(YEARS, N_UNITS),
                       "y": y.ravel()})
    return em.Panel(df, unit="unit", time="year")


def _infer(panel: em.Panel, pool: list[str], pre: tuple[int, ...], post: tuple[int, ...],
           seed: int) -> PermutationResult:
    return permutation_inference(panel.with_cohorts({TREATED: ADOPT}), "y",
                                 statistic=DiD2x2Statistic("y", pre=pre, post=post),
                                 treated=[TREATED], pool=pool, seed=seed)


def _policy(panel: em.Panel, seed: int, *, periods: range | None = None,
            gaps: str = "trim") -> tuple[PermutationResult, EstimationWindow]:
    """The package's policy: window and donors, the treated cells filled if asked, inference."""
    if periods is not None:
        panel = panel.select(periods=periods)
    w = estimation_window(panel, "y", treated=[TREATED], pool=POOL, adoption=ADOPT,
                          treated_gaps=gaps)  # type: ignore[arg-type]
    assert w.testable, w.reason
    sub = panel.select(units=[TREATED, *w.donors], periods=w.periods)
    if w.filled:
        sub = sub.with_values("y", {(u, p): v for u, p, v in w.filled})
    return _infer(sub, list(w.donors), w.pre, w.post, seed), w


def _zero_fill(y: np.ndarray, w: EstimationWindow, seed: int) -> PermutationResult:
    """The broken donor policy: every pool unit kept, its missing window cells set to 0."""
    panel = _panel(np.where(np.isnan(y), 0.0, y)).select(periods=w.periods)
    return _infer(panel, POOL, w.pre, w.post, seed)


def _attainable(n_units: int) -> float:
    """Coverage of the exact permutation interval with one treated unit among ``n_units``."""
    return 1 - np.floor(ALPHA * n_units + 1e-9) / n_units


def _covers(r: PermutationResult, tau: float = TAU) -> bool:
    return bool(r.ci_lower <= tau <= r.ci_upper)


def run_policy_mc(reps: int, seed: int = 20240611) -> pd.DataFrame:
    """One row per replication: the policy's window (trim), the window from the break on, and
    ``treated_gaps="fill"`` where the treated unit has a hole."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(reps):
        y, gap = _simulate(rng)
        panel = _panel(y)
        r, w = _policy(panel, i)
        # after a treated hole in GAP_YEAR the policy's window already starts at the break
        rb, wb = (r, w) if w.periods[0] >= BREAK else _policy(
            panel, i, periods=range(BREAK, YEARS[-1] + 1))
        row = {"gap": gap, "start": w.periods[0], "end": w.periods[-1], "n_pre": len(w.pre),
               "dropped": len(w.dropped), "n": len(w.donors) + 1, "est": r.estimate,
               "cover": _covers(r), "width": r.ci_upper - r.ci_lower, "found": r.ci_upper < 0,
               "attainable": _attainable(len(w.donors) + 1),
               "est_break": rb.estimate, "cover_break": _covers(rb),
               "width_break": rb.ci_upper - rb.ci_lower, "found_break": rb.ci_upper < 0,
               "attainable_break": _attainable(len(wb.donors) + 1),
               "est_fill": np.nan, "cover_fill": np.nan, "n_filled": 0}
        if gap:
            rf, wf = _policy(panel, i, gaps="fill")
            row |= {"est_fill": rf.estimate, "cover_fill": float(_covers(rf)),
                    "n_filled": len(wf.filled)}
        rows.append(row)
    return pd.DataFrame(rows)


def run_size_mc(reps: int, seed: int = 99) -> pd.DataFrame:
    """Planted null (tau = 0): the policy's p-value."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(reps):
        y, _ = _simulate(rng, tau=0.0)
        r, w = _policy(_panel(y), i)
        n = len(w.donors) + 1
        rows.append({"p": r.p_value, "reject": r.p_value <= ALPHA + 1e-12,
                     "size": 1 - _attainable(n), "cover0": _covers(r, 0.0)})
    return pd.DataFrame(rows)


def run_contrast_mc(reps: int, seed: int = 7) -> pd.DataFrame:
    """Broken set-ups: a break of the treated unit only (window crossing it, and the window
    from the break on), and the donors' holes filled with 0 (next to the policy on the same
    data)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(reps):
        y, _ = _simulate(rng, p_gap=0.0, treated_only_break=True)
        panel = _panel(y)
        r, _ = _policy(panel, i)
        rb, _ = _policy(panel, i, periods=range(BREAK, YEARS[-1] + 1))
        y, _ = _simulate(rng)
        rp, w = _policy(_panel(y), i)
        rz = _zero_fill(y, w, i)
        rows.append({"cover_own_break": _covers(r), "est_own_break": r.estimate,
                     "cover_own_break_after": _covers(rb),
                     "cover_policy": _covers(rp), "width_policy": rp.ci_upper - rp.ci_lower,
                     "found_policy": rp.ci_upper < 0,
                     "cover_zero": _covers(rz), "width_zero": rz.ci_upper - rz.ci_lower,
                     "found_zero": rz.ci_upper < 0, "est_zero": rz.estimate})
    return pd.DataFrame(rows)


def _mc_se(p: float, reps: int) -> float:
    return float(np.sqrt(p * (1 - p) / reps))


R_POLICY, R_SIZE, R_CONTRAST = 600, 500, 120


@pytest.mark.slow
def test_mc_policy_covers_planted_effect() -> None:
    df = run_policy_mc(R_POLICY)
    se = _mc_se(0.95, R_POLICY)
    # the policy did its work: 2005-2006 never in the window; trimmed after the treated hole
    assert (df.start >= 2007).all() and (df.end == 2020).all()
    assert (df.start[df.gap] == GAP_YEAR + 1).all() and (df.start[~df.gap] == 2007).all()
    assert df.dropped.mean() > 10 and (df.n >= 20).all()  # 1/n <= 0.05 attainable
    for cover, level in (("cover", "attainable"), ("cover_break", "attainable_break")):
        c = df[cover].mean()
        assert abs(c - 0.95) <= 3 * se, (cover, c)
        assert abs(c - df[level].mean()) <= 3 * se, (cover, c, df[level].mean())
    for est in ("est", "est_break"):
        bias = df[est].mean() - TAU
        assert abs(bias) <= 3 * df[est].std() / np.sqrt(R_POLICY), (est, bias)
    # the window from the break on does away with the unit-specific part of the break
    assert df.width_break.mean() < df.width.mean()
    # treated_gaps="fill" on the replications with a treated hole: one cell, still covering
    fill = df[df.gap]
    assert (fill.n_filled == 1).all() and len(fill) > 150
    assert abs(fill.cover_fill.mean() - 0.95) <= 3 * _mc_se(0.95, len(fill))


@pytest.mark.slow
def test_mc_policy_size_under_null() -> None:
    df = run_size_mc(R_SIZE)
    se = _mc_se(ALPHA, R_SIZE)
    size = df.reject.mean()
    assert abs(size - ALPHA) <= 3 * se, size
    assert abs(size - df["size"].mean()) <= 3 * se, (size, df["size"].mean())
    # the p-value and the interval agree: rejected exactly when 0 is outside
    assert (df.reject == ~df.cover0).all()


@pytest.mark.slow
def test_mc_contrasts_show_the_checks_can_fail() -> None:
    df = run_contrast_mc(R_CONTRAST)
    se = _mc_se(0.95, R_CONTRAST)
    # a break of the treated unit only, inside the window: biased, coverage far below nominal
    assert df.cover_own_break.mean() < 0.95 - 10 * se, df.cover_own_break.mean()
    assert df.est_own_break.mean() - TAU > 0.5
    # ... and the window from the break on restores it
    assert abs(df.cover_own_break_after.mean() - 0.95) <= 3 * se
    # donors' holes filled with 0: the placebo distribution is wrecked; the interval is valid
    # only by being an order of magnitude wider, and the planted effect is no longer found
    assert abs(df.cover_policy.mean() - 0.95) <= 3 * se
    assert df.width_zero.median() > 5 * df.width_policy.median()
    assert df.found_policy.mean() > 0.4 and df.found_zero.mean() < 0.05
