"""The TWFE coefficient of many placebo assignments at once (estimators/twfe_placebo.py).

The balanced panel's closed form and the general (Frisch-Waugh-Lovell) path are checked against
linearmodels' PanelOLS with unit and period effects, and against a planted effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from linearmodels.panel import PanelOLS

import evalmodel as em
from evalmodel.errors import GapWarning
from evalmodel.estimators.twfe_placebo import TwfeStatistic

START = 2006


def _panel(drop_cell: bool) -> em.Panel:
    """12 units x 9 periods: unit and period effects, noise, and -1.5 planted in unit u03
    from 2006; with ``drop_cell`` one observation is missing (unbalanced)."""
    rng = np.random.default_rng(42)
    units = [f"u{i:02d}" for i in range(12)]
    years = list(range(2001, 2010))
    df = pd.DataFrame([(u, t) for u in units for t in years], columns=["unit", "year"])
    alpha = dict(zip(units, rng.normal(0, 2, len(units)), strict=True))
    gamma = dict(zip(years, np.cumsum(rng.normal(0, 1, len(years))), strict=True))
    df["y"] = (df["unit"].map(alpha) + df["year"].map(gamma) + rng.normal(0, 0.3, len(df))
               - 1.5 * ((df["unit"] == "u03") & (df["year"] >= START)))
    if not drop_cell:
        return em.Panel(df, unit="unit", time="year")
    with pytest.warns(GapWarning, match="1 \\(unit, period\\) cells are absent"):
        return em.Panel(df.drop(index=17), unit="unit", time="year")


def _panel_ols(panel: em.Panel, treated: list[str]) -> float:
    df = panel.data.set_index([panel.unit, panel.time])
    d = (df.index.get_level_values(0).isin(treated)
         & (df.index.get_level_values(1) >= START)).astype(float)
    fit = PanelOLS(df["y"], pd.DataFrame({"d": d}, index=df.index), entity_effects=True,
                   time_effects=True).fit()
    return float(fit.params["d"])


@pytest.mark.parametrize("drop_cell", [False, True], ids=["balanced", "unbalanced"])
def test_batch_equals_panel_ols(drop_cell: bool) -> None:
    panel = _panel(drop_cell)
    units = list(panel.units)
    sets = [["u03"], ["u00"], ["u05", "u11"], ["u01", "u02", "u07"]]
    z = np.array([[u in s for u in units] for s in sets])
    got = TwfeStatistic("y", start=START).batch(panel, z)
    want = [_panel_ols(panel, s) for s in sets]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_closed_form_equals_the_general_path() -> None:
    """The balanced closed form against the general (FWL) path on every assignment of one and
    of two units."""
    panel = _panel(False)
    n = len(panel.units)
    pairs = [np.isin(np.arange(n), [i, j]) for i in range(n) for j in range(i + 1, n)]
    z = np.vstack([np.eye(n, dtype=bool), *pairs])
    stat = TwfeStatistic("y", start=START)
    closed = stat.batch(panel, z)
    np.testing.assert_allclose(closed, stat.batch(panel, z, closed_form=False), rtol=1e-10,
                               atol=1e-12)
    assert np.unique(closed).size == len(z)  # distinct assignments, distinct coefficients


def test_planted_effect_found() -> None:
    """Noise-free outcome: the coefficient of the planted unit is the planted effect."""
    panel = _panel(False)
    data = panel.data.copy()
    data["y"] = (data["unit"].str[1:].astype(float) + 0.5 * (data["year"] - 2000)
                 - 1.5 * ((data["unit"] == "u03") & (data["year"] >= START)))
    clean = em.Panel(data, unit="unit", time="year")
    stat = TwfeStatistic("y", start=START)
    assert stat(clean, ["u03"]) == pytest.approx(-1.5, abs=1e-12)
