"""Figures with unbounded intervals: a permutation test that cannot reach its level reports the
whole line, and the figures must draw it (no bar, a ring) with finite axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from evalmodel.plotting.core import forest_plot, interval_errors, table_plot
from evalmodel.plotting.staggered import path_plot

RING = "interval unbounded (the test cannot reach its level)"


def _table() -> pd.DataFrame:
    return pd.DataFrame({"event_time": [-2, -1, 0, 1], "method": list("abcd"),
                         "estimate": [0.1, 0.0, -1.0, -2.0],
                         "ci_lower": [-0.5, np.nan, -np.inf, -3.0],
                         "ci_upper": [0.7, np.nan, np.inf, np.inf]})


def test_interval_errors() -> None:
    t = _table()
    err, unbounded = interval_errors(t["estimate"].to_numpy(float),
                                     t["ci_lower"].to_numpy(float),
                                     t["ci_upper"].to_numpy(float))
    np.testing.assert_allclose(err, [[0.6, 0.0, 0.0, 1.0], [0.6, 0.0, 0.0, 0.0]])
    assert unbounded.tolist() == [False, False, True, True]


def test_figures_draw_unbounded_intervals_with_finite_axes() -> None:
    t = _table()
    for ax in (path_plot(t, x="event_time", conf_level=0.95, title="t"),
               forest_plot(t, truth=None),
               table_plot(t[["method", "estimate", "ci_lower", "ci_upper"]], conf_level=0.95,
                          title="t")):
        ax.figure.canvas.draw()  # raised LinAlgError (singular transform) with 1.8e308 bars
        assert np.isfinite(ax.get_xlim()).all() and np.isfinite(ax.get_ylim()).all()
        assert max(abs(v) for v in (*ax.get_xlim(), *ax.get_ylim())) < 100
        rings = [c for c in ax.collections if c.get_label() == RING]
        assert len(rings) == 1 and len(rings[0].get_offsets()) == 2
        plt.close(ax.figure)
