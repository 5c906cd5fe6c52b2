"""The placebo study's batch of event studies reads only each unit's estimates, so its fits
skip the covariance (issue 16): the Sun-Abraham and imputation estimates must be those of the
full fit to the last bit, and the full fit's those of ``event_study``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.core.twoway import twoway_ols
from evalmodel.errors import FewTreatedClustersWarning
from evalmodel.estimators.imputation import imputation_fit
from evalmodel.estimators.sun_abraham import sun_abraham_fit

OUTCOME = "N31807"


@pytest.fixture(scope="module")
def one_treated(municipalities: em.Panel) -> em.Panel:
    d = em.cases.get("trelleborg").design(municipalities)
    pool = sorted(d.comparison)[:60]
    return d.panel.select(units=[*d.treated, *pool])


def test_estimates_without_covariance_are_the_full_fits(one_treated: em.Panel) -> None:
    df = one_treated.data
    unit, time, cohort = one_treated.unit, one_treated.time, one_treated.cohort
    assert cohort is not None
    ucode = pd.factorize(df[unit])[0]
    events = np.array([-4, -3, -2, 0, 1, 2, 3])
    full = sun_abraham_fit(df, OUTCOME, unit, time, cohort, ucode, -1, events)
    only = sun_abraham_fit(df, OUTCOME, unit, time, cohort, ucode, -1, events,
                           covariance=False)
    np.testing.assert_array_equal(only[0], full[0])
    assert np.isnan(only[1]).all() and np.isfinite(full[1]).all()
    leads, horizons = np.arange(-4, 0), np.arange(0, 4)
    full_i = imputation_fit(df, OUTCOME, unit, time, cohort, ucode, leads, horizons)
    only_i = imputation_fit(df, OUTCOME, unit, time, cohort, ucode, leads, horizons,
                            covariance=False)
    for k in (0, 2):  # lead and horizon estimates
        np.testing.assert_array_equal(only_i[k], full_i[k])
    assert np.isnan(only_i[1]).all() and np.isnan(only_i[3]).all()
    # and they are event_study's estimates
    for estimator, coef in (("sun_abraham", full[0]),
                            ("imputation", np.concatenate([full_i[0], full_i[2]]))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FewTreatedClustersWarning)
            es = em.event_study(one_treated, OUTCOME, window=(-4, 3), estimator=estimator,
                                inference="analytic")
        np.testing.assert_allclose(es.coefficients.to_numpy(float), coef, rtol=0, atol=1e-12)


def test_twoway_coefficients_without_covariance() -> None:
    rng = np.random.default_rng(2)
    ucode = np.repeat(np.arange(30), 6)
    tcode = np.tile(np.arange(6), 30)
    x = rng.normal(size=(len(ucode), 2))
    y = x @ np.array([0.5, -1.0]) + rng.normal(size=len(ucode))
    full = twoway_ols(y, x, ucode, tcode, ucode, "test")
    only = twoway_ols(y, x, ucode, tcode, ucode, "test", covariance=False)
    np.testing.assert_array_equal(only.coef, full.coef)
    assert np.isnan(only.vcov).all() and only.vcov.shape == full.vcov.shape
    np.testing.assert_allclose(full.coef, [0.5, -1.0], atol=0.3)
