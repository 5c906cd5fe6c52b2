"""``Panel.column``: one column of the validated frame, read only, without a copy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalmodel.panel import Panel


@pytest.fixture
def panel() -> Panel:
    df = pd.DataFrame({"unit": ["b", "a", "b", "a"], "year": [2001, 2001, 2000, 2000],
                       "y": [4.0, 2.0, 3.0, 1.0]})
    return Panel(df, unit="unit", time="year")


def test_column_is_the_data_column_in_row_order(panel: Panel) -> None:
    np.testing.assert_array_equal(panel.column("y"), panel.data["y"].to_numpy())
    np.testing.assert_array_equal(panel.column("y"), [1.0, 2.0, 3.0, 4.0])


def test_column_is_read_only_and_not_copied(panel: Panel) -> None:
    y = panel.column("y")
    with pytest.raises(ValueError, match="read-only"):
        y[0] = 99.0
    assert np.shares_memory(y, panel.column("y"))  # two reads share the panel's buffer
    assert panel.column("y")[0] == 1.0
