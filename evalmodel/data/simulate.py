"""The embedded default data: simulated panels in the Kolada schema, with planted effects.

Nothing large is committed: the panels are generated here from a fixed seed. The municipality
panel has 290 units observed 1998-2024, with the real Kolada ids of Malmö (1280), Trelleborg
(1287), Borås (1490) and Linköping (0580) and synthetic ids (``S001`` ...) for the rest. The
district panel has Malmö's districts, Lindängen among them, 2005-2020. Effects are planted at
each case's adoption year and grow over event time; a displacement effect on youth
unemployment (N03939) is planted in Trelleborg, and a spill-over on Lindängen's neighbours.

Levels follow the public record where the sources give them (../shared/CONTEXT.md): Borås's
share with assistance 4.4 % -> 4.1 % between 2011 and 2012 and its long-term share
40.9 % -> 39.2 %; Linköping's households 2,703 (January 2021, read as the 2020 level) -> 2,087
(January 2024, read as the 2024 level). The simulated series pass near them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "DISTRICTS",
    "MUNICIPALITY_KPIS",
    "PlantedEffect",
    "simple_panel",
    "simulate_districts",
    "simulate_municipalities",
]

#: KPIs of the simulated municipality panel (labels in :mod:`evalmodel.kpis`).
MUNICIPALITY_KPIS = ("N31807", "N31814", "U31804", "U31001", "N31910", "N03937", "N03939",
                     "N01951")

YEARS = np.arange(1998, 2025)
# National open unemployment 18-65 (% of population) by year: the shared business cycle.
_CYCLE = np.array([5.5, 4.6, 3.6, 3.2, 3.3, 3.8, 4.3, 4.4, 3.9, 3.2, 3.3, 4.6, 4.4, 4.1,
                   4.2, 4.3, 4.2, 4.0, 3.8, 3.7, 3.6, 3.8, 4.8, 4.4, 3.6, 3.8, 4.2])
# Real units: id -> (population 1998, population growth a year, relative assistance level,
# relative unemployment, youth/overall unemployment ratio, assistance trend a decade).
_REAL = {
    "1280": (255_000, 0.011, 2.6, 1.7, 1.30, 0.0),  # Malmö
    "1287": (37_500, 0.0075, 1.05, 1.25, 1.60, 0.0),  # Trelleborg
    "1490": (95_500, 0.0070, 1.00, 1.00, 1.35, 0.0),  # Borås
    "0580": (131_500, 0.0090, 0.80, 0.85, 1.30, 0.0),  # Linköping
}

#: Malmö districts of the district panel (unit id -> display name) and Lindängen's neighbours.
DISTRICTS: dict[str, str] = {
    "lindangen": "Lindängen", "hermodsdal": "Hermodsdal", "nydala": "Nydala",
    "almvik": "Almvik", "holma": "Holma", "kroksback": "Kroksbäck", "hyllie": "Hyllie",
    "augustenborg": "Augustenborg", "rosengard": "Rosengård", "sofielund": "Södra Sofielund",
    "kirseberg": "Kirseberg", "husie": "Husie", "oxie": "Oxie", "limhamn": "Limhamn",
    "bunkeflo": "Bunkeflo", "centrum": "Centrum", "vastra_innerstaden": "Västra Innerstaden",
    "sodra_innerstaden": "Södra Innerstaden",
}
_LINDANGEN_NEIGHBOURS = ("hermodsdal", "nydala", "almvik")


@dataclass(frozen=True)
class PlantedEffect:
    """An effect planted in a simulated panel: ``amplitude * (1 - exp(-(e + 1) / speed))``.

    The effect at event time ``e >= 0`` grows from ``amplitude * (1 - exp(-1 / speed))`` towards
    ``amplitude``.
    """

    case: str
    units: tuple[str, ...]
    outcome: str
    start: int
    amplitude: float
    speed: float = 2.0

    def path(self, periods: np.ndarray) -> np.ndarray:
        """The effect in each of ``periods`` (0 before ``start``)."""
        e = periods - self.start
        return np.where(e >= 0, self.amplitude * (1 - np.exp(-(e + 1) / self.speed)), 0.0)


def _ar1(rng: np.random.Generator, n: int, t: int, sd: float, rho: float = 0.6) -> np.ndarray:
    """AR(1) noise, n series x t periods, stationary variance ``sd**2``."""
    shocks = rng.normal(0.0, sd * np.sqrt(1 - rho**2), size=(n, t))
    out = np.empty((n, t))
    out[:, 0] = rng.normal(0.0, sd, size=n)
    for j in range(1, t):  # a loop over 27 periods, vectorised over units
        out[:, j] = rho * out[:, j - 1] + shocks[:, j]
    return out


def _long(ids: list[str], years: np.ndarray, cols: dict[str, np.ndarray],
          unit: str, time: str) -> pd.DataFrame:
    df = pd.DataFrame({unit: np.repeat(ids, len(years)), time: np.tile(years, len(ids))})
    for k, v in cols.items():
        df[k] = v.ravel()
    return df


def _truth_frame(effects: list[PlantedEffect], years: np.ndarray) -> pd.DataFrame:
    rows = []
    for eff in effects:
        path = eff.path(years)
        for u in eff.units:
            for y, v in zip(years, path, strict=True):
                if y >= eff.start:
                    rows.append((eff.case, u, eff.outcome, int(y), int(y - eff.start), float(v)))
    return pd.DataFrame(rows, columns=["case", "unit", "outcome", "period", "event_time",
                                       "effect"])


def simulate_municipalities(
    seed: int = 20131105, *, displacement: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the municipality panel (290 units x 1998-2024) and its planted effects.

    Parameters
    ----------
    seed : int
        Seed of the generator; the default gives the embedded data set.
    displacement : bool
        Plant the displacement effect on Trelleborg's youth unemployment (N03939); switched
        off, everything else is identical for the same seed.

    Returns
    -------
    data : pandas.DataFrame
        One row per municipality and year: ``kommun``, ``year`` and the KPI columns of
        :data:`MUNICIPALITY_KPIS`.
    truth : pandas.DataFrame
        The planted effects: case, unit, outcome, period, event_time, effect.
    """
    rng = np.random.default_rng(seed)
    real = list(_REAL)
    ids = real + [f"S{i:03d}" for i in range(1, 290 - len(real) + 1)]
    n, t = len(ids), len(YEARS)
    yr = (YEARS - 2010) / 10.0
    cycle = np.log(_CYCLE / _CYCLE.mean())

    pop0 = np.exp(rng.normal(np.log(16_000), 0.85, n)).clip(2_500, 900_000)
    growth = rng.normal(0.002, 0.006, n)
    rel_ass = np.exp(rng.normal(0.0, 0.30, n))
    rel_unemp = np.exp(rng.normal(0.0, 0.22, n))
    youth_ratio = rng.normal(1.35, 0.12, n)
    trend = rng.normal(0.0, 0.12, n)
    for i, (p0, g, ra, ru, yrat, tr) in enumerate(_REAL.values()):
        pop0[i], growth[i], rel_ass[i], rel_unemp[i], youth_ratio[i] = p0, g, ra, ru, yrat
        trend[i] = tr
    pop = pop0[:, None] * np.exp(growth[:, None] * (YEARS - 1998)[None, :])
    pop = np.round(pop * np.exp(_ar1(rng, n, t, 0.003)))

    unemp = 4.0 * rel_unemp[:, None] * np.exp(0.9 * cycle[None, :] + _ar1(rng, n, t, 0.04))
    youth = unemp * youth_ratio[:, None] * np.exp(0.3 * cycle[None, :] + _ar1(rng, n, t, 0.03))

    # National path: about 5.5 % in 1998 falling to about 4 % in the 2010s.
    national = np.log(4.2) - 0.10 * yr - 0.05 * np.clip(yr, 0, None)
    share = np.exp(np.log(rel_ass)[:, None] + national[None, :] + trend[:, None] * yr[None, :]
                   + 0.45 * cycle[None, :] + _ar1(rng, n, t, 0.05))
    longterm = 100 / (1 + np.exp(-(rng.normal(-0.6, 0.22, n)[:, None] + 0.12 * yr[None, :]
                                   + 0.3 * cycle[None, :] + _ar1(rng, n, t, 0.06))))
    young_rel = rng.normal(1.35, 0.15, n)
    hh_size = rng.normal(1.75, 0.08, n)
    kr_per_recipient = 26_000 * np.exp(0.022 * (YEARS - 2014))

    # Calibrate the real units to the published levels, then plant the effects.
    i_boras, i_lkpg = real.index("1490"), real.index("0580")
    share[i_boras] *= 4.4 / share[i_boras, YEARS == 2011][0]
    longterm[i_boras] *= 40.9 / longterm[i_boras, YEARS == 2011][0]
    # January 2021, the last month before the new administration, is read as the 2020 level.
    households = share[i_lkpg] / 100 * pop[i_lkpg] / hh_size[i_lkpg]
    share[i_lkpg] *= 2_703 / households[YEARS == 2020][0]

    boras_dip = 4.1 - share[i_boras, YEARS == 2012][0]
    boras_lt = 39.2 - longterm[i_boras, YEARS == 2012][0]
    lkpg_2024 = 2_087 * hh_size[i_lkpg] / pop[i_lkpg, YEARS == 2024][0] * 100
    lkpg_gap = lkpg_2024 - share[i_lkpg, YEARS == 2024][0]
    first = 1 - np.exp(-0.5)  # share of the amplitude reached at e = 0 (speed 2)
    fourth = 1 - np.exp(-2.0)  # ... and at e = 3
    effects = [
        PlantedEffect("trelleborg", ("1287",), "N31807", 2010, -0.9),
        PlantedEffect("trelleborg", ("1287",), "N31814", 2010, -11.0),
        PlantedEffect("trelleborg", ("1287",), "U31804", 2010, -1.4),
        PlantedEffect("trelleborg", ("1287",), "N03939", 2010, 2.5),  # displacement
        PlantedEffect("boras", ("1490",), "N31807", 2012, boras_dip / first),
        PlantedEffect("boras", ("1490",), "N31814", 2012, boras_lt / first),
        PlantedEffect("linkoping", ("0580",), "N31807", 2021, lkpg_gap / fourth),
        PlantedEffect("malmo", ("1280",), "N31807", 2015, -0.8),
        PlantedEffect("malmo", ("1280",), "N31814", 2015, -4.0),
    ]
    young = share * young_rel[:, None] * np.exp(_ar1(rng, n, t, 0.05))
    if not displacement:
        effects = [e for e in effects if e.outcome != "N03939"]
    series = {"N31807": share, "N31814": longterm, "U31804": young, "N03939": youth}
    for eff in effects:
        series[eff.outcome][ids.index(eff.units[0])] += eff.path(YEARS)

    data = _long(ids, YEARS, {
        "N31807": np.round(share, 2),
        "N31814": np.round(longterm, 1),
        "U31804": np.round(young, 2),
        "U31001": np.round(share / 100 * kr_per_recipient[None, :] * np.exp(
            _ar1(rng, n, t, 0.04))),
        "N31910": np.round(share / 100 * pop / hh_size[:, None]),
        "N03937": np.round(unemp, 2),
        "N03939": np.round(youth, 2),
        "N01951": pop,
    }, unit="kommun", time="year")
    truth = _truth_frame(effects, YEARS)
    # Households follow the share: the effect on N31910 is implied by the one on N31807.
    derived = truth[truth["outcome"] == "N31807"].copy()
    rows = derived["unit"].map(ids.index).to_numpy(), derived["period"].to_numpy() - YEARS[0]
    derived["effect"] *= pop[rows] / 100 / hh_size[rows[0]]
    derived["outcome"] = "N31910"
    # The effects on the rounded series are the planted paths up to the rounding (at most 0.005
    # on shares, 0.05 on the long-term share, 0.5 on counts).
    return data, pd.concat([truth, derived], ignore_index=True)


def simulate_districts(
    seed: int = 20150901, *, spillover: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate Malmö's districts, 2005-2020, with the Lindängen model planted in 2011.

    With ``spillover`` (default) the neighbours of Lindängen receive part of its recipients.

    Returns the district-year frame (``district``, ``year``, ``N31807`` share with assistance,
    ``N03939`` youth unemployment, ``N01951`` inhabitants) and the planted effects: the model's
    effect in Lindängen and a spill-over (assistance cases moving out) in its neighbours.
    """
    rng = np.random.default_rng(seed)
    ids = list(DISTRICTS)
    years = np.arange(2005, 2021)
    n, t = len(ids), len(years)
    yr = (years - 2012) / 10.0
    cycle = np.log(_CYCLE[np.isin(YEARS, years)] / _CYCLE.mean())
    level = np.exp(rng.normal(np.log(11.0), 0.55, n))
    level[0] = 24.0  # Lindängen: among the highest shares in Malmö
    share = level[:, None] * np.exp(-0.15 * yr[None, :] + rng.normal(0, 0.1, n)[:, None]
                                    * yr[None, :] + 0.4 * cycle[None, :]
                                    + _ar1(rng, n, t, 0.04))
    youth = (6.0 * np.sqrt(level / 11.0))[:, None] * np.exp(0.9 * cycle[None, :]
                                                          + _ar1(rng, n, t, 0.06))
    pop = np.round(np.exp(rng.normal(np.log(14_000), 0.4, n))[:, None]
                   * np.exp(0.01 * (years - 2005))[None, :])
    effects = [PlantedEffect("lindangen", ("lindangen",), "N31807", 2011, -4.0)]
    if spillover:
        effects += [PlantedEffect("lindangen", (u,), "N31807", 2011, 0.8)
                    for u in _LINDANGEN_NEIGHBOURS]
    for eff in effects:
        share[ids.index(eff.units[0])] += eff.path(years)
    data = _long(ids, years, {"N31807": np.round(share, 2), "N03939": np.round(youth, 2),
                              "N01951": pop}, unit="district", time="year")
    return data, _truth_frame(effects, years)


def simple_panel(
    n_units: int = 60,
    n_periods: int = 10,
    *,
    treated_share: float = 0.3,
    adoption: int = 6,
    effect: float = 1.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, float]:
    """A small two-group panel with one adoption period and a constant planted effect.

    Used in examples and known-truth tests: ``y = unit effect + period effect + effect * D +
    noise`` with a covariate ``x`` that enters with coefficient 0.5.

    Returns
    -------
    data : pandas.DataFrame
        ``unit``, ``time``, ``cohort`` (adoption or 0), ``y``, ``x``.
    effect : float
        The planted effect.
    """
    rng = np.random.default_rng(seed)
    units = [f"u{i:03d}" for i in range(n_units)]
    times = np.arange(1, n_periods + 1)
    treated = rng.random(n_units) < treated_share
    treated[:2] = [True, False]
    alpha = rng.normal(0, 1, n_units) + 0.5 * treated
    gamma = np.cumsum(rng.normal(0.1, 0.3, n_periods))
    x = rng.normal(0, 1, (n_units, n_periods))
    d = treated[:, None] & (times[None, :] >= adoption)
    y = alpha[:, None] + gamma[None, :] + 0.5 * x + effect * d + rng.normal(0, 1, x.shape)
    df = _long(units, times, {"y": y, "x": x}, unit="unit", time="time")
    df["cohort"] = np.repeat(np.where(treated, adoption, 0), n_periods)
    return df, effect
