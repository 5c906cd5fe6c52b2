"""The HTML report: ``index.html`` with every case, and one page per case."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalmodel.names import unit_label
from evalmodel.report.case import CaseOutput, WrittenSection
from evalmodel.results import Summary, format_rows

__all__ = ["write_html"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:70rem;margin:auto;
padding:1rem 2rem;color:#1d2327;line-height:1.45}
h1{border-bottom:3px solid #c0392b;padding-bottom:.3rem}h2{margin-top:2.5rem;color:#2c3e50}
h3{margin-top:1.8rem}.stamp{background:#fdf2e9;border-left:4px solid #e67e22;padding:.5rem 1rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #2c3e50}
img{max-width:100%;height:auto;border:1px solid #eee}.notes{color:#555;font-size:.9rem}
.files{font-size:.8rem;color:#777}nav a{margin-right:1rem}
.meta th{text-align:left;font-weight:600}.meta td{text-align:left}
"""


def _table(obj: pd.DataFrame | Summary) -> str:
    if isinstance(obj, Summary):
        return obj._repr_html_()
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in obj.columns)
    body = "".join("<tr><td>" + "</td><td>".join(map(e, row)) + "</td></tr>" if row
                   else "<tr></tr>" for row in format_rows(obj))  # a row of no columns
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(ws: WrittenSection, prefix: str) -> str:
    e = html.escape
    sec = ws.section
    parts = [f'<h3 id="{e(prefix)}-{e(sec.key)}">{e(sec.title)}</h3>']
    if sec.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in sec.notes)
                     + "</ul>")
    for fig in ws.figures:
        parts.append(f'<figure><img src="{e(fig)}" alt="{e(sec.title)}"></figure>')
    for name, obj, files in ws.tables:
        links = " · ".join(f'<a href="{e(f)}">{e(Path(f).suffix[1:])}</a>' for f in files)
        parts.append(f"<h4>{e(name)}</h4>{_table(obj)}<p class='files'>{links}</p>")
    return "\n".join(parts)


def _case_html(co: CaseOutput) -> str:
    e = html.escape
    c = co.case
    facts = "".join(f"<li>{e(s.fact)} <em>({e(s.document)})</em></li>" for s in c.sources)
    notes = "".join(f"<li>{e(n)}</li>" for n in co.notes)
    head = (f'<h2 id="{e(c.name)}">{e(c.title)}</h2>'
            f"<p>Treated: {e(', '.join(unit_label(u) for u in c.treated))} ({e(c.level)}); "
            f"adoption {c.adoption} "
            f"&mdash; {e(c.adoption_note)}</p><ul class='notes'>{facts}</ul>"
            + (f"<details><summary>Notes and warnings ({len(co.notes)})</summary>"
               f"<ul class='notes'>{notes}</ul></details>" if co.notes else ""))
    return head + "\n".join(_section(ws, c.name) for ws in co.sections)


def _page(title: str, body: str, stamp: str | None, base: str = "") -> str:
    banner = f'<p class="stamp"><strong>{html.escape(stamp)}.</strong> ' \
             "Estimates below come from the embedded simulated panel with planted effects, " \
             "not from the official series.</p>" if stamp else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title>{'<base href=' + repr(base) + '>' if base else ''}"
            f"<style>{_CSS}</style></head><body>{banner}{body}</body></html>\n")


def _publisher(data: Mapping[str, Any]) -> str:
    """Who published the report's data: SCB (``--data scb``), Socialstyrelsen (its monthly
    files), else Kolada."""
    if data.get("kind") == "scb":
        return "SCB"
    return "Socialstyrelsen" if str(data.get("layout", "")).startswith("socialstyrelsen") \
        else "Kolada"


def write_html(
    outputs: Sequence[CaseOutput],
    out: Path,
    *,
    manifest: Mapping[str, Any],
    stamp: str | None,
    not_run: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out/index.html`` (every case) and ``out/<case>/index.html`` (one case each).

    ``index.html`` opens with each case's verdict and lists the cases not run with the reason.
    """
    e = html.escape
    nav = "<nav>" + "".join(f'<a href="#{e(co.case.name)}">{e(co.case.name)}</a>'
                            for co in outputs) + "</nav>"
    data = manifest.get("data", {})
    intro = (
        "<h1>evalmodel: did the municipal models reduce social assistance?</h1>"
        f"<p>Data: {e(str(data.get('name', '')))} (sha256 {e(str(data.get('sha256', ''))[:16])}"
        f"&hellip;). evalmodel {e(str(manifest.get('evalmodel_version', '')))}. "
        "One treated municipality is one treated cluster: read cluster-robust intervals of the "
        "single-unit cases with the caution the notes give.</p>"
        + ("" if stamp else f"<p><strong>Källa: {_publisher(data)}.</strong> The estimates "
           f"are evalmodel's processing of those values, not {_publisher(data)}'s.</p>") + nav
    )
    verdicts = "".join(
        f"<li><a href='#{e(co.case.name)}'>{e(co.case.title)}</a>: "
        f"{e(' '.join(ws.section.notes[:1]))}</li>"
        for co in outputs for ws in co.sections[:1] if ws.section.key == "verdict")
    skipped = "".join(f"<li><strong>{e(k)}</strong>: not run: {e(v)}</li>"
                      for k, v in (not_run or {}).items())
    summary = (f"<h2 id='verdicts'>Verdicts</h2><ul>{verdicts}{skipped}</ul>"
               if verdicts or skipped else "")
    pages = [_case_html(co) for co in outputs]  # each case rendered once, for both pages
    cases = summary + "\n".join(pages)
    man = (f"<h2 id='manifest'>Manifest</h2><pre>{e(json.dumps(manifest, indent=2))}</pre>")
    index = out / "index.html"
    index.write_text(_page("evalmodel report", intro + cases + man, stamp), encoding="utf-8")
    for co, case_html in zip(outputs, pages, strict=True):
        page = "<p><a href='index.html'>&larr; all cases</a></p>" + case_html
        (out / co.case.name / "index.html").write_text(
            _page(co.case.title, page, stamp, base="../"), encoding="utf-8")
    return index
