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


def test_every_2x2_test_of_an_outcome_shares_one_setup(plan: object,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The permutation tests of several 2x2 windows (the inference section's, the
    triangulation's, the adoption range's) are made on one set of assignments: each equal,
    bit for bit, to permutation_inference's with the same arguments."""
    from evalmodel.inference import permutation

    made = []
    setup = permutation.permutation_setup

    def counted(*args: object, **kwargs: object) -> permutation.PermutationSetup:
        made.append(1)
        return setup(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("evalmodel.report.estimates.permutation_setup", counted)
    est = OutcomeEstimates(plan.design, str(plan.kpi), plan)  # type: ignore[attr-defined]
    d = est.design
    g = d.adoption
    windows = [((g - 1,), tuple(d.post_periods)), (tuple(d.pre_periods), tuple(d.post_periods)),
               ((g - 2, g - 1), (g, g + 1))]
    for pre, post in windows:
        fit = est.permutation(pre, post)
        assert fit.error is None and fit.caught == ()
        alone = permutation_inference(d.panel, est.outcome,
                                      statistic=DiD2x2Statistic(est.outcome, pre=pre, post=post),
                                      treated=d.treated, pool=d.comparison, seed=SEED,
                                      conf_level=CONF_LEVEL, allow_unreachable=True)
        r = fit.value
        assert r is not None
        assert (r.estimate, r.p_value, r.ci_lower, r.ci_upper) == (
            alone.estimate, alone.p_value, alone.ci_lower, alone.ci_upper)
        np.testing.assert_array_equal(r.distribution, alone.distribution)
    assert made == [1]
    # an impossible window is that test's error, not the others'
    bad = est.permutation((1066,), (g,))
    assert bad.value is None and "1066" in str(bad.error)
