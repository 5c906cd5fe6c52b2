"""Numerical kernels shared by the estimators and the inference (DESIGN.md, layout).

- :mod:`~evalmodel.core.synth_solver`: the nested optimisation of the synthetic control method,
  with its compiled inner solver :mod:`~evalmodel.core.simplex_kernel` (exact least squares
  over the simplex);
- :mod:`~evalmodel.core.sdid_solver` and its compiled twin :mod:`~evalmodel.core.fw_kernel`:
  batched Frank-Wolfe weights of synthetic DiD;
- :mod:`~evalmodel.core.twoway`: two-way fixed-effects least squares (unit demeaning, period
  dummies, CR1 covariance);
- :mod:`~evalmodel.core.demean` and :mod:`~evalmodel.core.twfe_ols`: two-way demeaning on
  integer codes (closed form, exact Schur solve or alternating projections) and the
  least squares with absorbed unit and period effects behind ``twfe``;
- :mod:`~evalmodel.core.ols`: least squares with HC1 or cluster-robust (CR1) errors, as
  statsmodels computes them (the 2x2 DiD, the triple difference);
- :mod:`~evalmodel.core.clusters`: sums within clusters;
- :mod:`~evalmodel.core.inversion`: confidence intervals by test inversion;
- :mod:`~evalmodel.core.jit`: optional compilation of inner loops with numba.

The core imports nothing from evalmodel but :mod:`evalmodel.errors` and
:mod:`evalmodel.vocabulary` (the option types): it knows no panel, no
estimator and no inference method, so both the estimators and the inference can use it without
importing each other (``tests/test_layers.py`` checks this).
"""
