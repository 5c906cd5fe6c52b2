"""The order of a panel's rows while a :class:`~evalmodel.panel.Panel` is built: sorting rows
by their integer key codes (:func:`_row_order`, any layout), and rows that come in blocks, one
per unit, the common layout of a panel read from a file or made by a simulator, which the
build reads per unit instead of per row (issue 16: the build near the cost of one groupby).

For blocks, two steps, each giving the general path's answer or None (then it runs):

- :func:`unit_runs` finds the runs of equal ids in an integer unit column (one comparison of
  neighbours), so that the ids are read once per run, not once per row;
- :func:`balanced_blocks` sees whether the runs are a balanced panel in blocks: each unit one
  run of the same length, every run holding the same increasing periods. The periods are then
  the first run's, the keys are distinct without a sort, and the rows are put in the order of
  the units' labels by moving whole blocks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["Blocks", "Runs", "balanced_blocks", "unit_runs"]


def _sort_keys(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of rows by several integer keys, and the sorted combined key (see
    :func:`_row_order`)."""
    order, key = _row_order(codes, sizes)
    return (np.arange(len(key)) if order is None else order), key


def _row_order(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray | None, np.ndarray]:
    """Stable order of rows by several integer keys (None: the rows are in order, with distinct
    keys), and the sorted combined key.

    The keys are combined into one integer (mixed radix) when that fits in 63 bits, so a single
    stable sort does the work of a lexsort, in linear time on rows that are already in order.
    Rows in a few ordered runs (blocks of units in another order, such as integer ids sorted
    as numbers, not as text) are merged by the stable sort's run detection. Otherwise, when the
    combined keys are few compared with the rows, each row is written at its key in a table
    over the keys; when every key was written once (a panel without duplicate keys), reading
    the table in key order gives the rows' order and the sorted keys, in linear time in any
    order, without a sort.
    """
    n_keys = np.prod([max(m, 1) for m in sizes], dtype=float)
    if n_keys < 2.0**62:
        key = np.array(codes[0], dtype=np.int64)  # a copy, combined in place
        for code, m in zip(codes[1:], sizes[1:], strict=True):
            key *= max(m, 1)
            key += code
        rising = int(np.count_nonzero(key[1:] > key[:-1]))
        if len(key) < 2 or rising == len(key) - 1:  # in order, distinct: keep it
            return None, key
        few_runs = (len(key) - 1 - rising) * 64 < len(key)  # few steps down (or ties)
        if n_keys <= 4 * len(key) + 1024 and not few_runs:
            row_of = np.full(int(n_keys), -1, dtype=np.intp)  # each key's row, -1 for none
            row_of[key] = np.arange(len(key))
            if len(key) == n_keys and int(row_of.min()) >= 0:  # every key once: no gaps
                return row_of, np.arange(len(key), dtype=np.int64)
            taken = row_of >= 0
            if np.count_nonzero(taken) == len(key):  # distinct keys: the key order is stable
                return row_of[taken], np.flatnonzero(taken).astype(np.int64, copy=False)
        order = np.argsort(key, kind="stable")
        return order, np.take(key, order)
    order = np.lexsort(codes[::-1])
    rank = np.zeros(len(order), dtype=np.int64)  # position of each distinct key, in order
    if len(order) > 1:
        new = np.zeros(len(order) - 1, dtype=bool)
        for code in codes:
            sc = code[order]
            new |= sc[1:] != sc[:-1]
        rank[1:] = np.cumsum(new)
    return order, rank


def _codes_in_order(codes: list[np.ndarray], sizes: list[int], order: np.ndarray,
                    key: np.ndarray) -> list[np.ndarray]:
    """Each key's codes in the rows' new ``order``, given :func:`_row_order`'s sorted ``key``:
    read back from the combined key by division (a pass in order) where it is one, else taken
    row by row."""
    n_keys = np.prod([max(m, 1) for m in sizes], dtype=float)
    if n_keys >= 2.0**62:  # a rank, not a key
        return [code[order] for code in codes]
    if len(key) == n_keys and bool((key[1:] > key[:-1]).all()):  # every key once: 0, 1, ...
        digits, inner = [], len(key)
        for m in (max(m, 1) for m in sizes):
            inner //= m
            outer = len(key) // (m * inner)  # each digit: 0 .. m - 1, each ``inner`` times
            digits.append(_spread(np.arange(m, dtype=np.int64), inner, outer))
        return digits
    out = []
    for m in sizes[:0:-1]:  # the last key is the remainder of the combined key
        above = key // max(m, 1)
        rest = above * max(m, 1)
        out.append(np.subtract(key, rest, out=rest))  # in place: a new array costs its pages
        key = above
    return [key, *out[::-1]]


def _spread(values: np.ndarray, inner: int, outer: int = 1) -> np.ndarray:
    """``values`` with each value repeated ``inner`` times, the whole repeated ``outer`` times
    (``np.tile(np.repeat(values, inner), outer)``, written by one broadcast copy: a new array)."""
    out = np.empty(outer * len(values) * inner, dtype=values.dtype)
    np.copyto(out.reshape(outer, len(values), inner), values.reshape(1, len(values), 1))
    return out


class Runs(NamedTuple):
    """Runs of rows with the same unit id, in the order of the rows."""

    values: pd.Series  #: the id of each run (the column's dtype), index 0 .. n_runs - 1
    starts: np.ndarray  #: the first row of each run (intp, increasing, starts[0] == 0)
    n_rows: int  #: rows in all

    def spread(self, codes: np.ndarray) -> np.ndarray:
        """Each row's value of the per-run ``codes`` (int64)."""
        lengths = np.diff(np.append(self.starts, self.n_rows))
        return np.repeat(np.asarray(codes, dtype=np.int64), lengths)


class Blocks(NamedTuple):
    """A balanced panel in blocks of ``k`` rows, one block per unit."""

    k: int  #: rows per block (the number of periods)
    n_units: int  #: blocks in all, one per unit
    periods: np.ndarray  #: the periods of every block, increasing (int64)
    inverse: np.ndarray | None  #: the input block of each unit code; None: already in order

    def spread(self, codes: np.ndarray) -> np.ndarray:
        """Each row's value of the per-block ``codes`` (int64)."""
        return _spread(np.asarray(codes, dtype=np.int64), self.k)

    def in_order(self, values: np.ndarray, constant: bool = False) -> np.ndarray:
        """A column (one value per row, input order) with its blocks in unit-code order;
        ``constant``: the column is constant within blocks (each block's first value is
        spread)."""
        if self.inverse is None:
            return values
        if constant:
            return _spread(np.take(values[::self.k], self.inverse), self.k)
        return np.take(values.reshape(self.n_units, self.k), self.inverse, axis=0).reshape(-1)

    def codes_in_order(self) -> np.ndarray:
        """Each row's unit code once the blocks are in order: 0 .. n_units - 1, ``k`` each."""
        return self.spread(np.arange(self.n_units))


def unit_runs(s: pd.Series) -> Runs | None:
    """The runs of equal ids of a unit column ``s``, or None: for a column that is neither
    numpy integers nor pandas text (``"str"``), and when the runs are more than half the rows
    (reading per run would not pay; the first rows are looked at first, so shuffled rows cost
    little more)."""
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
        v = s.to_numpy()

        def step(i: int, j: int) -> np.ndarray:  # whether row k + 1 differs from row k
            return v[i + 1:j] != v[i:j - 1]
    elif s.dtype == _TEXT and isinstance(s.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.array(s.array)  # pyarrow's array of the column (no copy for one chunk)

        def step(i: int, j: int) -> np.ndarray:
            different = pc.not_equal(text.slice(i + 1, j - i - 1), text.slice(i, j - i - 1))
            return np.asarray(different.fill_null(True), dtype=bool)
    else:
        return None
    n = len(s)
    if n < 4 or 2 * int(step(0, min(n, 1000)).sum()) > min(n, 1000):
        return None
    starts = np.flatnonzero(step(0, n))
    if 2 * (len(starts) + 1) > n:
        return None
    starts = np.concatenate([np.zeros(1, dtype=starts.dtype), starts + 1])
    values = (pd.Series(s.to_numpy()[starts], dtype=s.dtype) if isinstance(s.dtype, np.dtype)
              else s.iloc[starts].reset_index(drop=True))
    return Runs(values, starts, n)


#: pandas' text dtype
_TEXT = pd.array([], dtype="str").dtype


def balanced_blocks(runs: Runs, codes: np.ndarray, n_units: int, time: np.ndarray
                    ) -> Blocks | None:
    """The blocks of a balanced panel whose rows are in ``runs`` (``codes``: each run's unit
    code, ``n_units`` distinct ids), given each row's period ``time`` (int64); None unless each
    unit is one run of ``k`` rows and every run holds the same ``k`` increasing periods."""
    m, n = len(runs.starts), runs.n_rows
    if m != n_units or n % m:
        return None
    k = n // m
    if not np.array_equal(runs.starts, np.arange(0, n, k)):
        return None
    first = time[:k]  # every block holds these: each equals the block before it
    if not bool((first[1:] > first[:-1]).all()) or not bool((time[k:] == time[:-k]).all()):
        return None
    inverse = None
    if not bool((codes[1:] > codes[:-1]).all()):  # the blocks in another order than the ids
        inverse = np.empty(m, dtype=np.intp)
        inverse[codes] = np.arange(m)
    return Blocks(k, m, first.astype(np.int64, copy=True), inverse)
