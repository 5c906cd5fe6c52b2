"""A report section: the tables, figures and notes one analysis contributes to a case page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from evalmodel.results import Summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["Section"]


@dataclass(frozen=True)
class Section:
    """What one analysis adds to a case report.

    Attributes
    ----------
    key : str
        Short file-name stem, e.g. ``"did"`` or ``"synth"``; files are written as
        ``<case>/<key>_<name>.csv|md|tex|png``.
    title : str
        Heading on the case page.
    tables : tuple of (name, DataFrame or Summary)
        Tables to write as CSV, Markdown and LaTeX and to show on the page.
    figures : tuple of (name, matplotlib Figure)
        Figures to write as PNG and to show on the page.
    notes : tuple of str
        Sentences shown under the heading (inference used and why, caveats).
    """

    key: str
    title: str
    tables: tuple[tuple[str, pd.DataFrame | Summary], ...] = ()
    figures: tuple[tuple[str, Figure], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
