"""Writing tables and figures: CSV, Markdown, LaTeX (booktabs) and PNG, byte-stable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalmodel.report.draw_memo import measurements_memoised
from evalmodel.report.text_memo import text_memoised
from evalmodel.report.tick_clone import ticks_cloned
from evalmodel.results import Summary, format_rows

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["FIGURE_DPI", "PNG_COMPRESS_LEVEL", "TIGHT_PAD", "frame_to_latex", "frame_to_markdown",
           "save_figure", "write_table"]

#: Resolution of the report's PNG figures.
FIGURE_DPI = 110
#: Padding of the one tight-layout pass that replaces a constrained layout, in font sizes.
TIGHT_PAD = 0.4
#: zlib level of the PNGs: level 3 writes about a third faster than level 6, and without
#: row filters as small as PIL's filtered level 3 (measured on the report's figures).
PNG_COMPRESS_LEVEL = 3


def frame_to_markdown(df: pd.DataFrame) -> str:
    """A pipe table with four-decimal numbers."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(row) + " |" for row in format_rows(df)]
    return "\n".join(lines) + "\n"


def frame_to_latex(df: pd.DataFrame, caption: str = "") -> str:
    """A booktabs table with four-decimal numbers."""
    return Summary(title=caption, header=(), table=df).to_latex()


def write_table(obj: pd.DataFrame | Summary, stem: Path, *, stamp: str | None = None
                ) -> list[Path]:
    """Write ``obj`` as ``stem.csv``, ``stem.md`` and ``stem.tex``; return the paths.

    ``stamp`` (e.g. ``"simulated data"``) opens the Markdown (a bold quote) and the LaTeX (a
    comment); the CSV stays data only.
    """
    stem.parent.mkdir(parents=True, exist_ok=True)
    df = obj.table if isinstance(obj, Summary) else obj
    paths = [stem.with_suffix(s) for s in (".csv", ".md", ".tex")]
    df.to_csv(paths[0], index=False, float_format="%.10g", lineterminator="\n")
    if isinstance(obj, Summary):
        md, tex = obj.to_markdown(), obj.to_latex()
    else:
        md, tex = frame_to_markdown(df), frame_to_latex(df, stem.name)
    if stamp:
        md, tex = f"> **{stamp}**\n\n{md}", f"% evalmodel: {stamp}\n{tex}"
    paths[1].write_text(md, encoding="utf-8")
    paths[2].write_text(tex, encoding="utf-8")
    return paths


@contextmanager
def _tight_boxes_measured_once(fig: Figure) -> Iterator[None]:
    """Within the block, each Axes of ``fig`` measures its tight bounding box once per
    renderer and set of arguments and returns that box again when asked again.

    A tight layout with a ``rect`` (``TightLayoutEngine``'s default ``(0, 0, 1, 1)``) measures
    every Axes twice, in two passes between which nothing moves: the second pass gets the same
    boxes, so the layout is the same to the bit, for half the measuring.
    """
    axes = list(fig.axes)
    for ax in axes:
        measure = ax.get_tightbbox
        boxes: dict[tuple[int, tuple[tuple[str, Any], ...]], Any] = {}

        def measured(renderer: Any = None, *, _measure: Any = measure,
                     _boxes: dict[Any, Any] = boxes, **kwargs: Any) -> Any:
            key = (id(renderer), tuple(sorted(kwargs.items(), key=lambda kv: kv[0])))
            try:
                hash(key)
            except TypeError:  # e.g. a list of extra artists: measured every time
                return _measure(renderer, **kwargs)
            if key not in _boxes:
                _boxes[key] = _measure(renderer, **kwargs)
            return _boxes[key]

        ax.get_tightbbox = measured  # type: ignore[method-assign]
    try:
        yield
    finally:
        for ax in axes:
            del ax.get_tightbbox  # back to the class's method


def _lay_out_once(fig: Figure) -> None:
    """Run ``fig``'s layout once at the saving resolution, then switch the layout off.

    A constrained layout is replaced by one tight-layout pass (``TIGHT_PAD``): constrained
    layout measures every axes twice, tight layout once, and both keep the labels inside the
    figure. A figure with a colorbar keeps its constrained layout (matplotlib cannot swap the
    engine once a colorbar is placed).
    """
    import matplotlib as mpl
    from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

    fig.set_dpi(FIGURE_DPI)
    engine = fig.get_layout_engine()
    if engine is None:
        return
    if isinstance(engine, ConstrainedLayoutEngine):
        tight = TightLayoutEngine(pad=TIGHT_PAD)
        try:
            fig.set_layout_engine(tight)
            engine = tight
        except RuntimeError:  # a colorbar was placed for the constrained layout
            pass
    if isinstance(engine, TightLayoutEngine):
        with _tight_boxes_measured_once(fig):
            engine.execute(fig)
    else:
        engine.execute(fig)
    # None (not "none", which leaves a placeholder engine that makes savefig draw twice)
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG without time stamps (identical bytes for identical figures).

    The figure is laid out once (see ``_lay_out_once``) and drawn once, with matplotlib's
    repeated measurements memoised (:func:`~evalmodel.report.draw_memo.measurements_memoised`)
    and its text measured, laid out and rasterised once per process
    (:func:`~evalmodel.report.text_memo.text_memoised`), and the ticks it needs copied from each
    axis's first (:func:`~evalmodel.report.tick_clone.ticks_cloned`), the same pixels. The
    pixels are
    written by :func:`~evalmodel.report.png_writer.write_png` (unfiltered rows, zlib level
    ``PNG_COMPRESS_LEVEL``; an opaque figure as RGB, without the alpha channel that carries
    nothing).
    """
    import io

    import matplotlib.pyplot as plt
    import numpy as np

    from evalmodel.report.png_writer import write_png

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with measurements_memoised(), text_memoised(), ticks_cloned():
        _lay_out_once(fig)
        fig.savefig(raw, format="raw", dpi=FIGURE_DPI)
    width, height = (int(v) for v in fig.bbox.size)
    plt.close(fig)
    rgba = np.frombuffer(raw.getbuffer(), dtype=np.uint8).reshape(height, width, 4)
    return write_png(path, rgba, dpi=FIGURE_DPI, level=PNG_COMPRESS_LEVEL)
