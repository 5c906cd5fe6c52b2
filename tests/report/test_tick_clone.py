"""Ticks copied from an axis's first tick: the same ticks and pixels as ticks built anew."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axis import Axis, Tick
from matplotlib.backends.backend_agg import FigureCanvasAgg

from evalmodel.report.tick_clone import cloned_tick, ticks_cloned


def _styled() -> plt.Figure:
    """Tick parameters changed before any tick exists, a grid, rotated fixed labels."""
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    x = np.arange(2005, 2024)
    ax.plot(x, np.sin(x / 3))
    ax.grid(True, color="#dddddd")
    ax.tick_params(axis="x", labelsize=7, colors="#c0392b", pad=9, length=6, width=1.5)
    ax.tick_params(axis="y", direction="in", labelcolor="#2c3e50", right=True, labelright=True)
    ax.set_xticks(x[::2], [f"{v}-01" for v in x[::2]], rotation=45, ha="right")
    return fig


def _log_and_twin() -> plt.Figure:
    """Minor ticks (a log scale), a twin axis, a shared x axis and categorical ticks."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=100, sharey=True)
    axes[0].semilogy(np.linspace(1, 9, 30), np.exp(np.linspace(0, 9, 30)))
    axes[0].minorticks_on()
    twin = axes[0].twinx()
    twin.plot(np.linspace(1, 9, 30), np.linspace(-3, 5, 30), color="k")
    axes[1].bar(["alpha", "beta", "gamma", "delta", "epsilon"], [3, 1, 4, 1, 5])
    axes[1].tick_params(axis="x", rotation=30)
    return fig


def _many() -> plt.Figure:
    """Dozens of ticks on each axis, their first tick made and drawn before more are needed."""
    fig, ax = plt.subplots(figsize=(9, 6), dpi=90)
    ax.set_xticks([0.5])
    FigureCanvasAgg(fig).draw()  # one tick per axis so far
    ax.set_xlim(0, 60)
    ax.set_ylim(-1, 1)
    ax.set_xticks(np.arange(0, 61, 2))
    ax.set_yticks(np.linspace(-1, 1, 41))
    ax.yaxis.set_tick_params(labelsize=6)
    return fig


FIGURES: dict[str, Callable[[], plt.Figure]] = {
    "styled": _styled, "log_and_twin": _log_and_twin, "many": _many}


def _pixels(fig: plt.Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    plt.close(fig)
    return pixels


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_same_pixels_as_ticks_built_anew(name: str) -> None:
    plain = _pixels(FIGURES[name]())
    fig = FIGURES[name]()
    with ticks_cloned():
        ours = _pixels(fig)
    assert np.array_equal(ours, plain)
    ticks = [len(ax.xaxis.majorTicks) + len(ax.yaxis.majorTicks) for ax in fig.axes]
    assert sum(ticks) > 2 * len(fig.axes)  # ticks were made in the block


#: Set by the axis on every tick before it is drawn (its data), or left on the
#: first tick by ``tick_params`` and read by nothing (its colour).
_SET_BEFORE_DRAWING = {"_xorig", "_yorig", "tick._color", "tick._markeredgecolor"}


def _state(tick: Tick) -> dict[str, object]:
    """The values of a tick and its artists that are plain data, by attribute, and their
    stale callbacks."""
    plain = (int, float, str, bool, type(None), tuple)
    out: dict[str, object] = {}
    for owner, obj in [("tick", tick), *[(n, getattr(tick, n)) for n in
                                         ("tick1line", "tick2line", "gridline", "label1",
                                          "label2")]]:
        for key, value in vars(obj).items():
            if key in _SET_BEFORE_DRAWING or f"{owner}.{key}" in _SET_BEFORE_DRAWING:
                continue
            if isinstance(value, plain) or key == "stale_callback":
                out[f"{owner}.{key}"] = value
        if owner.startswith("label"):
            out[f"{owner}.font"] = obj.get_fontproperties()
            out[f"{owner}.transform"] = obj.get_transform().get_matrix().tolist()
        if owner.endswith("line") or owner == "gridline":
            out[f"{owner}.marker"] = (obj.get_marker(), obj.get_markersize(),
                                      obj.get_markeredgewidth(), obj.get_markeredgecolor())
    return out


@pytest.mark.parametrize("axis_name", ["xaxis", "yaxis"])
def test_a_copy_is_the_tick_matplotlib_makes(axis_name: str) -> None:
    fig = _styled()
    FigureCanvasAgg(fig)
    axis: Axis = getattr(fig.axes[0], axis_name)
    first = axis.majorTicks[0]
    built = axis._get_tick(major=True)
    axis._copy_tick_props(first, built)
    copied = cloned_tick(first)
    assert _state(copied) == _state(built)
    for name in ("label1", "label2"):  # own font properties and callbacks
        assert getattr(copied, name).get_fontproperties() is not (
            getattr(first, name).get_fontproperties())
    for name in ("tick1line", "tick2line", "gridline", "label1", "label2"):
        assert getattr(copied, name) is not getattr(first, name)
        assert getattr(copied, name)._callbacks is not getattr(first, name)._callbacks
    copied.label1.set_fontsize(30)  # changing the copy leaves the first tick alone
    assert first.label1.get_fontsize() != 30
    plt.close(fig)


def test_methods_restored_and_other_releases_left_alone(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    major, minor = Axis.get_major_ticks, Axis.get_minor_ticks
    with ticks_cloned():
        assert Axis.get_major_ticks is not major and Axis.get_minor_ticks is not minor
    assert Axis.get_major_ticks is major and Axis.get_minor_ticks is minor
    monkeypatch.setattr(matplotlib, "__version__", "3.12.0")
    with ticks_cloned():
        assert Axis.get_major_ticks is major
