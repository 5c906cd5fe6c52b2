"""The displacement hypothesis across the cases: one table of tests on non-targeted outcomes.

For every municipality case, the effect of the model on youth open unemployment (N03939) and
open unemployment (N03937), tested by placebo in space with its minimum detectable effect; for
Lindängen, the ring design on its neighbouring districts. Writes `<out>/displacement.csv` and
`.md` and prints the verdicts. Run: `python analyses/displacement.py [--out results]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import evalmodel as em
from evalmodel.report.plan import plan_outcomes


def verdicts(panels: dict[str, em.Panel]) -> pd.DataFrame:
    """One row per displacement test and case."""
    rows = []
    for name in em.cases.names():
        case = em.cases.get(name)
        design = case.design(panels[case.level])
        plans = plan_outcomes(design, case.outcomes)
        primary = next((p for p in plans if p.design is not None), None)
        section = em.report.build_displacement_section(
            design, plan_outcomes(design, case.displacement_outcomes), primary)
        if section is None:
            continue
        table = dict(section.tables)["tests"]
        rows.append(table.assign(case=name))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    """Run every case's displacement tests on the embedded data and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results")
    out = Path(parser.parse_args().out)
    panels = {"municipality": em.datasets.simulated(),
              "district": em.datasets.simulated_districts()}
    table = verdicts(panels)
    out.mkdir(parents=True, exist_ok=True)
    em.report.write_table(table, out / "displacement")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
