"""Writing one case's sections to disk: tables, figures and a case page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evalmodel.cases import Case
from evalmodel.report.section import Section
from evalmodel.report.tables import save_figure, write_table
from evalmodel.results import Summary

__all__ = ["CaseOutput", "WrittenSection", "write_case"]


@dataclass(frozen=True)
class WrittenSection:
    """A section with the paths of what was written for it (relative to the output root)."""

    section: Section
    tables: tuple[tuple[str, pd.DataFrame | Summary, tuple[str, ...]], ...]
    figures: tuple[str, ...]


@dataclass(frozen=True)
class CaseOutput:
    """What was written for one case."""

    case: Case
    sections: tuple[WrittenSection, ...]
    notes: tuple[str, ...]


def write_case(
    case: Case,
    sections: Sequence[Section],
    out: Path,
    *,
    stamp: str | None = None,
    notes: Sequence[str] = (),
) -> CaseOutput:
    """Write each section's tables (CSV, Markdown, LaTeX) and figures (PNG) under ``out/<case>``.

    ``stamp`` (e.g. ``"simulated data"``) is written into every Markdown, LaTeX and PNG output.
    """
    folder = out / case.name
    written = []
    for sec in sections:
        tables = []
        for name, obj in sec.tables:
            paths = write_table(obj, folder / f"{sec.key}_{name}", stamp=stamp)
            tables.append((name, obj, tuple(str(p.relative_to(out)) for p in paths)))
        figures = []
        for name, fig in sec.figures:
            if stamp:
                fig.text(0.995, 0.005, stamp, ha="right", va="bottom", fontsize=8,
                         color="#7f8c8d")
            path = save_figure(fig, folder / f"{sec.key}_{name}.png")
            figures.append(str(path.relative_to(out)))
        written.append(WrittenSection(sec, tuple(tables), tuple(figures)))
    return CaseOutput(case=case, sections=tuple(written), notes=tuple(notes))
