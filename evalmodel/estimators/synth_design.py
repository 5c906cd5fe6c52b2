"""Input checks shared by the synthetic control and synthetic DiD estimators.

Both estimators compare treated units with a pool of donors over pre- and post-periods. This
module turns ``(panel, outcome, treated, start, donors)`` into a checked outcome matrix, the
adoption period of each treated unit and the donor list, and raises
:class:`~evalmodel.errors.EstimationError` with a message that names the argument, the bad value
and the fix. It knows nothing of the estimators themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError
from evalmodel.months import period_label
from evalmodel.panel import NEVER, Panel
from evalmodel.results import Sample
from evalmodel.vocabulary import check_names, check_period

__all__ = ["SynthDesign", "check_finite", "resolve_design"]


@dataclass(frozen=True)
class SynthDesign:
    """A checked design: who is treated when, who donates, and the outcome matrix.

    Attributes
    ----------
    y : pandas.DataFrame
        Outcome, units x periods: the donors first (in ``donors`` order), then the treated.
    treated : tuple of str
        Treated units.
    adoption : dict
        First treated period of each treated unit.
    donors : tuple of str
        Donor (comparison) units, all never treated.
    periods : numpy.ndarray
        All periods of the panel, sorted.
    notes : tuple of str
        Units left out and why.
    frequency : str
        The panel's :attr:`~evalmodel.Panel.frequency` (``"month"``: periods are month codes).
    """

    y: pd.DataFrame
    treated: tuple[str, ...]
    adoption: dict[str, int]
    donors: tuple[str, ...]
    periods: np.ndarray
    notes: tuple[str, ...]
    frequency: str = "year"

    def sample(self) -> Sample:
        """The :class:`~evalmodel.results.Sample` of the design."""
        return Sample(
            n_obs=int(self.y.size),
            n_units=len(self.y),
            n_periods=len(self.periods),
            treated_units=self.treated,
            periods=tuple(int(p) for p in self.periods),
            frequency=self.frequency,
        )


def _as_units(value: str | Sequence[str], arg: str, fn: str) -> list[str]:
    out = check_names(fn, arg, value, allow_empty=True)
    if not out:
        raise EstimationError(f"{fn}: {arg}= is empty; name at least one unit, e.g. {arg}='1287'.")
    return out


def resolve_design(
    panel: Panel,
    outcome: str,
    *,
    treated: str | Sequence[str] | None,
    start: int | None,
    donors: Sequence[str] | None,
    fn: str,
) -> SynthDesign:
    """Check the arguments of a synthetic estimator and build its design.

    Parameters
    ----------
    panel : Panel
        The panel.
    outcome : str
        Outcome variable.
    treated : str, sequence of str or None
        Treated unit(s); ``None`` takes every unit with a cohort in the panel.
    start : int or None
        First treated period of every treated unit; ``None`` takes the panel's cohorts.
    donors : sequence of str or None
        Comparison units; ``None`` takes every never-treated unit that is not treated.
    fn : str
        Name of the calling estimator, for messages.

    Returns
    -------
    SynthDesign

    Raises
    ------
    EstimationError
        For an unknown treated unit or donor, a treated unit without an adoption period, fewer
        than 2 donors, fewer than 2 pre-periods or no post-period.
    """
    if not isinstance(panel, Panel):
        raise EstimationError(
            f"{fn}: panel must be an evalmodel Panel, got {type(panel).__name__}; build one "
            "with em.Panel(df, unit=..., time=...)."
        )
    panel.check_outcome(outcome)
    if start is not None:
        start = check_period(fn, "start", start, panel.periods, frequency=panel.frequency)
    units = panel.units
    cohorts = panel.cohorts()
    notes: list[str] = []
    if treated is None:
        tr = [u for u in units if cohorts[u] != NEVER]
        if not tr:
            raise EstimationError(
                f"{fn}: treated=None needs a panel with a cohort role marking treated units; "
                "pass treated='<unit id>' and start=<first treated period>."
            )
    else:
        tr = _as_units(treated, "treated", fn)
        missing = [u for u in tr if u not in set(units)]
        if missing:
            raise EstimationError(
                f"{fn}: treated unit {missing[0]!r} is not in the panel ({len(units)} units, "
                f"e.g. {units[:4]}); check the id (a string, with leading zeros such as '0580')."
            )
    if len(set(tr)) != len(tr):
        raise EstimationError(f"{fn}: treated= names a unit twice ({tr}); list each unit once.")
    adoption: dict[str, int] = {}
    for u in tr:
        a = int(start) if start is not None else int(cohorts[u])
        if a == NEVER:
            raise EstimationError(
                f"{fn}: treated unit {u!r} has no adoption period in the panel's cohorts; pass "
                "start=<first treated period>."
            )
        adoption[u] = a
    periods = panel.periods
    for u, a in adoption.items():
        n_pre = int((periods < a).sum())
        if n_pre < 2:
            raise EstimationError(
                f"{fn}: start={a} leaves {n_pre} pre-period(s) for unit {u!r} (panel starts "
                f"{int(periods[0])}); synthetic estimators need at least 2 pre-periods: "
                "pass a later start or a longer panel."
            )
        if not (periods >= a).any():
            raise EstimationError(
                f"{fn}: start={a} is after the last period ({int(periods[-1])}) for unit {u!r}; "
                "there is no post-period to estimate an effect for."
            )
    if donors is None:
        # the ids as one list (an arrow-backed index yields its strings one by one)
        never = dict(zip(cohorts.index.tolist(), (cohorts.to_numpy() == NEVER).tolist(),
                         strict=True))
        pool = [u for u in units if u not in adoption and never[u]]
        left = [u for u in units if u not in adoption and not never[u]]
        if left:
            notes.append(
                f"{len(left)} units treated at some time but not named in treated= are left out "
                f"of the donor pool (e.g. {left[:3]})"
            )
    else:
        pool = _as_units(donors, "donors", fn)
        bad = [u for u in pool if u not in set(units)]
        if bad:
            raise EstimationError(
                f"{fn}: donor {bad[0]!r} is not in the panel; donors must be units of the panel."
            )
        both = [u for u in pool if u in adoption]
        if both:
            raise EstimationError(
                f"{fn}: unit {both[0]!r} is both treated and a donor; remove it from donors=."
            )
        pool = list(dict.fromkeys(pool))
    if len(pool) < 2:
        raise EstimationError(
            f"{fn}: the donor pool has {len(pool)} unit(s) ({pool}); synthetic estimators need at "
            "least 2 never-treated donors: widen donors= or the panel's comparison units."
        )
    y = panel.wide(outcome).reindex(index=[*pool, *tr], columns=periods)
    return SynthDesign(
        y=y, treated=tuple(tr), adoption=adoption, donors=tuple(pool), periods=periods,
        notes=tuple(notes), frequency=panel.frequency,
    )


def check_finite(frame: pd.DataFrame, what: str, fn: str, frequency: str = "year") -> None:
    """Raise naming the first unit and period where ``frame`` (units x periods) is NaN (a
    month by its label ``"2021-01"`` when ``frequency="month"``)."""
    arr = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        period = frame.columns[j]
        period = period.item() if isinstance(period, np.generic) else period
        if frequency == "month":
            period = period_label(period, frequency)
        raise EstimationError(
            f"{fn}: {what} is missing for unit {frame.index[i]!r} in period "
            f"{period!r} ({int(bad.sum())} missing cells in all); synthetic estimators "
            "need a balanced, complete outcome: fill or interpolate it, or drop that unit "
            "(donors=[...])."
        )
