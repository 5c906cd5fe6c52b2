"""Diagnostics that decide between the plain and the augmented synthetic control.

- **Convex-hull distance** (:func:`hull_distance`): how far the treated unit's pre-period
  outcome path is from the nearest weighted average of donors, ``min ||y1 - Y0 w||`` over the
  simplex, stated as a root mean squared gap per pre-period (RMSPE) and relative to the
  treated unit's mean level. A synthetic control cannot fit better than this, whatever its
  predictors.
- **Inside or outside** (:attr:`HullDistance.inside`): a unit that is a weighted average of
  donors plus noise still sits a little off the hull, by at most about its noise. The rule is
  relative to that noise: the treated unit is **outside** when its hull RMSPE exceeds
  :data:`NOISE_MULTIPLE` (1) times the **noise scale**, the median over donors of each donor's
  *held-out* hull RMSPE (its weights over the other donors fitted on all but one of
  :data:`FOLDS` interleaved folds of the pre-periods, its error measured on the fold left out:
  what a unit inside the hull misses by, noise and interpolation together). The ratio is
  scale-free. The donors' in-sample distance (``donor_median``, shown) is no yardstick: with
  many donors and few pre-periods it is about 0, and any treated noise counted as outside.
  On simulated worlds (``tests/estimators/test_synth_diagnostics.py``; 30 donors and 10
  pre-periods, 100 and 8) a convex combination of donors plus noise is classified inside in
  40 of 40 worlds and a unit drawn like the donors in 37 and 38 of 40 (the in-sample rule: 19
  and 21 of 40); a unit at 1.5 times the largest donor level (misfit 14 noise SDs) and one
  with a trend steeper than every donor's (misfit 4.3 and 3.5 SDs) outside in 40 of 40.
  Why 1 and not 2: plain synthetic control's placebo test over-rejects for a unit that is
  not exchangeable with its donors yet only 1 to 2 noise scales off their hull (rejection
  0.69 at 5 % and 0.75 at 10 % over 2,837 null factor worlds with 40 to 200 donors, where
  the studentized augmented test gives 0.048 and 0.110; ``benchmarks/study_hull_size.py``).
  With 1, the test the rule picks rejects 0.049 at 5 % in that band. Below 1 noise scale such
  units still over-reject under plain SC (0.23 at 5 %): the rule cannot see them.
  Outside the hull the plain synthetic control is biased by construction, and :func:`choose`
  picks the augmented synthetic control (Ben-Michael, Feller and Rothstein 2021), whose ridge
  correction extrapolates beyond the hull.
- **Donor table** (:func:`donor_table`): each donor's weight, name and contribution to the
  synthetic pre-period level.
- **Balance** (:func:`balance_table`): treated, synthetic and donor mean of each predictor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalmodel.core.synth_solver import simplex_ls
from evalmodel.names import unit_label

if TYPE_CHECKING:  # pragma: no cover
    from evalmodel.estimators.synth import SynthResult

__all__ = ["FOLDS", "NOISE_DONORS", "NOISE_MULTIPLE", "HullDistance", "balance_table",
           "choose", "donor_table", "hull_distance", "hull_of", "noise_scale"]

#: The treated unit is outside the hull when its hull RMSPE exceeds this many noise scales.
#: For a unit inside the hull the in-sample RMSPE is at most about its noise RMS (the true
#: weights leave the noise; the fitted ones less), while the noise scale, a held-out error,
#: is at least the noise SD. 1, not 2: between 1 and 2 noise scales plain synthetic control's
#: placebo test over-rejects badly (see the module docstring), while 92-95 % of units drawn
#: like the donors stay inside.
NOISE_MULTIPLE = 1.0
#: Interleaved folds of the pre-periods for the donors' held-out hull RMSPE (fewer with fewer
#: pre-periods: one period a fold).
FOLDS = 5
#: At most this many donors (evenly spaced in the donor order) give the noise scale's median,
#: each fitted on all other donors; it keeps the cost bounded with long monthly pre-periods.
NOISE_DONORS = 40


@dataclass(frozen=True)
class HullDistance:
    """The distance of the treated unit's pre-period path from the donors' convex hull.

    Attributes
    ----------
    rmspe : float
        ``min ||y1 - Y0 w|| / sqrt(T0)`` over simplex weights ``w``: the best pre-period RMSPE
        any synthetic control can reach.
    level : float
        The treated unit's mean absolute pre-period outcome.
    donor_median : float
        The median of the same (in-sample) distance of each donor from the other donors' hull.
    weights : pandas.Series
        The weights of the nearest point of the hull, by donor.
    noise : float
        The noise scale: the median of the donors' held-out hull RMSPEs (NaN with fewer than
        two donors or two pre-periods).
    """

    rmspe: float
    level: float
    donor_median: float
    weights: pd.Series
    noise: float = float("nan")

    @property
    def relative(self) -> float:
        """``rmspe`` as a share of the treated unit's level (NaN for level 0)."""
        return self.rmspe / self.level if self.level > 0 else float("nan")

    @property
    def ratio(self) -> float:
        """``rmspe`` in noise scales (NaN without a noise scale, inf for noise 0)."""
        if not np.isfinite(self.noise):
            return float("nan")
        return self.rmspe / self.noise if self.noise > 0 else (
            0.0 if self._exact else float("inf"))

    @property
    def _exact(self) -> bool:
        """Whether the treated path is on the hull up to rounding."""
        return bool(self.rmspe <= 1e-9 * max(self.level, 1.0))

    @property
    def inside(self) -> bool:
        """Whether the hull RMSPE is within :data:`NOISE_MULTIPLE` noise scales (without a
        noise scale: whether the path is on the hull up to rounding)."""
        if not np.isfinite(self.noise):
            return self._exact
        return self._exact or bool(self.rmspe <= NOISE_MULTIPLE * self.noise)

    def table(self) -> pd.DataFrame:
        """One row: ``hull_rmspe``, ``relative``, ``noise_scale``, ``noise_ratio``,
        ``donor_median_rmspe``, ``inside``."""
        return pd.DataFrame({"hull_rmspe": [self.rmspe], "relative": [self.relative],
                             "noise_scale": [self.noise], "noise_ratio": [self.ratio],
                             "donor_median_rmspe": [self.donor_median],
                             "inside": [self.inside]})


def _distance(y0: np.ndarray, y1: np.ndarray) -> tuple[float, np.ndarray]:
    w = simplex_ls(y0, y1)
    r = y1 - y0 @ w
    return float(np.sqrt(r @ r / y1.size)), w


def hull_distance(y0_pre: np.ndarray, y1_pre: np.ndarray, donors: list[str]) -> HullDistance:
    """Distance of ``y1_pre`` (T0,) from the hull of the donors' paths ``y0_pre`` (J x T0).

    Parameters
    ----------
    y0_pre : ndarray, shape (J, T0)
        Donors' pre-period outcomes.
    y1_pre : ndarray, shape (T0,)
        The treated unit's.
    donors : list of str
        Donor ids, in the rows' order.

    Returns
    -------
    HullDistance
    """
    y0 = np.asarray(y0_pre, dtype=float)
    y1 = np.asarray(y1_pre, dtype=float)
    rmspe, w = _distance(y0.T, y1)
    j = np.arange(y0.shape[0])
    own = [_distance(y0[j != k].T, y0[k])[0] for k in j] if y0.shape[0] > 2 else [0.0]
    return HullDistance(rmspe=rmspe, level=float(np.abs(y1).mean()),
                        donor_median=float(np.median(own)),
                        weights=pd.Series(w, index=pd.Index(donors, name="unit"),
                                          name="weight"),
                        noise=noise_scale(y0))


def _held_out(y0: np.ndarray, y1: np.ndarray) -> float:
    """Held-out hull RMSPE of ``y1`` (T0,) on the rows of ``y0``: the simplex weights fitted
    on all but one of :data:`FOLDS` interleaved folds of the periods, the error on that one."""
    t0 = y1.size
    fold = np.arange(t0) % min(FOLDS, t0)
    err = np.empty(t0)
    for f in np.unique(fold):
        out = fold == f
        w = simplex_ls(y0[:, ~out].T, y1[~out])
        err[out] = y1[out] - y0[:, out].T @ w
    return float(np.sqrt(err @ err / t0))


def noise_scale(y0_pre: np.ndarray) -> float:
    """The noise scale of the hull rule: the median over donors (at most
    :data:`NOISE_DONORS`, evenly spaced) of each donor's held-out hull RMSPE on the other
    donors.

    Parameters
    ----------
    y0_pre : ndarray, shape (J, T0)
        Donors' pre-period outcomes.

    Returns
    -------
    float
        NaN with fewer than two donors or two pre-periods.
    """
    y0 = np.asarray(y0_pre, dtype=float)
    n, t0 = y0.shape
    if n < 2 or t0 < 2:
        return float("nan")
    j = np.arange(n)
    pick = np.unique(np.linspace(0, n - 1, min(n, NOISE_DONORS)).round().astype(int))
    return float(np.median([_held_out(y0[j != k], y0[k]) for k in pick]))


def _outcomes(result: SynthResult) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Donors' and treated pre-period outcomes, donor ids and the pre-period columns."""
    panel, call = result.details["panel"], result.details["call"]
    donors = [str(d) for d in call["donors"]]
    wide = panel.wide(call["outcome"]).reindex(index=[*donors, result.details["treated"]],
                                               columns=result.paths.index)
    pre = np.flatnonzero(result.paths.index < int(result.details["start"]))
    y = wide.to_numpy(dtype=float)
    return y[:-1][:, pre], y[-1][pre], donors, pre


def hull_of(result: SynthResult) -> HullDistance:
    """:func:`hull_distance` of a synthetic control's treated unit and donors."""
    y0, y1, donors, _ = _outcomes(result)
    return hull_distance(y0, y1, donors)


def donor_table(result: SynthResult, *, top: int | None = 10) -> pd.DataFrame:
    """Donors by absolute weight: ``weight``, ``name``, pre-period mean and contribution.

    Columns: the unit, ``name``, ``weight`` (effective weight; for an augmented fit also
    ``scm_weight`` and ``ridge_weight``), ``pre_mean`` (the donor's pre-period mean outcome),
    ``contribution`` (``weight * pre_mean``, its part of the synthetic pre-period level) and
    ``share`` (that part as a share of the synthetic level). Donors with zero weight are left
    out; ``top`` keeps the largest.
    """
    y0, _, donors, _ = _outcomes(result)
    w = result.weights.reindex(donors).to_numpy(dtype=float)
    pre_mean = y0.mean(axis=1)
    contrib = w * pre_mean
    total = contrib.sum()
    share = contrib / total if total != 0 else np.full(w.size, np.nan)
    on = np.flatnonzero(np.abs(w) > 1e-6)
    rows = on[np.argsort(-np.abs(w[on]), kind="stable")]
    if top is not None:  # the donors shown, named (a lookup each) alone; head(top)'s rows
        rows = rows[:top]
    empty = rows.size == 0
    if empty:  # nothing to show: the columns and dtypes of the full frame, no rows
        rows = np.arange(len(donors))
    shown = [donors[i] for i in rows]
    out = pd.DataFrame({result.weights.index.name or "unit": shown,
                        "name": [unit_label(d) for d in shown], "weight": w[rows]})
    if result.augmentation is not None:
        out["scm_weight"] = result.augmentation.scm_weights.reindex(donors).to_numpy()[rows]
        out["ridge_weight"] = result.augmentation.ridge_weights.reindex(donors).to_numpy()[rows]
    out["pre_mean"] = pre_mean[rows]
    out["contribution"] = contrib[rows]
    out["share"] = share[rows]
    return (out.iloc[:0] if empty else out).reset_index(drop=True)


def balance_table(result: SynthResult) -> pd.DataFrame:
    """Treated, synthetic and donor mean of each predictor, with the gap and its size.

    Columns: ``predictor``, ``treated``, ``synthetic``, ``donor_mean``, ``gap`` (treated minus
    synthetic) and ``gap_donor_mean`` (treated minus donor mean): the synthetic control should
    close most of the second.
    """
    b = result.balance[["treated", "synthetic", "donor_mean"]].copy()
    b["gap"] = b["treated"] - b["synthetic"]
    b["gap_donor_mean"] = b["treated"] - b["donor_mean"]
    return b.reset_index()


def choose(hull: HullDistance, unit: str = "the treated unit") -> tuple[str, str]:
    """The estimator the hull distance calls for, and why in plain words.

    Returns
    -------
    method : {"synthetic control", "augmented synthetic control"}
    reason : str
    """
    scale = (f"{hull.ratio:.2g} times the noise scale {hull.noise:.3g} (the median donor's "
             f"held-out RMSPE on the other donors; outside beyond {NOISE_MULTIPLE:g} times)"
             if np.isfinite(hull.noise) else
             "with too few donors or pre-periods for a noise scale (inside only on the hull)")
    where = (f"{unit}'s pre-period path is {hull.rmspe:.3g} from the nearest weighted average "
             f"of donors (RMSPE, {hull.relative:.1%} of its level {hull.level:.3g}), {scale}")
    if hull.inside:
        return "synthetic control", (
            f"Plain synthetic control: {where}, so {unit} lies within the donors' convex hull "
            "and a weighted average of donors can reproduce its path.")
    return "augmented synthetic control", (
        f"Augmented synthetic control (ridge): {where}, so {unit} lies outside the donors' "
        "convex hull; no weighted average of donors can reproduce its path and the plain "
        "synthetic control is biased by the misfit, which the ridge correction estimates and "
        "removes (Ben-Michael, Feller and Rothstein 2021).")
