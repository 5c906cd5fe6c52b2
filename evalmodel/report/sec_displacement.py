"""The report section of the displacement hypothesis: non-targeted outcomes and neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from evalmodel.cases import Design
from evalmodel.displacement import (
    DisplacementTest,
    SpilloverResult,
    outcome_displacement,
    spillover,
    verdict,
)
from evalmodel.errors import EstimationError, EvalModelError
from evalmodel.kpis import ADVERSE
from evalmodel.report.plan import OutcomePlan
from evalmodel.report.sec_did import planted_effect, planted_log_effect
from evalmodel.report.section import Section

__all__ = ["WINDOW", "DisplacementFindings", "build_displacement_section",
           "displacement_findings", "displacement_section"]

#: Periods before and from adoption compared by the displacement tests.
WINDOW = (5, 5)


@dataclass(frozen=True)
class DisplacementFindings:
    """The displacement tests of a case, read by its section and its verdict.

    Attributes
    ----------
    tests : tuple of (label, DisplacementTest)
        Each test done, labelled.
    table : DataFrame
        One row a test (with its window and, on simulated data, the planted effect) or an
        outcome not testable with these data (with the reason).
    verdicts : tuple of str
        One sentence a test or untestable outcome.
    ring : SpilloverResult or None
        The ring design on the primary outcome, when the exposed units could be tested.
    n_exposed : int
        The exposed units the ring design removes from the comparison pool.
    """

    tests: tuple[tuple[str, DisplacementTest], ...]
    table: pd.DataFrame
    verdicts: tuple[str, ...]
    ring: SpilloverResult | None
    n_exposed: int


def build_displacement_section(design: Design, plans: Sequence[OutcomePlan],
                               primary: OutcomePlan | None = None) -> Section | None:
    """Tests on the case's displacement outcomes (``plans``: one per construct, with the KPI the
    data hold) and, where the panel holds the units the registry flags as exposed, the ring
    design on the primary outcome (``primary``). An outcome the data cannot test is listed as
    "not testable with these data" with the reason. ``None`` when the case names none."""
    found = displacement_findings(design, plans, primary)
    return None if found is None else displacement_section(found)


def displacement_findings(design: Design, plans: Sequence[OutcomePlan],
                          primary: OutcomePlan | None = None) -> DisplacementFindings | None:
    """The tests of :func:`build_displacement_section`; ``None`` when the case names none."""
    full = design.case
    tests: list[tuple[str, DisplacementTest]] = []
    untestable: list[dict[str, object]] = []
    notes: list[str] = []
    windows: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for plan in plans:
        if plan.design is None:
            untestable.append({"test": f"{plan.name} (non-targeted)", "outcome": plan.name,
                               "note": plan.reason})
            notes.append(f"{plan.name}: {plan.reason}.")
            continue
        d, kpi = plan.design, str(plan.kpi)
        pre, post = d.pre_periods[-WINDOW[0]:], d.post_periods[:WINDOW[1]]
        try:
            t = outcome_displacement(d.panel, kpi, treated=d.treated, pool=d.comparison,
                                     pre=pre, post=post, transform="log")
        except EstimationError as exc:
            untestable.append({"test": f"{kpi} (non-targeted)", "outcome": kpi,
                               "note": f"not testable with these data: {exc}"})
            notes.append(f"{kpi}: not testable with these data: {exc}")
            continue
        windows[kpi] = (pre, post)
        tests.append((f"{kpi} (non-targeted)", t))
        adverse = t.estimate * ADVERSE.get(kpi, 1) > 0
        what = "displacement" if adverse or not t.detected else \
            "an effect opposite to displacement"
        notes.append(verdict(t, what=what) + (f" ({plan.choice})" if plan.choice else ""))
    ring = None
    exposed: list[str] = []
    if primary is not None and primary.design is not None:
        d = primary.design
        exposed = [u for u in full.exclude if u in design.excluded]
        pre, post = d.pre_periods[-WINDOW[0]:], d.post_periods[:WINDOW[1]]
        if exposed:
            try:
                ring = spillover(d.full_panel, str(primary.kpi), treated=d.treated,
                                 exposed=exposed, pool=d.comparison, pre=pre, post=post)
            except EvalModelError as exc:
                untestable.append({"test": f"{primary.kpi} in exposed units",
                                   "outcome": primary.kpi,
                                   "note": f"not testable with these data: {exc}"})
                notes.append(f"spill-over on {primary.kpi}: not testable with these data: {exc}")
            else:
                windows[str(primary.kpi)] = (pre, post)
    if ring is not None:
        tests.append((f"{primary.kpi} in exposed units", ring.exposed))  # type: ignore[union-attr]
        notes.append(verdict(ring.exposed, what="spill-over"))
    if not tests and not untestable:
        return None
    rows = []
    for label, t in tests:
        row = {"test": label, **t.row()}
        outcome = t.outcome
        pre, post = windows[outcome]
        row["window"] = f"{pre[0]}-{pre[-1]} vs {post[0]}-{post[-1]}"
        units = design.treated if "exposed" not in label else tuple(exposed)
        if t.transform == "log":
            planted = planted_log_effect(design, outcome, post, units)
        else:
            planted = planted_effect(design, outcome, post, units)
        if planted is not None:
            row["planted"] = planted
        rows.append(row)
    table = pd.DataFrame([*rows, *untestable])
    if "note" in table:
        table["note"] = table["note"].fillna("")
    return DisplacementFindings(tuple(tests), table, tuple(notes), ring, len(exposed))


def displacement_section(found: DisplacementFindings) -> Section:
    """The section of the displacement tests ``found``: their table, figure and verdicts."""
    import matplotlib.pyplot as plt

    from evalmodel.plotting.displacement import displacement_plot

    tests, ring = found.tests, found.ring
    notes = list(found.verdicts)
    if ring is not None:
        notes.append(f"Removing the {found.n_exposed} exposed units from the comparison pool "
                     f"moves the treated estimate by {ring.shift:+.3f} ({ring.with_exposed:+.3f}"
                     f" -> {ring.without_exposed:+.3f}).")
    figures = []
    if tests:
        fig, ax = plt.subplots(figsize=(7, 1.6 + 0.8 * len(tests)), layout="constrained")
        displacement_plot([t for _, t in tests], [label for label, _ in tests], ax=ax)
        figures.append(("tests", fig))
        notes.insert(0, "DiD of the mean over the last 5 years before adoption against the "
                        "first 5 from it (each row's window), within each outcome's estimation "
                        "window; tests on non-targeted rates in log points (proportional "
                        f"change), as their movements scale with their level; "
                        f"{tests[0][1].inference}.")
    else:
        notes.insert(0, "No displacement outcome is testable with these data.")
    tables: list[tuple[str, pd.DataFrame]] = [("tests", found.table)]
    if ring is not None:
        tables.append(("ring", ring.table))
    return Section(key="displacement", title="Displacement and spill-over",
                   tables=tuple(tables), figures=tuple(figures), notes=tuple(notes))

