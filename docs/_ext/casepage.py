"""Render one case study in a docs page: run ``analyses/<case>.py`` and display its sections.

Used by the MyST notebooks in ``docs/cases/``, which myst-nb executes on every build. The study
script is loaded by path, exactly as ``evalmodel run`` loads it, and its ``sections(panel)`` is
called on a panel; each section's notes, figures and tables are displayed in order under a
stamp that says where the data came from. Nothing here computes results: the page shows what
the script returns.

Two panels are shown, by one function (:func:`show_sections`):

- the **official series** (:func:`show_real_case`): the real Kolada extract named by
  ``$EVALMODEL_REAL_DATA`` (``.ci/run`` sets it), read by ``em.read_panel`` and stamped
  "Källa: Kolada" with the extract's snapshot; without the variable the page says the extract
  was not available for this build and how to get the results;
- the **embedded simulated data** with planted effects (:func:`show_case`), stamped as such:
  the package's validation, where every estimate can be set beside the truth.
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Sequence
from functools import cache
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

__all__ = ["ANALYSES", "KNOWN_EXTRACTS", "REAL_DATA_ENV", "SIMULATED_STAMP", "case_intro",
           "district_format", "load_script", "real_panel", "real_stamp", "run_sections",
           "show_case", "show_real_case", "show_sections"]

ANALYSES = Path(__file__).resolve().parents[2] / "analyses"

#: Environment variable naming the real Kolada extract (``.ci/run`` exports it).
REAL_DATA_ENV = "EVALMODEL_REAL_DATA"

#: The stamp of the simulated sections.
SIMULATED_STAMP = ("Simulated data: these numbers illustrate the methods on the embedded panel "
                   "with planted effects; they are not findings about the real municipality.")

#: Real extracts whose snapshot is known, by the SHA-256 of the file: what the stamp says.
KNOWN_EXTRACTS = {
    "6239b5801bcc5acf3e77806af829d85e4c0993e359f50ab2f15e02f5e45f0336":
        "snapshot of 2024-08-30: the open-numbers/ddf--kolada--dump scrape of the Kolada API "
        "(Gapminder, raw files dated 2024-08-30)",
}

# The scripts draw every figure before the page shows (and closes) them; matplotlib's warning
# about many open figures says nothing about the analysis.
plt.rcParams["figure.max_open_warning"] = 0


def load_script(name: str) -> ModuleType:
    """Import ``analyses/<name>.py`` (its ``__main__`` guard holds)."""
    return em.report.load_script(ANALYSES / f"{name}.py")


def panel_for(case: Any) -> em.Panel:
    """The embedded simulated panel of the case's level."""
    if case.level == "district":
        return em.datasets.simulated_districts()
    return em.datasets.simulated()


@cache
def real_panel() -> tuple[em.Panel | None, str, tuple[str, ...]]:
    """The real extract of ``$EVALMODEL_REAL_DATA`` read by ``em.read_panel``, why it is not
    available (``None`` then), and how it was read: ``panel.notes`` (every evalmodel warning of
    the reader is one of them) and any other warning raised, so nothing reaches stderr."""
    value = os.environ.get(REAL_DATA_ENV, "")
    if not value:
        return None, f"${REAL_DATA_ENV} was not set", ()
    path = Path(value)
    if not path.is_file():
        return None, f"${REAL_DATA_ENV} names no file ({value})", ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = em.read_panel(path)
    other = [f"{w.category.__name__}: {w.message}" for w in caught
             if not issubclass(w.category, em.EvalModelWarning)]
    return panel, "", tuple(dict.fromkeys([*panel.notes, *other]))


def real_stamp(panel: em.Panel) -> str:
    """The stamp of results on the official series: the source and the extract's snapshot."""
    src = panel.source
    known = KNOWN_EXTRACTS.get(str(src.get("sha256", "")))
    what = known or (f"the file {src.get('name', '?')} (sha256 {str(src.get('sha256', '?'))[:12]}"
                     "...; its snapshot date is not known to this page)")
    periods = [int(p) for p in panel.periods]
    return (f"Källa: Kolada. Official series, {what}; {len(panel.units)} municipalities, "
            f"{periods[0]}-{periods[-1]}, gender {src.get('gender', 'T')}. The estimates are "
            "evalmodel's computations on these series, not Kolada's.")


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


def _items(lines: Sequence[str]) -> str:
    return "".join(f"<li>{html.escape(n)}</li>" for n in lines)


def case_intro(name: str) -> None:
    """Display the registry facts of the case: units, adoption, pools and sources."""
    case = em.cases.get(name)
    design = case.design(panel_for(case))
    lines = [
        f"**Treated:** {', '.join(em.unit_label(u) for u in case.treated)} ({case.level}); **adoption:** {case.adoption} "
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


def run_sections(name: str, panel: em.Panel) -> tuple[list[em.report.Section], list[str]]:
    """The script's sections on ``panel``, and the warnings raised while making them."""
    module = load_script(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sections = list(module.sections(panel))
    notes = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return sections, notes


def show_sections(name: str, panel: em.Panel, stamp: str, *, kind: str = "simulated",
                  data_notes: Sequence[str] = (), dpi: int = 110) -> None:
    """Run the case study ``name`` on ``panel`` and display its sections under ``stamp``:
    notes, figures, then tables, and the warnings raised on the way.

    ``kind`` (``"simulated"`` or ``"real"``) sets the stamp's style; ``data_notes`` (how the
    data were read) are shown folded under the stamp.
    """
    sections, notes = run_sections(name, panel)
    display(HTML(f'<p class="stamp stamp-{html.escape(kind)}">{html.escape(stamp)}</p>'))
    if data_notes:
        display(HTML(f'<details class="case-notes"><summary>How the data were read '
                     f"({len(data_notes)} notes)</summary><ul>{_items(data_notes)}</ul>"
                     "</details>"))
    for sec in sections:
        display(HTML(f"<h3>{html.escape(sec.title)}</h3>"))
        if sec.notes:
            display(HTML(f'<ul class="case-notes">{_items(sec.notes)}</ul>'))
        for _, fig in sec.figures:
            buf = BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
            display(Image(data=buf.getvalue(), format="png"))
            plt.close(fig)
        for table_name, obj in sec.tables:
            display(HTML(f'<p class="evalmodel-caption">{html.escape(table_name)}</p>'
                         f"{_table_html(obj)}"))
    if notes:
        display(HTML(f'<div class="case-warnings"><p>Warnings raised while running the '
                     f"analysis:</p><ul>{_items(notes)}</ul></div>"))
    plt.close("all")


def show_case(name: str, *, dpi: int = 110) -> None:
    """Display the case study ``name`` on the embedded simulated data (planted effects)."""
    show_sections(name, panel_for(em.cases.get(name)), SIMULATED_STAMP, dpi=dpi)


def show_real_case(name: str, *, dpi: int = 110) -> None:
    """Display the case study ``name`` on the real extract of ``$EVALMODEL_REAL_DATA``, or a
    note saying that it was not available for this build and how to get the results."""
    panel, why, read_notes = real_panel()
    if panel is None:
        display(HTML(
            '<p class="stamp stamp-missing">The real Kolada extract was not available for this '
            f"build ({html.escape(why)}), so no results on the official series are shown here. "
            "To get them, run the case studies on a Kolada extract: <code>evalmodel run --data "
            "&lt;extract&gt; --out results-real</code> (in a checkout beside the shared data, "
            "<code>make run-real</code>), then open <code>results-real/index.html</code>; or "
            f"build these pages with <code>{REAL_DATA_ENV}=&lt;extract&gt; make docs</code>.</p>"))
        return
    show_sections(name, panel, real_stamp(panel), kind="real", data_notes=read_notes,
                  dpi=dpi)


def district_format() -> None:
    """Display the columns of a district file (``evalmodel.data.DISTRICT_COLUMNS``)."""
    table = pd.DataFrame({"column": list(em.data.DISTRICT_COLUMNS),
                          "meaning": list(em.data.DISTRICT_COLUMNS.values())})
    display(HTML(_table_html(table)))
