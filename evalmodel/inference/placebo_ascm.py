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
exactly as for the plain synthetic control: the effect-rank p-value of each post-period and of
the average effect over the placebos whose pre-period MSPE is at most ``max_pre_mspe_ratio``
times the treated unit's, the interval that inverts that same test, and the RMSPE-ratio
p-value over every placebo.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalmodel.core.ascm_placebo import placebo_ascm_gaps
from evalmodel.errors import EstimationError
from evalmodel.inference.placebo import PlaceboResult
from evalmodel.vocabulary import check_conf_level

__all__ = ["ascm_placebo_in_space", "placebo_from_gaps"]


def placebo_from_gaps(gaps: np.ndarray, *, periods: np.ndarray, start: int,
                      units: Sequence[str], max_pre_mspe_ratio: float,
                      conf_level: float) -> PlaceboResult:
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
    """
    n0 = gaps.shape[0] - 1
    pre = np.asarray(periods) < start
    pre_mspe = (gaps[:, pre] ** 2).mean(axis=1)
    post_mspe = (gaps[:, ~pre] ** 2).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sqrt(post_mspe / pre_mspe)
    idx = pd.Index(list(units), name="unit")
    kept = pre_mspe[:n0] <= max_pre_mspe_ratio * pre_mspe[n0]
    return PlaceboResult(
        gaps=pd.DataFrame(gaps, index=idx, columns=periods),
        treated=str(units[n0]), start=int(start),
        pre_mspe=pd.Series(pre_mspe, index=idx, name="pre_mspe"),
        post_mspe=pd.Series(post_mspe, index=idx, name="post_mspe"),
        ratio=pd.Series(ratio, index=idx, name="ratio"),
        kept=pd.Series(kept, index=idx[:n0], name="kept"),
        max_pre_mspe_ratio=float(max_pre_mspe_ratio), conf_level=conf_level,
    )


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
) -> tuple[PlaceboResult, np.ndarray]:
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

    Returns
    -------
    result : PlaceboResult
        The placebo tests.
    penalties : ndarray, shape (J,)
        Each placebo's ridge penalty.

    Raises
    ------
    EstimationError
        Fewer than 3 donors (a placebo needs a pool of at least 2), or a ``conf_level``
        outside (0, 1).
    """
    check_conf_level("ascm_placebo_in_space", conf_level)
    n0 = y.shape[0] - 1
    if n0 < 3:
        raise EstimationError(
            f"ascm_placebo_in_space: {n0} donors leave each placebo fewer than 2 donors of its "
            "own; add donors or use inference='conformal'."
        )
    gaps0, lams = placebo_ascm_gaps(y[:n0], pre_cols, omegas=omegas, lam=penalty,
                                    demean=demean)
    gaps = np.vstack([gaps0, np.asarray(treated_gaps, dtype=float)[None, :]])
    res = placebo_from_gaps(gaps, periods=periods, start=start, units=units,
                            max_pre_mspe_ratio=max_pre_mspe_ratio, conf_level=conf_level)
    return res, lams
