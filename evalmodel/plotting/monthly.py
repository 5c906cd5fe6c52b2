"""A monthly series figure: the treated unit's path against counterfactual paths, with the
adoption month marked and the months labelled ``YYYY-MM`` on the x axis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evalmodel.months import calendar_month, month_label
from evalmodel.plotting.core import PALETTE, new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["month_ticks", "monthly_path_plot", "period_axis"]

#: Line styles of the counterfactual paths, in the order they are given.
_STYLES = (("#2980b9", "-"), (PALETTE["comparison"], "--"), ("#16a085", ":"))


def month_ticks(ax: Axes, codes: Sequence[int], *, max_ticks: int = 12) -> None:
    """Label the x axis of ``ax`` (month codes) with ``YYYY-MM`` at Januaries, thinned to at
    most ``max_ticks`` labels (every month when the span has no January)."""
    codes = [int(c) for c in codes]
    ticks = [c for c in codes if calendar_month(c) == 1] or codes
    step = max(1, int(np.ceil(len(ticks) / max_ticks)))
    ticks = ticks[::step]
    ax.set_xticks(ticks, [month_label(c) for c in ticks], rotation=45, ha="right")


def period_axis(ax: Axes, periods: Iterable[Any], frequency: str) -> None:
    """Label the x axis of ``ax`` (periods) with :func:`month_ticks` when ``frequency`` is
    ``"month"``; years keep matplotlib's own ticks."""
    if frequency == "month":
        month_ticks(ax, [int(p) for p in periods])


def monthly_path_plot(
    periods: Sequence[int],
    treated: Sequence[float] | np.ndarray,
    others: Mapping[str, Sequence[float] | np.ndarray],
    *,
    adoption: int,
    treated_label: str,
    ylabel: str,
    ax: Axes | None = None,
) -> Axes:
    """The treated unit's monthly path and up to three other paths (e.g. its synthetic control
    and the comparison mean moved to its pre-period level), by month code.

    Parameters
    ----------
    periods : sequence of int
        Month codes (:mod:`evalmodel.months`) of the values.
    treated : sequence of float
        The treated unit's values.
    others : mapping of str to sequence of float
        Label -> values over ``periods`` (at most three).
    adoption : int
        Code of the first treated month, marked by a dashed line.
    treated_label, ylabel : str
        Legend label of the treated path; y-axis label.
    ax : Axes, optional
        Axes to draw on (a new figure by default).
    """
    if len(others) > len(_STYLES):
        raise ValueError(f"monthly_path_plot: at most {len(_STYLES)} other paths "
                         f"({len(others)} given)")
    ax = new_axes(ax, (8.0, 4.2))
    x = np.asarray(periods, dtype=float)
    for (label, values), (colour, style) in zip(others.items(), _STYLES, strict=False):
        ax.plot(x, np.asarray(values, dtype=float), color=colour, ls=style, lw=1.6,
                label=label)
    ax.plot(x, np.asarray(treated, dtype=float), color=PALETTE["treated"], lw=2.2,
            label=treated_label)
    ax.axvline(adoption - 0.5, color=PALETTE["neutral"], ls="--", lw=1)
    ax.annotate(f"adoption {month_label(adoption)}", (adoption - 0.3, 0.97),
                xycoords=("data", "axes fraction"), va="top", fontsize=9,
                color=PALETTE["neutral"])
    month_ticks(ax, [int(p) for p in periods])
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax
