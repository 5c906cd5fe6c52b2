"""The synthetic estimators' design: the default donor pool is every never-treated unit.

``resolve_design`` reads the panel's cohorts to build the default pool; it now takes the unit
ids as one list instead of iterating the (arrow-backed) index one string at a time (issue 16).
Checked on a planted panel: never-treated units in the panel's order, units treated at some
time but not named left out and counted in the notes, the treated unit last.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.estimators.synth_design import resolve_design


def _panel() -> em.Panel:
    units = ["0114", "0115", "0117", "0120", "0123", "0125", "0126"]
    first = {"0115": 2004, "0123": 2006}  # treated at some time, not named below
    rng = np.random.default_rng(3)
    rows = [(u, t, float(rng.normal(10.0, 1.0)), first.get(u, 0))
            for u in units for t in range(2000, 2008)]
    df = pd.DataFrame(rows, columns=["unit", "year", "y", "first"])
    return em.Panel(df, unit="unit", time="year", cohort="first")


def test_default_pool_is_the_never_treated_units_in_panel_order() -> None:
    design = resolve_design(_panel(), "y", treated="0120", start=2005, donors=None,
                            fn="synth")
    assert design.donors == ("0114", "0117", "0125", "0126")
    assert list(design.y.index) == ["0114", "0117", "0125", "0126", "0120"]
    assert design.notes == ("2 units treated at some time but not named in treated= are "
                            "left out of the donor pool (e.g. ['0115', '0123'])",)
    named = resolve_design(_panel(), "y", treated="0115", start=None, donors=None,
                           fn="synth")
    assert named.donors == ("0114", "0117", "0120", "0125", "0126")
    assert named.adoption == {"0115": 2004}
    assert len(named.notes) == 1 and "1 units" in named.notes[0]
