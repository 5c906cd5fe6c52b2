"""Render one case study in a docs page: run ``analyses/<case>.py`` and display its sections.

Used by the MyST notebooks in ``docs/cases/``, which myst-nb executes on every build. The study
script is loaded by path, exactly as ``evalmodel run`` loads it, and its ``sections(panel)`` is
called on the embedded simulated data of the case's level; each section's notes, tables and
figures are displayed in order. Nothing here computes results: the page shows what the script
returns.
"""

from __future__ import annotations

import html
import warnings
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Image, Markdown, display

import evalmodel as em
from evalmodel.results import Summary, format_cell

__all__ = ["ANALYSES", "case_intro", "load_script", "run_sections", "show_case"]

ANALYSES = Path(__file__).resolve().parents[2] / "analyses"


def load_script(name: str) -> ModuleType:
    """Import ``analyses/<name>.py`` (its ``__main__`` guard holds)."""
    return em.report.load_script(ANALYSES / f"{name}.py")


def panel_for(case: Any) -> em.Panel:
    """The embedded simulated panel of the case's level."""
    if case.level == "district":
        return em.datasets.simulated_districts()
    return em.datasets.simulated()


def _table_html(obj: pd.DataFrame | Summary) -> str:
    """A table in a horizontally scrolling box (wide tables do not overflow the page)."""
    if isinstance(obj, Summary):
        inner = obj._repr_html_()
    else:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in obj.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(format_cell(v))}</td>" for v in row) + "</tr>"
            for row in obj.itertuples(index=False))
        inner = (f'<table class="evalmodel-table"><thead><tr>{head}</tr></thead>'
                 f"<tbody>{body}</tbody></table>")
    return f'<div class="evalmodel-scroll">{inner}</div>'


def case_intro(name: str) -> None:
    """Display the registry facts of the case: units, adoption, pools and sources."""
    case = em.cases.get(name)
    design = case.design(panel_for(case))
    lines = [
        f"**Treated:** {', '.join(case.treated)} ({case.level}); **adoption:** {case.adoption} "
        f"(plausible range {case.adoption_range[0]}-{case.adoption_range[1]}: "
        f"{case.adoption_note})",
        f"**Comparison pool:** {len(design.comparison)} units; **kept out:** "
        f"{len(design.excluded)} units ({case.exclude_note or 'treated elsewhere or exposed'})",
        f"**Outcomes:** {', '.join(case.outcomes)}; **displacement outcomes:** "
        f"{', '.join(case.displacement_outcomes) or 'none'}",
    ]
    display(Markdown("\n\n".join(lines)))
    if case.sources:
        items = "".join(f"<li>{html.escape(s.fact)} <em>({html.escape(s.document)})</em></li>"
                        for s in case.sources)
        display(HTML(f'<p class="case-notes">What the source documents say:</p><ul '
                     f'class="case-notes">{items}</ul>'))


def run_sections(name: str) -> tuple[list[em.report.Section], list[str]]:
    """The script's sections on the embedded data, and the warnings raised while making them."""
    case = em.cases.get(name)
    module = load_script(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sections = list(module.sections(panel_for(case)))
    notes = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return sections, notes


def show_case(name: str, *, dpi: int = 110) -> None:
    """Display every section of the case study ``name``: notes, figures, then tables."""
    sections, notes = run_sections(name)
    display(HTML('<p class="stamp">Simulated data: these numbers illustrate the methods on the '
                 "embedded panel with planted effects; they are not findings about the real "
                 "municipality.</p>"))
    for sec in sections:
        display(HTML(f"<h3>{html.escape(sec.title)}</h3>"))
        if sec.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in sec.notes)
            display(HTML(f'<ul class="case-notes">{items}</ul>'))
        for _, fig in sec.figures:
            buf = BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
            display(Image(data=buf.getvalue(), format="png"))
            plt.close(fig)
        for table_name, obj in sec.tables:
            display(HTML(f'<p class="evalmodel-caption">{html.escape(table_name)}</p>'
                         f"{_table_html(obj)}"))
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        display(HTML(f'<div class="case-warnings"><p>Warnings raised while running the '
                     f"analysis:</p><ul>{items}</ul></div>"))
    plt.close("all")
