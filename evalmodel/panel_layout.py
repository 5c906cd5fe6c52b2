"""What a panel reads once about its rows and keeps: the unit ids as an index, whether they are
sorted, and each row's position among the periods.

:meth:`Panel.wide <evalmodel.panel.Panel.wide>` and :meth:`Panel.cohorts
<evalmodel.panel.Panel.cohorts>` run thousands of times in a report (every placebo fit reads
them), and each call built the same text index of the unit ids (an arrow string array made from
Python strings) and searched every row's period again. These are facts of the panel's frame, so
they are made once per panel, kept in the panel under names starting with ``_held_``, and
given out as fresh views: renaming a returned index never reaches the kept one. A kept fact is
used only while the objects it was read from (the frame, the ids, the periods) are the panel's
own, so a derived panel reuses the unit index when it shares its parent's ids (as
:meth:`~evalmodel.panel.Panel.with_cohorts` does) and reads the rest again; it does not inherit
the positions (:data:`HELD_ROWS`), which would keep its parent's frame alive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.panel_columns import _strictly_increasing

if TYPE_CHECKING:  # pragma: no cover
    from evalmodel.panel import Panel

__all__ = ["HELD", "HELD_ROWS", "period_index", "period_positions", "unit_index", "wide_frame"]

#: The prefix of the attributes a panel keeps these facts in.
HELD = "_held_"
#: The attribute of the period positions, which holds the frame they were read from.
HELD_ROWS = HELD + "positions"


def _unit_entry(panel: Panel) -> tuple[Any, ...]:
    ids = panel._codes()[1]
    dtype = panel._unit_dtype()
    held = panel.__dict__.get(HELD + "units")
    if held is None or held[0] is not ids or held[1] != dtype or held[2].name != panel.unit:
        held = (ids, dtype, pd.Index(ids, name=panel.unit, dtype=dtype), _strictly_increasing(ids))
        panel.__dict__[HELD + "units"] = held
    return held


def unit_index(panel: Panel) -> tuple[pd.Index, bool]:
    """The unit ids (in the order of the unit codes) as an Index named after the unit column and
    of its dtype, as ``pd.Index(ids, name=unit, dtype=...)`` makes it, and whether the ids are
    strictly increasing."""
    held = _unit_entry(panel)
    return held[2]._view(), held[3]


def period_positions(panel: Panel) -> np.ndarray:
    """Each row's position in the panel's sorted periods (``np.searchsorted``); read only."""
    frame, periods = panel._frame, panel._periods
    held = panel.__dict__.get(HELD_ROWS)
    if held is None or held[0] is not frame or held[1] is not periods:
        at = np.searchsorted(periods, frame[panel.time].to_numpy())
        at.flags.writeable = False
        held = (frame, periods, at)
        panel.__dict__[HELD_ROWS] = held
    return held[2]


def period_index(panel: Panel) -> pd.Index:
    """The periods as an Index named after the time column (``pd.Index(periods, name=time)``)."""
    periods = panel._periods
    held = panel.__dict__.get(HELD + "periods")
    if held is None or held[0] is not periods or held[1].name != panel.time:
        held = (periods, pd.Index(periods, name=panel.time))
        panel.__dict__[HELD + "periods"] = held
    return held[1]._view()


def wide_frame(values: pd.Series, codes: np.ndarray, at: np.ndarray, index: pd.Index,
               columns: pd.Index) -> pd.DataFrame:
    """What ``data.pivot(index=unit, columns=time, values=outcome)`` returns for rows with
    distinct keys and sorted unit ids (index and columns sorted and named, NaN where absent, the
    same memory layout): each row's value placed at its unit code (``codes``) and period
    position (``at``) instead of hashing the labels."""
    out = np.full((len(index), len(columns)), np.nan)
    out[codes, at] = values.to_numpy(dtype=float)
    return pd.DataFrame(out, index=index, columns=columns, copy=False)
