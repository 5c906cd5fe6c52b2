"""Placebo gaps and effect tables made with less copying equal the frame-based path, bit for bit.

``placebo._gaps_of`` gives each donor's outcome minus its synthetic control under its weights on
the other donors. It used to copy the other donors' outcome rows for every placebo (285 rows of
the report's pools, 286 times a run); it now keeps one pool array and swaps one row in per
placebo (issue 16). The product is the same BLAS call on the same numbers, so the gaps must be
those of ``SynthProblem.gaps`` on a fresh copy of the pool, bit for bit.

The effect-rank tables (``PlaceboResult.effect_table`` and the augmented control's studentized
one) used to build a frame of the kept placebos' effects (``placebo_effects``), select the
terms and convert it back to an array; they now take the same numbers from the gaps array,
with the average summed as pandas' row mean sums it and the array in the frame's column-major
layout (which decides the order of the standard deviation's sums), and build the table in one
frame. Checked against the frame-based path, value for value and bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from evalmodel.core.inversion import invert_linear_permutation, rank_p_values
from evalmodel.core.synth_solver import SynthProblem
from evalmodel.inference import placebo as pl
from evalmodel.inference.placebo_ascm import AscmPlaceboResult, placebo_from_gaps

#: The ``awkward_outcomes`` fixture's generator (tests/conftest.py).
Outcomes = Callable[..., np.ndarray]


def _loop(problem: SynthProblem, n: int, w: np.ndarray) -> np.ndarray:
    """The old path: the pool's rows copied for every placebo."""
    donors = np.arange(n)
    out = np.empty((n, problem.y.shape[1]))
    for j in donors:
        pool = donors[donors != j]
        out[j] = problem.gaps(int(j), pool, w[j, pool])
    return out


def _weights(rng: np.random.Generator, n: int, support: int) -> np.ndarray:
    """Simplex weights on the others for each of ``n`` units (zero diagonal), sparse as the
    solver's are."""
    w = np.zeros((n, n))
    for j in range(n):
        others = np.flatnonzero(np.arange(n) != j)
        on = rng.choice(others, size=min(support, others.size), replace=False)
        w[j, on] = rng.dirichlet(np.ones(on.size))
    return w


@pytest.mark.parametrize(("n", "periods"), [(2, 3), (5, 7), (40, 14), (287, 27)])
def test_gaps_equal_a_copied_pool_per_placebo_bit_for_bit(n: int, periods: int) -> None:
    """Report-sized pools (287 units, 27 periods) and small ones; a treated row after the
    donors that no placebo may use; dense weights as well as sparse."""
    rng = np.random.default_rng(n)
    y = 50.0 + rng.normal(0.0, 10.0, (n + 1, periods)).cumsum(axis=1)
    problem = SynthProblem(x=y[:, :2].T, y=y, fit_cols=np.arange(2), scale=False)
    for w in (_weights(rng, n, 12), _weights(rng, n, n)):
        got = pl._gaps_of(problem, np.arange(n), w)
        assert np.array_equal(got, _loop(problem, n, w))
        assert np.array_equal(y[:n], y[:n].copy())  # the outcomes are left as they were


def test_gaps_recover_a_planted_synthetic_control(awkward_outcomes: Outcomes) -> None:
    """Planted truth: a donor that is exactly a mix of two others has zero gaps under that
    mix, and every other donor's gap is its outcome minus its weighted pool."""
    y = awkward_outcomes(3, units=12, periods=9)
    y[4] = 0.25 * y[2] + 0.75 * y[7]
    n = y.shape[0] - 1
    w = np.zeros((n, n))
    w[4, 2], w[4, 7] = 0.25, 0.75
    for j in range(n):
        if j != 4:
            w[j, (j + 1) % n] = 1.0
    problem = SynthProblem(x=y[:, :2].T, y=y, fit_cols=np.arange(2), scale=False)
    got = pl._gaps_of(problem, np.arange(n), w)
    assert np.allclose(got[4], 0.0, atol=1e-12)
    for j in range(n):
        if j != 4:
            assert np.allclose(got[j], y[j] - y[(j + 1) % n], rtol=0, atol=1e-12)


def _frame_table(index: dict[str, list[object]], estimate: np.ndarray, stats: np.ndarray,
                 scale: float, conf_level: float) -> pd.DataFrame:
    """The table as rank_effect_table built it before (issue 16), verbatim."""
    n = stats.shape[0]
    sd = (scale * stats.std(axis=0, ddof=1) if n >= 2 else np.full(estimate.size, np.nan))
    t = estimate / scale
    p = rank_p_values(t, stats)
    lo, hi = invert_linear_permutation(t, np.full(estimate.size, 1 / scale), stats,
                                       np.zeros_like(stats), 1 - conf_level)
    out = pd.DataFrame(index).reset_index(drop=True)
    out["estimate"] = estimate
    out["std_error"] = sd
    out["ci_lower"] = lo
    out["ci_upper"] = hi
    out["p_value"] = p
    return out


@pytest.mark.parametrize(("n", "pre", "post"), [(5, 3, 1), (30, 6, 4), (286, 12, 15),
                                                (60, 20, 40)])
def test_effect_tables_equal_the_frame_path_bit_for_bit(n: int, pre: int, post: int) -> None:
    """Raw and studentized effect-rank tables (and the effect matrix itself, in the frame's
    layout) equal the frame-based path, for 1 to 40 post-periods and a strict and a loose
    exclusion rule; an index given as Series takes the old frame-building path, with the same
    table."""
    rng = np.random.default_rng(n + post)
    periods = np.arange(2000, 2000 + pre + post)
    gaps = rng.normal(0.0, 1.0, (n + 1, periods.size)) * rng.uniform(0.2, 3.0, (n + 1, 1))
    units = [f"u{i:03d}" for i in range(n + 1)]
    scale = rng.uniform(0.5, 2.0, n + 1)
    terms = [*(str(t) for t in periods[pre:]), "average"]
    index: dict[str, list[object]] = {"term": terms, "time": [*periods[pre:].tolist(), pd.NA]}
    for ratio in (1.0, 5.0):
        res = placebo_from_gaps(gaps, periods=periods, start=int(periods[pre]), units=units,
                                max_pre_mspe_ratio=ratio, conf_level=0.9, scale=scale)
        assert isinstance(res, AscmPlaceboResult)
        est = np.append(gaps[-1, pre:], gaps[-1, pre:].mean())
        frame = res.placebo_effects()[terms].to_numpy(dtype=float)
        got = res._effect_matrix(terms)
        assert np.array_equal(got, frame) and got.flags.f_contiguous == frame.flags.f_contiguous
        raw = _frame_table(index, est, frame, 1.0, 0.9)
        pd.testing.assert_frame_equal(pl.PlaceboResult.effect_table(res, index, est,
                                                                    conf_level=0.9),
                                      raw, check_exact=True)
        z = res.placebo_statistics()[terms].to_numpy(dtype=float)
        student = _frame_table(index, est, z, float(scale[-1]), 0.9)
        pd.testing.assert_frame_equal(res.effect_table(index, est, conf_level=0.9), student,
                                      check_exact=True)
        series = {"term": pd.Series(terms, index=np.arange(len(terms)) + 7)}
        pd.testing.assert_frame_equal(
            res.effect_table(series, est, conf_level=0.9),
            _frame_table(series, est, z, float(scale[-1]), 0.9), check_exact=True)  # type: ignore[arg-type]


def test_effect_table_recovers_planted_ranks() -> None:
    """Planted truth: with placebo average effects 1 .. 9 (kept, scale 1) and a treated average
    of 6.5, three placebos (7, 8, 9) are at least as large: p-value (1 + 3) / (1 + 9)."""
    periods = np.array([1, 2, 3])
    gaps = np.zeros((10, 3))
    gaps[:9, 2] = np.arange(1.0, 10.0)
    gaps[:9, :2] = 1e-3
    gaps[9] = [1e-3, 1e-3, 6.5]
    res = placebo_from_gaps(gaps, periods=periods, start=3, units=[str(u) for u in range(10)],
                            max_pre_mspe_ratio=5.0, conf_level=0.9)
    table = res.effect_table({"term": ["3", "average"]}, np.array([6.5, 6.5]), conf_level=0.9)
    assert table["p_value"].tolist() == [0.4, 0.4]
