"""Text of the Agg renderer measured, laid out and rasterised once per process.

FreeType loads (and hints) every glyph of a string each time matplotlib's Agg renderer
measures the string, lays it out for drawing, or rasterises one of its glyphs: a short tick
label costs about 0.25 ms to measure and as much again to lay out, a long legend entry ten
times that. A report worker draws the same few hundred strings (tick labels, axis labels,
legend entries) in fonts of a few sizes thousands of times over its figures, each figure with
a new renderer, so that matplotlib's own cache of text sizes (kept per renderer) never serves
a second figure.

Within :func:`text_memoised`, the renderer looks up what it computed before:

* a string's width, height and descent, by font, size, resolution, hinting and string;
* a string's layout (its glyphs and their offsets), by the same and its font features and
  language;
* a glyph's bitmap, by font, size, resolution, hinting, antialiasing, glyph, rotation and the
  fractional (1/64 pixel) part of its position, kept relative to the whole-pixel part: FreeType
  renders an outline moved by whole pixels into the same bitmap, moved by as many pixels.

Each key holds every input of the value (the font object itself stands for its files, face,
fallbacks and kerning, and is kept alive so that it keeps its identity), so the answers are the
ones FreeType gives: the same pixels (tested against the renderer without the memo, and on the
report's figures). A string whose measuring or layout warns (a glyph missing from the fonts)
is not kept, so that each figure drawing it warns as before. Mathematical and TeX text take
matplotlib's own path. The stores outlive the block (that is the point: the next figure finds
the strings of the previous ones), are emptied when one of them holds :data:`MAX_ENTRIES`
entries, and are not thread-safe (the report draws in one thread). Like
:mod:`evalmodel.report.draw_memo`, the block patches private methods
(``RendererAgg.draw_text`` and ``RendererAgg.get_text_width_height_descent``) and only on the
matplotlib releases it was checked on; elsewhere it changes nothing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["MAX_ENTRIES", "clear_text_memo", "text_memoised"]

#: Entries a store may hold before all stores are emptied (a few MB of glyph bitmaps).
MAX_ENTRIES = 50_000

_SIZES: dict[tuple[Any, ...], tuple[float, float, float]] = {}
_LAYOUTS: dict[tuple[Any, ...], list[Any]] = {}
#: key -> (bitmap, left and top of the bitmap less the whole pixels of the glyph's position)
_GLYPHS: dict[tuple[Any, ...], tuple[np.ndarray, int, int]] = {}


def clear_text_memo() -> None:
    """Empty the stores (e.g. before timing a cold draw)."""
    for store in (_SIZES, _LAYOUTS, _GLYPHS):
        store.clear()


def _room(store: dict[Any, Any]) -> None:
    if len(store) >= MAX_ENTRIES:
        clear_text_memo()


def _warned(compute: Any) -> tuple[Any, bool]:
    """``compute()`` and whether it warned (e.g. of a glyph missing from the fonts); its
    warnings are passed on. A value that warned is not kept, so that every figure that
    draws the string warns as it would without the memo."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = compute()
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return value, bool(caught)


def _text_size(original: Any) -> Any:
    from matplotlib.backends.backend_agg import get_hinting_flag

    def get_text_width_height_descent(self: Any, s: str, prop: Any, ismath: Any
                                      ) -> tuple[float, float, float]:
        if ismath is not False:  # mathtext or TeX: matplotlib's own path
            return original(self, s, prop, ismath)
        font = self._prepare_font(prop)
        key = (font, s, prop.get_size_in_points(), self.dpi, get_hinting_flag())
        size = _SIZES.get(key)
        if size is None:
            size, warned = _warned(lambda: original(self, s, prop, ismath))
            if not warned:
                _room(_SIZES)
                _SIZES[key] = size
        return size

    return get_text_width_height_descent


def _glyphs_drawn(renderer: Any, gc: Any, x: float, y: float, angle: float, items: list[Any],
                  size: float, flags: Any) -> None:
    """Draw the laid-out glyphs ``items`` of one string as ``RendererAgg`` draws plain text:
    each glyph rasterised by FreeType at its 1/64-pixel position (rounded as matplotlib
    rounds it), its bitmap composited at its whole-pixel place."""
    from matplotlib.ft2font import RenderMode

    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # the transform matplotlib gives FreeType for unslanted, unextended text
    matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]]) @ [[1, 0], [0, 1]]).round().astype(int)
    rotation = tuple(matrix.ravel().tolist())
    antialiased = bool(gc.get_antialiased())
    mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
    dpi, height = renderer.dpi, renderer.height
    for item in items:
        dx, dy = item.x, item.y  # dy is upwards, as FreeType's y
        px = round(0x40 * (x + dx * cos - dy * sin))
        py = round(0x40 * (height - y + dx * sin + dy * cos))
        font = item.ft_object
        key = (font, size, dpi, flags, antialiased, item.glyph_index, rotation, px & 63, py & 63)
        hit = _GLYPHS.get(key)
        if hit is None:
            font.set_size(size, dpi)
            font._set_transform(matrix, [px, py])
            bitmap = font._render_glyph(item.glyph_index, flags, mode)
            buffer = bitmap.buffer
            if not antialiased:
                buffer *= 0xff
            hit = (buffer, bitmap.left - (px >> 6), bitmap.top - (py >> 6))
            _room(_GLYPHS)
            _GLYPHS[key] = hit
        buffer, left, top = hit
        # draw_text_image's y is downwards and the bitmap's bottom side
        renderer._renderer.draw_text_image(buffer, left + (px >> 6),
                                           int(height) - (top + (py >> 6)) + buffer.shape[0],
                                           0, gc)


def _text_drawn(original: Any) -> Any:
    from matplotlib.backends.backend_agg import get_hinting_flag

    def draw_text(self: Any, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:
        if ismath:  # mathtext: matplotlib's own path
            return original(self, gc, x, y, s, prop, angle, ismath, mtext)
        font = self._prepare_font(prop)
        flags = get_hinting_flag()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        size = prop.get_size_in_points()
        key = (font, s, size, self.dpi, flags, features, language)
        try:
            items = _LAYOUTS.get(key)
        except TypeError:  # features or language in an unhashable form: not memoised
            return original(self, gc, x, y, s, prop, angle, ismath, mtext)
        if items is None:
            items, warned = _warned(lambda: list(font._layout(
                s, flags=flags, features=features, language=language)))
            if not warned:
                _room(_LAYOUTS)
                _LAYOUTS[key] = items
        _glyphs_drawn(self, gc, x, y, angle, items, size, flags)
        return None

    return draw_text


@contextmanager
def text_memoised() -> Iterator[None]:
    """Within the block, the Agg renderer measures, lays out and rasterises each string and
    glyph once per process (see the module)."""
    from matplotlib.backends.backend_agg import RendererAgg

    from evalmodel.report.draw_memo import checked_release

    if not checked_release():
        yield
        return
    originals = {name: vars(RendererAgg)[name]
                 for name in ("draw_text", "get_text_width_height_descent")}
    RendererAgg.draw_text = _text_drawn(originals["draw_text"])  # type: ignore[method-assign]
    RendererAgg.get_text_width_height_descent = _text_size(  # type: ignore[method-assign]
        originals["get_text_width_height_descent"])
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(RendererAgg, name, method)
