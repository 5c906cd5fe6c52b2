"""Synthetic DiD placebo draws: each distinct set of units solved once, in one canonical order.

A placebo draw is its sets (the controls and each cohort's pseudo-treated units); draws with
the same sets are one problem. The references here: solving every draw (canonical order, no
de-duplication), solving every permutation in its drawn order (the previous path), and the
peer package ``synthdid`` re-estimating each drawn permutation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import synthdid as sd

import evalmodel.inference.sdid_se as sdid_se
from evalmodel.core.jit import numba_threads
from evalmodel.estimators.sdid import fit_cohort
from evalmodel.inference.sdid_se import (
    CohortFit,
    _canonical_rows,
    _distinct_rows,
    _refit,
    placebo_draws,
)


def _outcomes(seed: int, n: int, t: int = 16) -> np.ndarray:
    """Two-factor outcomes of ``n`` units over ``t`` periods."""
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.5, 1.5, (n, 2))
    fac = np.cumsum(rng.normal(0, 1, (t, 2)), axis=0)
    return rng.normal(0, 2, n)[:, None] + load @ fac.T + rng.normal(0, 0.5, (n, t))


def _perm(seed: int, n0: int, n_draws: int) -> np.ndarray:
    """The permutations placebo_draws draws from ``default_rng(seed)``."""
    return np.random.default_rng(seed).permuted(np.tile(np.arange(n0), (n_draws, 1)), axis=1)


def _every_draw(y: np.ndarray, controls: np.ndarray, fits: list[CohortFit], perm: np.ndarray,
                *, canonical: bool) -> np.ndarray:
    """Each cohort's placebo estimates with every draw solved (no de-duplication), its units in
    canonical order or in the permutation's order."""
    sizes = np.array([len(f.treated) for f in fits])
    keep = len(controls) - int(sizes.sum())
    ends = keep + np.cumsum(sizes)
    taus = np.empty((len(perm), len(fits)))
    for c, fit in enumerate(fits):
        lo, hi = ends[c] - sizes[c], ends[c]
        rows = (_canonical_rows(perm, keep, lo, hi) if canonical
                else perm[:, np.r_[np.arange(keep), np.arange(lo, hi)]])
        mask = np.zeros(rows.shape, dtype=bool)
        mask[:, :keep] = True
        taus[:, c] = _refit(y[controls[rows]], mask, ~mask,
                            np.where(mask, fit.omega[rows], 0.0), fit)
    return taus


def _one_cohort(seed: int, n0: int) -> tuple[np.ndarray, np.ndarray, list[CohortFit]]:
    y = _outcomes(seed, n0 + 1)
    controls = np.arange(n0)
    return y, controls, [fit_cohort(y, controls, np.array([n0]), 11, "sdid")]


def _two_cohorts(seed: int, n0: int) -> tuple[np.ndarray, np.ndarray, list[CohortFit]]:
    """Two treated units adopting after 10 pre-periods, one after 12."""
    y = _outcomes(seed, n0 + 3)
    controls = np.arange(n0)
    fits = [fit_cohort(y, controls, np.array([n0, n0 + 1]), 10, "sdid"),
            fit_cohort(y, controls, np.array([n0 + 2]), 12, "sdid")]
    return y, controls, fits


def test_distinct_rows_against_numpy_unique() -> None:
    rows = np.random.default_rng(0).integers(0, 3, size=(200, 4))
    first, inverse = _distinct_rows(rows)
    assert np.array_equal(rows[first][inverse], rows)
    assert np.all(np.diff(first) > 0)  # first occurrences, in order
    uniq, idx = np.unique(rows, axis=0, return_index=True)
    assert len(first) == len(uniq)
    assert np.array_equal(first, np.sort(idx))


def test_canonical_rows_are_the_sets_in_increasing_order() -> None:
    perm = np.array([[4, 0, 3, 2, 1], [3, 4, 0, 1, 2], [0, 3, 4, 2, 1]])
    rows = _canonical_rows(perm, 3, 3, 5)
    assert rows.tolist() == [[0, 3, 4, 1, 2], [0, 3, 4, 1, 2], [0, 3, 4, 1, 2]]
    assert _canonical_rows(perm, 3, 4, 5).tolist() == [[0, 3, 4, 1], [0, 3, 4, 2],
                                                       [0, 3, 4, 1]]


@pytest.mark.parametrize("cohorts", [1, 2])
def test_distinct_draws_equal_every_draw(cohorts: int) -> None:
    """The de-duplicated draws give the taus of solving every draw, and (up to the order of
    additions) those of solving each permutation in its drawn order: the same random stream."""
    y, controls, fits = _one_cohort(1, 24) if cohorts == 1 else _two_cohorts(2, 8)
    n_draws = 40
    perm = _perm(5, len(controls), n_draws)
    rng = np.random.default_rng(5)
    taus, _ = placebo_draws(y, controls, fits, n_draws=n_draws, rng=rng)
    after = np.random.default_rng(5)
    after.permuted(np.tile(np.arange(len(controls)), (n_draws, 1)), axis=1)
    assert rng.bit_generator.state == after.bit_generator.state  # the same random numbers used
    keep = len(controls) - sum(len(f.treated) for f in fits)
    lo = keep
    for fit in fits:
        rows = _canonical_rows(perm, keep, lo, lo + len(fit.treated))
        assert len(_distinct_rows(rows)[0]) < n_draws  # the draws do repeat
        lo += len(fit.treated)
    every = _every_draw(y, controls, fits, perm, canonical=True)
    np.testing.assert_allclose(taus, every, rtol=0, atol=1e-12)
    drawn = _every_draw(y, controls, fits, perm, canonical=False)
    np.testing.assert_allclose(taus, drawn, rtol=0, atol=1e-9)
    assert not np.allclose(taus[:, 0], taus[0, 0])  # the draws differ


def test_repeated_set_solved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    y, controls, fits = _one_cohort(3, 24)
    n_draws = 40
    fake = _perm(11, len(controls), n_draws)[:, -1]  # each draw's pseudo-treated unit
    distinct = len(set(fake.tolist()))
    assert distinct < n_draws - 3
    batches: list[int] = []
    real = sdid_se.sdid_weights

    def spy(ctrl: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        batches.append(ctrl.shape[0])
        return real(ctrl, *args, **kwargs)

    monkeypatch.setattr(sdid_se, "sdid_weights", spy)
    taus, _ = placebo_draws(y, controls, fits, n_draws=n_draws, rng=np.random.default_rng(11))
    assert batches == [distinct]
    for u in set(fake.tolist()):  # draws with the same pseudo-treated unit: one value
        assert np.unique(taus[fake == u, 0]).size == 1
    assert np.unique(taus[:, 0]).size == distinct


def test_placebo_draws_deterministic() -> None:
    y, controls, fits = _two_cohorts(4, 10)
    runs = []
    for threads in (1, 2, 1):
        with numba_threads(threads):
            runs.append(placebo_draws(y, controls, fits, n_draws=30,
                                      rng=np.random.default_rng(2)))
    for taus, att in runs[1:]:
        assert np.array_equal(taus, runs[0][0])
        assert np.array_equal(att, runs[0][1])


def test_distinct_placebo_draws_match_synthdid() -> None:
    """Each drawn permutation re-estimated by the peer package, repeated draws included."""
    peer_panel = sd.panel_matrices(sd.load_california_prop99())
    y, n0, t0 = peer_panel.Y, peer_panel.N0, peer_panel.T0
    controls = np.arange(n0)
    fit = fit_cohort(y, controls, np.array([n0]), t0, "sdid")
    n_draws, seed = 10, 12
    perm = _perm(seed, n0, n_draws)
    assert len(set(perm[:, -1].tolist())) < n_draws
    taus, _ = placebo_draws(y, controls, [fit], n_draws=n_draws,
                            rng=np.random.default_rng(seed))
    peer = sd.synthdid_estimate(y, n0, t0)
    opts = {k: peer.opts[k] for k in ("zeta_omega", "zeta_lambda", "min_decrease")}
    for b, ind in enumerate(perm):
        om = np.asarray(peer.weights.omega)[ind[: n0 - 1]]
        w = {"omega": om / om.sum(), "lambda": peer.weights.lambda_}
        ref = sd.synthdid_estimate(y[ind], n0 - 1, t0, weights=w, update_omega=True,
                                   update_lambda=True, **opts)
        assert taus[b, 0] == pytest.approx(float(ref), abs=1e-6)
