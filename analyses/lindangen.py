"""Case study: the Lindängen model (a district of Malmö, adopted about 2011).

Runs on a district panel (the embedded simulated districts, or a city's file passed with
`--districts`). Lindängen's neighbouring districts are kept out of the comparison pool because
recipients may move there; the ring design of the displacement section estimates their own
change and how far the Lindängen estimate moves when they are kept out.
Alone: `python analyses/lindangen.py [--districts PATH] [--out results]`.
"""

from __future__ import annotations

import sys

import evalmodel as em

CASE = "lindangen"


def sections(panel: em.Panel) -> list[em.report.Section]:
    """The report sections of this case on ``panel``."""
    design = em.cases.get(CASE).design(panel)
    return em.report.standard_sections(design)


if __name__ == "__main__":
    sys.exit(em.cli.case_script(CASE, __file__))
