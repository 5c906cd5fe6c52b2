"""Data frames other than pandas as Panel input: polars, pyarrow, duckdb and the rest of what
narwhals reads.

A pandas DataFrame passes through untouched (narwhals is not even imported). Any other frame
is read through narwhals: only the columns the Panel's roles and outcomes name are selected
(in the frame's own engine, so a lazy polars frame or a duckdb relation computes just those),
then collected and converted to pandas once. A column that is not named is never converted,
whatever its type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from evalmodel.errors import PanelError

__all__ = ["as_pandas"]


def _wanted(roles: Sequence[str | None], outcomes: Sequence[str] | None, long: bool
            ) -> list[str] | None:
    """The columns a Panel reads: its roles and outcomes (None: every column, because every
    column without a role is an outcome when ``outcomes`` is not given)."""
    if outcomes is None and not long:
        return None
    named = [c for c in roles if c is not None]
    return list(dict.fromkeys([*named, *([] if long else (outcomes or []))]))


def as_pandas(data: Any, *, roles: Sequence[str | None], outcomes: Sequence[str] | None = None,
              long: bool = False) -> Any:
    """``data`` as a pandas DataFrame holding the columns a Panel reads.

    Parameters
    ----------
    data : pandas.DataFrame, polars DataFrame or LazyFrame, pyarrow Table, duckdb relation, ...
        The Panel's input; anything :func:`narwhals.from_native` accepts.
    roles : sequence of str or None
        The role columns (unit, time, cohort, weight, group, variable, value; None where a
        role is not used).
    outcomes : sequence of str, optional
        The outcome columns; None reads every column (each is an outcome then), unless
        ``long``.
    long : bool
        Whether the input is long (a ``variable`` and a ``value`` column): the roles are
        then all the columns read.

    Returns
    -------
    pandas.DataFrame or object
        A pandas input unchanged; another frame converted; anything else unchanged, for the
        Panel to reject with its own message.

    Raises
    ------
    PanelError
        When the frame cannot be converted (for example a column of Python objects among the
        columns read).

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"k": ["a", "b"], "t": [1, 1], "y": [1.0, 2.0], "note": ["x", "y"]})
    >>> as_pandas(t, roles=["k", "t"], outcomes=["y"]).columns.tolist()
    ['k', 't', 'y']
    """
    if isinstance(data, pd.DataFrame):
        return data
    import narwhals.stable.v2 as nw

    try:
        frame = nw.from_native(data)
    except TypeError:
        return data
    wanted = _wanted(roles, outcomes, long)
    if wanted is not None:  # a missing column is left for the Panel to name
        present = set(frame.collect_schema().names())
        frame = frame.select([c for c in wanted if c in present])
    kind = type(nw.to_native(frame)).__module__.split(".")[0]
    try:
        eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
        return eager.to_pandas()
    except Exception as exc:  # each engine raises its own conversion error
        raise PanelError(
            f"Panel: the {kind} frame could not be converted to pandas ({exc}); pass "
            "outcomes=[...] so that only the roles' and outcomes' columns are read, or convert "
            "the unsupported columns first."
        ) from exc
