"""Writing tables and figures: CSV, Markdown, LaTeX (booktabs) and PNG, byte-stable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evalmodel.results import Summary, format_cell

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["FIGURE_DPI", "frame_to_latex", "frame_to_markdown", "save_figure", "write_table"]

#: Resolution of the report's PNG figures.
FIGURE_DPI = 110


def frame_to_markdown(df: pd.DataFrame) -> str:
    """A pipe table with four-decimal numbers."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(format_cell(v) for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def frame_to_latex(df: pd.DataFrame, caption: str = "") -> str:
    """A booktabs table with four-decimal numbers."""
    return Summary(title=caption, header=(), table=df).to_latex()


def write_table(obj: pd.DataFrame | Summary, stem: Path) -> list[Path]:
    """Write ``obj`` as ``stem.csv``, ``stem.md`` and ``stem.tex``; return the paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    df = obj.table if isinstance(obj, Summary) else obj
    paths = [stem.with_suffix(s) for s in (".csv", ".md", ".tex")]
    df.to_csv(paths[0], index=False, float_format="%.10g", lineterminator="\n")
    if isinstance(obj, Summary):
        paths[1].write_text(obj.to_markdown(), encoding="utf-8")
        paths[2].write_text(obj.to_latex(), encoding="utf-8")
    else:
        paths[1].write_text(frame_to_markdown(df), encoding="utf-8")
        paths[2].write_text(frame_to_latex(df, stem.name), encoding="utf-8")
    return paths


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG without time stamps (identical bytes for identical figures)."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    engine = fig.get_layout_engine()
    if engine is not None:
        # Lay the figure out once at the saving resolution, as savefig would, and save it
        # with the layout switched off: savefig otherwise draws the whole figure a first time
        # (with rendering disabled) only to run the layout. The pixels are the same.
        fig.set_dpi(FIGURE_DPI)
        engine.execute(fig)
        fig.set_layout_engine("none")
    fig.savefig(path, dpi=FIGURE_DPI, metadata={"Software": None})
    plt.close(fig)
    return path
