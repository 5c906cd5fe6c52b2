"""matplotlib's repeated measurements of one figure, memoised while the report saves it.

Laying out and drawing one report figure asks each axis for its ticks about ten times and
each text for its size about six times, and each legend at ``loc="best"`` searches the data
for its place three times, with nothing changed in between (a tick-label box is measured for
the layout, for the axis label's position, for the spines, for the title, ...). Within
:func:`measurements_memoised`, an axis computes its ticks once per view interval, axes box and
locator/formatter, a text its layout once per string, font, alignment, rotation, renderer and
resolution, and a legend its best place once per size, axes box and data limits; asked again
with the same inputs, they return what they returned.
The figure is the same to the bit (tested against ``savefig`` on the report's figures).

The memo patches three private matplotlib methods (``Axis._update_ticks``,
``Text._get_layout``, ``Legend._find_best_position``) for the duration of the block only, in
this process (not thread-safe: the report draws in one thread); when a matplotlib version lacks
one, the block leaves it alone and the figure is drawn the ordinary way. Private methods may
change meaning between releases, so the memo is used only on the matplotlib releases whose
figures were checked pixel for pixel against ``savefig`` (:data:`CHECKED_MATPLOTLIB`); on any
other the block changes nothing (the figures are the same, only slower to draw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["CHECKED_MATPLOTLIB", "checked_release", "measurements_memoised"]

#: matplotlib releases (major, minor) on which the memo was checked against ``savefig``.
CHECKED_MATPLOTLIB = frozenset({(3, 11)})


def checked_release() -> bool:
    """Whether the installed matplotlib is one of :data:`CHECKED_MATPLOTLIB`."""
    import matplotlib

    parts = matplotlib.__version__.split(".")
    try:
        return (int(parts[0]), int(parts[1])) in CHECKED_MATPLOTLIB
    except (IndexError, ValueError):
        return False


def _ticks_key(axis: Any) -> tuple[Any, ...]:
    """Everything an axis's tick computation reads that can differ between two calls."""
    return (tuple(axis.get_view_interval()), tuple(axis.axes.bbox.bounds),
            id(axis.major.locator), id(axis.major.formatter),
            id(axis.minor.locator), id(axis.minor.formatter))


def _layout_key(text: Any, renderer: Any) -> tuple[Any, ...] | None:
    """Everything a text's layout reads, or None when it also depends on where the text is
    (wrapped text) and is measured every time."""
    if text.get_wrap():
        return None
    fig = text.get_figure(root=True)
    return (id(renderer), text.get_text(), hash(text.get_fontproperties()),
            text.get_fontproperties().get_size_in_points(), text.get_rotation(),
            text.get_rotation_mode(), text._linespacing, text.get_usetex(),
            text.get_parse_math(), text.get_horizontalalignment(),
            text.get_verticalalignment(), text._get_multialignment(),
            None if fig is None else fig.dpi)


def _best_key(legend: Any, width: float, height: float, renderer: Any) -> tuple[Any, ...]:
    """Everything the search for a legend's "best" place reads that can differ between calls:
    the legend's size and the box and data limits of the axes it searches."""
    parent = legend.parent
    return (width, height, id(renderer), tuple(legend.get_bbox_to_anchor().bounds),
            tuple(parent.bbox.bounds), tuple(parent.viewLim.bounds))


#: id of an artist -> (the artist, kept alive so the id stays its own; key; value)
_Store = dict[int, tuple[Any, tuple[Any, ...], Any]]


def _memoised(method: Callable[..., Any], key: Callable[..., tuple[Any, ...] | None],
              store: _Store) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any) -> Any:
        k = key(self, *args)
        if k is None:
            return method(self, *args)
        hit = store.get(id(self))
        if hit is not None and hit[0] is self and hit[1] == k:
            return hit[2]
        value = method(self, *args)
        store[id(self)] = (self, k, value)
        return value

    return wrapper


@contextmanager
def measurements_memoised() -> Iterator[None]:
    """Memoise tick computations and text layouts until the block ends (see the module)."""
    from matplotlib.axis import Axis
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    patched: list[tuple[type, str, Any, _Store]] = []
    if not checked_release():
        yield
        return
    memos: tuple[tuple[type, str, Callable[..., tuple[Any, ...] | None]], ...] = (
        (Axis, "_update_ticks", _ticks_key), (Text, "_get_layout", _layout_key),
        (Legend, "_find_best_position", _best_key))
    for cls, name, key in memos:
        original = vars(cls).get(name)
        if callable(original):
            store: _Store = {}
            patched.append((cls, name, original, store))
            setattr(cls, name, _memoised(original, key, store))
    try:
        yield
    finally:
        for cls, name, original, store in patched:
            setattr(cls, name, original)
            store.clear()
