"""The report section on the data: coverage of each outcome, the estimation windows and donors
the data allow, the KPIs chosen for each construct, and the series breaks found."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evalmodel.cases import Design, constructs
from evalmodel.coverage import coverage, span
from evalmodel.names import unit_label
from evalmodel.report.plan import OutcomePlan
from evalmodel.report.section import Section

__all__ = ["build_data_section"]


def build_data_section(design: Design, plans: Sequence[OutcomePlan]) -> Section:
    """Coverage (years with data, units with data per year) of every KPI the plans consider,
    each plan's window and donors, and the breaks inside the windows.

    Tables: ``coverage`` (one row per KPI: first and last year with data, the years in which
    the comparison pool is covered, and the units with data in each year), ``windows`` (one
    row per outcome: KPI used, window, pre and post periods, donors kept and left out, or the
    reason nothing is estimated) and ``breaks``.
    """
    import matplotlib.pyplot as plt

    panel = design.panel
    pool = list(design.comparison)
    kpis = list(dict.fromkeys(k for p in plans for k in _considered(p) if k in panel.outcomes))
    cov_rows = []
    heat = {}
    for kpi in kpis:
        c = coverage(panel, kpi, units=pool)
        have = c.loc[c["n_units"] > 0, "period"].tolist()
        heat[kpi] = c.set_index("period")["n_units"]
        cov_rows.append({"outcome": kpi, "first": min(have) if have else None,
                         "last": max(have) if have else None,
                         "years_with_data": span(c.loc[c["share"] >= 0.8, "period"].tolist()),
                         **{str(int(p)): int(n) for p, n in zip(c["period"], c["n_units"],
                                                                 strict=True)}})
    win_rows = []
    notes = [f"Comparison pool before the windows: {len(pool)} units ({design.pool}); a year "
             "counts as a year with data when 80 % of the pool has a value; donors must be "
             "complete over the window; a treated gap shortens the window (it is never "
             "filled in the report)."]
    for p in plans:
        w = p.window
        win_rows.append({
            "outcome": p.name, "kpi": p.kpi or "",
            "window": f"{w.periods[0]}-{w.periods[-1]}" if w else "",
            "pre_periods": len(w.pre) if w else 0, "post_periods": len(w.post) if w else 0,
            "donors": len(w.donors) if w else 0,
            "donors_left_out": len(w.dropped) if w else 0,
            "left_out": ", ".join(unit_label(u) for u, _ in w.dropped) if w else "",
            "note": p.reason or p.choice})
        if p.choice:
            notes.append(p.choice)
        if w is not None:
            notes.extend(d + "." for d in w.decisions)
    brk_rows = [{"outcome": b.outcome, "period": b.period, "kind": b.kind, "score": b.score,
                 "note": b.note} for p in plans for b in p.breaks]
    for b in brk_rows:
        notes.append(f"series: {b['outcome']} has a {b['kind']} break at {b['period']} inside "
                     f"its window ({b['note']}); the triangulation adds an estimate on a window "
                     "that does not cross it.")
    tables: list[tuple[str, pd.DataFrame]] = [("coverage", pd.DataFrame(cov_rows)),
                                              ("windows", pd.DataFrame(win_rows))]
    if brk_rows:
        tables.append(("breaks", pd.DataFrame(brk_rows)))
    figures = []
    if heat:
        frame = pd.DataFrame(heat).T
        fig, ax = plt.subplots(figsize=(8, 0.9 + 0.32 * len(frame)), layout="constrained")
        im = ax.imshow(frame.to_numpy(float), aspect="auto", cmap="Blues", vmin=0,
                       vmax=max(len(pool), 1))
        ax.set_yticks(range(len(frame)), frame.index.tolist())
        cols = [int(c) for c in frame.columns]
        step = max(1, len(cols) // 12)
        ax.set_xticks(range(0, len(cols), step), [str(c) for c in cols[::step]])
        ax.axvline(cols.index(design.adoption) - 0.5 if design.adoption in cols else 0,
                   color="#c0392b", lw=1.5)
        fig.colorbar(im, ax=ax, label="comparison units with data")
        ax.set_title(f"{design.case.title}: coverage by year (red: adoption)")
        figures.append(("coverage", fig))
    return Section(key="data", title="Data: coverage, windows and series breaks",
                   tables=tuple(tables), figures=tuple(figures), notes=tuple(notes))


def _considered(plan: OutcomePlan) -> list[str]:
    return list(constructs().get(plan.name, (plan.name,)))
