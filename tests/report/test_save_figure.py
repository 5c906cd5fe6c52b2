"""The report's figure writer: one layout pass, one draw, the pixels savefig would write."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.layout_engine import TightLayoutEngine
from PIL import Image

from evalmodel.report.tables import FIGURE_DPI, TIGHT_PAD, save_figure


def _figure(layout: object) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout=layout)
    x = np.arange(2000, 2016)
    axes[0].plot(x, np.sin(x), label="a rather long legend entry")
    axes[0].legend()
    axes[1].set_yticks([0, 1, 2], ["short", "a much longer tick label", "mid"])
    axes[1].set_title("title")
    fig.suptitle("suptitle")
    return fig


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def _savefig(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=FIGURE_DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def test_same_pixels_as_savefig(tmp_path: Path) -> None:
    # a constrained layout becomes one tight pass with TIGHT_PAD; the others are kept
    cases = {"constrained": TightLayoutEngine(pad=TIGHT_PAD), "tight": "tight", None: None}
    for ours_layout, theirs_layout in cases.items():
        ours = save_figure(_figure(ours_layout), tmp_path / f"ours_{ours_layout}.png")
        theirs = _savefig(_figure(theirs_layout), tmp_path / f"theirs_{ours_layout}.png")
        assert np.array_equal(_pixels(ours), _pixels(theirs)), ours_layout
        with Image.open(ours) as im:
            assert im.mode == "RGB"  # opaque: no alpha channel written
            assert im.info["dpi"] == pytest.approx((FIGURE_DPI, FIGURE_DPI), abs=0.01)
    # the layout ran: the laid-out figure differs from the same figure without one
    assert not np.array_equal(_pixels(tmp_path / "ours_constrained.png"),
                              _pixels(tmp_path / "ours_None.png"))


def test_colorbar_figure_keeps_its_constrained_layout(tmp_path: Path) -> None:
    def fig_with_colorbar() -> plt.Figure:
        fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
        im = ax.imshow(np.arange(12.0).reshape(3, 4))
        fig.colorbar(im, ax=ax, label="a colorbar label")
        ax.set_title("heat map")
        return fig

    ours = save_figure(fig_with_colorbar(), tmp_path / "ours.png")
    theirs = _savefig(fig_with_colorbar(), tmp_path / "theirs.png")
    assert np.array_equal(_pixels(ours), _pixels(theirs))


def test_transparent_figure_keeps_its_alpha(tmp_path: Path) -> None:
    def transparent() -> plt.Figure:
        fig = _figure(None)
        fig.patch.set_alpha(0.0)
        return fig

    ours = save_figure(transparent(), tmp_path / "ours.png")
    with Image.open(ours) as im:
        assert im.mode == "RGBA"
    theirs = _savefig(transparent(), tmp_path / "theirs.png")
    assert np.array_equal(_pixels(ours), _pixels(theirs))


def test_one_draw_and_stable_bytes(tmp_path: Path) -> None:
    draws = []
    saved = []
    made = []
    for i in range(2):
        fig = _figure("constrained")
        made.append(fig.number)
        draw = fig.draw

        def counting_draw(renderer: object, draw: object = draw) -> None:
            draws.append(1)
            draw(renderer)  # type: ignore[operator]

        fig.draw = counting_draw  # type: ignore[method-assign]
        saved.append(save_figure(fig, tmp_path / f"run{i}.png"))
    assert len(draws) == 2  # once per figure: no draw only to lay it out
    assert saved[0].read_bytes() == saved[1].read_bytes()
    assert not set(made) & set(plt.get_fignums())  # the figures are closed


def test_tight_layout_measures_each_axes_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # TightLayoutEngine's two passes (its default rect) share one measurement per Axes
    from matplotlib.axes import Axes

    calls: list[int] = []
    measure = Axes.get_tightbbox

    def counting(self: Axes, *args: object, **kwargs: object) -> object:
        calls.append(id(self))
        return measure(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Axes, "get_tightbbox", counting)
    fig = _figure("constrained")
    axes = list(fig.axes)
    save_figure(fig, tmp_path / "once.png")
    assert sorted(calls) == sorted(id(ax) for ax in axes)  # once each (twice without)
    assert all("get_tightbbox" not in vars(ax) for ax in axes)  # the class method is back
    monkeypatch.undo()
    theirs = _savefig(_figure(TightLayoutEngine(pad=TIGHT_PAD)), tmp_path / "theirs.png")
    assert np.array_equal(_pixels(tmp_path / "once.png"), _pixels(theirs))
