"""The report runs the 2x2 permutation test once per outcome (issue 16, part 5): where the 2x2
DiD has already tested its estimate by the same permutation, the inference section, the
adoption range and the triangulation read that result instead of drawing it again."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import evalmodel as em
from evalmodel.inference.permutation import DiD2x2Statistic, permutation_inference
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.plan import plan_outcome
from evalmodel.report.settings import CONF_LEVEL, SEED


@pytest.fixture(scope="module")
def plan() -> object:
    design = em.cases.get("trelleborg").design(em.datasets.simulated())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan_outcome(design, "N31807")


def _fresh(est: OutcomeEstimates) -> em.PermutationResult:
    d, (pre, post) = est.design, est.did_periods
    return permutation_inference(d.panel, est.outcome,
                                 statistic=DiD2x2Statistic(est.outcome, pre=pre, post=post),
                                 treated=d.treated, pool=d.comparison, seed=SEED,
                                 conf_level=CONF_LEVEL)


def test_the_2x2_test_is_the_one_did2x2_ran(plan: object) -> None:
    est = OutcomeEstimates(plan.design, str(plan.kpi), plan)  # type: ignore[attr-defined]
    ran = est.did2x2.details["permutation"]
    fit = est.permutation(*est.did_periods)
    assert fit.value is ran and fit.error is None and fit.caught == ()
    fresh = _fresh(est)  # the test the report drew itself before: the same numbers
    assert np.array_equal(fresh.distribution, ran.distribution)
    assert (fresh.estimate, fresh.p_value, fresh.ci_lower, fresh.ci_upper, fresh.n_draws) == (
        ran.estimate, ran.p_value, ran.ci_lower, ran.ci_upper, ran.n_draws)


def test_no_2x2_fit_is_run_to_share_its_test(plan: object) -> None:
    """Before the 2x2 DiD is computed (the adoption range's designs never compute it) the test
    is drawn on its own, and other windows always are."""
    est = OutcomeEstimates(plan.design, str(plan.kpi), plan)  # type: ignore[attr-defined]
    fit = est.permutation(*est.did_periods)
    assert "did2x2" not in est.__dict__
    assert np.array_equal(fit.value.distribution, _fresh(est).distribution)  # type: ignore[union-attr]
    est2 = OutcomeEstimates(plan.design, str(plan.kpi), plan)  # type: ignore[attr-defined]
    _ = est2.did2x2
    pre, post = est2.did_periods
    other = est2.permutation(pre[-1:], post)
    assert other.value is not est2.did2x2.details["permutation"]
    assert other.value is not None and other.value.estimate != est2.did2x2.estimate
