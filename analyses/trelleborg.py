"""Case study: the Trelleborg model (municipality 1287, adopted about 2010).

The standard analysis of the primary outcomes (long-term dependence N31814, the share with
assistance N31807, young adults with assistance U31804), then the displacement hypothesis: the
same designs on youth open unemployment (N03939), an outcome of people the model did not
target. Alone: `python analyses/trelleborg.py [--data simulated|PATH] [--out results]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import evalmodel as em

CASE = "trelleborg"


def sections(panel: em.Panel) -> list[em.report.Section]:
    """The report sections of this case on ``panel``."""
    design = em.cases.get(CASE).design(panel)
    out = em.report.standard_sections(design)
    displaced = [o for o in design.case.displacement_outcomes[:1] if o in panel.outcomes]
    out += [em.report.build_did_section(design, o) for o in displaced]
    return out


if __name__ == "__main__":
    here = str(Path(__file__).resolve().parent)
    sys.exit(em.cli.main(["run", "--cases", CASE, "--analyses", here, *sys.argv[1:]]))
