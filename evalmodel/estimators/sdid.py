"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens and Wager 2021).

The estimator reweights control units (unit weights :math:`\\hat\\omega`, with an intercept and
a ridge penalty :math:`\\zeta_\\omega = (N_1 T_1)^{1/4}\\,\\hat\\sigma`, where :math:`\\hat\\sigma`
is the standard deviation of the controls' first differences before adoption) and pre-periods
(time weights :math:`\\hat\\lambda`, with an intercept and :math:`\\zeta_\\lambda =
10^{-6}\\hat\\sigma`), and returns the weighted double difference

.. math::

    \\hat\\tau = \\bigl(\\bar Y_{tr,post} - \\sum_t \\hat\\lambda_t \\bar Y_{tr,t}\\bigr)
     - \\sum_i \\hat\\omega_i \\bigl(\\bar Y_{i,post} - \\sum_t \\hat\\lambda_t Y_{i,t}\\bigr).

``method="sc"`` gives synthetic control as the same solver computes it (no intercept in the
unit weights, :math:`\\zeta_\\omega = 10^{-6}\\hat\\sigma`, no time weights) and
``method="did"`` plain difference-in-differences (uniform weights), as in the R package
``synthdid``. With several adoption periods, each cohort is estimated against the never-treated
units and the cohort estimates are averaged with weights proportional to their numbers of
treated unit-periods (Clarke, Pailañir, Athey and Imbens 2023).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.core.sdid_solver import collapse, sdid_tau, sdid_weights
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.estimators.synth_design import SynthDesign, check_finite, resolve_design
from evalmodel.inference.sdid_se import (
    CohortFit,
    bootstrap_draws,
    jackknife_draws,
    jackknife_se,
    placebo_draws,
    replication_se,
)
from evalmodel.months import period_label
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, inference_table
from evalmodel.vocabulary import (
    SdidInference,
    SdidMethod,
    check_conf_level,
    check_option,
    check_seed,
    draws_argument,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["SdidInference", "SdidMethod", "SdidResult", "sdid"]

_NAMES = {"sdid": "synthetic DiD", "sc": "synthetic control (SDID solver)", "did": "DiD"}


@dataclass(frozen=True)
class SdidResult(EstimateResult):
    """Result of :func:`sdid`: the estimate with its unit and time weights.

    Attributes
    ----------
    unit_weights : pandas.DataFrame
        Unit weights :math:`\\omega`, donors x cohorts (adoption periods).
    time_weights : pandas.DataFrame
        Time weights :math:`\\lambda`, pre-periods x cohorts (NaN after a cohort's adoption).
    paths : pandas.DataFrame
        By period: ``treated`` (mean of the first cohort's treated units) and ``synthetic``
        (the unit-weighted controls), for the plot.
    replicates : numpy.ndarray
        The overall estimate in each placebo, bootstrap or jackknife replication (empty if none).
    seed : int or None
        Seed of the replications.
    """

    unit_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    time_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    paths: pd.DataFrame = field(default_factory=pd.DataFrame)
    replicates: np.ndarray = field(default_factory=lambda: np.empty(0))
    seed: int | None = None

    def plot(self, ax: Axes | None = None) -> Axes:
        """Treated and synthetic paths with the time weights; returns the Axes."""
        from evalmodel.plotting.synth import sdid_plot

        return sdid_plot(self, ax=ax)


def _check_options(method: str, inference: str, n_draws: int, conf_level: float) -> None:
    check_option("sdid", "method", method, SdidMethod)
    check_option("sdid", "inference", inference, SdidInference)
    if not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise EstimationError(
            f"sdid: n_draws={n_draws!r} must be an integer of at least 2 (200 is the usual "
            "choice)."
        )
    check_conf_level("sdid", conf_level)


def fit_cohort(y: np.ndarray, controls: np.ndarray, treated: np.ndarray, t0: int,
               method: SdidMethod) -> CohortFit:
    """Fit one cohort: ``treated`` rows against ``controls`` rows with ``t0`` pre-periods.

    Parameters
    ----------
    y : ndarray, shape (N, T)
        Outcomes of all units over all periods of the cohort's window.
    controls, treated : ndarray of int
        Row indices.
    t0 : int
        Number of pre-periods.
    method : {"sdid", "sc", "did"}
        Estimator.

    Returns
    -------
    CohortFit
    """
    n0, n1, t1 = len(controls), len(treated), y.shape[1] - t0
    noise = float(np.std(np.diff(y[controls, :t0], axis=1), ddof=1)) if t0 > 1 else 0.0
    zeta_omega = ((n1 * t1) ** 0.25 if method == "sdid" else 1e-6) * noise
    zeta_lambda, min_decrease = 1e-6 * noise, 1e-5 * noise
    rows = np.r_[controls, treated]
    yb = y[rows][None]
    ctrl_mask = np.zeros((1, len(rows)), dtype=bool)
    ctrl_mask[0, :n0] = True
    ctrl, treat = collapse(yb, ctrl_mask, ~ctrl_mask, t0)
    omega0 = np.where(ctrl_mask, 1.0 / n0, 0.0)
    lam0 = np.full((1, t0), 0.0 if method == "sc" else 1.0 / t0)
    upd_omega, upd_lambda = method != "did", method == "sdid"
    w = sdid_weights(ctrl, treat, ctrl_mask, zeta_omega=zeta_omega, zeta_lambda=zeta_lambda,
                     min_decrease=min_decrease, omega0=omega0, lambda0=lam0,
                     update_omega=upd_omega, update_lambda=upd_lambda,
                     omega_intercept=method == "sdid")
    tau = float(sdid_tau(ctrl, treat, w)[0])
    return CohortFit(treated=treated, t0=t0, omega=w.omega[0, :n0], lam=w.lam[0], tau=tau,
                     zeta_omega=zeta_omega, zeta_lambda=zeta_lambda, min_decrease=min_decrease,
                     update_omega=upd_omega, update_lambda=upd_lambda,
                     omega_intercept=method == "sdid")


def _cohort_matrix(design: SynthDesign) -> tuple[np.ndarray, np.ndarray, list[int], list[str]]:
    y = design.y.to_numpy(dtype=float)
    n0 = len(design.donors)
    adopt = sorted(set(design.adoption.values()))
    return y, np.arange(n0), adopt, list(design.y.index)


def sdid(
    panel: Panel,
    outcome: str,
    *,
    treated: str | Sequence[str] | None = None,
    start: int | None = None,
    donors: Sequence[str] | None = None,
    method: SdidMethod = "sdid",
    inference: SdidInference = "auto",
    n_draws: int = 200,
    seed: int | None = None,
    conf_level: float = 0.95,
    n_reps: int | None = None,
) -> SdidResult:
    """Synthetic difference-in-differences (or SC, or DiD) with design-based standard errors.

    Parameters
    ----------
    panel : Panel
        A balanced panel (the outcome must be complete for treated units and donors).
    outcome : str
        Outcome variable.
    treated : str or sequence of str, optional
        Treated unit(s); by default every unit with a cohort in the panel.
    start : int, optional
        First treated period of all treated units; by default each unit's cohort.
    donors : sequence of str, optional
        Control units; by default every never-treated unit not named in ``treated``.
    method : {"sdid", "sc", "did"}
        Synthetic DiD, synthetic control or DiD, all by the same weighted double difference.
    inference : {"auto", "placebo", "bootstrap", "jackknife", "none"}
        Standard errors. ``"auto"`` (default) is ``"placebo"`` -- design-based: the estimator
        re-run with pseudo-treated donors (Arkhangelsky et al. 2021, Algorithm 4) -- with
        fewer than ``MIN_TREATED_CLUSTERS`` (5) treated units, and ``"bootstrap"`` otherwise;
        the result's ``inference`` and ``notes`` say which and why. ``"bootstrap"`` and
        ``"jackknife"`` with fewer than 5 treated units warn
        :class:`~evalmodel.errors.FewTreatedClustersWarning`; with one treated unit both are
        undefined (resampling cannot vary the treated unit) and give NaN standard errors with
        a note, as in R ``synthdid``. The interval and the p-value use the same standard
        error and the normal distribution, so the interval excludes 0 exactly when
        ``p_value < 1 - conf_level``.
    n_draws : int
        Placebo or bootstrap replications (draws of pseudo-treated donors, or unit resamples).
    seed : int, optional
        Seed of the replications.
    conf_level : float
        Coverage of the normal-approximation intervals.
    n_reps : int, optional
        Deprecated old name of ``n_draws`` (warns :class:`DeprecationWarning`).

    Returns
    -------
    SdidResult
        ``table`` has one row per cohort (``term`` = ``"cohort <period>"``) when there are
        several, and the overall row ``term="ATT"``.

    Raises
    ------
    EstimationError
        For a bad option, an unknown unit, fewer than 2 donors or pre-periods, or a missing
        outcome value (named by unit and period).

    Examples
    --------
    >>> import evalmodel as em
    >>> design = em.cases.get("trelleborg").design(em.datasets.simulated())
    >>> r = em.sdid(design.panel, "N31814", treated="1287", start=2010, inference="none")
    >>> round(r.estimate, 1)
    -8.5
    """
    n_draws = draws_argument("sdid", n_draws, default=200, minimum=2, n_reps=n_reps)
    _check_options(method, inference, n_draws, conf_level)
    check_seed("sdid", seed)
    design = resolve_design(panel, outcome, treated=treated, start=start, donors=donors, fn="sdid")
    check_finite(design.y, f"outcome {outcome!r}", "sdid", design.frequency)
    y, controls, adopt, labels = _cohort_matrix(design)
    periods = design.periods
    n0, n_tr = len(design.donors), len(design.treated)
    notes = list(design.notes)
    fits = []
    for a in adopt:
        rows = np.array([labels.index(u) for u, s in design.adoption.items() if s == a])
        fits.append(fit_cohort(y, controls, rows, int((periods < a).sum()), method))
    few = n_tr < MIN_TREATED_CLUSTERS
    if inference == "auto":
        inference = "placebo" if few else "bootstrap"
        notes.append(
            f"inference='auto': placebo (design-based), because {n_tr} treated unit(s) is fewer "
            f"than {MIN_TREATED_CLUSTERS}" if few else
            f"inference='auto': bootstrap, with {n_tr} treated units (at least "
            f"{MIN_TREATED_CLUSTERS})")
    elif inference in ("bootstrap", "jackknife") and few:
        msg = (f"{inference} standard errors with {n_tr} treated unit(s) are not reliable "
               f"(fewer than {MIN_TREATED_CLUSTERS}; Arkhangelsky et al. 2021, section 5); "
               "prefer inference='placebo' (the default 'auto')")
        warnings.warn(f"sdid: {msg}.", FewTreatedClustersWarning, stacklevel=2)
        notes.append(msg)
    rng = np.random.default_rng(seed)
    reps: np.ndarray = np.empty(0)
    rep_taus: np.ndarray | None = None
    if inference == "placebo":
        if n0 <= n_tr:
            raise EstimationError(
                f"sdid: inference='placebo' needs more donors than treated units ({n0} donors, "
                f"{n_tr} treated); use inference='bootstrap' or 'jackknife'."
            )
        rep_taus, reps = placebo_draws(y, controls, fits, n_draws=n_draws, rng=rng)
        se_all = replication_se(reps)
        se_c = [replication_se(rep_taus[:, c]) for c in range(len(fits))]
    elif inference == "bootstrap" and n_tr == 1:
        notes.append("bootstrap undefined with one treated unit (every resample that keeps it "
                     "has the same treated outcome); standard errors are NaN: use "
                     "inference='placebo'")
        se_all, se_c = float("nan"), [float("nan")] * len(fits)
    elif inference == "bootstrap":
        rep_taus, reps = bootstrap_draws(y, controls, fits, n_draws=n_draws, rng=rng)
        se_all = replication_se(reps)
        se_c = [replication_se(rep_taus[:, c]) for c in range(len(fits))]
    elif inference == "jackknife":
        jk = jackknife_draws(y, controls, fits)
        if jk is None:
            notes.append("jackknife undefined (a cohort has one treated unit or one donor with "
                         "weight); standard errors are NaN: use inference='placebo'")
            se_all, se_c = float("nan"), [float("nan")] * len(fits)
        else:
            rep_taus, reps = jk
            se_all = jackknife_se(reps)
            se_c = [jackknife_se(rep_taus[:, c]) for c in range(len(fits))]
    else:
        se_all, se_c = float("nan"), [float("nan")] * len(fits)
    sizes = np.array([len(f.treated) * (len(periods) - f.t0) for f in fits], dtype=float)
    att = float(np.dot(sizes, [f.tau for f in fits]) / sizes.sum())
    terms = ([f"cohort {period_label(a, design.frequency)}" for a in adopt] if len(fits) > 1
             else [])
    est = [f.tau for f in fits] if len(fits) > 1 else []
    ses = se_c if len(fits) > 1 else []
    table = inference_table({"term": [*terms, "ATT"]}, [*est, att], [*ses, se_all],
                            conf_level=conf_level)
    if len(fits) > 1:
        notes.append(f"{len(fits)} cohorts estimated against the never-treated donors and "
                     "averaged with weights proportional to treated unit-periods")
    unit_w = pd.DataFrame({a: f.omega for a, f in zip(adopt, fits, strict=True)},
                          index=pd.Index(design.donors, name=panel.unit))
    time_w = pd.DataFrame({a: pd.Series(f.lam, index=periods[: f.t0])
                           for a, f in zip(adopt, fits, strict=True)})
    time_w.index.name = panel.time
    f0 = fits[0]
    paths = pd.DataFrame({"treated": y[f0.treated].mean(axis=0), "synthetic": f0.omega @ y[:n0]},
                         index=pd.Index(periods, name=panel.time))
    how = {"placebo": f"placebo standard error ({n_draws} draws of pseudo-treated donors; "
                      "design-based), normal interval and p-value from it",
           "bootstrap": f"bootstrap standard error ({n_draws} unit resamples)",
           "jackknife": "jackknife standard error (weights held fixed)",
           "none": "none"}[inference]
    if inference == "bootstrap" and n_tr == 1:
        how = "none: the bootstrap is undefined with one treated unit"
    return SdidResult(
        method=_NAMES[method], outcome=outcome, table=table, inference=how,
        sample=design.sample(), conf_level=conf_level, overall_term="ATT", notes=tuple(notes),
        details={"method": method, "adoption": dict(design.adoption),
                 "cohort_replicates": rep_taus, "critical": float(stats.norm.ppf(
                     0.5 + conf_level / 2))},
        unit_weights=unit_w, time_weights=time_w, paths=paths, replicates=reps, seed=seed,
    )
