"""The standard analysis of a case: every section builder run on each primary outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evalmodel.cases import Design
from evalmodel.report.sec_did import build_did_section
from evalmodel.report.sec_displacement import build_displacement_section
from evalmodel.report.sec_inference import build_inference_section
from evalmodel.report.sec_staggered import build_staggered_section
from evalmodel.report.sec_synth import build_synth_section
from evalmodel.report.section import Section
from evalmodel.report.triangulation import build_triangulation

__all__ = ["SECTION_BUILDERS", "standard_sections"]

SectionBuilder = Callable[[Design, str], Section]

#: The builders run for every primary outcome of a case, in report order.
SECTION_BUILDERS: tuple[SectionBuilder, ...] = (
    build_did_section,
    build_staggered_section,
    build_synth_section,
    build_inference_section,
)


def standard_sections(design: Design, outcomes: Sequence[str] | None = None) -> list[Section]:
    """Every builder of :data:`SECTION_BUILDERS` on each outcome (default: the case's), then
    the case's displacement section where the data allow one; the triangulation table of all
    of them comes first."""
    outcomes = list(outcomes or design.outcomes)
    out = [build(design, outcome) for outcome in outcomes for build in SECTION_BUILDERS]
    displacement = build_displacement_section(design)
    if displacement is not None:
        out.append(displacement)
    return [build_triangulation(design, out, outcomes), *out]
