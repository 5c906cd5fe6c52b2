"""Placebo studies (issue 13, part 2): size, power and coverage of each estimator's default
inference, measured by fake adoptions in the never-treated pool of the Trelleborg case.

The simulated world (290 municipalities, 1998-2024) has serially correlated errors and
heterogeneous trends. Each size test gives every pool unit in turn (or 200 drawn with a seed) a
fake adoption in 2010 and checks that the share of rejections at 5 % is 5 % +- 2.5 pp.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.cases import Design
from evalmodel.errors import EstimationError, EvalModelWarning

OUTCOME = "N31807"
#: Nominal size and the tolerance of the size tests (issue 13: 5 % +- 2.5 pp).
ALPHA, TOL = 0.05, 0.025


@pytest.fixture(scope="module")
def design(municipalities: em.Panel) -> Design:
    """The Trelleborg case on the simulated world: 286 never-treated comparison units."""
    return em.cases.get("trelleborg").design(municipalities)


def _perm(design: Design) -> em.calibrate.Adapter:
    return em.calibrate.permutation_did2x2(pre=design.pre_periods, post=design.post_periods)


def _study(design: Design, estimator: object, **kw: object) -> em.PlaceboStudyResult:
    return em.placebo_study(design.panel, OUTCOME, estimator,  # type: ignore[arg-type]
                            pool=design.comparison, adoption=design.adoption, **kw)


def _assert_size(s: em.PlaceboStudyResult) -> None:
    assert s.n_failed == 0, s.notes
    assert abs(s.size - ALPHA) <= TOL, s.describe()


# -- the interface ----------------------------------------------------------------------------

def test_table_rates_and_summary(design: Design) -> None:
    s = _study(design, _perm(design), n_units=40, seed=3)
    assert isinstance(s, em.PlaceboStudyResult)
    assert list(s.placebos.columns[:7]) == ["unit", "estimate", "ci_lower", "ci_upper", "p_value",
                                         "rejected", "covered"]
    assert s.n == len(s.placebos) == 40 and s.n_units == 40
    assert set(s.placebos["unit"]) <= set(design.comparison)
    assert not set(s.placebos["unit"]) & set(design.treated)
    rej = s.placebos["p_value"] <= ALPHA
    assert s.rejection_rate == pytest.approx(rej.mean())
    assert s.rejection_se == pytest.approx(math.sqrt(s.size * (1 - s.size) / 40))
    cov = (s.placebos["ci_lower"] <= 0) & (s.placebos["ci_upper"] >= 0)
    assert s.coverage == pytest.approx(cov.mean())
    # the interval and the test agree: the interval excludes 0 exactly when p <= alpha
    assert (s.placebos["rejected"] == ~s.placebos["covered"]).all()
    text = str(s.summary())
    assert "Placebo study: permutation 2x2, N31807" in text and "rejection rate (size)" in text
    assert "| coverage |" in s.summary().to_markdown()
    assert "<table" in s._repr_html_()
    assert s.describe().startswith("placebo study of permutation 2x2")
    with pytest.raises(EstimationError, match=r"size, not power"):
        _ = s.power
    with pytest.raises(AttributeError):
        s.effect = 1.0  # type: ignore[misc]  # frozen


def test_deterministic_with_seed(design: Design) -> None:
    a = _study(design, _perm(design), n_units=15, seed=7)
    b = _study(design, _perm(design), n_units=15, seed=7)
    c = _study(design, _perm(design), n_units=15, seed=8)
    pd.testing.assert_frame_equal(a.placebos, b.placebos)
    assert list(a.placebos["unit"]) != list(c.placebos["unit"])


def test_planted_effect_shifts_a_linear_estimate_exactly(design: Design) -> None:
    null = _study(design, _perm(design), n_units=25, seed=1)
    planted = _study(design, _perm(design), n_units=25, seed=1, effect=4.0)
    shift = planted.placebos["estimate"] - null.placebos["estimate"]
    np.testing.assert_allclose(shift, 4.0, atol=1e-9)
    assert planted.power == planted.rejection_rate
    assert "power" in str(planted.summary())
    with pytest.raises(EstimationError, match="power, not size"):
        _ = planted.size


def test_estimator_may_return_four_numbers_or_fail(design: Design) -> None:
    def est(p: em.Panel, y: str, unit: str, start: int) -> tuple[float, float, float, float]:
        if unit == design.comparison[0]:
            raise EstimationError("no fit for this one")
        warnings.warn("a warning each fit", EvalModelWarning, stacklevel=1)
        return 1.0, 0.5, 1.5, 0.01

    units = list(design.comparison[:6])
    s = em.placebo_study(design.panel, OUTCOME, est, pool=units, adoption=2010)
    assert s.n == 5 and s.n_failed == 1
    assert s.size == 1.0 and s.coverage == 0.0
    assert s.warnings == (("EvalModelWarning", 5),)
    assert "1 placebo fits failed" in " ".join(s.notes)
    assert s.estimator == "est"


def test_whole_line_and_one_sided_intervals_count_as_intervals(design: Design) -> None:
    """A test that cannot reach the level reports the whole line: it covers every effect and
    detects none; a one-sided interval detects effects beyond its finite end only. NaN ends
    mean no interval."""
    ends = {0: (-np.inf, np.inf), 1: (-np.inf, 2.0), 2: (float("nan"), float("nan"))}

    def est(p: em.Panel, y: str, unit: str, start: int) -> tuple[float, float, float, float]:
        lo, hi = ends[units.index(unit) % 3]
        return 1.0, lo, hi, 0.5

    units = list(design.comparison[:6])
    s = em.placebo_study(design.panel, OUTCOME, est, pool=units, adoption=2010)
    assert s.n_intervals == 4 and s.coverage == 1.0 and s.size == 0.0
    # planting e moves the interval by e: (-inf, 2 + e) excludes 0 once e is below -2
    assert s.power_at(-3.0) == 0.5 and s.power_at(3.0) == 0.0
    assert np.isnan(s.detectable_effect(0.5, direction=1))
    assert np.isnan(s.detectable_effect(0.8, direction=-1))
    assert s.detectable_effect(0.5, direction=-1) == pytest.approx(-2.0, abs=1e-6)


def test_bad_arguments(design: Design) -> None:
    units = list(design.comparison[:10])

    def study(**kw: object) -> em.PlaceboStudyResult:
        args: dict[str, object] = {"pool": units, "adoption": 2010, **kw}
        return em.placebo_study(design.panel, OUTCOME, _perm(design), **args)  # type: ignore[arg-type]

    with pytest.raises(EstimationError, match="adoption=1998"):
        study(adoption=1998)
    with pytest.raises(EstimationError, match="not in the panel"):
        study(pool=["9999", *units])
    with pytest.raises(EstimationError, match="conf_level"):
        study(conf_level=95)
    with pytest.raises(EstimationError, match="n_units"):
        study(n_units=0)
    with pytest.raises(EstimationError, match="at least 3"):
        study(pool=units[:2])
    with pytest.raises(EstimationError, match="must return"):
        em.placebo_study(design.panel, OUTCOME, lambda *a: 0.3, pool=units, adoption=2010)
    # the real treated unit is left out of the pool, with a note
    s = study(pool=[*design.treated, *units], n_units=3, seed=1)
    assert design.treated[0] not in s.pool and "left out" in s.notes[0]


def test_plot(design: Design) -> None:
    import matplotlib.pyplot as plt

    ax = _study(design, _perm(design), n_units=20, seed=2).plot()
    assert ax.get_xlabel() == "p-value"
    plt.close(ax.figure)


# -- size of each estimator's default inference on the simulated world -------------------------

@pytest.mark.slow
def test_size_permutation_2x2_full_pool(design: Design) -> None:
    """The report's permutation 2x2 over every pool unit. Each fake treated unit meets the same
    exact placebo distribution (the other pool units), so the rejection share is the rank
    threshold floor(alpha n) / n by construction: a check of the machinery."""
    s = _study(design, _perm(design))
    assert s.n == len(design.comparison) == 286
    assert s.size == pytest.approx(math.floor(ALPHA * 286) / 286)
    _assert_size(s)
    assert abs(s.coverage - 0.95) <= TOL


@pytest.mark.slow
def test_size_did2x2(design: Design) -> None:
    s = _study(design, em.calibrate.did2x2(pre=design.pre_periods, post=design.post_periods))
    assert s.n == 286
    _assert_size(s)
    # its default with one treated unit is the permutation 2x2
    np.testing.assert_allclose(s.placebos["p_value"],
                               _study(design, _perm(design)).placebos["p_value"])


@pytest.mark.slow
def test_size_twfe(design: Design) -> None:
    s = _study(design, em.calibrate.twfe(), n_units=200, seed=13)
    assert s.n == 200
    _assert_size(s)


@pytest.mark.slow
def test_size_synth(design: Design) -> None:
    """Placebo in space for every one of the 286 fake treated units (each against 285 donors,
    its own 285 placebo fits): the average-effect p-value with the MSPE filter."""
    s = _study(design, em.calibrate.synth())
    assert s.n == 286
    _assert_size(s)


@pytest.mark.slow
def test_size_sdid(design: Design) -> None:
    """sdid's default with one treated unit is the placebo standard error (200 draws of
    pseudo-treated donors, seed 0) with a normal interval; 200 placebo units."""
    s = _study(design, em.calibrate.sdid(), n_units=200, seed=13)
    assert s.n == 200
    _assert_size(s)


@pytest.mark.slow
def test_size_att_gt_simple(design: Design) -> None:
    """att_gt's default with one treated unit: the simple aggregate's inference is
    design-based (placebo over the comparison pool); 286 placebo units."""
    s = _study(design, em.calibrate.att_gt("simple"))
    assert s.n == 286
    _assert_size(s)


# -- power --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_power_permutation_2x2_at_twice_the_mde(design: Design) -> None:
    """With an effect of twice the minimum detectable effect (80 % power, from the placebo
    distribution of the treated unit's test) planted, the test detects it in most fake units,
    and its intervals cover the planted effect about 95 % of the time."""
    stat = em.DiD2x2Statistic(OUTCOME, pre=design.pre_periods, post=design.post_periods)
    perm = em.permutation_inference(design.panel, OUTCOME, statistic=stat,
                                    treated=design.treated, pool=design.comparison)
    mde = em.minimum_detectable_effect(perm.distribution).mde
    s = _study(design, _perm(design), effect=2 * mde)
    assert s.power > 0.5, s.describe()
    assert abs(s.coverage - 0.95) <= TOL, s.describe()


# -- the real extract ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.real
def test_size_permutation_2x2_real(real_extract: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        panel = em.read_panel(real_extract)
        d = em.cases.get("trelleborg").design(panel).for_outcome(OUTCOME)
    est = em.calibrate.permutation_did2x2(pre=d.pre_periods, post=d.post_periods)
    s = em.placebo_study(d.panel, OUTCOME, est, pool=d.comparison, adoption=d.adoption)
    assert s.n == len(d.comparison) >= 200, s.describe()
    _assert_size(s)


# -- the result interface (issue 13, part 4) -----------------------------------------------------


def test_placebo_study_is_a_result_with_standard_columns(design: Design) -> None:
    s = _study(design, _perm(design), n_units=40, seed=3)
    assert isinstance(s, em.Result)
    t = s.table
    assert list(t.columns) == ["statistic", "estimate", "std_error", "ci_lower", "ci_upper",
                               "p_value", "n"]
    assert t["statistic"].tolist() == ["rejection rate (size)", "coverage"]
    head = s.overall
    assert head is not None and head["estimate"] == s.size and head["n"] == s.n == 40
    assert head["std_error"] == pytest.approx(s.rejection_se)
    # Wilson interval by hand, and the exact binomial p-value of the nominal size
    k, n, z = round(s.size * 40), 40, 1.959963984540054
    c = (k / n + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(k / n * (1 - k / n) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (head["ci_lower"], head["ci_upper"]) == pytest.approx((c - h, c + h), rel=1e-12)
    from scipy.stats import binomtest
    assert head["p_value"] == pytest.approx(binomtest(k, n, ALPHA).pvalue, rel=1e-12)
    assert t.loc[1, "estimate"] == s.coverage
    table = em.compare({"a": s, "b": s})
    assert "40 fake adoptions in 2010" in table.to_markdown()


def test_power_study_has_no_nominal_p_value(design: Design) -> None:
    s = _study(design, _perm(design), n_units=20, seed=3, effect=5.0)
    assert s.table["statistic"][0] == "rejection rate (power)"
    assert math.isnan(s.table["p_value"][0]) and s.overall["estimate"] == s.power


# -- power from the intervals of one null study ------------------------------------------------


@pytest.mark.parametrize("effect", [-1.5, 0.7, 3.0])
def test_power_at_equals_a_planted_study(design: Design, effect: float) -> None:
    """For the permutation 2x2 (a test inverted for a constant additive effect) the power read
    from the null study's intervals equals the rejection rate of a study with the effect
    planted, unit by unit."""
    null = _study(design, _perm(design), n_units=30, seed=5)
    planted = _study(design, _perm(design), n_units=30, seed=5, effect=effect)
    assert null.power_at(effect) == pytest.approx(planted.power, abs=1e-12)
    assert null.power_at(0.0) == pytest.approx(null.size, abs=1e-12)
    # and the other way round: from the planted study back to the null
    assert planted.power_at(0.0) == pytest.approx(null.size, abs=1e-12)
    np.testing.assert_allclose(null.power_at([effect, 0.0]), [planted.power, null.size])


def test_detectable_effect(design: Design) -> None:
    s = _study(design, _perm(design), n_units=30, seed=5)
    for direction in (-1, 1):
        mde = s.detectable_effect(0.8, direction=direction)
        assert np.sign(mde) == direction
        assert s.power_at(mde) >= 0.8
        assert s.power_at(mde - direction * 1e-6) < 0.8  # just short of it: not yet
    with pytest.raises(EstimationError, match="direction"):
        s.detectable_effect(direction=0)


def test_same_numbers_whatever_the_number_of_workers(design: Design) -> None:
    # random permutation draws, seeded in the adapter
    est = em.calibrate.permutation_did2x2(pre=design.pre_periods, post=design.post_periods,
                                          n_draws=99, seed=3)
    one = _study(design, est, n_units=8, seed=2)
    two = _study(design, est, n_units=8, seed=2, n_jobs=2)
    pd.testing.assert_frame_equal(one.placebos, two.placebos)
    assert one.warnings == two.warnings
    with pytest.raises(EstimationError, match="n_jobs=0"):
        _study(design, est, n_units=6, n_jobs=0)
