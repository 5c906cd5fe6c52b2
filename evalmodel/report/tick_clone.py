"""Ticks of a figure being saved made by copying the axis's first tick, not built anew.

Drawing a report figure creates most of its ticks: an axis makes a new ``Tick`` for each tick
location beyond those it has, which builds three lines and two texts from the style (about
0.25 ms) and then copies the first tick's properties onto them (about 0.1 ms more); the
report's 115 figures create about 1,560. Within :func:`ticks_cloned`, a new tick is a copy of
the axis's first tick instead: the tick and its five artists copied attribute by attribute,
each with its own callback registry and font properties (the only parts drawing or later
property setters change in place; lines and texts replace their data, paths, transforms and
markers rather than change them, and matplotlib's markers are immutable). What matplotlib's
own copy of the first tick's properties leaves out, its location and data, the axis sets on
every tick before it draws it. The figures are the same to the pixel (tested against the
ordinary ticks on several kinds of axis, and on the report's figures).

The block patches ``Axis.get_major_ticks`` and ``Axis.get_minor_ticks`` while it lasts, only
on the matplotlib releases the copies were checked on (those of
:mod:`evalmodel.report.draw_memo`), and is meant for a figure that is saved and closed: ticks
made in the block are ordinary ticks afterwards, but share a few immutable parts with their
first tick.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["cloned_tick", "ticks_cloned"]

#: The artists of a tick, as ``Tick`` names them.
_PARTS = ("tick1line", "tick2line", "gridline", "label1", "label2")


def _own(artist: Any) -> Any:
    """A shallow copy of ``artist`` with the state an artist must not share: its callback
    registry, removal hook, sticky edges and stale flag as a new artist has them."""
    from matplotlib import cbook

    new = copy.copy(artist)  # an artist's copy drops its stale callback: kept
    new.stale_callback = artist.stale_callback
    new._callbacks = cbook.CallbackRegistry(signals=["pchanged"])
    new._remove_method = None
    new._sticky_edges = None
    new._stale = True
    return new


def cloned_tick(src: Any) -> Any:
    """A new tick like ``src`` (an axis's first tick): what ``Axis.get_major_ticks`` makes
    from it, without building the tick's artists from the style first."""
    from matplotlib.text import Text

    tick = _own(src)
    for name in _PARTS:
        part = _own(getattr(src, name))
        if isinstance(part, Text):  # a copy of its own (set_fontproperties copies)
            part.set_fontproperties(part.get_fontproperties())
        setattr(tick, name, part)
    # as a tick built at location 0 and given the first tick's properties: no text, its
    # artists at 0, the first tick's location (the axis moves and labels it before drawing)
    tick.label1.set_text("")
    tick.label2.set_text("")
    tick.update_position(0)
    tick._loc = src._loc
    return tick


def _more_ticks(kind: str, original: Any) -> Any:
    locations = {"major": "get_majorticklocs", "minor": "get_minorticklocs"}[kind]

    def get_ticks(self: Any, numticks: int | None = None) -> list[Any]:
        # the list's first access makes its first tick the ordinary way
        ticks = self.majorTicks if kind == "major" else self.minorTicks
        if not ticks:  # an axis being made that asks for ticks: the ordinary way
            return original(self, numticks)
        if numticks is None:
            numticks = len(getattr(self, locations)())
        while len(ticks) < numticks:
            ticks.append(cloned_tick(ticks[0]))
        return list(ticks[:numticks])

    return get_ticks


@contextmanager
def ticks_cloned() -> Iterator[None]:
    """Within the block, an axis that needs more ticks copies its first one (see the
    module)."""
    from matplotlib.axis import Axis

    from evalmodel.report.draw_memo import checked_release

    if not checked_release():
        yield
        return
    originals = {name: vars(Axis)[name] for name in ("get_major_ticks", "get_minor_ticks")}
    Axis.get_major_ticks = _more_ticks(  # type: ignore[method-assign]
        "major", originals["get_major_ticks"])
    Axis.get_minor_ticks = _more_ticks(  # type: ignore[method-assign]
        "minor", originals["get_minor_ticks"])
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(Axis, name, method)
