"""Derived panels with edited values: the cohort role set from a mapping of units, and an
outcome set at given cells (:meth:`~evalmodel.panel.Panel.with_cohorts`,
:meth:`~evalmodel.panel.Panel.with_values`, whose documentation these follow)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalmodel.errors import LateCohortWarning, PanelError
from evalmodel.panel_columns import _nfc, _not_a_period, late_cohort_note
from evalmodel.panel_periods import NEVER

if TYPE_CHECKING:
    from evalmodel.panel import Panel

__all__ = ["with_cohorts", "with_values"]


def with_cohorts(panel: Panel, cohorts: Mapping[str, int], *, name: str = "cohort") -> Panel:
    """:meth:`Panel.with_cohorts <evalmodel.panel.Panel.with_cohorts>`: ``panel`` with its
    cohort role (``name`` when it has none) set from ``{unit: first treated period}``."""
    col = panel._cohort or name
    periods = set(panel._periods.tolist())
    last = int(panel._periods[-1])
    given: dict[str, int] = {}
    late: dict[str, int] = {}
    for u, c in cohorts.items():
        number = isinstance(c, int | float | np.integer | np.floating)
        if number and (c == NEVER or c == np.inf or np.isnan(c)):
            continue  # never treated, as a unit left out
        if c in periods:
            given[_nfc(str(u))] = int(c)
        elif number and np.isfinite(c) and c > last and c == np.floor(c):
            late[_nfc(str(u))] = int(c)
        else:
            why = (_not_a_period(float(c), panel._periods, panel.frequency) if number else
                   "is not a number: a cohort is a period of the panel, 0 for never treated")
            raise PanelError(f"Panel.with_cohorts: cohort {c!r} of unit {u!r} {why}.")
    codes, ids = panel._codes()
    by_code = np.full(len(ids), NEVER, dtype=np.int64)  # each unit's cohort, by its code
    position = {u: i for i, u in enumerate(ids.tolist())}
    for u, c in given.items():
        if u in position:
            by_code[position[u]] = c
    data = panel._data.copy(deep=False)  # only the cohort column is new (copy on write)
    data[col] = by_code[codes]
    if col not in panel._data.columns:
        cols = [*panel._key_cols(), col, *[c for c in data.columns if c not in panel._key_cols()]]
        data = data[list(dict.fromkeys(cols))]
    notes = list(panel._notes)
    if late:
        msg = late_cohort_note(late, last, frequency=panel.frequency)
        notes.append(msg)
        warnings.warn(f"Panel.with_cohorts: {msg}.", LateCohortWarning, stacklevel=3)
    return type(panel)._from_validated(panel, data, _cohort=col, _late_cohorts=late, _notes=notes,
                                 _unit_codes=(codes, ids))  # the same rows in order


def with_values(panel: Panel, outcome: str, cells: Mapping[tuple[str, int], float],
                *, note: str | None = None) -> Panel:
    """:meth:`Panel.with_values <evalmodel.panel.Panel.with_values>`: ``panel`` with
    ``outcome`` set to the given values at ``{(unit, period): v}``."""
    panel.check_outcome(outcome)
    if panel._group is not None:
        raise PanelError("Panel.with_values: not available for a panel with a group role.")
    data = panel._data.copy()
    where_of = {(str(u), int(p)): i for i, (u, p) in
                enumerate(zip(data[panel._unit], data[panel._time], strict=True))}
    col = int(data.columns.get_loc(outcome))  # type: ignore[arg-type]
    new_rows = []
    for (u, p), v in cells.items():
        where = where_of.get((str(u), int(p)), -1)
        if where >= 0:
            data.iat[where, col] = float(v)
        else:
            new_rows.append({panel._unit: str(u), panel._time: int(p), outcome: float(v)})
    if new_rows:
        add = pd.DataFrame(new_rows)
        if panel._cohort is not None:
            add[panel._cohort] = add[panel._unit].map(panel.cohorts()).fillna(NEVER)
        data = pd.concat([data, add], ignore_index=True)
        data = data.sort_values([panel._unit, panel._time], kind="stable")
        data[panel._time] = data[panel._time].astype("int64")
        if panel._cohort is not None:
            data[panel._cohort] = data[panel._cohort].astype("int64")
    notes = [*panel._notes, *([note] if note else [])]
    return type(panel)._from_validated(panel, data, _notes=notes)
