"""Figures shared by every estimator: coefficient plots and treated-versus-comparison trends.

matplotlib and seaborn are imported here, never when :mod:`evalmodel` is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from evalmodel.months import period_label
from evalmodel.names import unit_label
from evalmodel.results import label_periods

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.panel import Panel
    from evalmodel.results import EstimateResult

__all__ = [
    "PALETTE",
    "coefficient_plot",
    "forest_plot",
    "interval_errors",
    "many_lines",
    "mark_unbounded",
    "new_axes",
    "table_plot",
    "trend_plot",
]

#: Treated, comparison, and a neutral colour, used by every evalmodel figure.
PALETTE = {"treated": "#c0392b", "comparison": "#2c3e50", "neutral": "#7f8c8d"}


def new_axes(ax: Axes | None, size: tuple[float, float] = (7.0, 4.0)) -> Axes:
    """Return ``ax``, or the Axes of a new figure in evalmodel's style."""
    if ax is not None:
        return ax
    sns.set_theme(style="whitegrid", context="notebook")
    _, new = plt.subplots(figsize=size, layout="constrained")
    return new


def many_lines(ax: Axes, x: np.ndarray, ys: np.ndarray, *, color: str, lw: float,
               alpha: float | None = None) -> None:
    """Draw each row of ``ys`` against ``x`` as a line of one style, as one artist.

    The same pixels as one ``ax.plot(x, row, color=color, lw=lw, alpha=alpha)`` per row, in
    order (tested against that loop), for a fraction of the time when there are hundreds of
    rows. The lines are an unfilled, open :class:`~matplotlib.collections.PolyCollection`
    with the caps, joins and layer (zorder 2) of a plotted line; a ``PolyCollection`` rather
    than a ``LineCollection`` because ``legend(loc="best")`` avoids the paths of the former,
    as it avoids plotted lines, but not those of the latter.
    """
    from matplotlib.collections import PolyCollection

    xs = np.asarray(x, dtype=float)
    rows = np.asarray(ys, dtype=float).reshape(-1, len(xs))
    if not len(rows):
        return
    verts = np.empty((len(rows), len(xs), 2))
    verts[:, :, 0] = xs
    verts[:, :, 1] = rows
    ax.add_collection(PolyCollection(
        list(verts), closed=False, facecolors="none", edgecolors=color, linewidths=lw, alpha=alpha,
        capstyle=plt.rcParams["lines.solid_capstyle"],
        joinstyle=plt.rcParams["lines.solid_joinstyle"], zorder=2))


def interval_errors(est: np.ndarray, lo: np.ndarray, hi: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Error-bar lengths ``(2, n)`` below and above ``est``, and which intervals are unbounded.

    A missing (NaN) end draws no bar on its side; an infinite end (a permutation test that
    cannot reach its level reports the whole line) draws none either and flags the row, for
    :func:`mark_unbounded`.
    """
    below, above = est - lo, hi - est
    unbounded = np.isinf(below) | np.isinf(above)
    err = np.vstack([below, above])
    return np.where(np.isfinite(err), np.maximum(err, 0.0), 0.0), unbounded


def mark_unbounded(ax: Axes, x: np.ndarray, y: np.ndarray, unbounded: np.ndarray) -> None:
    """Ring the points whose interval is unbounded (see :func:`interval_errors`)."""
    if unbounded.any():
        ax.scatter(x[unbounded], y[unbounded], s=110, facecolors="none", linewidths=1.2,
                   edgecolors=PALETTE["comparison"], zorder=4,
                   label="interval unbounded (the test cannot reach its level)")


def table_plot(table: pd.DataFrame, *, conf_level: float, title: str,
               ax: Axes | None = None) -> Axes:
    """Point estimates of a result table with their intervals, one row each, and the zero line.

    Rows are labelled by their index columns (the columns before ``estimate``); a missing
    interval is drawn as the point alone.
    """
    ax = new_axes(ax, (6.0, 1.2 + 0.45 * len(table)))
    t = table.reset_index(drop=True)
    keys = list(t.columns[: list(t.columns).index("estimate")]) if "estimate" in t else []
    labels = (t[keys].astype(str).agg(", ".join, axis=1) if keys
              else pd.Series(t.index.astype(str)))
    y = np.arange(len(t))[::-1]
    est = t["estimate"].to_numpy(float)
    err, unbounded = interval_errors(est, t["ci_lower"].to_numpy(float),
                                     t["ci_upper"].to_numpy(float))
    ax.errorbar(est, y, xerr=err, fmt="o", color=PALETTE["treated"],
                ecolor=PALETTE["comparison"], capsize=3)
    mark_unbounded(ax, est, y, unbounded)
    ax.axvline(0, color=PALETTE["neutral"], lw=1, ls="--")
    ax.set_yticks(y, labels.tolist())
    ax.set_xlabel(f"estimate ({conf_level:.0%} interval)")
    ax.set_title(title)
    return ax


def coefficient_plot(result: EstimateResult, ax: Axes | None = None) -> Axes:
    """Point estimates with their intervals, one row per term, and the zero line."""
    t = label_periods(result.table, result.sample.frequency)  # "2021-01", not 24252
    if "term" in t:
        t = t[["term", "estimate", "ci_lower", "ci_upper"]]
    return table_plot(t, conf_level=result.conf_level, title=f"{result.method}: {result.outcome}",
                      ax=ax)


def trend_plot(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    comparison: Sequence[str],
    adoption: int | None = None,
    ax: Axes | None = None,
    label: str | None = None,
) -> Axes:
    """Mean outcome of treated and comparison units by period, with adoption marked.

    The comparison line is the unweighted mean over comparison units, with the band between
    their 10th and 90th percentiles.
    """
    ax = new_axes(ax)
    wide = panel.wide(outcome)
    t = wide.loc[list(treated)].mean(axis=0)
    c = wide.loc[list(comparison)]
    x = np.asarray(wide.columns, dtype=float)
    ax.fill_between(x, c.quantile(0.1).to_numpy(), c.quantile(0.9).to_numpy(),
                    color=PALETTE["comparison"], alpha=0.12, lw=0,
                    label="comparison, 10th-90th percentile")
    ax.plot(x, c.mean(axis=0).to_numpy(), color=PALETTE["comparison"], lw=2,
            label=f"comparison mean ({len(comparison)} units)")
    name = (", ".join(unit_label(u) for u in treated) if len(treated) <= 3
            else f"{len(treated)} treated units")
    ax.plot(x, pd.Series(t).to_numpy(), color=PALETTE["treated"], lw=2.5, marker="o", ms=3,
            label=f"treated: {name}")
    if adoption is not None:
        ax.axvline(adoption - 0.5, color=PALETTE["neutral"], ls="--", lw=1)
        ax.annotate(f"adoption {period_label(adoption, panel.frequency)}",
                    (adoption - 0.4, 0.97),
                    xycoords=("data", "axes fraction"), va="top", fontsize=9,
                    color=PALETTE["neutral"])
    if panel.frequency == "month":
        from evalmodel.plotting.monthly import month_ticks  # it draws on this module

        month_ticks(ax, [int(p) for p in wide.columns])
    ax.set_xlabel(panel.time)
    ax.set_ylabel(label or outcome)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax


def forest_plot(table: pd.DataFrame, *, label: str = "method", truth: str | None = "planted",
                ax: Axes | None = None, title: str = "") -> Axes:
    """Estimates and intervals, one row per ``label``; the ``truth`` column (if any) as an x."""
    ax = new_axes(ax, (7.0, 1.0 + 0.42 * len(table)))
    y = np.arange(len(table))[::-1]
    est = table["estimate"].to_numpy(float)
    err, unbounded = interval_errors(est, table["ci_lower"].to_numpy(float),
                                     table["ci_upper"].to_numpy(float))
    ax.errorbar(est, y, xerr=err, fmt="o", color=PALETTE["treated"],
                ecolor=PALETTE["comparison"], capsize=3, label="estimate and interval")
    mark_unbounded(ax, est, y, unbounded)
    if truth is not None and truth in table and table[truth].notna().any():
        ax.scatter(table[truth].to_numpy(float), y, marker="x", s=60, color="#16a085",
                   zorder=3, label="planted effect")
    ax.axvline(0, color=PALETTE["neutral"], lw=1, ls="--")
    ax.set_yticks(y, table[label].astype(str).tolist())
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax
