"""``plotting.core.many_lines``: hundreds of lines of one style as one artist, pixel for pixel
the figure of one ``ax.plot`` per line (the synthetic control's placebo gaps)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection

import evalmodel as em
from evalmodel.plotting.core import many_lines
from evalmodel.plotting.synth import gaps_plot


@pytest.fixture(scope="module")
def prop99() -> em.Panel:
    df = pd.read_csv(files("synthdid") / "data" / "california_prop99.csv", sep=";")
    return em.Panel(df, unit="State", time="Year", outcomes=["PacksPerCapita"])


def _pixels(draw: Callable[[Axes], None]) -> np.ndarray:
    fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
    draw(ax)
    fig.canvas.draw()
    out = np.asarray(fig.canvas.buffer_rgba()).copy()
    plt.close(fig)
    return out


def _world(seed: int, nan: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(1998, 2016)
    ys = rng.normal(size=(150, len(x))).cumsum(axis=1)
    ys[:40, :6] += 6.0  # lines across the upper left, where a legend would go first
    if nan:
        ys[3, 7] = np.nan  # a line broken in two
        ys[5, :] = np.nan  # a line with nothing to draw
    return x, ys


def _figure(x: np.ndarray, ys: np.ndarray, bundle: bool, alpha: float | None
            ) -> Callable[[Axes], None]:
    def draw(ax: Axes) -> None:
        if bundle:
            many_lines(ax, x, ys, color="#b3b3b3", lw=0.7, alpha=alpha)
        else:
            for row in ys:
                ax.plot(x, row, color="#b3b3b3", lw=0.7, alpha=alpha)
        ax.fill_between(x, -0.5, 0.5, color="#f5cba7")  # added later, drawn below the lines
        ax.plot(x, np.linspace(-1.0, 1.0, len(x)), color="#1b4f72", lw=2.2, label="treated")
        ax.axhline(0, color="black", lw=0.8)
        ax.legend(frameon=False)  # loc="best": it must avoid the bundled lines as the others

    return draw


@pytest.mark.parametrize(("seed", "nan", "alpha"), [(0, False, 0.8), (1, True, 0.8),
                                                    (2, False, None)])
def test_many_lines_draws_the_pixels_of_one_plot_per_line(seed: int, nan: bool,
                                                          alpha: float | None) -> None:
    x, ys = _world(seed, nan)
    one_by_one = _pixels(_figure(x, ys, False, alpha))
    bundled = _pixels(_figure(x, ys, True, alpha))
    assert bundled.shape == one_by_one.shape
    np.testing.assert_array_equal(bundled, one_by_one)
    # the comparison sees the lines: the figure without them differs
    assert not np.array_equal(_pixels(_figure(x, ys[:0], True, alpha)), one_by_one)


def test_many_lines_with_no_rows_adds_nothing() -> None:
    fig, ax = plt.subplots()
    many_lines(ax, np.arange(3), np.empty((0, 3)), color="grey", lw=1.0)
    assert not ax.collections
    plt.close(fig)


def test_gaps_plot_draws_every_kept_placebo(prop99: em.Panel) -> None:
    r = em.synth(prop99, "PacksPerCapita", treated="California", start=1989)
    assert r.placebo is not None
    for kept_only in (True, False):
        ax = gaps_plot(r, kept_only=kept_only)
        (bundle,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
        n = int(r.placebo.kept.sum()) if kept_only else len(r.placebo.kept)
        assert len(bundle.get_paths()) == n
        units = r.placebo.kept.index[r.placebo.kept] if kept_only else r.placebo.kept.index
        np.testing.assert_array_equal(bundle.get_paths()[-1].vertices[:, 1],
                                      r.placebo.gaps.loc[units].to_numpy(float)[-1])
        plt.close(ax.figure)
