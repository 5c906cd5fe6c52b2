"""The simulated monthly world (issue 17, part 5): its shape, its labels as a monthly Panel, the
public record it passes through, its seasonality and its planted effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.data.simulate import simulate_municipalities
from evalmodel.data.simulate_monthly import MONTHLY_SEED, monthly_periods, simulate_monthly
from evalmodel.months import month_code


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_monthly()


def test_shape_ids_and_months(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, _ = world
    annual, _ = simulate_municipalities()
    assert list(data.columns) == ["kommun", "month", "share", "households", "population"]
    assert sorted(data["kommun"].unique()) == sorted(annual["kommun"].unique())  # same ids
    months = data["month"].unique()
    assert len(months) == 126 and months[0] == "2014-01" and months[-1] == "2024-06"
    assert len(data) == 290 * 126 and not data.isna().any().any()
    assert (data["share"] > 0).all()


def test_reads_as_a_monthly_panel(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, _ = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # labels -> codes, noted
        panel = em.Panel(data, unit="kommun", time="month")
    assert panel.frequency == "month"
    assert panel.periods[0] == month_code(2014, 1) and panel.periods[-1] == month_code(2024, 6)
    assert panel.is_balanced


def test_deterministic_by_seed() -> None:
    a, ta = simulate_monthly(7)
    b, tb = simulate_monthly(7)
    c, _ = simulate_monthly(8)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    assert not np.allclose(a["share"], c["share"])


def test_linkoping_passes_through_the_record(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """2,703 households in January 2021 and 2,087 in January 2024 (seed 003)."""
    data, _ = world
    lkpg = data[data["kommun"] == "0580"].set_index("month")["households"]
    assert lkpg["2021-01"] == 2_703 and lkpg["2024-01"] == 2_087


def test_planted_effects_are_the_difference_to_the_world_without(
        world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The same seed without effects differs by the truth frame's paths (up to the rounding of
    the share to 0.001), and only in the treated units from their adoption month."""
    data, truth = world
    null, empty = simulate_monthly(effects=False)
    assert empty.empty
    diff = (data["share"] - null["share"]).to_numpy().reshape(290, 126)
    ids = list(data["kommun"].unique())
    codes = monthly_periods()
    planted = np.zeros_like(diff)
    share = truth[truth["outcome"] == "share"]
    for row in share.itertuples():
        planted[ids.index(row.unit), int(row.period) - codes[0]] = row.effect
    assert np.abs(diff - planted).max() <= 0.001 + 1e-12
    assert set(share["unit"]) == {"0580", "1280"}
    first = share.groupby("case")["month"].min()
    assert first["linkoping"] == "2021-01" and first["malmo"] == "2015-01"
    assert (share["event_time"] == share["period"] - share.groupby("case")["period"]
            .transform("min")).all()
    assert share.groupby("case")["effect"].apply(lambda e: (e < 0).all()).all()


def test_seasonality_winter_peak_and_unit_profiles(world: tuple[pd.DataFrame, pd.DataFrame]
                                                   ) -> None:
    """A common winter peak (January above July in most units) with unit-specific amplitudes;
    seasonal_spread=0 gives every unit the same profile."""
    def profiles(data: pd.DataFrame) -> np.ndarray:
        y = data["share"].to_numpy().reshape(290, 126)
        y = y - y.mean(axis=1, keepdims=True)
        cal = monthly_periods() % 12
        return np.stack([y[:, cal == m].mean(axis=1) for m in range(12)], axis=1)

    data, _ = world
    prof = profiles(data)
    assert (prof[:, 0] > prof[:, 6]).mean() > 0.9
    assert 0.2 < (prof[:, 0] - prof[:, 6]).mean() < 0.4  # 2 x seasonality 0.15, plus trend
    spread = np.std(prof[4:, 0] - prof[4:, 6])
    same, _ = simulate_monthly(MONTHLY_SEED, seasonal_spread=0.0)
    assert np.std(profiles(same)[4:, 0] - profiles(same)[4:, 6]) < spread / 2


def test_dataset_registered() -> None:
    panel = em.datasets.simulated_monthly()
    assert panel.frequency == "month" and len(panel.units) == 290
    assert panel.source["kind"] == "simulated"
    assert set(panel.truth["case"]) == {"linkoping", "malmo"}
    assert panel.truth["period"].min() == month_code(2015, 1)
    again = em.datasets.simulated_monthly()
    pd.testing.assert_frame_equal(panel.data, again.data)


def test_bad_months_refused() -> None:
    with pytest.raises(ValueError, match="not two months"):
        simulate_monthly(start="2024-06", end="2014-01")
