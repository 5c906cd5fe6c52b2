"""Case study: Malmö's city-wide investment in work with assistance.

Runs the standard analysis of the case (every estimator on each primary outcome) on the panel it
is given. Alone: `python analyses/malmo.py [--data simulated|PATH] [--out results]`;
with the other cases: `evalmodel run`.
"""

from __future__ import annotations

import sys

import evalmodel as em

CASE = "malmo"


def sections(panel: em.Panel) -> list[em.report.Section]:
    """The report sections of this case on ``panel``."""
    design = em.cases.get(CASE).design(panel)
    return em.report.standard_sections(design)


if __name__ == "__main__":
    sys.exit(em.cli.case_script(CASE, __file__))
