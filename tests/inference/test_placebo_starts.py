"""Placebo fits started from the weights of an earlier run give the cold start's numbers.

The synthetic control's placebo study (``calibrate.synth()``) runs placebos in space around 30
units in turn, each over nearly the same pools. Inside ``placebo_starts()`` every placebo fit
starts from that unit's last weights (:mod:`evalmodel.inference.placebo_starts`), and with V
fixed and unscaled predictors (the default outcome-path fit) all of one run's fits come from
one compiled call (:func:`~evalmodel.core.simplex_kernel.placebo_weights`). Both are checked
bit for bit against the old path (issue 16): the kernel against a loop of ``InnerProblem``,
the runs against the same runs without a store, and the placebo study against the estimator
called on each fake panel.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel import calibrate
from evalmodel.core import simplex_kernel as sk
from evalmodel.core.synth_inner import InnerProblem
from evalmodel.inference.placebo_starts import PlaceboStarts, placebo_starts

ADOPTION = 2008

#: The ``awkward_outcomes`` fixture's generator (tests/conftest.py).
Outcomes = Callable[..., np.ndarray]


def _loop(x: np.ndarray, z: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The old path: one InnerProblem per target, cold."""
    n = x.shape[1]
    w = np.zeros((n, n))
    for j in range(n):
        pool = np.arange(n) != j
        w[j, pool] = InnerProblem(x[:, pool], x[:, j], z[:, pool], z[:, j]).weights(v)
    return w


@pytest.mark.parametrize("k", [1, 3, 8])
def test_placebo_weights_equal_the_loop_cold_and_warm(k: int, awkward_outcomes: Outcomes) -> None:
    """Every unit's weights equal a fresh InnerProblem's, from the cold start and from starts
    taken from a fit on other periods (so not the optimum), bit for bit."""
    y = awkward_outcomes(k, periods=12)
    x, z = y[:, :k].T, y[:, :8].T
    v = np.full(k, 1.0 / k)
    loop = _loop(x, z, v)
    assert np.array_equal(sk.placebo_weights(x, z, v), loop)
    other = sk.placebo_weights(y[:, 4:].T, y[:, 4:].T, np.full(8, 1 / 8))
    assert np.array_equal(sk.placebo_weights(x, z, v, other), loop)
    assert (np.diag(loop) == 0).all() and np.allclose(loop.sum(axis=1), 1.0, atol=1e-12)


def _panel(outcomes: Callable[..., np.ndarray], seed: int = 4) -> em.Panel:
    y = outcomes(seed, units=30, periods=14)
    ids = [f"{u:04d}" for u in range(1000, 1030)]
    years = list(range(2000, 2014))
    df = pd.DataFrame({"kommun": np.repeat(ids, len(years)), "year": years * len(ids),
                       "y": y.ravel(), "x": (y ** 0.5).ravel()})
    return em.Panel(df, unit="kommun", time="year")


@pytest.mark.parametrize("options", [{}, {"predictors": ["x", ("y", [2003, 2006], "mean")]}])
def test_runs_sharing_starts_equal_runs_without(options: dict[str, object],
                                                 awkward_outcomes: Outcomes) -> None:
    """Placebos in space around five treated units in turn, sharing one store: every gap,
    p-value and interval equals the same run without a store, with the default fit (the
    compiled batch) and with scaled predictors and V searched (the per-unit path)."""
    panel = _panel(awkward_outcomes)
    units = panel.units[:5]
    store = PlaceboStarts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)
        for u in units:
            alone = em.synth(panel, "y", treated=u, start=ADOPTION, **options)
            with placebo_starts(store):
                shared = em.synth(panel, "y", treated=u, start=ADOPTION, **options)
            assert alone.placebo is not None and shared.placebo is not None
            assert np.array_equal(alone.placebo.gaps.to_numpy(),
                                  shared.placebo.gaps.to_numpy())
            pd.testing.assert_frame_equal(alone.table, shared.table, check_exact=True)
    assert store._w.any()  # the store was used


def test_placebo_study_equals_the_estimator_on_each_fake_panel(awkward_outcomes: Outcomes) -> None:
    """The synthetic control's placebo study (whose adapter shares starts) gives each unit
    the numbers of em.synth on that unit's fake panel, bit for bit."""
    panel = _panel(awkward_outcomes, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)
        study = em.placebo_study(panel, "y", calibrate.synth(), pool=panel.units,
                                 adoption=ADOPTION, n_units=6, seed=2)
        for _, row in study.placebos.iterrows():
            fake = panel.with_cohorts({row["unit"]: ADOPTION})
            o = em.synth(fake, "y", treated=row["unit"], start=ADOPTION).overall
            assert o is not None
            got = [row[k] for k in ("estimate", "ci_lower", "ci_upper", "p_value")]
            want = [o[k] for k in ("estimate", "ci_lower", "ci_upper", "p_value")]
            assert np.array_equal(np.asarray(got, float), np.asarray(want, float))


def test_a_changed_outcome_row_is_not_started_from_old_weights(awkward_outcomes: Outcomes) -> None:
    """Weights kept for a unit are dropped when its outcome row changes (another outcome or
    panel), and the diagonal of the starts is always zero."""
    store = PlaceboStarts()
    y = awkward_outcomes(2, units=6, periods=5)
    w = np.full((6, 6), 0.2)
    np.fill_diagonal(w, 0.0)
    store.keep([f"u{i}" for i in range(6)], y, w)
    same = store.starts([f"u{i}" for i in range(6)], y)
    assert np.array_equal(same, w)
    y2 = y.copy()
    y2[1] += 1.0
    again = store.starts([f"u{i}" for i in range(6)], y2)
    assert (again[1] == 0).all() and np.array_equal(again[2], w[2])
    assert (np.diag(store.starts(["u3", "u0"], y[[3, 0]])) == 0).all()


@pytest.mark.parametrize("options", [{}, {"predictors": ["x", ("y", [2003, 2006], "mean")]}])
def test_placebos_in_space_from_one_call_equal_one_fit_per_placebo(
        options: dict[str, object], awkward_outcomes: Outcomes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a store, a fit whose V is not searched (the default outcome path) takes every
    placebo's weights from one compiled call; gaps, table and p-values equal one nested fit
    per placebo (the path with V searched, which the second case takes) bit for bit."""
    from evalmodel.inference import placebo as pl

    panel = _panel(awkward_outcomes, seed=6)
    used: list[bool] = []
    real = pl._fixed_v

    def spy(problem: pl.SynthProblem) -> bool:
        used.append(real(problem))
        return used[-1]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)
        for u in panel.units[:4]:
            monkeypatch.setattr(pl, "_fixed_v", spy)
            batched = em.synth(panel, "y", treated=u, start=ADOPTION, **options)
            monkeypatch.setattr(pl, "_fixed_v", lambda problem: False)
            each = em.synth(panel, "y", treated=u, start=ADOPTION, **options)
            assert batched.placebo is not None and each.placebo is not None
            assert np.array_equal(batched.placebo.gaps.to_numpy(), each.placebo.gaps.to_numpy())
            pd.testing.assert_frame_equal(batched.table, each.table, check_exact=True)
            assert batched.placebo.p_value_rmspe_ratio == each.placebo.p_value_rmspe_ratio
    assert used and all(used) == (not options)  # the default fit took the batched path
