"""The case registry on a monthly panel: adoption months and monthly outcomes (issue 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.months import month_code, month_labels

JAN21 = month_code(2021, 1)


def monthly_panel(start: str = "2020-01", end: str = "2021-12") -> em.Panel:
    """Linköping, Malmö and six comparison units, month by month (labels, as a file gives them)."""
    first, last = (int(x[:4]) * 12 + int(x[5:]) - 1 for x in (start, end))
    codes = np.arange(first, last + 1)
    units = ["0580", "1280", "0180", "0114", "0115", "0117", "0120", "0125"]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"kommun": np.repeat(units, len(codes)),
                          "month": np.tile(month_labels(codes), len(units)),
                          "households": rng.normal(500, 10, len(units) * len(codes)),
                          "share": rng.normal(3, 0.1, len(units) * len(codes))})
    with pytest.warns(em.errors.CoercedValuesWarning, match="month labels converted"):
        return em.Panel(frame, unit="kommun", time="month")


def test_registry_has_adoption_months_and_monthly_outcomes() -> None:
    months = {n: em.cases.get(n).adoption_month for n in em.cases.names()}
    assert months == {"boras": month_code(2012, 1), "lindangen": month_code(2011, 1),
                      "linkoping": JAN21, "malmo": month_code(2015, 1),
                      "trelleborg": month_code(2010, 1)}
    for name in em.cases.names():  # January of the adoption year, unless a source says
        case = em.cases.get(name)
        assert case.monthly_adoption() // 12 == case.adoption and case.adoption_month_note
    assert em.cases.get("linkoping").monthly_outcomes == (
        "households", "recipients", "share", "scb_benefits_20_64")


def test_design_uses_the_adoption_month_on_a_monthly_panel() -> None:
    panel = monthly_panel()
    case = em.cases.get("linkoping")
    design = case.design(panel)
    assert design.adoption == JAN21 and case.adoption == 2021
    assert design.pre_periods == tuple(range(month_code(2020, 1), JAN21))
    assert design.post_periods == tuple(range(JAN21, month_code(2021, 12) + 1))
    assert design.outcomes == ("households", "share")  # the monthly outcomes in the data
    assert design.comparison == ("0114", "0115", "0117", "0120", "0125", "0180")  # not Malmö
    assert int(design.panel.cohorts()["0580"]) == JAN21
    assert any("first treated month 2021-01" in n for n in design.notes)
    annual = case.design(em.datasets.simulated())
    assert annual.adoption == 2021 and annual.outcomes == ("N31807", "N31910")


def test_design_on_months_takes_a_month_and_refuses_a_year() -> None:
    panel = monthly_panel()
    case = em.cases.get("linkoping")
    moved = case.design(panel, adoption="2021-07")
    assert moved.adoption == month_code(2021, 7)
    assert "adoption set to 2021-07 (registry: 2021-01)" in moved.notes
    with pytest.raises(em.DesignError, match=r"adoption=2021 is a year.*adoption='2021-01'"):
        case.design(panel, adoption=2021)
    with pytest.raises(em.DesignError, match=r"adoption='2020-01' must be a period of the panel "
                                             r"after its first \(2020-01-2021-12\)"):
        case.design(panel, adoption="2020-01")
    with pytest.raises(em.DesignError, match=r"adoption='2021-01' must be a period.*"
                                             r"\(2021-01-2021-12\)"):
        case.design(monthly_panel(start="2021-01"))


def test_window_warning_names_months() -> None:
    panel = monthly_panel()
    gap = panel.with_values("share", {("0120", month_code(2020, 6)): float("nan")},
                            note="one cell removed")
    design = em.cases.get("linkoping").design(gap)
    with pytest.warns(em.errors.WindowWarning,
                      match=r"1 comparison units lack share in 2020-01-2021-12"):
        restricted = design.for_outcome("share")
    assert "0120" not in restricted.comparison and len(restricted.comparison) == 5
