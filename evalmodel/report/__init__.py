"""Tables, figures and the case report (the I/O layer on top of the estimators)."""

from evalmodel.report.case import CaseOutput, write_case
from evalmodel.report.runner import load_script, run_report
from evalmodel.report.sec_did import build_did_section
from evalmodel.report.sec_displacement import build_displacement_section
from evalmodel.report.section import Section
from evalmodel.report.standard import SECTION_BUILDERS, standard_sections
from evalmodel.report.tables import write_table

__all__ = [
    "SECTION_BUILDERS",
    "CaseOutput",
    "Section",
    "build_did_section",
    "build_displacement_section",
    "load_script",
    "run_report",
    "standard_sections",
    "write_case",
    "write_table",
]
