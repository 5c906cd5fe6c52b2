"""Calendar-month effects for DiD and TWFE on monthly panels (``seasonal="unit"``).

Unit-by-calendar-month effects ``a_{i,m(t)}`` replace the unit effects (which they nest) and sit
beside the period effects ``g_t``: each unit gets its own seasonal profile, and the treatment is
identified by comparing each month with the same calendar month. The design then falls into
twelve blocks that share no effect, one per calendar month (the rows of January are a unit-by-
year panel of their own, with the January effects of the units and the Januaries' period
effects), so the regression is solved block by block
(``evalmodel.core.demean.blockwise_demean``) and the effects have rank
``12 * n_units + n_periods - 12``.

On a balanced panel with one start, the coefficient on ``D_it = z_i * 1{t >= start}`` is, by
Frisch-Waugh-Lovell within each block, ``sum_i (z_i - k/N) g_i / ((k - k^2/N) sum_t a_t^2)``
with ``a_t = 1{t >= start} - q_{m(t)}``, ``q_m`` the share of post periods among the periods of
calendar month ``m`` and ``g_i = sum_t a_t y_it``: a precision-weighted average of the twelve
calendar-month DiDs, calendar month ``m`` weighted by ``T_m q_m (1 - q_m)``.
:class:`SeasonalStatistic` evaluates it for every placebo assignment in one product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalmodel.errors import EstimationError
from evalmodel.months import month_label
from evalmodel.panel import Panel
from evalmodel.vocabulary import Seasonal, check_option

__all__ = ["SeasonalStatistic", "check_seasonal", "seasonal_codes"]


def check_seasonal(fn: str, seasonal: object, panel: Panel) -> bool:
    """Whether unit-by-calendar-month effects are asked for; raise for a bad option or a panel
    that is not monthly.

    ``seasonal="common"`` (calendar-month effects shared by all units) is refused with the
    reason: the period effects of ``twfe`` absorb them, and the 2x2 DiD differences them out
    (both groups are observed in the same months).
    """
    if seasonal == "common":
        why = ("the period effects absorb calendar-month effects common to all units" if
               fn == "twfe" else "the 2x2 difference removes calendar-month effects common "
               "to both groups (they are observed in the same months)")
        raise EstimationError(
            f"{fn}: seasonal='common' changes nothing here: {why}; pass seasonal='unit' for "
            "each unit's own calendar-month profile, or leave seasonal at 'none'."
        )
    check_option(fn, "seasonal", seasonal, Seasonal)
    if seasonal == "none":
        return False
    if panel.frequency != "month":
        raise EstimationError(
            f"{fn}: seasonal={seasonal!r} needs a monthly panel, and this panel's periods are "
            f"{panel.frequency}s ({int(panel.periods[0])}-{int(panel.periods[-1])}); build the "
            "Panel from month labels ('2021-01', '2021M01', Period[M] or month-start dates), or "
            "leave seasonal at 'none'."
        )
    return True


def seasonal_codes(ucode: np.ndarray, periods: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unit-by-calendar-month code of each row (``12 * unit + calendar month - 1``,
    renumbered over the pairs present) and its block (calendar month - 1).

    Parameters
    ----------
    ucode : ndarray of int (n,)
        Unit codes.
    periods : ndarray of int (n,)
        Month codes (``evalmodel.months``).
    """
    block = np.mod(np.asarray(periods, dtype=np.int64), 12)
    key = np.asarray(ucode, dtype=np.int64) * 12 + block
    return np.unique(key, return_inverse=True)[1].reshape(-1), block


class SeasonalStatistic:
    """The seasonal TWFE coefficient on ``1{unit assigned and period >= start}`` for a balanced
    panel of month codes: a permutation statistic with a vectorised ``batch`` (see the module
    docstring for the closed form; tested equal to the regression).

    Parameters
    ----------
    outcome : str
    start : int
        First treated month (code).
    """

    def __init__(self, outcome: str, *, start: int) -> None:
        self.outcome = outcome
        self.start = int(start)

    def _weights(self, periods: np.ndarray) -> np.ndarray:
        post = (periods >= self.start).astype(float)
        block = np.mod(periods, 12)
        share = (np.bincount(block, weights=post, minlength=12)
                 / np.maximum(np.bincount(block, minlength=12), 1))
        a = post - share[block]
        if not (a @ a) > 0:
            raise EstimationError(
                f"SeasonalStatistic: no calendar month has periods both before and from "
                f"start={month_label(self.start)!r}; seasonal effects need pre and post months "
                "of the same "
                "calendar month."
            )
        return np.asarray(a)

    def batch(self, panel: Panel, assignments: np.ndarray, values: str | None = None
              ) -> np.ndarray:
        """The coefficient for each row of a 0/1 ``assignments`` matrix over ``panel.units``."""
        w = panel.wide(values or self.outcome)
        y = w.to_numpy(dtype=float)
        if np.isnan(y).any():
            raise EstimationError(
                "SeasonalStatistic: the panel has missing values of "
                f"{values or self.outcome!r}; its closed form needs a complete balanced panel."
            )
        a = self._weights(w.columns.to_numpy(dtype=np.int64))
        g = y @ a
        z = assignments.astype(float)
        k = z.sum(axis=1, keepdims=True)
        n = z.shape[1]
        num = ((z - k / n) @ g)
        return np.asarray(num / ((k[:, 0] - k[:, 0] ** 2 / n) * (a @ a)))

    def __call__(self, panel: Panel, treated: Sequence[str]) -> float:
        z = np.isin(np.asarray(panel.units), list(treated))[None, :]
        return float(self.batch(panel, z)[0])
