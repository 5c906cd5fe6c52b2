"""The computation behind :func:`evalmodel.results.inference_table`, made cheap per call.

A report builds a few hundred small result tables. The generic recipe
(:func:`generic_inference_table`: a frozen scipy distribution for the critical value and the
p-values, then the columns set one at a time) costs about 2 ms a table, almost all of it in
scipy's argument handling and pandas' column insertion, not in arithmetic.
:func:`fast_inference_table` calls the special functions that scipy's ``norm`` and ``t`` call
(``ndtri``/``ndtr``, ``stdtrit``/``stdtr``), with the argument checks and the placement of NaN,
0 and the support's bounds that scipy's ``ppf`` and ``sf`` wrappers apply, and builds the frame
in one construction: the same bits, dtypes, column order and index. Inputs of any other kind
(a mapping of other types, unequal lengths, a column named like a value column, an unusual
``df`` or ``conf_level`` type, ...) go to the generic recipe, which stays the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = ["fast_inference_table", "generic_inference_table"]

#: The value columns, in order (the same as :data:`evalmodel.results.COLUMNS`).
_VALUES = ("estimate", "std_error", "ci_lower", "ci_upper", "p_value")

#: Scalar types of ``df`` and ``conf_level`` that the fast path reads exactly as scipy does.
_SCALARS = (int, float, np.float64, np.int64)


def generic_inference_table(
    index: pd.DataFrame | Mapping[str, Sequence[Any]],
    estimate: Sequence[float] | np.ndarray,
    std_error: Sequence[float] | np.ndarray,
    *,
    conf_level: float = 0.95,
    df: float | None = None,
) -> pd.DataFrame:
    """The result table by scipy's frozen distributions and one column at a time: the reference
    of :func:`fast_inference_table`, and the path of inputs it does not take."""
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    dist = stats.t(df) if df is not None else stats.norm()
    crit = float(dist.ppf(0.5 + conf_level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    out = pd.DataFrame(index).reset_index(drop=True)
    out["estimate"] = est
    out["std_error"] = se
    out["ci_lower"] = est - crit * se
    out["ci_upper"] = est + crit * se
    out["p_value"] = 2 * dist.sf(np.abs(z))
    return out


def _plain_scalar(x: Any) -> bool:
    """Whether ``x`` is a real scalar that numpy reads as a 64-bit int or float (no bool, no
    Python int beyond int64)."""
    if type(x) not in _SCALARS:
        return False
    return type(x) is not int or -(2**63) <= x < 2**63


def critical_value(conf_level: float, df: float | None) -> float:
    """``stats.norm().ppf(q)`` (``df`` None) or ``stats.t(df).ppf(q)`` at
    ``q = 0.5 + conf_level / 2``, as a float, without the frozen distribution.

    scipy's ``ppf`` gives NaN for an invalid ``df`` (not positive, or NaN) and for ``q`` outside
    ``[0, 1]``, the support's bounds at ``q`` 0 and 1, and otherwise ``_ppf(q) * 1 + 0`` (which
    turns a -0.0 into 0.0); ``t._ppf`` is ``stdtrit(df, q)``, ``norm._ppf`` is ``ndtri(q)``.
    """
    q = 0.5 + conf_level / 2
    if df is not None and not df > 0:
        return float("nan")
    if 0 < q < 1:
        v = special.ndtri(q) if df is None else special.stdtrit(df, q)
        return float(v * 1 + 0)
    if q == 0:
        return float("-inf")
    if q == 1:
        return float("inf")
    return float("nan")


def two_sided_p(x: np.ndarray, df: float | None) -> np.ndarray:
    """``2 * dist.sf(x)`` of the normal (``df`` None) or Student's t, for a float array ``x`` of
    absolute statistics (NaN allowed), without the frozen distribution.

    scipy's ``sf`` gives NaN for an invalid ``df`` and where ``x`` is NaN, 0 at ``x = inf``
    (outside the open support), and ``_sf(x)`` elsewhere; ``t._sf`` is ``stdtr(df, -x)``,
    ``norm._sf`` is ``ndtr(-x)``.
    """
    out = np.zeros(x.shape)
    if df is not None and not df > 0:
        out[:] = np.nan
        return 2 * out
    inside = np.isfinite(x)
    if inside.any():
        xs = x[inside]
        out[inside] = special.ndtr(-xs) if df is None else special.stdtr(df, -xs)
    out[np.isnan(x)] = np.nan
    return 2 * out


def _index_columns(index: Any, n: int) -> dict[str, Any] | None:
    """The index columns as a dict for one DataFrame construction that gives what
    ``pd.DataFrame(index).reset_index(drop=True)`` gives, or None when ``index`` is not of a
    kind read exactly that way (then the generic path is taken)."""
    if isinstance(index, pd.DataFrame):
        cols = index.columns
        if (len(index) != n or not len(cols) or cols.name is not None or cols.dtype != "str"
                or not cols.is_unique or index.attrs):
            return None
        names = cols.tolist()
        values = [index.iloc[:, j].array for j in range(len(names))]
    elif type(index) is dict and index:
        names = list(index)
        values = list(index.values())
        for v in values:
            if isinstance(v, np.ndarray):
                if v.ndim != 1:
                    return None
            elif not isinstance(v, list | pd.api.extensions.ExtensionArray):
                return None
            if len(v) != n:
                return None
    else:
        return None
    if any(type(c) is not str or c in _VALUES for c in names):
        return None
    return dict(zip(names, values, strict=True))


def fast_inference_table(
    index: pd.DataFrame | Mapping[str, Sequence[Any]],
    estimate: Sequence[float] | np.ndarray,
    std_error: Sequence[float] | np.ndarray,
    *,
    conf_level: float = 0.95,
    df: float | None = None,
) -> pd.DataFrame | None:
    """The table of :func:`generic_inference_table`, bit for bit, or None for inputs of a kind
    this path does not read (see the module's description)."""
    if not _plain_scalar(conf_level) or not (df is None or _plain_scalar(df)):
        return None
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    if est.ndim != 1 or se.shape != est.shape:
        return None
    data = _index_columns(index, est.size)
    if data is None:
        return None
    crit = critical_value(conf_level, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    data["estimate"] = est
    data["std_error"] = se
    data["ci_lower"] = est - crit * se
    data["ci_upper"] = est + crit * se
    data["p_value"] = two_sided_p(np.abs(z), df)
    return pd.DataFrame(data)
