"""The augmented synthetic control and conformal inference, as :func:`~evalmodel.synth` uses them.

This module turns the numerics of :mod:`evalmodel.core.ascm` (ridge augmentation) and
:mod:`evalmodel.inference.conformal` (Chernozhukov, Wuthrich and Zhu 2021) into the labelled
pieces of a :class:`~evalmodel.SynthResult`: the :class:`Augmentation` (penalty, weights and
the estimated bias of the plain synthetic control), the placebos in space of the augmented fit
(:mod:`evalmodel.inference.placebo_ascm`) and the conformal result table.

``augment="ridge"`` augments the synthetic control's own weights (those of the predictors when
``predictors=`` is given, else the simplex fit to the pre-period outcomes, which is then
re-fitted in each cross-validation fold as ``augsynth`` does). ``augment="ridge_fe"`` is the
"fixed effects" variant: every unit's pre-period mean is subtracted, and both the simplex
weights and the ridge are fitted to what is left; it uses the outcome only, so it takes no
``predictors=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.core.ascm import AscmFit, ResidualRefit, ascm_fit
from evalmodel.core.synth_solver import SynthProblem
from evalmodel.errors import EstimationError
from evalmodel.inference.conformal import ConformalResult, conformal_inference
from evalmodel.inference.placebo_ascm import AscmPlaceboResult, ascm_placebo_in_space
from evalmodel.vocabulary import SynthAugment, check_option

__all__ = ["Augmentation", "augment_fit", "check_augment", "conformal_synth", "placebo_synth"]


@dataclass(frozen=True)
class Augmentation:
    """The ridge augmentation of a synthetic control (Ben-Michael, Feller and Rothstein 2021).

    Attributes
    ----------
    kind : str
        ``"ridge"`` or ``"ridge_fe"`` (outcomes de-meaned by each unit's pre-period mean).
    penalty : float
        The ridge penalty lambda.
    cv : pandas.DataFrame or None
        The cross-validation path: ``penalty``, ``cv_error`` (sum of squared held-out
        errors) and ``cv_se``; None when the penalty was given.
    scm_weights : pandas.Series
        The synthetic control's (simplex) weights that were augmented.
    ridge_weights : pandas.Series
        The augmentation; ``scm_weights + ridge_weights`` are the effective weights (the
        result's ``weights``), which may be negative.
    bias : pandas.Series
        By period: the estimated bias of the plain synthetic control's effect, the plain
        effect minus the augmented one.
    scm_gaps : pandas.Series
        By period: the plain (de-meaned, for ``"ridge_fe"``) synthetic control's gaps.
    start : int
        First treated period.
    """

    kind: str
    penalty: float
    cv: pd.DataFrame | None
    scm_weights: pd.Series
    ridge_weights: pd.Series
    bias: pd.Series
    scm_gaps: pd.Series
    start: int

    @property
    def average_bias(self) -> float:
        """The estimated bias of the plain synthetic control's average post-period effect."""
        return float(self.bias[self.bias.index >= self.start].mean())

    @property
    def scm_estimate(self) -> float:
        """The plain synthetic control's average post-period effect."""
        return float(self.scm_gaps[self.scm_gaps.index >= self.start].mean())

    def describe(self) -> str:
        """One sentence: penalty, plain estimate and estimated bias."""
        how = "cross-validated" if self.cv is not None else "given"
        if self.cv is not None and self.penalty in (self.cv["penalty"].iloc[0],
                                                    self.cv["penalty"].iloc[-1]):
            edge = "lower" if self.penalty == self.cv["penalty"].iloc[0] else "upper"
            how += (f", at the {edge} end of the grid: the fit "
                    + ("nearly interpolates the pre-periods" if edge == "lower" else
                       "is nearly the plain synthetic control"))
        fe = " on outcomes de-meaned by unit" if self.kind == "ridge_fe" else ""
        return (f"ridge-augmented synthetic control{fe} (Ben-Michael, Feller and Rothstein "
                f"2021), penalty {self.penalty:.4g} ({how}): plain synthetic control effect "
                f"{self.scm_estimate:.4g}, estimated bias {self.average_bias:.4g}")


def check_augment(augment: Any, ridge_lambda: Any, *, has_predictors: bool,
                  inference: str) -> None:
    """Check ``augment=`` and ``ridge_lambda=`` of :func:`~evalmodel.synth`."""
    check_option("synth", "augment", augment, SynthAugment)
    if ridge_lambda is not None:
        ok = isinstance(ridge_lambda, int | float) and not isinstance(ridge_lambda, bool)
        if not ok or not float(ridge_lambda) > 0 or augment == "none":
            raise EstimationError(
                f"synth: ridge_lambda={ridge_lambda!r} must be a positive number and needs "
                "augment='ridge' or 'ridge_fe'; leave it None to choose the penalty by "
                "cross-validation."
            )
    if augment == "ridge_fe" and has_predictors:
        raise EstimationError(
            "synth: augment='ridge_fe' fits de-meaned pre-period outcomes and does not use "
            "predictors=; drop predictors= or use augment='ridge', which augments the "
            "predictor-based weights."
        )


def augment_fit(y: np.ndarray, n0: int, pre_cols: np.ndarray, periods: np.ndarray, *,
                start: int, donors: Sequence[str], unit: str, weights: np.ndarray | None,
                kind: str, penalty: float | None) -> tuple[AscmFit, Augmentation]:
    """Augment the synthetic control of unit ``n0`` (the last row of ``y``) by the donors.

    Parameters
    ----------
    y : ndarray, shape (n0 + 1, T)
        Outcomes: donors, then the treated unit.
    n0 : int
        Number of donors.
    pre_cols : ndarray of int
        Pre-period columns.
    periods : ndarray
        The periods (columns).
    start : int
        First treated period.
    donors : sequence of str
        Donor ids.
    unit : str
        Name of the unit index.
    weights : ndarray or None
        The synthetic control's weights to augment (from predictors), or None to fit them to
        the pre-period outcomes.
    kind : {"ridge", "ridge_fe"}
        The augmentation.
    penalty : float or None
        Ridge penalty; None to cross-validate it.
    """
    fit = ascm_fit(y[:n0], y[n0], pre_cols, omega=weights, demean=kind == "ridge_fe",
                   lam=penalty)
    idx = pd.Index(list(donors), name=unit)
    tidx = pd.Index(periods, name="period")
    cv = None if fit.cv_path is None else pd.DataFrame(
        fit.cv_path, columns=["penalty", "cv_error", "cv_se"])
    aug = Augmentation(
        kind=kind, penalty=fit.lam, cv=cv,
        scm_weights=pd.Series(fit.omega, index=idx, name="scm_weight"),
        ridge_weights=pd.Series(fit.gamma, index=idx, name="ridge_weight"),
        bias=pd.Series(fit.bias, index=tidx, name="bias"),
        scm_gaps=pd.Series(y[n0] - fit.scm_path, index=tidx, name="scm_gap"),
        start=int(start),
    )
    return fit, aug


def conformal_synth(y: np.ndarray, n0: int, pre_cols: np.ndarray, post_cols: np.ndarray, *,
                    estimates: np.ndarray, terms: list[str], augmentation: Augmentation | None,
                    conf_level: float) -> tuple[ConformalResult, str]:
    """Conformal inference for the (augmented) synthetic control of unit ``n0``.

    Each null is tested by re-fitting on every period the same estimator as the point
    estimate's, at the same penalty: the outcome simplex fit, plus the ridge for
    ``"ridge"``, on de-meaned outcomes for ``"ridge_fe"``. Returns the result and a sentence
    saying how the inference was made.
    """
    lam = None if augmentation is None else augmentation.penalty
    demean = augmentation is not None and augmentation.kind == "ridge_fe"
    # ascm_residuals(y[:n0][:, cols], y1, lam=lam, demean=demean), the donors' side of each
    # column set computed once for all the nulls tested on it
    refit = ResidualRefit(y[:n0], lam=lam, demean=demean)
    res = conformal_inference(refit, y[n0], pre_cols=pre_cols, post_cols=post_cols,
                              estimates=estimates, terms=terms, conf_level=conf_level)
    what = "synthetic control" if lam is None else "ridge-augmented synthetic control"
    how = (f"conformal inference (Chernozhukov, Wuthrich and Zhu 2021): the {what} re-fitted "
           "on all periods under each null; per period, the rank of its absolute residual "
           "among the pre-periods'; the average effect by moving-block permutations of the "
           "residuals; intervals invert the same tests (no standard error)")
    return res, how


def placebo_synth(y: np.ndarray, n0: int, pre_cols: np.ndarray, periods: np.ndarray, *,
                  start: int, units: Sequence[str], treated_gaps: np.ndarray,
                  augmentation: Augmentation, given_penalty: bool,
                  problem: SynthProblem | None, warm_v: np.ndarray | None,
                  max_pre_mspe_ratio: float, conf_level: float
                  ) -> tuple[AscmPlaceboResult, str]:
    """Placebos in space for the augmented synthetic control of unit ``n0``.

    Every donor is fitted against the other donors by the treated unit's estimator: the
    simplex weights from the outcome path, or, with predictors (``problem`` given), each
    placebo's own V search started at the treated unit's V (``warm_v``); the same variant;
    the penalty cross-validated per placebo unless the user gave it. The table's test is the
    studentized effect-rank test (:mod:`evalmodel.inference.placebo_ascm`: each unit's effect
    divided by its out-of-sample forecast error on the pre-period, which keeps the test's size
    for a treated unit outside the donors' hull); the raw test is the result's
    ``effect_rank_table``. Returns the result and a sentence saying how the inference was made.
    """
    omegas = None
    if problem is not None:
        omegas = np.zeros((n0, n0))
        donors = np.arange(n0)
        for j in donors:
            pool = donors[donors != j]
            omegas[j, pool] = problem.fit(int(j), pool, warm_v=warm_v).w
    res, lams = ascm_placebo_in_space(
        y, treated_gaps, pre_cols=pre_cols, periods=periods, start=start, units=units,
        omegas=omegas, penalty=augmentation.penalty if given_penalty else None,
        demean=augmentation.kind == "ridge_fe", max_pre_mspe_ratio=max_pre_mspe_ratio,
        conf_level=conf_level)
    pen = (f"the given penalty {augmentation.penalty:.4g}" if given_penalty else
           "each placebo's penalty cross-validated on its own pre-periods (median "
           f"{np.median(lams):.4g}, range {lams.min():.4g}-{lams.max():.4g})")
    how = (f"placebos in space of the augmented synthetic control ({n0} donors, each fitted "
           f"against the others with {pen}; {res.n_kept} with pre-MSPE within "
           f"{max_pre_mspe_ratio:g} x the treated unit's): studentized effect-rank p-values "
           "(each unit's effect divided by its rolling-origin forecast error on the last "
           f"third of the pre-periods; the treated unit's {float(res.scale[res.treated]):.4g}, "
           f"placebos' median {float(res.scale.iloc[:-1].median()):.4g}) and the intervals "
           "inverting that test; raw effect-rank p-value "
           f"{res.p_value_effect_rank:.4f} (placebo.effect_rank_table); RMSPE-ratio p-value "
           f"{res.p_value_rmspe_ratio:.4f} (separate joint test)")
    return res, how
