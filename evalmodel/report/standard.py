"""The standard analysis of a case: every section builder run on each primary outcome.

The data decide first (:mod:`evalmodel.report.plan`): each outcome gets the estimation window
and donors its coverage allows, or a stated reason why it cannot be estimated. Then every
builder runs on each testable outcome, the displacement tests on the constructs the data hold,
the adoption year is varied over the registry's range, and the verdict and the triangulation
table sum it up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from evalmodel.cases import Design
from evalmodel.report.calibration_tasks import defer
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.plan import plan_outcomes
from evalmodel.report.sec_adoption import build_adoption_section
from evalmodel.report.sec_calibration import (
    build_calibration_section,
    current_calibration_units,
    estimates_by_method,
)
from evalmodel.report.sec_data import build_data_section
from evalmodel.report.sec_did import build_did_section
from evalmodel.report.sec_displacement import displacement_findings, displacement_section
from evalmodel.report.sec_inference import build_inference_section
from evalmodel.report.sec_staggered import build_staggered_section
from evalmodel.report.sec_synth import build_synth_section
from evalmodel.report.section import Section
from evalmodel.report.triangulation import build_triangulation
from evalmodel.report.verdict import build_verdict

__all__ = ["SECTION_BUILDERS", "standard_sections"]

SectionBuilder = Callable[[OutcomeEstimates], Section]

#: The builders run for every primary outcome of a case, in report order; each reads the
#: outcome's estimates (:class:`~evalmodel.report.estimates.OutcomeEstimates`).
SECTION_BUILDERS: tuple[SectionBuilder, ...] = (
    build_did_section,
    build_staggered_section,
    build_synth_section,
    build_inference_section,
)


def standard_sections(design: Design, outcomes: Sequence[str] | None = None,
                      *, adoption_range: bool = True) -> list[Section]:
    """The sections of a case's page, in order: verdict, triangulation, each method's size and
    power on the primary outcome, data, adoption range, then every builder of
    :data:`SECTION_BUILDERS` on each testable outcome (default: the case's primary outcomes)
    and the displacement section.

    Every outcome's estimates are held in one
    :class:`~evalmodel.report.estimates.OutcomeEstimates`, which every section, the
    triangulation and the verdict read: no estimate is computed twice.
    ``adoption_range=False`` leaves out the re-runs over the registry's adoption range. The
    calibration section's placebo units are
    :func:`~evalmodel.report.sec_calibration.current_calibration_units` (30 unless a
    :func:`~evalmodel.report.sec_calibration.calibration_units` block says otherwise; 0 leaves
    the section out).
    """
    names = list(outcomes or design.case.outcomes)
    plans = plan_outcomes(design, names)
    estimates = {str(p.kpi): OutcomeEstimates(p.design, str(p.kpi), p) for p in plans
                 if p.design is not None}
    out = [build(est) for est in estimates.values() for build in SECTION_BUILDERS]
    primary = next((p for p in plans if p.design is not None), None)
    others = plan_outcomes(design, design.case.displacement_outcomes)
    displacement = displacement_findings(design, others, primary)
    if displacement is not None:
        out.append(displacement_section(displacement))
    tri = build_triangulation(plans, estimates)
    tri_table = dict(tri.tables)["table"]
    head = [tri]
    n_units = current_calibration_units()
    if (n_units and primary is not None and primary.design is not None
            and isinstance(tri_table, pd.DataFrame)):
        kpi = str(primary.kpi)
        found = estimates_by_method(tri_table, kpi)
        # inside the report's case tasks, the studies run as tasks of their own
        # (evalmodel.report.calibration_tasks); elsewhere, here
        later = defer(primary.design, kpi, found, n_units=n_units)
        head.append(later if later is not None else
                    build_calibration_section(primary.design, kpi, found, n_units=n_units))
    head.append(build_data_section(design, [*plans, *others]))
    adoption = None
    if adoption_range:
        adoption = build_adoption_section(design, names, estimates)
        head.append(adoption)
    verdict = build_verdict(
        design.case.title, plans, estimates,
        tri_table if isinstance(tri_table, pd.DataFrame) else None,
        _frame(adoption, "by_year"), displacement)
    return [verdict, *head, *out]


def _frame(section: Section | None, name: str) -> pd.DataFrame | None:
    """The table ``name`` of a section this module just built, if any."""
    table = dict(section.tables).get(name) if section is not None else None
    return table if isinstance(table, pd.DataFrame) else None
