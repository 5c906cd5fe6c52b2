"""Checks of a panel's columns before it is built: unit ids, integer periods, the order of rows,
cohort values that are not periods, and the note on cohorts after the last period.

Used by :class:`evalmodel.panel.Panel`; each check raises :class:`~evalmodel.errors.PanelError`
naming the column, the bad value and the fix, or records what it converted in ``notes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import PanelError

__all__ = ["late_cohort_note"]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _show(value: Any) -> str:
    return repr(_plain(value))


def _not_a_period(value: float, periods: np.ndarray) -> str:
    """Why a cohort value that is not after the last period cannot be one (for a message)."""
    span = f"{int(periods[0])}-{int(periods[-1])}"
    if value != np.floor(value):
        return f"is not a period of the panel ({span}): a first treated period is a whole period"
    if value < periods[0]:
        return (f"is before the first period of the panel ({span}): a unit treated before the "
                "panel starts has no untreated period; drop the unit, or start the panel earlier")
    return (f"is not a period of the panel ({span}): no row has period {int(value)}; add that "
            "period's rows, or use the first period the unit is observed treated")


def late_cohort_note(late: Mapping[str, int], last: int, after: str = "") -> str:
    """The sentence counting the units first treated after ``last`` (``after`` qualifies it,
    e.g. ``" plus anticipation 1"``): their cohorts, how many units each, and the first units."""
    counts = pd.Series(late, dtype="int64").value_counts().sort_index()
    cohorts = ", ".join(f"{g} ({n} unit{'s' * (n != 1)})" for g, n in counts.items())
    units = sorted(str(u) for u in late)
    shown = ", ".join(repr(u) for u in units[:5]) + (", ..." if len(units) > 5 else "")
    return (f"{len(late)} unit{'s' * (len(late) != 1)} first treated after the last period "
            f"({last}){after} {'are' if len(late) != 1 else 'is'} never treated within the "
            f"sample: cohort{'s' * (len(counts) != 1)} {cohorts}, unit{'s' * (len(units) != 1)} "
            f"{shown}; set to cohort 0, as R did does")


def _to_integer_time(s: pd.Series, col: str, notes: list[str]) -> pd.Series:
    """Return ``s`` as int64, or raise naming the first non-integer value."""
    if pd.api.types.is_integer_dtype(s) and not s.isna().any():
        return s.astype("int64")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() | (num.notna() & (num.round() != num))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise PanelError(
            f"Panel: column {col!r} has {int(bad.sum())} non-integer values "
            f"(e.g. {_show(s.iloc[pos])} in row {pos}); time must be an integer period such as "
            f"a year: convert it with pd.to_numeric(df[{col!r}]).astype(int) or drop those rows."
        )
    if not pd.api.types.is_numeric_dtype(s):
        notes.append(f"time column {col!r}: {len(s)} values converted from text to integers")
    return num.astype("int64")


def _sort_keys(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of rows by several integer keys, and the sorted combined key.

    The keys are combined into one integer (mixed radix) when that fits in 63 bits, so a single
    stable sort does the work of a lexsort, in linear time on rows that are already in order.
    """
    if np.prod([max(m, 1) for m in sizes], dtype=float) < 2.0**62:
        key = np.zeros(len(codes[0]), dtype=np.int64)
        for code, m in zip(codes, sizes, strict=True):
            key = key * max(m, 1) + code
        order = np.argsort(key, kind="stable")
        return order, key[order]
    order = np.lexsort(codes[::-1])
    rank = np.zeros(len(order), dtype=np.int64)  # position of each distinct key, in order
    if len(order) > 1:
        new = np.zeros(len(order) - 1, dtype=bool)
        for code in codes:
            sc = code[order]
            new |= sc[1:] != sc[:-1]
        rank[1:] = np.cumsum(new)
    return order, rank


def _to_unit_ids(s: pd.Series, col: str, ids: Iterable[str] | None, notes: list[str]) -> pd.Series:
    """Return unit ids as strings, checking leading zeros against a known id list."""
    if s.isna().any():
        pos = int(np.flatnonzero(s.isna().to_numpy())[0])
        raise PanelError(
            f"Panel: column {col!r} has {int(s.isna().sum())} missing unit ids (e.g. row {pos}); "
            "every row needs a unit: drop those rows or fill the ids."
        )
    if pd.api.types.is_float_dtype(s):
        if (s.round() != s).any():
            bad = s[s.round() != s].iloc[0]
            raise PanelError(
                f"Panel: unit column {col!r} holds fractional numbers (e.g. {_show(bad)}); "
                "unit ids must be strings such as '0580': pass the ids as text."
            )
        s = s.astype("int64")
    if not (pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)):
        notes.append(f"unit column {col!r}: {len(s)} numeric ids converted to strings")
    out = s.astype(str).str.strip()
    if ids is not None:
        known = {str(i) for i in ids}
        unknown = pd.unique(out[~out.isin(known)])
        lost = [u for u in unknown if u.isdigit() and any(k.lstrip("0") == u for k in known)]
        if lost:
            width = max(len(k) for k in known)
            raise PanelError(
                f"Panel: unit column {col!r} has ids that lost their leading zeros "
                f"(e.g. {lost[0]!r}, known as {lost[0].zfill(width)!r}; {len(lost)} ids in all); "
                f"read the column as text (dtype={{{col!r}: str}}) or repair it with "
                f"df[{col!r}].astype(str).str.zfill({width})."
            )
    return out
