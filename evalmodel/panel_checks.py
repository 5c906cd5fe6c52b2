"""Two checks of the rows while a :class:`~evalmodel.panel.Panel` is built: no two rows share a
key, and every weight is a positive number. Each raises :class:`~evalmodel.errors.PanelError`
naming the column, the first offending row and the fix."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evalmodel.errors import PanelError
from evalmodel.panel_columns import _plain, _show

__all__ = ["check_weights", "refuse_duplicates"]


def refuse_duplicates(order: np.ndarray, key: np.ndarray, keys: list[str],
                       shown: Callable[[], pd.DataFrame], notes: list[str]) -> None:
    """Raise when two rows share a key (``key``: the sorted keys, ``order``: their rows)."""
    same = key[1:] == key[:-1]
    if same.any():
        n_dup = int((np.r_[same, False] | np.r_[False, same]).sum())
        first = [_plain(v) for v in shown().loc[order[np.flatnonzero(same)[0]], keys]]
        merged = [n for n in notes if "merged" in n or "spaces removed" in n]
        raise PanelError(
            f"Panel: {n_dup} rows share their ({', '.join(keys)}) key "
            f"(e.g. {first}); each unit may appear once per period: aggregate or drop "
            "the duplicates first (df.drop_duplicates(...) or df.groupby(...).mean())"
            + (f". The labels were made equal first: {'; '.join(merged)}." if merged else ".")
        )

def check_weights(df: pd.DataFrame, weight: str, keys: list[str]) -> None:
    """Raise unless every weight is a positive number (finite: checked before)."""
    w = df[weight].to_numpy()
    for bad, what, fix in (
        (np.isnan(w), "missing",
         f"fill them, or drop those rows (df.dropna(subset=[{weight!r}]))"),
        (w < 0, "negative", "weights are positive numbers such as population counts"),
        (w == 0, "zero", f"a zero weight leaves its rows out of every estimate: drop those "
                         f"rows first (df[df[{weight!r}] > 0]) so the panel shows which "
                         "units it holds"),
    ):
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            at = tuple(_plain(v) for v in df.iloc[r][keys])
            raise PanelError(
                f"Panel: weight column {weight!r} has {int(bad.sum())} {what} values (e.g. "
                f"{_show(w[r])} at ({', '.join(keys)}) = {at}); {fix}."
            )
