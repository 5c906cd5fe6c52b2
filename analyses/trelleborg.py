"""Case study: the Trelleborg model (municipality 1287, adopted about 2010).

The standard analysis of the primary outcomes (long-term dependence N31814, the share with
assistance N31807, young adults with assistance U31804) and the displacement hypothesis raised
by the model's critics: the same comparison on youth open unemployment (N03939) and open
unemployment (N03937), outcomes of people the model did not target, tested by placebo in space
with its minimum detectable effect. Alone: `python analyses/trelleborg.py [--out results]`.
"""

from __future__ import annotations

import sys

import evalmodel as em

CASE = "trelleborg"


def sections(panel: em.Panel) -> list[em.report.Section]:
    """The report sections of this case on ``panel``."""
    design = em.cases.get(CASE).design(panel)
    return em.report.standard_sections(design)


if __name__ == "__main__":
    sys.exit(em.cli.case_script(CASE, __file__))
