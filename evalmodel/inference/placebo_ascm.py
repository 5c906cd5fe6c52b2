"""Placebos in space for the augmented synthetic control.

Each donor in turn plays the treated unit against the other donors (never the real treated
unit), and the same augmented synthetic control as the treated unit's is fitted to it
(:func:`~evalmodel.core.ascm_placebo.placebo_ascm_gaps`): the same simplex weights (the outcome
fit, or the placebo's own predictor-based weights), the same variant, and, when the treated
unit's penalty was cross-validated, **each placebo's penalty chosen by the same
cross-validation on its own data**. A rank test is exact when the statistic is the same
function of each unit's data; the cross-validated penalty is part of that function (the grid
is scaled by each unit's own pre-period variance), so fixing every placebo at the treated
unit's penalty would test a different estimator on the placebos than on the treated unit. A
penalty given by the user (``ridge_lambda=``) is part of the estimator and is used for every
placebo.

The placebos' gaps then give the tests of :class:`~evalmodel.inference.placebo.PlaceboResult`,
with one change, by default (``studentize=True``, :class:`AscmPlaceboResult`): the statistic
of the effect-rank test is **studentized**. Each unit's effect (each post-period's gap and
their average) is divided by its own out-of-sample forecast error on the pre-period
(:func:`~evalmodel.core.ascm_placebo.forecast_scales`: the root mean squared error of
predicting each of the last third of the pre-periods from the periods before it, the unit's
augmented fit against all other units). The raw effect-rank test assumes that every unit's
effect has the same spread under the null; a treated unit outside the donors' convex hull
breaks that (its augmented fit extrapolates, and its post-period gaps vary more than an
interior placebo's), so the raw test rejects it far too often. Dividing by a scale that
measures how well that unit's fit forecasts removes most of the difference. The scale is a
rolling-origin (forecast) error, not the leave-one-period-out error of the penalty's
cross-validation, because the post-period gaps are forecasts beyond the pre-period; an
interpolation error understates them for an extrapolating fit (in the size study of
``tests/inference/test_placebo_ascm.py`` the leave-one-out scale still rejected the outside
unit in 17 % of 200 worlds at 10 %, the rolling-origin scale in 13 %, the raw test in 48 %).
The scales read pre-period outcomes only, for every unit against all others (the treated
unit included), so they are one symmetric function of untreated data.

The p-value of a term is the rank of the treated unit's absolute studentized effect among the
kept placebos'; the interval inverts that same test for a constant shift ``tau`` (the treated
unit's statistic is ``(est - tau) / s_treated``, the placebos' do not move), which gives
``est +- s_treated * e_K`` with ``e_K`` the ``K``-th largest absolute placebo statistic, so the
interval excludes 0 exactly when the p-value rejects. The raw effect-rank test stays available
as :attr:`AscmPlaceboResult.effect_rank_table`, and the RMSPE-ratio p-value over every
placebo is unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.core.ascm_placebo import forecast_scales, placebo_ascm_gaps
from evalmodel.errors import EstimationError
from evalmodel.inference.placebo import PlaceboResult, placebo_fields, rank_effect_table
from evalmodel.vocabulary import check_conf_level

__all__ = ["AscmPlaceboResult", "ascm_placebo_in_space", "placebo_from_gaps"]


@dataclasses.dataclass(frozen=True)
class AscmPlaceboResult(PlaceboResult):
    """Placebos in space of the augmented synthetic control, with a studentized effect-rank
    test.

    Attributes
    ----------
    scale : pandas.Series
        By unit (placebos and the treated): the out-of-sample forecast error that divides the
        unit's effects (:func:`~evalmodel.core.ascm_placebo.forecast_scales`).
    studentized : bool
        Whether :attr:`table` and :meth:`effect_table` use the studentized test (default) or
        the raw effect-rank test of :class:`~evalmodel.inference.placebo.PlaceboResult`.

    Notes
    -----
    Every other attribute is :class:`~evalmodel.inference.placebo.PlaceboResult`'s; the same
    placebos are kept (pre-MSPE within ``max_pre_mspe_ratio`` times the treated unit's).
    """

    scale: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=float))
    studentized: bool = True

    @property
    def inference(self) -> str:
        """How the p-values and intervals were obtained."""
        if not self.studentized:
            return super().inference
        return (f"placebo in space: {self.n_kept} of {len(self.kept)} donors kept (pre-MSPE at "
                f"most {self.max_pre_mspe_ratio:g} times the treated's); p_value and interval "
                "from the studentized effect-rank test (each effect divided by the unit's "
                "rolling-origin forecast error on the pre-period); raw effect-rank p-value "
                f"{self.p_value_effect_rank:.4f}; RMSPE-ratio p-value (a separate joint "
                f"test, Abadie et al. 2010) {self.p_value_rmspe_ratio:.4f}")

    def placebo_statistics(self) -> pd.DataFrame:
        """Kept placebos' studentized effects: :meth:`placebo_effects` divided by each
        placebo's :attr:`scale`."""
        eff = self.placebo_effects()
        return eff.div(self.scale.loc[eff.index], axis=0)

    def effect_table(self, index: Mapping[str, Sequence[Any]], estimate: np.ndarray, *,
                     conf_level: float) -> pd.DataFrame:
        """Studentized effect-rank p-values and the intervals that invert the same test.

        With ``s`` the treated unit's :attr:`scale` and ``z_j`` the kept placebos'
        studentized effects, ``p_value`` is ``(1 + #{|z_j| >= |est| / s}) / (1 + n)`` and the
        interval holds the shifts ``tau`` the test accepts, ``|est - tau| / s <= e_K``
        (``e_K`` the ``K``-th largest ``|z_j|``), so it excludes 0 exactly when ``p_value <=
        1 - conf_level``. ``std_error`` is ``s`` times the standard deviation of the
        ``z_j``. Without :attr:`studentized`, the raw test of
        :meth:`PlaceboResult.effect_table <evalmodel.inference.placebo.PlaceboResult.effect_table>`.

        Parameters
        ----------
        index : mapping
            Index columns; ``index["term"]`` names post-periods and ``"average"``.
        estimate : ndarray
            The treated unit's effects in the same order.
        conf_level : float
            Coverage of the intervals.
        """
        if not self.studentized:
            return super().effect_table(index, estimate, conf_level=conf_level)
        # placebo_statistics()[terms].to_numpy(dtype=float) without the frames: the same
        # divisions in the same column-major layout (bit for bit)
        rows = self._kept_rows()
        if (rows < 0).any() or not self.scale.index.equals(self.gaps.index):
            z = self.placebo_statistics()[list(index["term"])].to_numpy(dtype=float)
        else:
            scale = self.scale.to_numpy(dtype=float)[rows]
            z = np.asfortranarray(self._effect_matrix(list(index["term"])) / scale[:, None])
        return rank_effect_table(index, np.asarray(estimate, dtype=float), z,
                                 scale=float(self.scale[self.treated]), conf_level=conf_level)

    @cached_property
    def effect_rank_table(self) -> pd.DataFrame:
        """The raw effect-rank test (effects not studentized) of each post-period and of the
        average: ``p_value`` and the interval inverting it, as for the plain synthetic
        control."""
        post = [c for c in self.gaps.columns if int(c) >= self.start]
        g = self.gaps.loc[self.treated, post].to_numpy(dtype=float)
        terms = [*(str(int(c)) for c in post), "average"]
        return PlaceboResult.effect_table(self, {"term": terms}, np.append(g, g.mean()),
                                          conf_level=self.conf_level)

    @property
    def p_value_effect_rank(self) -> float:
        """The raw effect-rank p-value of the average effect (:attr:`effect_rank_table`)."""
        return float(self.effect_rank_table["p_value"].iloc[-1])


def placebo_from_gaps(gaps: np.ndarray, *, periods: np.ndarray, start: int,
                      units: Sequence[str], max_pre_mspe_ratio: float,
                      conf_level: float, scale: np.ndarray | None = None) -> PlaceboResult:
    """The placebo tests from every unit's gaps: donors' rows first, the treated unit's last.

    Parameters
    ----------
    gaps : ndarray, shape (J + 1, T)
        Each unit's outcome minus its own (augmented) synthetic control.
    periods : ndarray
        The periods (columns).
    start : int
        First treated period.
    units : sequence of str
        Unit ids in the rows' order.
    max_pre_mspe_ratio : float
        Placebos with a pre-period MSPE above this multiple of the treated unit's are left out
        of the effect-rank tests.
    conf_level : float
        Coverage of the intervals.
    scale : ndarray, shape (J + 1,), optional
        Each unit's forecast error: the result is an :class:`AscmPlaceboResult` whose tests
        are studentized by it; by default a :class:`PlaceboResult` (raw tests).
    """
    parts = placebo_fields(gaps, periods=periods, start=start, units=units,
                           max_pre_mspe_ratio=max_pre_mspe_ratio, conf_level=conf_level)
    if scale is None:
        return PlaceboResult(**parts)
    return AscmPlaceboResult(**parts, scale=pd.Series(scale, index=parts["pre_mspe"].index,
                                                      name="scale"))


def ascm_placebo_in_space(
    y: np.ndarray,
    treated_gaps: np.ndarray,
    *,
    pre_cols: np.ndarray,
    periods: np.ndarray,
    start: int,
    units: Sequence[str],
    omegas: np.ndarray | None = None,
    penalty: float | None = None,
    demean: bool = False,
    max_pre_mspe_ratio: float = 5.0,
    conf_level: float = 0.95,
    studentize: bool = True,
) -> tuple[AscmPlaceboResult, np.ndarray]:
    """Placebos in space around an augmented synthetic control.

    Parameters
    ----------
    y : ndarray, shape (J + 1, T)
        Outcomes: the donors, then the treated unit (whose row is not used: it is in no
        placebo's pool).
    treated_gaps : ndarray, shape (T,)
        The treated unit's gaps to its augmented synthetic control.
    pre_cols : ndarray of int
        Pre-period columns.
    periods : ndarray
        The periods (columns).
    start : int
        First treated period.
    units : sequence of str
        Unit ids: the donors, then the treated unit.
    omegas : ndarray, shape (J, J), optional
        Each placebo's synthetic control weights on the other donors (zero diagonal), when
        they come from predictors; by default fitted to each placebo's pre-period outcomes.
    penalty : float, optional
        A ridge penalty given by the user, used for every placebo; by default each placebo's
        is cross-validated.
    demean : bool
        The fixed-effects variant (``augment="ridge_fe"``).
    max_pre_mspe_ratio : float
        Exclusion threshold of the effect-rank tests.
    conf_level : float
        Coverage of the intervals.
    studentize : bool
        Studentized effect-rank test (default) or the raw one, for :attr:`~PlaceboResult.table`
        and :meth:`~AscmPlaceboResult.effect_table`; the scales are computed either way.

    Returns
    -------
    result : AscmPlaceboResult
        The placebo tests.
    penalties : ndarray, shape (J,)
        Each placebo's ridge penalty.

    Raises
    ------
    EstimationError
        Fewer than 3 donors (a placebo needs a pool of at least 2), fewer than 2
        pre-periods (the forecast error needs one to fit and one to predict), a unit whose
        forecast error is 0, or a ``conf_level`` outside (0, 1).
    """
    check_conf_level("ascm_placebo_in_space", conf_level)
    n0 = y.shape[0] - 1
    if n0 < 3:
        raise EstimationError(
            f"ascm_placebo_in_space: {n0} donors leave each placebo fewer than 2 donors of its "
            "own; add donors or use inference='conformal'."
        )
    if np.asarray(pre_cols).size < 2:
        raise EstimationError(
            "ascm_placebo_in_space: the studentized placebo test needs at least 2 pre-periods "
            "(one to fit, one to forecast); start later or use inference='conformal'."
        )
    gaps0, lams = placebo_ascm_gaps(y[:n0], pre_cols, omegas=omegas, lam=penalty,
                                    demean=demean)
    scale, _ = forecast_scales(y, pre_cols, lam=penalty, demean=demean)
    if not (np.isfinite(scale) & (scale > 0)).all():
        bad = [str(units[int(i)]) for i in np.flatnonzero(~(np.isfinite(scale) & (scale > 0)))]
        raise EstimationError(
            f"ascm_placebo_in_space: units {bad[:5]} are forecast without error from the "
            "other units' pre-periods (scale 0), so their studentized effects are undefined; "
            "drop those units from the donors or use inference='conformal'."
        )
    gaps = np.vstack([gaps0, np.asarray(treated_gaps, dtype=float)[None, :]])
    res = placebo_from_gaps(gaps, periods=periods, start=start, units=units,
                            max_pre_mspe_ratio=max_pre_mspe_ratio, conf_level=conf_level,
                            scale=scale)
    assert isinstance(res, AscmPlaceboResult)
    if not studentize:
        res = dataclasses.replace(res, studentized=False)
    return res, lams
