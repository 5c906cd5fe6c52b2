"""The memo of matplotlib's repeated measurements: the same pixels, fewer measurements."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axis import Axis
from matplotlib.legend import Legend
from matplotlib.text import Text
from PIL import Image

from evalmodel.report import tables
from evalmodel.report.draw_memo import measurements_memoised


def _trend() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    x = np.arange(2005, 2024)
    for i in range(12):
        ax.plot(x, np.sin(x / 3 + i), color="#b3b3b3", lw=0.7)
    ax.plot(x, np.cos(x / 4), lw=2, label="treated: Trelleborg")
    ax.axvline(2015.5, ls="--")
    ax.annotate("adoption 2016", (2015.6, 0.97), xycoords=("data", "axes fraction"), va="top")
    ax.set_xticks([2006, 2012, 2018], ["2006-01", "2012-01", "2018-01"], rotation=45, ha="right")
    ax.set(title="A title (estimate -0.123)", xlabel="year", ylabel="outcome")
    ax.legend(loc="best", fontsize=8, frameon=False)
    return fig


def _panels() -> plt.Figure:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained", squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.errorbar(np.arange(5.0), np.arange(5.0) * i, yerr=0.5, fmt="o", capsize=3)
        ax.set_yticks(range(5), [f"row {k}" * (i + 1) for k in range(5)])
        ax.set_title(f"panel {i}")
    fig.suptitle("three panels")
    fig.text(0.995, 0.005, "simulated data", ha="right", va="bottom", fontsize=8)
    return fig


def _heat_map() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 3), layout="constrained")
    im = ax.imshow(np.arange(60.0).reshape(4, 15), aspect="auto")
    fig.colorbar(im, ax=ax, label="comparison units with data")
    ax.set_yticks(range(4), ["a", "bb", "ccc", "dddd"])
    ax.set_title("coverage")
    return fig


def _twin_log() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.hist(np.random.default_rng(1).normal(size=500), bins=30, label="placebo estimates")
    other = ax.twinx()
    other.semilogy(np.linspace(-3, 3, 20), np.exp(np.linspace(0, 6, 20)), color="k")
    ax.set_xlabel("estimate")
    ax.legend(loc="best", fontsize="small")
    wrapped = ax.text(0.0, 0.5, "a wrapped text that is long enough to break " * 3, wrap=True)
    assert wrapped.get_wrap()
    return fig


FIGURES: dict[str, Callable[[], plt.Figure]] = {
    "trend": _trend, "panels": _panels, "heat_map": _heat_map, "twin_log": _twin_log}


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_same_pixels_as_without_the_memo(name: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ours = tables.save_figure(FIGURES[name](), tmp_path / "memo.png")
    monkeypatch.setattr(tables, "measurements_memoised", contextlib.nullcontext)
    plain = tables.save_figure(FIGURES[name](), tmp_path / "plain.png")
    assert np.array_equal(_pixels(ours), _pixels(plain))


def test_fewer_measurements_and_the_methods_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {"ticks": 0, "layout": 0, "best": 0}
    ticks, layout, best = Axis._update_ticks, Text._get_layout, Legend._find_best_position

    def counting_ticks(self: Axis) -> object:
        counts["ticks"] += 1
        return ticks(self)

    def counting_layout(self: Text, renderer: object) -> object:
        counts["layout"] += 1
        return layout(self, renderer)

    def counting_best(self: Legend, *args: object) -> object:
        counts["best"] += 1
        return best(self, *args)

    monkeypatch.setattr(Legend, "_find_best_position", counting_best)
    monkeypatch.setattr(Axis, "_update_ticks", counting_ticks)
    monkeypatch.setattr(Text, "_get_layout", counting_layout)
    fig = _trend()
    fig.set_layout_engine(None)  # a layout inside the draw would move the axes between calls
    fig.canvas.draw()
    plain = dict(counts)
    counts.update(ticks=0, layout=0, best=0)
    with measurements_memoised():
        assert Axis._update_ticks is not counting_ticks  # memoised while the block runs
        fig.canvas.draw()
        fig.canvas.draw()  # nothing changed: the second draw measures nothing again
    plt.close(fig)
    assert Axis._update_ticks is counting_ticks and Text._get_layout is counting_layout
    assert Legend._find_best_position is counting_best
    assert counts["best"] == 1 and plain["best"] > 1  # the legend at loc="best" searches once
    assert counts["ticks"] == 2 and plain["ticks"] > 4  # once per axis (x, y)
    assert 0 < counts["layout"] < plain["layout"] / 2


def test_other_matplotlib_releases_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a release the memo was not checked on, the block patches nothing (the figure is drawn
    the ordinary way), whatever the version string looks like."""
    import matplotlib

    from evalmodel.report.draw_memo import CHECKED_MATPLOTLIB

    assert (3, 11) in CHECKED_MATPLOTLIB
    ticks = Axis._update_ticks
    for version in ("3.9.4", "4.0.0rc1", "dev"):
        monkeypatch.setattr(matplotlib, "__version__", version)
        with measurements_memoised():
            assert Axis._update_ticks is ticks
    monkeypatch.setattr(matplotlib, "__version__", "3.11.2")
    with measurements_memoised():
        assert Axis._update_ticks is not ticks
    assert Axis._update_ticks is ticks
