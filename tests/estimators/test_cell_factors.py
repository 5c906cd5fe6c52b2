"""``CellFactors``: the factored influence functions of att_gt without covariates.

``sum_squares`` (per-cohort moments) must equal the column sums of squares of ``matrix``, also
for an outcome with a large mean and a small spread, where uncentred moments would lose about
ten digits; ``matrix`` must equal ``cells_without_covariates`` (the path used before).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.estimators.drdid import cell_factors, cells_without_covariates


def _design(shift: float, weighted: bool, ordered: bool) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(16)
    n, n_t = 3000, 6
    code = rng.integers(0, 4, n)  # code 0: never treated; 1-3: cohorts adopting in 2, 3, 4
    if ordered:
        code = np.sort(code)
    y = shift + rng.normal(size=(n, n_t)) + 0.3 * code[:, None]
    w = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    t_idx, b_idx, treat_code = [], [], []
    for c, g in ((1, 2), (2, 3), (3, 4)):
        for t in range(1, n_t):
            t_idx.append(t)
            b_idx.append(t - 1 if t < g else g - 1)
            treat_code.append(c)
    k = len(t_idx)
    treated = np.zeros((4, k), dtype=bool)
    treated[treat_code, np.arange(k)] = True
    control = np.zeros((4, k), dtype=bool)
    control[0] = True
    return y, w, code, np.array(t_idx), np.array(b_idx), treated, control


@pytest.mark.parametrize("shift", [0.0, 1e5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ordered", [False, True])
def test_sum_squares_equal_the_matrix(shift: float, weighted: bool, ordered: bool) -> None:
    args = _design(shift, weighted, ordered)
    att, factors = cell_factors(*args)
    inf = factors.matrix()
    np.testing.assert_allclose(factors.sum_squares(), (inf ** 2).sum(axis=0), rtol=1e-11)
    att_ref, inf_ref = cells_without_covariates(*args)
    np.testing.assert_array_equal(att, att_ref)
    np.testing.assert_array_equal(inf, inf_ref)


def test_zero_cells_have_no_influence() -> None:
    y, w, code, t_idx, b_idx, treated, control = _design(0.0, True, True)
    zero = np.zeros(len(t_idx), dtype=bool)
    zero[[2, 7]] = True
    _, factors = cell_factors(y, w, code, t_idx, b_idx, treated, control, zero=zero)
    assert not factors.matrix()[:, zero].any()
    assert not factors.sum_squares()[zero].any()
    assert (factors.sum_squares()[~zero] > 0).all()
