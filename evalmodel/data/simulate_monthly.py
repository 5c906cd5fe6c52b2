"""A simulated monthly world: the municipalities of the embedded panel, month by month.

The monthly twin of :func:`evalmodel.data.simulate.simulate_municipalities`, so that the monthly
path (seasonal DiD and TWFE, synthetic control and SDID on months) runs and is tested without a
network. The units are the same 290 ids: the real Kolada ids of Malmö (1280), Trelleborg
(1287), Borås (1490) and Linköping (0580) and ``S001`` ... for the rest. The months run from
2014-01 (SCB's monthly series start there) to 2024-06 by default, kept as the codes of
``evalmodel.months`` and written as labels ``"2021-01"``.

The share of inhabitants in households with economic assistance (``share``, %) is additive:

``share_it = level_i + national_t + trend_i * (t - 2019-01) / 120 + season_i(m_t) + u_it
+ effect_it``

with ``season_i(m) = amplitude_i * common(m) + deviation_im``: a common winter peak
(``common(m) = cos(2 pi (m - 1) / 12)``, January highest, July lowest) scaled per unit, plus
unit deviations per calendar month (centred within the unit); ``u_it`` is AR(1) over months.
Being additive, the comparison units' average path is parallel to the treated unit's untreated
path in expectation, so a seasonal DiD is unbiased for the planted effect, and a unit with its
own seasonal profile is what the unit-by-calendar-month effects are for. The real units' trends
are drawn like every other unit's (the record pins their level, not their trend), so across
worlds a real unit is exchangeable with the others in everything a seasonal DiD sees (its
level and seasonal profile are absorbed), and placebo-in-space tests for it have their nominal
size. Households (``households``) are ``share / 100 * population / household
size``, rounded; ``population`` grows smoothly.

Effects are planted with :class:`~evalmodel.data.simulate.PlantedEffect` at each case's
adoption month (event time in months): Linköping from January 2021 (the households pass
through the public record's 2,703 in January 2021 and 2,087 in January 2024) and Malmö from
January 2015. Trelleborg (2010) and Borås (2012) adopted before the first month, so no effect is
planted for them (their level is simply their level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalmodel.data.simulate import PlantedEffect, _ar1, _truth_frame
from evalmodel.months import month_code, month_labels, parse_month

__all__ = ["MONTHLY_OUTCOMES", "MONTHLY_SEED", "monthly_periods", "simulate_monthly"]

#: Outcomes of the monthly world.
MONTHLY_OUTCOMES = ("share", "households", "population")
#: Seed of the embedded monthly world.
MONTHLY_SEED = 20210101

_N_UNITS = 290
# Real units: id -> (population January 2014, growth a year, share level %, seasonal amplitude
# in percentage points, household size).
_REAL = {
    "1280": (318_000, 0.011, 6.5, 0.25, 1.75),  # Malmö
    "1287": (43_000, 0.0075, 3.6, 0.12, 1.75),  # Trelleborg
    "1490": (106_000, 0.0070, 3.8, 0.12, 1.75),  # Borås
    "0580": (152_000, 0.0090, 3.0, 0.10, 1.75),  # Linköping
}
#: Linköping's households in the public record (seed 003): January 2021 and January 2024.
_LKPG_HOUSEHOLDS = {month_code(2021, 1): 2_703, month_code(2024, 1): 2_087}


def monthly_periods(start: str = "2014-01", end: str = "2024-06") -> np.ndarray:
    """The month codes from ``start`` to ``end`` (labels ``"YYYY-MM"``), both included."""
    first, last = parse_month(start), parse_month(end)
    if first is None or last is None or last < first:
        raise ValueError(f"monthly_periods: start={start!r}, end={end!r} are not two months "
                         "'YYYY-MM' in order")
    return np.arange(first, last + 1)


def _effects(ids: list[str], share: np.ndarray, codes: np.ndarray, pop: np.ndarray,
             hh_size: np.ndarray, speed: float) -> list[PlantedEffect]:
    """The planted effects; Linköping's level and amplitude are set (``share`` is changed in
    place) so that its households pass through the record in January 2021 (event time 0) and
    January 2024. Cases whose adoption is outside the months are left out."""
    effects = []
    i_lkpg = ids.index("0580")
    jan21, jan24 = _LKPG_HOUSEHOLDS
    if codes[0] < jan21 <= codes[-1]:
        amplitude = -0.6
        months = [int(np.searchsorted(codes, m)) for m in (jan21, jan24) if m <= codes[-1]]
        gaps = [_LKPG_HOUSEHOLDS[int(codes[j])] * hh_size[i_lkpg] / pop[i_lkpg, j] * 100
                - share[i_lkpg, j] for j in months]
        if len(months) == 2:  # shift c and amplitude A: c + A f(e) = gap at both months
            f = 1 - np.exp(-(np.array(months) - months[0] + 1) / speed)
            amplitude = float((gaps[1] - gaps[0]) / (f[1] - f[0]))
            share[i_lkpg] += gaps[0] - amplitude * f[0]
        else:
            share[i_lkpg] += gaps[0] - amplitude * (1 - np.exp(-1 / speed))
        effects.append(PlantedEffect("linkoping", ("0580",), "share", jan21, amplitude, speed))
    jan15 = month_code(2015, 1)
    if codes[0] < jan15 <= codes[-1]:
        effects.append(PlantedEffect("malmo", ("1280",), "share", jan15, -0.8, speed))
    return effects


def simulate_monthly(
    seed: int = MONTHLY_SEED,
    *,
    start: str = "2014-01",
    end: str = "2024-06",
    seasonality: float = 0.15,
    seasonal_spread: float = 0.4,
    rho: float = 0.7,
    noise: float = 0.08,
    speed: float = 12.0,
    effects: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the monthly municipality panel and its planted effects.

    Parameters
    ----------
    seed : int
        Seed of the generator; ``MONTHLY_SEED`` gives the embedded world.
    start, end : str
        First and last month, ``"YYYY-MM"``.
    seasonality : float
        Mean amplitude (percentage points) of the common winter peak of ``share``.
    seasonal_spread : float
        Spread of the units' seasonal profiles: the standard deviation of the log of each
        unit's amplitude, and (times ``seasonality / 2``) of its calendar-month deviations.
        0 gives every unit the same profile.
    rho, noise : float
        Autocorrelation and stationary standard deviation (percentage points) of the AR(1)
        noise of ``share`` over months.
    speed : float
        Months over which a planted effect reaches ``1 - 1/e`` of its amplitude
        (:class:`~evalmodel.data.simulate.PlantedEffect`).
    effects : bool
        Plant the effects (False: the same world without them, for size studies; Linköping's
        level is the same, so its households pass through the record only in January 2021).

    Returns
    -------
    data : pandas.DataFrame
        One row per municipality and month: ``kommun``, ``month`` (label ``"2021-01"``),
        ``share``, ``households``, ``population``.
    truth : pandas.DataFrame
        The planted effects: case, unit, outcome, period (month code), event_time (months),
        effect, and ``month`` (label); the effect on ``households`` is implied by the one on
        ``share`` and listed too.

    Examples
    --------
    >>> from evalmodel.data.simulate_monthly import simulate_monthly
    >>> data, truth = simulate_monthly()
    >>> data.shape, data["month"].iloc[0], data["month"].iloc[-1]
    ((36540, 5), '2014-01', '2024-06')
    >>> int(data.loc[(data.kommun == "0580") & (data.month == "2021-01"), "households"].iloc[0])
    2703
    """
    codes = monthly_periods(start, end)
    rng = np.random.default_rng(seed)
    ids = list(_REAL) + [f"S{i:03d}" for i in range(1, _N_UNITS - len(_REAL) + 1)]
    n, t = len(ids), len(codes)
    years = (codes - month_code(2019, 1)) / 120.0  # decades from January 2019
    cal = codes % 12  # calendar month - 1

    pop0 = np.exp(rng.normal(np.log(17_000), 0.85, n)).clip(2_500, 1_000_000)
    growth = rng.normal(0.003, 0.006, n)
    level = np.exp(rng.normal(np.log(3.8), 0.30, n))
    amplitude = seasonality * np.exp(rng.normal(0.0, seasonal_spread, n)
                                     - seasonal_spread**2 / 2)
    deviation = rng.normal(0.0, seasonality / 2 * seasonal_spread, (n, 12))
    deviation -= deviation.mean(axis=1, keepdims=True)
    trend = rng.normal(0.0, 0.3, n)
    hh_size = rng.normal(1.75, 0.08, n)
    for i, (p0, g, lv, amp, hh) in enumerate(_REAL.values()):  # trends drawn like any other
        pop0[i], growth[i], level[i], amplitude[i], hh_size[i] = p0, g, lv, amp, hh
    months_since = (codes - codes[0])[None, :] / 12.0
    pop = np.round(pop0[:, None] * np.exp(growth[:, None] * months_since))

    # National path in percentage points: the 2020 rise of the pandemic and a slow decline.
    national = -0.15 * years + 0.2 * np.exp(-0.5 * ((codes - month_code(2020, 6)) / 4.0) ** 2)
    common = np.cos(2 * np.pi * cal / 12)
    season = amplitude[:, None] * common[None, :] + deviation[:, cal]
    share = (level[:, None] + national[None, :] + trend[:, None] * years[None, :] + season
             + _ar1(rng, n, t, noise, rho))

    planted = _effects(ids, share, codes, pop, hh_size, speed)  # sets Linköping's level too
    if not effects:
        planted = []
    for eff in planted:
        share[ids.index(eff.units[0])] += eff.path(codes)

    data = pd.DataFrame({"kommun": np.repeat(ids, t),
                         "month": np.tile(month_labels(codes), n)})
    data["share"] = np.round(share, 3).ravel()
    data["households"] = np.round(share / 100 * pop / hh_size[:, None]).ravel()
    data["population"] = pop.ravel()
    truth = _truth_frame(planted, codes).astype({"period": int, "event_time": int,
                                                 "effect": float})
    derived = truth.copy()
    rows = (derived["unit"].map(ids.index).to_numpy(dtype=int),
            derived["period"].to_numpy(dtype=int) - codes[0])
    derived["effect"] *= pop[rows] / 100 / hh_size[rows[0]]
    derived["outcome"] = "households"
    truth = pd.concat([truth, derived], ignore_index=True)
    truth["month"] = month_labels(truth["period"])
    # The effects on the rounded series are the planted paths up to the rounding (0.0005 on the
    # share, 0.5 on the households).
    return data, truth
