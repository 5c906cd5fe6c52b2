"""Case study: the Lindängen model (a district of Malmö, adopted about 2011).

Runs on a district panel (the embedded simulated districts, or a city's file passed with
`--districts`). Lindängen's neighbouring districts are kept out of the comparison pool because
recipients may move there; their own change is shown beside the main estimate as a first look at
spill-over. Alone: `python analyses/lindangen.py [--districts PATH] [--out results]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import evalmodel as em

CASE = "lindangen"


def sections(panel: em.Panel) -> list[em.report.Section]:
    """The report sections of this case on ``panel``."""
    case = em.cases.get(CASE)
    design = case.design(panel)
    out = em.report.standard_sections(design)
    neighbours = [u for u in case.exclude if u in panel.units]
    if neighbours:
        # The neighbours as if treated at the same date, against the same comparison pool.
        ring = panel.select(units=[*neighbours, *design.comparison]).with_cohorts(
            {u: design.adoption for u in neighbours})
        r = em.did2x2(ring, design.outcomes[0], pre=design.pre_periods[-3:],
                      post=design.post_periods[:4])
        out.append(em.report.Section(
            key="spillover", title="Neighbouring districts (spill-over check)",
            tables=(("did2x2", r.summary()),),
            notes=(f"Neighbours {neighbours} against the comparison pool: a rise would suggest "
                   "recipients moved out of Lindängen rather than into work.",)))
    return out


if __name__ == "__main__":
    here = str(Path(__file__).resolve().parent)
    sys.exit(em.cli.main(["run", "--cases", CASE, "--analyses", here, *sys.argv[1:]]))
