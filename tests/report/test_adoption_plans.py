"""The adoption-range section plans each outcome for each adoption year; for the registry's
year it takes the plans the case's estimates were made on (issue 16) when planning again
would only repeat them: the same rows, the same warnings, fewer plans made."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pandas as pd
import pytest

import evalmodel as em
from evalmodel.report import sec_adoption
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.plan import plan_outcomes


def _rows(design: em.cases.Design, names: list[str], known: Any,
          monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, list[str], int]:
    """The section's rows (estimators left out: only the plans matter here), the warnings
    raised and the number of plans made."""
    made = {"n": 0}
    plan = sec_adoption.plan_outcome

    def counted(*args: Any) -> Any:
        made["n"] += 1
        return plan(*args)

    monkeypatch.setattr(sec_adoption, "plan_outcome", counted)
    monkeypatch.setattr(sec_adoption, "_method_row", lambda est, method: {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = sec_adoption.adoption_rows(design, names, known)
    return table, [f"{w.category.__name__}: {w.message}" for w in caught], made["n"]


def test_registry_year_plans_are_the_cases_own(municipalities: em.Panel,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    design = em.cases.get("trelleborg").design(municipalities)
    names = list(design.case.outcomes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plans = plan_outcomes(design, names)
    known = {str(p.kpi): OutcomeEstimates(p.design, str(p.kpi), p) for p in plans
             if p.design is not None}
    fresh, fresh_warned, n_fresh = _rows(design, names, None, monkeypatch)
    reused, reused_warned, n_reused = _rows(design, names, known, monkeypatch)
    pd.testing.assert_frame_equal(reused, fresh)
    assert reused_warned == fresh_warned
    lo, hi = design.case.adoption_range
    assert n_fresh == (hi - lo + 1) * len(names)
    assert n_reused == n_fresh - len(known) and len(known) == 3
    assert set(fresh["adoption"]) == set(range(lo, hi + 1))
    assert fresh["planted"].notna().all()  # the rows carry the plans' numbers


def test_a_plan_that_warned_is_made_again(municipalities: em.Panel) -> None:
    """A plan whose making warned (a series break, filled treated cells) is made again, so
    its warnings are raised again as before; so is one of another year or outcome."""
    design = em.cases.get("trelleborg").design(municipalities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = plan_outcomes(design, ["N31814"])[0]
    assert plan.design is not None and plan.window is not None
    year = design.case.adoption
    known = {"N31814": OutcomeEstimates(plan.design, "N31814", plan)}
    assert sec_adoption._known_plan(known, "N31814", year) is plan
    assert sec_adoption._known_plan(known, "N31814", year + 1) is None
    assert sec_adoption._known_plan(known, "N31807", year) is None
    assert sec_adoption._known_plan(None, "N31814", year) is None
    broken = dataclasses.replace(plan, breaks=(object(),))  # type: ignore[arg-type]
    filled = dataclasses.replace(plan, window=dataclasses.replace(
        plan.window, filled=(("1287", year, 1.0),)))
    for p in (broken, filled):
        assert sec_adoption._known_plan({"N31814": OutcomeEstimates(plan.design, "N31814", p)},
                                        "N31814", year) is None
