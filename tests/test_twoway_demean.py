"""core.twoway.unit_demean: unit means by one bincount per column, bit for bit the sums that
np.add.at makes (the same additions in the same row order)."""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.core.twoway import unit_demean


def _reference(a: np.ndarray, ucode: np.ndarray, n_units: int) -> np.ndarray:
    count = np.bincount(ucode, minlength=n_units).astype(float)
    sums = np.zeros((n_units, a.shape[1]))
    np.add.at(sums, ucode, a)
    return a - (sums / count[:, None])[ucode]


@pytest.mark.parametrize("seed", range(6))
def test_unit_demean_equals_add_at_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k, n_units = int(rng.integers(5, 3000)), int(rng.integers(0, 9)), int(rng.integers(1, 80))
    ucode = rng.permutation(np.arange(n) % n_units)  # every unit present, rows shuffled
    a = rng.normal(size=(n, k)) * rng.choice([1e-9, 1.0, 1e9], size=(n, k))
    got = unit_demean(a, ucode, n_units)
    assert got.shape == a.shape
    np.testing.assert_array_equal(got, _reference(a, ucode, n_units))
    # each unit's rows now sum to zero (to rounding)
    if k:
        sums = np.zeros((n_units, k))
        np.add.at(sums, ucode, got)
        assert np.abs(sums).max() <= 1e-6 * max(1.0, float(np.abs(a).max()))
