"""The result of a placebo study (:func:`evalmodel.inference.calibration.placebo_study`): each
fake treated unit's estimate, interval and test, the rejection rate (size or power) and the
coverage with their Monte Carlo standard errors, power at other effects read from the
intervals, and the summary, table and figure every result has.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.errors import EstimationError
from evalmodel.months import period_label
from evalmodel.results import Result, Summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["COLUMNS", "PlaceboStudyResult"]

#: Columns of :attr:`PlaceboStudyResult.placebos`.
COLUMNS = ("unit", "estimate", "ci_lower", "ci_upper", "p_value", "rejected", "covered")


def _binomial_se(share: float, n: int) -> float:
    return math.sqrt(share * (1 - share) / n) if n > 0 and np.isfinite(share) else float("nan")


def _rate_row(name: str, flags: pd.Series, conf_level: float, nominal: float | None
              ) -> tuple[str, float, float, float, float, float, int]:
    """A share of ``flags`` with its Monte Carlo s.e., Wilson interval and exact binomial
    p-value of ``nominal`` (NaN without one)."""
    f = flags.dropna().astype(bool)
    n = len(f)
    if n == 0:
        nan = float("nan")
        return name, nan, nan, nan, nan, nan, 0
    k = int(f.sum())
    share = k / n
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    p = (float(stats.binomtest(k, n, nominal).pvalue) if nominal is not None
         else float("nan"))
    return name, share, _binomial_se(share, n), centre - half, centre + half, p, n


@dataclass(frozen=True)
class PlaceboStudyResult(Result):
    """Size (or power) and coverage of an estimator's inference, from fake adoptions.

    Its :attr:`table` has the package's standard columns: one row for the rejection rate (the
    headline, :attr:`overall`) and one for the coverage of the intervals, each with its binomial
    Monte Carlo standard error, a Wilson interval at ``conf_level`` and the exact binomial
    p-value of the nominal rate (``1 - conf_level`` for rejections of a true null,
    ``conf_level`` for coverage; NaN for power, which has no nominal value). The placebo units
    themselves are in :attr:`placebos`.

    Attributes
    ----------
    estimator : str
        Name of the estimator studied.
    outcome : str
        The outcome.
    adoption : int
        The fake first treated period.
    effect : float
        The effect planted in each fake treated unit's outcomes from ``adoption`` on (0: a size
        study).
    conf_level : float
        Level of the intervals; a unit is rejected when ``p_value <= 1 - conf_level``.
    placebos : pandas.DataFrame
        One row per placebo unit: ``unit``, ``estimate``, ``ci_lower``, ``ci_upper``,
        ``p_value``, ``rejected`` and ``covered`` (whether the interval holds ``effect``;
        missing where the estimator gave no interval), plus ``error`` for units whose fit
        failed (their other cells are missing and they are not counted in :attr:`n`).
    pool : tuple of str
        The untreated units the study ran over (the comparison of every fit).
    n_units : int or None
        The number of placebo units asked for (None: every unit of the pool).
    seed : int or None
        Seed of the draw of placebo units.
    warnings : tuple of (str, int)
        Warning categories raised by the placebo fits and how many fits raised each (the fits'
        warnings are counted here instead of being shown once per fit).
    notes : tuple of str
        What the study decided or left out.
    """

    estimator: str
    outcome: str
    adoption: int
    effect: float
    conf_level: float
    placebos: pd.DataFrame = field(repr=False)
    pool: tuple[str, ...] = field(repr=False)
    n_units: int | None = None
    seed: int | None = None
    warnings: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    frequency: str = "year"

    @property
    def alpha(self) -> float:
        """The nominal level of the test, ``1 - conf_level``."""
        return 1 - self.conf_level

    @property
    def n(self) -> int:
        """Number of placebo units with a p-value (failed fits left out)."""
        return int(self.placebos["rejected"].notna().sum())

    @property
    def n_failed(self) -> int:
        """Number of placebo units whose fit raised an error."""
        return int(self.placebos["error"].notna().sum()) if "error" in self.placebos else 0

    @property
    def rejection_rate(self) -> float:
        """Share of placebo units whose test rejects at ``1 - conf_level``."""
        r = self.placebos["rejected"].dropna()
        return float(r.astype(float).mean()) if len(r) else float("nan")

    @property
    def rejection_se(self) -> float:
        """Binomial Monte Carlo standard error of :attr:`rejection_rate`."""
        return _binomial_se(self.rejection_rate, self.n)

    @property
    def size(self) -> float:
        """The rejection rate of a true null (a study with ``effect=0``).

        Raises
        ------
        EstimationError
            When an effect was planted: the rejection rate is then :attr:`power`.
        """
        if self.effect != 0:
            raise EstimationError(f"placebo_study: an effect of {self.effect:g} was planted, so "
                                  "the rejection rate is power, not size; use .power or "
                                  ".rejection_rate.")
        return self.rejection_rate

    @property
    def power(self) -> float:
        """The rejection rate with a planted effect (a study with ``effect != 0``).

        Raises
        ------
        EstimationError
            When no effect was planted: the rejection rate is then :attr:`size`.
        """
        if self.effect == 0:
            raise EstimationError("placebo_study: no effect was planted (effect=0), so the "
                                  "rejection rate is size, not power; use .size or "
                                  ".rejection_rate.")
        return self.rejection_rate

    @property
    def n_intervals(self) -> int:
        """Number of placebo units with an interval."""
        return int(self.placebos["covered"].notna().sum())

    @property
    def coverage(self) -> float:
        """Share of intervals that contain the planted effect (NaN without intervals)."""
        c = self.placebos["covered"].dropna()
        return float(c.astype(float).mean()) if len(c) else float("nan")

    @property
    def coverage_se(self) -> float:
        """Binomial Monte Carlo standard error of :attr:`coverage`."""
        return _binomial_se(self.coverage, self.n_intervals)

    @property
    def mean_estimate(self) -> float:
        """Mean of the placebo estimates (compare with :attr:`effect` for bias)."""
        return float(self.placebos["estimate"].mean())

    @property
    def spread(self) -> float:
        """Standard deviation of the placebo estimates."""
        return float(self.placebos["estimate"].std(ddof=1))

    def _intervals(self) -> tuple[np.ndarray, np.ndarray]:
        t = self.placebos
        lo, hi = t["ci_lower"].to_numpy(float), t["ci_upper"].to_numpy(float)
        ok = ~np.isnan(lo) & ~np.isnan(hi)  # an infinite end is an interval (it never excludes)
        return lo[ok], hi[ok]

    def power_at(self, effect: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """Power against other effects, read from the placebo units' intervals.

        Planting ``effect`` instead of :attr:`effect` moves each fake treated unit's post-
        adoption outcomes by the difference. For an estimator that moves by the same amount
        (every estimator here whose post-adoption outcomes of the treated unit enter its
        estimate with total weight one) and an interval that inverts the estimator's test of a
        constant additive effect, the interval moves too, so the test of no effect rejects
        exactly when ``self.effect - effect`` lies outside the unit's interval. The result
        equals a placebo study with ``effect`` planted (tested to 1e-12 for the linear
        estimators); it is the share of units with an interval, so it can differ from a
        rejection rate read from p-values where a method's p-value and interval come from
        different tests.

        Parameters
        ----------
        effect : float or sequence of float
            Effects to plant, in the outcome's units.

        Returns
        -------
        float or numpy.ndarray
            The share detected at level :attr:`alpha`, for each effect.
        """
        lo, hi = self._intervals()
        eff = np.atleast_1d(np.asarray(effect, dtype=float))
        if not lo.size:
            out = np.full(eff.shape, np.nan)
        else:
            shift = self.effect - eff[:, None]
            out = ((shift < lo[None, :]) | (shift > hi[None, :])).mean(axis=1)
        return float(out[0]) if np.ndim(effect) == 0 else out

    def detectable_effect(self, power: float = 0.8, *, direction: int = -1) -> float:
        """The smallest effect in ``direction`` (-1: a reduction, +1: an increase) that the
        method detects in a share ``power`` of the placebo units (see :meth:`power_at`).

        Returns NaN when no effect reaches that power (too few units with an interval).
        """
        if direction not in (-1, 1) or not 0 < power < 1:
            raise EstimationError(f"detectable_effect: direction={direction!r} must be -1 or 1 "
                                  f"and power={power!r} between 0 and 1, e.g. power=0.8.")
        lo, hi = self._intervals()
        if not lo.size:
            return float("nan")
        # power_at changes only where self.effect - effect crosses an interval end
        cand = np.concatenate([self.effect - lo, self.effect - hi])
        cand = cand[np.isfinite(cand)]  # an infinite end is never crossed
        cand = np.sort(np.unique(cand[np.sign(cand) == direction] * direction)) * direction
        eps = 1e-9 * max(1.0, float(np.max(np.abs(cand)))) if cand.size else 0.0
        cand = cand + direction * eps  # just past the crossing: the interval end excluded
        reach = np.asarray(self.power_at(cand)) >= power
        return float(cand[np.argmax(reach)]) if reach.any() else float("nan")

    @property
    def table(self) -> pd.DataFrame:
        """The rejection rate and the coverage in the standard columns (see the class notes)."""
        kind = "size" if self.effect == 0 else "power"
        rows = [
            _rate_row(f"rejection rate ({kind})", self.placebos["rejected"], self.conf_level,
                      self.alpha if self.effect == 0 else None),
            _rate_row("coverage", self.placebos["covered"], self.conf_level, self.conf_level),
        ]
        return pd.DataFrame(rows, columns=["statistic", "estimate", "std_error", "ci_lower",
                                           "ci_upper", "p_value", "n"])

    def describe_sample(self) -> dict[str, str]:
        """Method, outcome and the placebo design, for :func:`~evalmodel.results.compare`."""
        return {"Method": f"placebo study of {self.estimator}", "Outcome": self.outcome,
                "Inference": f"{self.n} fake adoptions in "
                             f"{period_label(self.adoption, self.frequency)}",
                "Units": str(len(self.pool))}

    def describe(self) -> str:
        """One sentence: what was studied and what came out."""
        what = "size" if self.effect == 0 else f"power against an effect of {self.effect:g}"
        alpha = f"{self.alpha:.3g}"
        text = (f"placebo study of {self.estimator} on {self.outcome!r}: {self.n} untreated units "
                f"each given a fake adoption in {period_label(self.adoption, self.frequency)} "
                f"against the other "
                f"{len(self.pool) - 1} units of the pool; {what} at level {alpha}: "
                f"{self.rejection_rate:.3f} (Monte Carlo s.e. {self.rejection_se:.3f})")
        if self.n_intervals:
            text += (f"; coverage of the {self.conf_level:.0%} intervals {self.coverage:.3f} "
                     f"(s.e. {self.coverage_se:.3f})")
        return text

    def summary(self) -> Summary:
        """The summary: ``str()`` text, HTML in notebooks, ``.to_latex()``, ``.to_markdown()``."""
        drawn = ("every unit of the pool" if self.n_units is None else
                 f"{self.n_units} units drawn with seed {self.seed}")
        header = (
            ("Estimator", self.estimator),
            ("Outcome", self.outcome),
            ("Fake adoption", period_label(self.adoption, self.frequency)),
            ("Planted effect", f"{self.effect:g}"),
            ("Level", f"{self.alpha:.3g} (intervals {self.conf_level:.0%})"),
            ("Pool", f"{len(self.pool)} untreated units"),
            ("Placebo units", f"{self.n} ({drawn})"
             + (f"; {self.n_failed} failed" if self.n_failed else "")),
            ("Placebo estimates", f"mean {self.mean_estimate:.4g}, sd {self.spread:.4g}"),
        )
        notes = [*self.notes, *(f"{k} raised in {c} placebo fits" for k, c in self.warnings)]
        return Summary(title=f"Placebo study: {self.estimator}, {self.outcome}", header=header,
                       table=self.table, notes=tuple(notes))

    def plot(self, ax: Axes | None = None) -> Axes:
        """Histogram of the placebo p-values (flat under a valid test of a true null)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        p = self.placebos["p_value"].dropna().to_numpy(dtype=float)
        ax.hist(p, bins=[i / 20 for i in range(21)], color="0.6", edgecolor="white")
        ax.axvline(self.alpha, color="C3", lw=1, label=f"level {self.alpha:.3g}")
        if p.size:
            ax.axhline(p.size / 20, color="0.3", lw=1, ls="--", label="uniform")
        ax.set_xlabel("p-value")
        ax.set_ylabel("placebo units")
        ax.set_title(f"{self.estimator}: rejection rate {self.rejection_rate:.3f} (n={self.n})")
        ax.legend(frameon=False)
        return ax

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()
