"""The embedded data sets: simulated panels in the Kolada schema with planted effects.

Every output made from them is stamped "simulated data" by the report layer
(``panel.source["kind"] == "simulated"``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from evalmodel.data.simulate import simulate_districts, simulate_municipalities
from evalmodel.data.simulate_monthly import MONTHLY_SEED, simulate_monthly
from evalmodel.errors import CoercedValuesWarning
from evalmodel.panel import Panel
from evalmodel.vocabulary import check_seed

__all__ = ["DEFAULT_SEED", "DISTRICT_SEED", "MONTHLY_SEED", "frame_sha256", "simulated",
           "simulated_districts", "simulated_monthly"]

DEFAULT_SEED = 20131105
DISTRICT_SEED = 20150901


def frame_sha256(df: pd.DataFrame) -> str:
    """A content hash of a frame: its CSV text, so equal data give equal hashes.

    The text is ``df.to_csv(index=False, float_format="%.10g")``; a frame of float64, int64
    and ``str`` columns (the embedded data sets) is written by :func:`_plain_csv`, the same
    text at about half the cost.
    """
    text = _plain_csv(df)
    if text is None:
        text = df.to_csv(index=False, float_format="%.10g")
    return hashlib.sha256(text.encode()).hexdigest()


def _plain_csv(df: pd.DataFrame) -> str | None:
    """``df.to_csv(index=False, float_format="%.10g")`` for a frame of float64, int64 and
    NaN-missing ``str`` columns with text column labels, else ``None``.

    pandas writes each float as ``"%.10g" % value`` and a missing value as an empty field, and
    hands the rows to :func:`csv.writer` (quoting as needed); so does this, without pandas'
    per-block formatting machinery.
    """
    if df.shape[1] == 0 or not all(type(c) is str for c in df.columns):
        return None  # pandas formats non-text labels (e.g. floats by float_format)
    columns: list[list[str]] = []
    for k in range(df.shape[1]):
        col = df.iloc[:, k]
        dtype = col.dtype
        if dtype == np.float64:
            # %-formatting, as pandas applies float_format
            columns.append(["" if v != v else "%.10g" % v  # noqa: UP031
                            for v in col.to_numpy().tolist()])
        elif dtype == np.int64:
            columns.append(list(map(str, col.to_numpy().tolist())))
        elif isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:
            columns.append(["" if v != v else v for v in col.tolist()])
        else:
            return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=os.linesep)
    writer.writerow([str(c) for c in df.columns])
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


@lru_cache(maxsize=4)
def _municipalities(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_municipalities(seed)


@lru_cache(maxsize=4)
def _districts(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_districts(seed)


def simulated(seed: int = DEFAULT_SEED) -> Panel:
    """The simulated municipality panel: 290 units x 1998-2024, Kolada KPI columns.

    Parameters
    ----------
    seed : int
        The generator's seed; the default is the embedded data set.

    Returns
    -------
    Panel
        Unit ``kommun`` (Kolada ids as strings), time ``year``; ``.truth`` holds the planted
        effects (case, unit, outcome, period, event_time, effect).

    Examples
    --------
    >>> import evalmodel as em
    >>> panel = em.datasets.simulated()
    >>> len(panel.units), int(panel.periods[0]), int(panel.periods[-1])
    (290, 1998, 2024)
    """
    check_seed("datasets.simulated", seed)
    data, truth = _municipalities(seed)
    source = {"kind": "simulated", "name": "simulated municipalities", "seed": seed,
              "sha256": frame_sha256(data)}
    return Panel(data.copy(), unit="kommun", time="year", truth=truth.copy(), source=source)


def simulated_districts(seed: int = DISTRICT_SEED) -> Panel:
    """The simulated district panel of Malmö, 2005-2020, with Lindängen's planted effect.

    Returns
    -------
    Panel
        Unit ``district``, time ``year``, outcomes N31807, N03939, N01951; ``.truth`` holds the
        planted effects, including the spill-over on Lindängen's neighbours.
    """
    check_seed("datasets.simulated_districts", seed)
    data, truth = _districts(seed)
    source = {"kind": "simulated", "name": "simulated Malmö districts", "seed": seed,
              "sha256": frame_sha256(data)}
    return Panel(data.copy(), unit="district", time="year", truth=truth.copy(), source=source)


@lru_cache(maxsize=2)
def _monthly(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_monthly(seed)


def simulated_monthly(seed: int = MONTHLY_SEED) -> Panel:
    """The simulated monthly municipality panel: 290 units x 2014-01..2024-06, with seasonality.

    The monthly twin of :func:`simulated` (same unit ids), made by
    :func:`evalmodel.data.simulate_monthly.simulate_monthly`: ``share`` (% of inhabitants in
    households with assistance), ``households`` and ``population``, each unit with its own
    calendar-month profile, and effects planted in Linköping (from 2021-01) and Malmö (from
    2015-01).

    Parameters
    ----------
    seed : int
        The generator's seed; the default is the embedded monthly world.

    Returns
    -------
    Panel
        Unit ``kommun``, time ``month`` (a monthly panel: month codes inside, labels
        ``"2021-01"`` outside); ``.truth`` holds the planted effects (period = month code,
        event time in months).

    Examples
    --------
    >>> import evalmodel as em
    >>> panel = em.datasets.simulated_monthly()
    >>> panel.frequency, len(panel.units), len(panel.periods)
    ('month', 290, 126)
    """
    check_seed("datasets.simulated_monthly", seed)
    data, truth = _monthly(seed)
    source = {"kind": "simulated", "name": "simulated monthly municipalities", "seed": seed,
              "sha256": frame_sha256(data)}
    with warnings.catch_warnings():  # the month labels become codes, as the notes say
        warnings.simplefilter("ignore", CoercedValuesWarning)
        return Panel(data.copy(), unit="kommun", time="month", truth=truth.copy(),
                     source=source)
