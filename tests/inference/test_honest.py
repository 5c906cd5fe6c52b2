"""Rambachan-Roth robust confidence sets against the published HonestDiD example.

Reference: the README of the R package HonestDiD (github.com/asheshrambachan/HonestDiD,
"Example usage - Medicaid expansions"): a TWFE event study of ``dins`` on the ehec data
(years < 2016, the 2015 cohort dropped, ``D`` = expansion in 2014, reference 2013, clustered
by state with fixest's default small-sample correction), then
``createSensitivityResults_relativeMagnitudes(..., Mbarvec = seq(0.5, 2, by = 0.5))`` and
``createSensitivityResults(..., Mvec = seq(0, 0.05, by = 0.01))``; numbers copied from the
printed tibbles. The data ship in the moderndid==0.2.0 wheel.
"""

from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from evalmodel.errors import EstimationError
from evalmodel.inference.honest import breakdown_value, honest_ci, original_ci
from evalmodel.inference.sensitivity import pretrend_test, sensitivity
from evalmodel.results import COLUMNS

# (Mbar, lb, ub) as printed (C-LF, DeltaRM)
PUBLISHED_RM = [(0.5, "0.0240", "0.0672"), (1.0, "0.0170", "0.0720"),
                (1.5, "0.00824", "0.0797"), (2.0, "-0.000916", "0.0881")]
# (M, lb, ub) as printed (FLCI, DeltaSD)
PUBLISHED_SD = [(0.00, "0.0259", "0.0607"), (0.01, "0.0132", "0.0787"),
                (0.02, "0.00286", "0.0907"), (0.03, "-0.00714", "0.101"),
                (0.04, "-0.0171", "0.111"), (0.05, "-0.0271", "0.121")]
#: One step of HonestDiD's default theta grid here (40 standard errors / 999).
GRID_STEP = 3.7e-4


def _half_unit(printed: str) -> float:
    """Half a unit of the last printed digit."""
    decimals = len(printed.split(".")[1])
    return 0.5 * 10.0**-decimals


@dataclass(frozen=True)
class _ES:
    coefficients: pd.Series
    vcov: pd.DataFrame
    reference: int = -1


@pytest.fixture(scope="module")
def ehec_es() -> _ES:
    """The README's TWFE event study, estimated by two-way demeaning (balanced panel)."""
    path = files("moderndid") / "core" / "datasets" / "ehec_data.pkl.gz"
    with gzip.open(str(path), "rb") as f:
        d = pickle.load(f)
    d = d[(d.year < 2016) & (d.yexp2.isna() | (d.yexp2 != 2015))].copy()
    d["D"] = (d.yexp2 == 2014).astype(float)
    years = [y for y in range(2008, 2016) if y != 2013]
    x = np.column_stack([((d.year == y) * d.D).to_numpy(float) for y in years])

    def demean(v: np.ndarray) -> np.ndarray:
        s = pd.Series(v, index=d.index)
        return (s - s.groupby(d.stfips).transform("mean") - s.groupby(d.year).transform("mean")
                + s.mean()).to_numpy()

    xd = np.column_stack([demean(x[:, j]) for j in range(x.shape[1])])
    yd = demean(d.dins.to_numpy())
    b = np.linalg.lstsq(xd, yd, rcond=None)[0]
    e = yd - xd @ b
    codes = pd.factorize(d.stfips)[0]
    scores = np.zeros((codes.max() + 1, x.shape[1]))
    np.add.at(scores, codes, xd * e[:, None])
    bread = np.linalg.inv(xd.T @ xd)
    n, g = len(d), codes.max() + 1
    # fixest's default ssc: G/(G-1) * (n-1)/(n-K), K = 7 coefficients + 7 year effects (state
    # effects are nested in the state clusters and not counted)
    k = 7 + 7
    v = bread @ scores.T @ scores @ bread * g / (g - 1) * (n - 1) / (n - k)
    times = [y - 2014 for y in years]  # -6..-2, 0, 1 with 2013 (= -1) the reference
    return _ES(pd.Series(b, index=times), pd.DataFrame(v, index=times, columns=times))


def _arrays(es: _ES) -> tuple[np.ndarray, np.ndarray]:
    return es.coefficients.to_numpy(), es.vcov.to_numpy()


def test_event_study_matches_readme_point_estimate(ehec_es: _ES) -> None:
    # fixest::iplot in the README shows the 2014 effect near 0.046; the original CI below
    est, lo, hi = original_ci(*_arrays(ehec_es), num_pre_periods=5, num_post_periods=2)
    assert est == pytest.approx(0.046447, abs=1e-6)
    assert (hi - lo) / 2 / 1.959964 == pytest.approx(0.009138, abs=2e-5)


@pytest.mark.parametrize(("mbar", "lb", "ub"), PUBLISHED_RM)
def test_relative_magnitudes_reproduce_honestdid(ehec_es: _ES, mbar: float, lb: str, ub: str
                                                 ) -> None:
    lo, hi = honest_ci(*_arrays(ehec_es), num_pre_periods=5, num_post_periods=2,
                       restriction="relative_magnitude", m=mbar)
    # 3 decimals: within rounding of the printed value plus one grid step (the bounds are grid
    # points and the least-favourable critical value is simulated)
    assert abs(lo - float(lb)) <= _half_unit(lb) + GRID_STEP
    assert abs(hi - float(ub)) <= _half_unit(ub) + GRID_STEP
    assert abs(lo - float(lb)) < 5e-4 and abs(hi - float(ub)) < 5e-4


@pytest.mark.parametrize(("m", "lb", "ub"), PUBLISHED_SD)
def test_smoothness_reproduces_honestdid(ehec_es: _ES, m: float, lb: str, ub: str) -> None:
    lo, hi = honest_ci(*_arrays(ehec_es), num_pre_periods=5, num_post_periods=2,
                       restriction="smoothness", m=m)
    # Rounding of the printed value plus 6e-5: HonestDiD takes the best of 100 standard
    # deviations (ours is the optimum over all of them, solved exactly) and simulates the
    # folded-normal quantile (1e6 draws). The largest departure beyond rounding is 4.8e-5 (the
    # lower bound at M = 0).
    assert abs(lo - float(lb)) <= _half_unit(lb) + 6e-5
    assert abs(hi - float(ub)) <= _half_unit(ub) + 6e-5
    # the optimum over every standard deviation is never longer than HonestDiD's best of 100
    assert hi - lo <= float(ub) - float(lb) + _half_unit(lb) + _half_unit(ub)


def test_sensitivity_api_and_breakdown(ehec_es: _ES) -> None:
    h = sensitivity(ehec_es, restriction="relative_magnitude", m=[0.5, 1, 1.5, 2])
    assert list(h.table.columns) == ["m", *COLUMNS]
    lo, _ = honest_ci(*_arrays(ehec_es), num_pre_periods=5, num_post_periods=2,
                      restriction="relative_magnitude", m=1.5)
    assert h.table.loc[2, "ci_lower"] == pytest.approx(lo, abs=1e-12)
    # README: "the breakdown value for a significant effect is Mbar = 2"
    assert 1.5 < h.breakdown <= 2.0
    s = sensitivity(ehec_es, restriction="smoothness", m=[0, 0.01, 0.02, 0.03])
    # README: "the breakdown value for a significant effect is M ~ 0.03"
    assert 0.02 < s.breakdown < 0.03
    assert "Breakdown value" in str(s)
    assert s.method == "FLCI" and h.method == "C-LF"


def test_second_post_period_uses_event_time(ehec_es: _ES) -> None:
    h = sensitivity(ehec_es, restriction="smoothness", m=[0.0], event_time=1)
    est = ehec_es.coefficients.loc[1]
    assert h.original["estimate"] == pytest.approx(est, abs=1e-12)


def test_flci_m0_is_unbiased_under_linear_trend() -> None:
    # planted truth: exact linear pre-trend, no noise -> FLCI at M = 0 is centred on the effect
    tau = 0.3
    t = np.array([-4, -3, -2, 0, 1])  # leads -4..-2, lags 0, 1; reference -1
    slope = 0.05
    b = slope * (t + 1) + np.where(t >= 0, tau, 0.0)
    sigma = 0.01 * (np.eye(5) + 0.3)
    lo, hi = honest_ci(b, sigma, num_pre_periods=3, num_post_periods=2, restriction="smoothness",
                       m=0.0)
    assert (lo + hi) / 2 == pytest.approx(tau, abs=1e-9)
    bd = breakdown_value(b, sigma, num_pre_periods=3, num_post_periods=2,
                         restriction="smoothness")
    lo_b, _ = honest_ci(b, sigma, num_pre_periods=3, num_post_periods=2,
                        restriction="smoothness", m=bd)
    assert lo_b == pytest.approx(0.0, abs=2e-4)


@pytest.mark.slow
def test_robust_sets_cover_planted_effect() -> None:
    # planted truth: violations inside Delta^RM(1) and Delta^SD(0.02); coverage ~ 95 %
    rng = np.random.default_rng(7)
    sigma = 0.0004 * (np.eye(6) + 0.5)
    # leads at -4..-2, reference -1, lags 0..2: the largest post first difference (0.01) is
    # below the largest pre one (0.02), second differences at most 0.03
    delta = np.array([0.0, 0.01, -0.01, 0.0, 0.01, 0.02])
    tau = np.array([0, 0, 0, 0.05, 0.05, 0.05])
    draws = rng.multivariate_normal(delta + tau, sigma, size=100)
    cover_rm = cover_sd = 0
    for b in draws:
        lo, hi = honest_ci(b, sigma, num_pre_periods=3, num_post_periods=3,
                           restriction="relative_magnitude", m=1.0, grid_points=200)
        cover_rm += lo <= 0.05 + 0.0 <= hi
        lo, hi = honest_ci(b, sigma, num_pre_periods=3, num_post_periods=3,
                           restriction="smoothness", m=0.03)
        cover_sd += lo <= 0.05 <= hi
    assert cover_rm / 100 >= 0.90
    assert cover_sd / 100 >= 0.90


def test_pretrend_test_wald_and_equivalence(ehec_es: _ES) -> None:
    r = pretrend_test(ehec_es, margin=0.03)
    b, v = _arrays(ehec_es)
    wald = b[:5] @ np.linalg.inv(v[:5, :5]) @ b[:5]
    assert r.wald == pytest.approx(wald, rel=1e-10)
    assert r.df == 5
    se = np.sqrt(np.diag(v[:5, :5]))
    assert r.equivalence_bound == pytest.approx(np.max(np.abs(b[:5]) + 1.644854 * se), abs=1e-6)
    assert r.equivalence_p_value is not None and r.equivalence_p_value < 0.05  # 0.03 > bound
    assert r.margin == 0.03
    assert "Joint Wald" in str(r.summary())


def test_errors_are_named(ehec_es: _ES) -> None:
    no_leads = _ES(ehec_es.coefficients.loc[[0, 1]], ehec_es.vcov.loc[[0, 1], [0, 1]])
    with pytest.raises(EstimationError, match="no pre-period coefficients"):
        pretrend_test(no_leads)
    with pytest.raises(EstimationError, match="no pre-period coefficients"):
        sensitivity(no_leads, m=[1.0])
    with pytest.raises(EstimationError, match="reference period is -2"):
        sensitivity(_ES(ehec_es.coefficients, ehec_es.vcov, reference=-2))
    with pytest.raises(EstimationError, match="restriction='linear'"):
        sensitivity(ehec_es, restriction="linear")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="event_time=3 is not a post-period"):
        sensitivity(ehec_es, event_time=3)
    with pytest.raises(EstimationError, match=r"m=\[-1.0\] must be"):
        sensitivity(ehec_es, m=[-1.0])
    with pytest.raises(EstimationError, match="betahat has 7 values"):
        honest_ci(*_arrays(ehec_es), num_pre_periods=4, num_post_periods=2,
                  restriction="smoothness", m=0.0)
    gap = _ES(ehec_es.coefficients.drop(-4), ehec_es.vcov.drop(index=-4, columns=-4))
    with pytest.raises(EstimationError, match="not consecutive"):
        sensitivity(gap)
