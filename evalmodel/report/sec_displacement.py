"""The report section of the displacement hypothesis: non-targeted outcomes and neighbours."""

from __future__ import annotations

import pandas as pd

from evalmodel.cases import Design
from evalmodel.displacement import (
    DisplacementTest,
    outcome_displacement,
    spillover,
    verdict,
)
from evalmodel.errors import EstimationError
from evalmodel.report.sec_did import planted_effect, planted_log_effect
from evalmodel.report.section import Section

__all__ = ["WINDOW", "build_displacement_section"]

#: Periods before and from adoption compared by the displacement tests.
WINDOW = (5, 5)


def build_displacement_section(design: Design) -> Section | None:
    """Tests on the case's displacement outcomes and, where the panel holds the units the
    registry flags as exposed, the ring design; ``None`` when the data allow neither."""
    import matplotlib.pyplot as plt

    from evalmodel.plotting.displacement import displacement_plot

    panel = design.panel
    full = design.case
    pre, post = design.pre_periods[-WINDOW[0]:], design.post_periods[:WINDOW[1]]
    tests: list[tuple[str, DisplacementTest]] = []
    notes: list[str] = []
    for outcome in full.displacement_outcomes:
        if outcome not in panel.outcomes:
            continue
        try:
            t = outcome_displacement(panel, outcome, treated=design.treated,
                                     pool=design.comparison, pre=pre, post=post,
                                     transform="log")
        except EstimationError as exc:
            notes.append(f"{outcome}: not testable here: {exc}")
            continue
        tests.append((f"{outcome} (non-targeted)", t))
        notes.append(verdict(t))
    ring = None
    exposed = [u for u in full.exclude if u in design.excluded]
    if exposed and design.outcomes:
        ring = spillover(design.full_panel, design.outcomes[0], treated=design.treated,
                         exposed=exposed, pool=design.comparison, pre=pre, post=post)
    if ring is not None:
        tests.append((f"{design.outcomes[0]} in exposed units", ring.exposed))
        notes.append(verdict(ring.exposed, what="spill-over"))
        notes.append(f"Removing the {len(exposed)} exposed units from the comparison pool moves "
                     f"the treated estimate by {ring.shift:+.3f} ({ring.with_exposed:+.3f} -> "
                     f"{ring.without_exposed:+.3f}).")
    if not tests:
        return None
    rows = []
    for label, t in tests:
        row = {"test": label, **t.row()}
        outcome = t.outcome
        units = design.treated if "exposed" not in label else tuple(exposed)
        if t.transform == "log":
            planted = planted_log_effect(design, outcome, post, units)
        else:
            planted = planted_effect(design, outcome, post, units)
        if planted is not None:
            row["planted"] = planted
        rows.append(row)
    table = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.8 * len(tests)), layout="constrained")
    displacement_plot([t for _, t in tests], [label for label, _ in tests], ax=ax)
    notes.insert(0, f"DiD of the mean over {pre[0]}-{pre[-1]} against {post[0]}-{post[-1]}; "
                    "tests on non-targeted rates in log points (proportional change), as their "
                    f"movements scale with their level; {tests[0][1].inference}.")
    tables: list[tuple[str, pd.DataFrame]] = [("tests", table)]
    if ring is not None:
        tables.append(("ring", ring.table))
    return Section(key="displacement", title="Displacement and spill-over",
                   tables=tuple(tables), figures=(("tests", fig),), notes=tuple(notes))

