"""``cohort_codes``: the same distinct cohorts and positions as ``np.unique``, by each path."""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.estimators.staggered_data import cohort_codes


def _cases() -> list[np.ndarray]:
    rng = np.random.default_rng(16)
    years = np.array([0, 2003, 2004, 2007, 2010])
    return [
        np.sort(rng.choice(years, 500)),             # in cohort order: one pass
        rng.choice(years, 500),                      # a table over the range 0..2010
        rng.choice(np.array([-5, 0, 3]), 50),        # negative periods
        rng.choice(np.array([0, 10**12, 7]), 50),    # too wide a range: np.unique
        rng.choice(np.array([0.0, 2.5, 2003.0]), 40),  # floats
        np.array([2004]), np.zeros(0, dtype=np.int64),
    ]


@pytest.mark.parametrize("cohort", _cases())
def test_cohort_codes_equal_np_unique(cohort: np.ndarray) -> None:
    values, code = cohort_codes(cohort)
    ref_values, ref_code = np.unique(cohort, return_inverse=True)
    np.testing.assert_array_equal(values, ref_values)
    np.testing.assert_array_equal(code, ref_code)
    assert values.dtype == ref_values.dtype
