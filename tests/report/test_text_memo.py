"""The process-wide memo of the Agg renderer's text: the same pixels, FreeType asked less."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

from evalmodel.report import text_memo
from evalmodel.report.text_memo import clear_text_memo, text_memoised


@pytest.fixture(autouse=True)
def _cold_memo() -> Iterator[None]:
    clear_text_memo()
    yield
    clear_text_memo()


def _labels() -> plt.Figure:
    """Rotated tick labels, a legend, several sizes and weights, a multi-line title."""
    fig, ax = plt.subplots(figsize=(6.3, 3.7), dpi=110)
    x = np.arange(2005, 2024)
    ax.plot(x, np.sin(x / 3), label="treated: Trelleborg")
    ax.plot(x, np.cos(x / 3), label="synthetic control (shifted by the pre gap)")
    ax.set_xticks(x[::3], [f"{v}-01" for v in x[::3]], rotation=45, ha="right")
    ax.set_title("A title (estimate -0.123)\nand a second line", fontsize=13, weight="bold")
    ax.set_xlabel("year")
    ax.set_ylabel("outcome", fontsize=9)
    ax.legend(loc="best", fontsize="small")
    return fig


def _odd_text() -> plt.Figure:
    """Arbitrary angles and fractional positions, glyphs from a fallback font, mathtext,
    text without antialiasing, an empty string and a text with a box."""
    fig = plt.figure(figsize=(4.1, 3.3), dpi=97)
    rng = np.random.default_rng(7)
    for _ in range(24):
        fig.text(rng.uniform(0.05, 0.9), rng.uniform(0.05, 0.9), "Ag2 -0.5",
                 rotation=float(rng.uniform(-180, 180)), fontsize=float(rng.uniform(6, 14)))
    fig.text(0.1, 0.5, "≥ ≈ → ∞ ∑ (arrows, sums)", fontsize=10)
    fig.text(0.1, 0.3, r"$\hat\beta_{t} = \sum_i w_i$ and text", fontsize=11)
    fig.text(0.1, 0.2, "not antialiased", antialiased=False, fontsize=10)
    fig.text(0.5, 0.1, "", fontsize=10)
    fig.text(0.6, 0.8, "boxed", bbox={"facecolor": "#eeeeee"}, fontsize=9, family="serif")
    return fig


FIGURES: dict[str, Callable[[], plt.Figure]] = {"labels": _labels, "odd_text": _odd_text}


def _pixels(fig: plt.Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    plt.close(fig)
    return pixels


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_same_pixels_cold_and_warm(name: str) -> None:
    plain = _pixels(FIGURES[name]())
    with text_memoised():
        cold = _pixels(FIGURES[name]())  # every string and glyph measured and rendered
        warm = _pixels(FIGURES[name]())  # every one taken from the memo of the first
    assert np.array_equal(cold, plain)
    assert np.array_equal(warm, plain)


def test_glyphs_moved_by_whole_and_fractional_pixels() -> None:
    """A glyph bitmap is reused only at the same fraction of a pixel: drawn at 200 positions
    (whole-pixel moves of a few fractional offsets, and fresh fractions) the text is the one
    the renderer draws without the memo."""
    def many(offset: float) -> plt.Figure:
        fig = plt.figure(figsize=(5, 5), dpi=100)
        for i in range(200):
            fig.text(0.01 + (i % 20) * 0.047 + offset * (i // 20) / 500,
                     0.02 + (i // 20) * 0.097 + offset / 700, "e7", fontsize=9,
                     rotation=30.0 * (i % 3))
        return fig

    stored = {}
    for offset in (0.0, 0.37):
        clear_text_memo()
        plain = _pixels(many(offset))
        with text_memoised():
            assert np.array_equal(_pixels(many(offset)), plain)
        stored[offset] = len(text_memo._GLYPHS)
    # 400 glyphs drawn each time; on the grid of whole and half pixels (offset 0) the two
    # glyphs at three angles recur at few fractions, the shifted grid has more of them
    assert stored[0.0] <= 50 < stored[0.37] < 400


def test_freetype_asked_once_per_string(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"size": 0, "draw": 0}
    size, draw = RendererAgg.get_text_width_height_descent, RendererAgg.draw_text

    def counting_size(self: RendererAgg, *args: object) -> object:
        calls["size"] += 1
        return size(self, *args)

    def counting_draw(self: RendererAgg, *args: object, **kwargs: object) -> object:
        calls["draw"] += 1
        return draw(self, *args, **kwargs)

    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", counting_size)
    monkeypatch.setattr(RendererAgg, "draw_text", counting_draw)
    layouts: list[str] = []
    sizes: list[str] = []
    with text_memoised():
        assert RendererAgg.draw_text is not counting_draw
        _pixels(_labels())
        first = (len(text_memo._SIZES), len(text_memo._LAYOUTS))
        _pixels(_labels())  # a second figure, a new renderer: nothing new to ask
        assert (len(text_memo._SIZES), len(text_memo._LAYOUTS)) == first
        layouts += [key[1] for key in text_memo._LAYOUTS]
        sizes += [key[1] for key in text_memo._SIZES]
    assert RendererAgg.draw_text is counting_draw  # restored
    assert RendererAgg.get_text_width_height_descent is counting_size
    assert calls["size"] == len(sizes) and calls["draw"] == 0  # drawing never calls the original
    assert "treated: Trelleborg" in layouts and "treated: Trelleborg" in sizes
    assert len(layouts) == len(set(layouts))  # one font and size per string in this figure


def test_stores_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_memo, "MAX_ENTRIES", 5)
    with text_memoised():
        _pixels(_labels())
    assert all(len(store) <= 5 for store in (text_memo._SIZES, text_memo._LAYOUTS,
                                             text_memo._GLYPHS))


def test_other_matplotlib_releases_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    draw = RendererAgg.draw_text
    monkeypatch.setattr(matplotlib, "__version__", "3.10.1")
    with text_memoised():
        assert RendererAgg.draw_text is draw
    monkeypatch.setattr(matplotlib, "__version__", "3.11.2")
    with text_memoised():
        assert RendererAgg.draw_text is not draw
    assert RendererAgg.draw_text is draw


def test_missing_glyphs_warn_in_every_figure() -> None:
    """A string with a glyph missing from the fonts is not kept: each figure drawing it warns
    as it does without the memo (the report records warnings per case)."""
    def figure() -> plt.Figure:
        fig = plt.figure(figsize=(2, 1), dpi=50)
        fig.text(0.1, 0.5, "ab \u4e2d")  # a CJK ideograph: not in the default fonts
        fig.text(0.1, 0.1, "plain")
        return fig

    counts = []
    for memo in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with text_memoised() if memo else contextlib.nullcontext():
                for _ in range(3):
                    _pixels(figure())
        counts.append(sum("missing from" in str(w.message) for w in caught))
    assert counts[0] >= 3 and counts[1] == counts[0]
    # matplotlib warns when it measures the string: its size is measured in every figure
    assert "ab \u4e2d" not in {key[1] for key in text_memo._SIZES}
    assert "plain" in {key[1] for key in text_memo._SIZES}
