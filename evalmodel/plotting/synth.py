"""Figures of synthetic control and synthetic DiD results.

Every function takes ``ax=None`` (a new figure is made) and returns the matplotlib Axes.
matplotlib and seaborn are imported here, never at ``import evalmodel`` time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from evalmodel.names import unit_label
from evalmodel.plotting.core import many_lines
from evalmodel.plotting.monthly import period_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.estimators.sdid import SdidResult
    from evalmodel.estimators.synth import SynthResult
    from evalmodel.inference.placebo import PlaceboResult

__all__ = ["gaps_plot", "paths_plot", "ratio_histogram", "sdid_plot"]

_TREATED, _SYNTH, _PLACEBO = "#1b4f72", "#c0392b", "#b3b3b3"


def _axes(ax: Axes | None, size: tuple[float, float] = (7.0, 4.0)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def paths_plot(result: SynthResult, ax: Axes | None = None) -> Axes:
    """The treated unit's outcome and its synthetic control, with the adoption marked."""
    ax = _axes(ax)
    p = result.paths
    ax.plot(p.index, p["treated"], color=_TREATED, lw=2,
            label=unit_label(str(result.details["treated"])))
    ax.plot(p.index, p["synthetic"], color=_SYNTH, lw=2, ls="--", label="synthetic control")
    ax.axvline(result.details["start"] - 0.5, color="black", lw=0.8, ls=":")
    period_axis(ax, p.index, result.sample.frequency)
    ax.set_xlabel(str(p.index.name))
    ax.set_ylabel(result.outcome)
    ax.set_title(f"Synthetic control: {result.outcome} (pre-RMSPE {result.pre_rmspe:.3g})")
    ax.legend(frameon=False)
    sns.despine(ax=ax)
    return ax


def gaps_plot(result: SynthResult, ax: Axes | None = None, *, kept_only: bool = True) -> Axes:
    """Gaps of the treated unit (bold) and of the placebos in space (grey lines)."""
    ax = _axes(ax)
    pl = result.placebo
    if pl is not None:
        units = pl.kept.index[pl.kept] if kept_only else pl.kept.index
        g = pl.gaps.loc[units]
        many_lines(ax, g.columns.to_numpy(), g.to_numpy(dtype=float), color=_PLACEBO, lw=0.7,
                   alpha=0.8)
    ax.plot(result.gaps.index, result.gaps.to_numpy(), color=_TREATED, lw=2.2,
            label=unit_label(str(result.details["treated"])))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(result.details["start"] - 0.5, color="black", lw=0.8, ls=":")
    period_axis(ax, result.gaps.index, result.sample.frequency)
    ax.set_xlabel(str(result.gaps.index.name))
    ax.set_ylabel(f"gap in {result.outcome}")
    if pl is not None:
        ax.set_title(f"Gaps and placebos in space ({len(units)} placebos, pre-MSPE within "
                     f"{pl.max_pre_mspe_ratio:g}x)")
    ax.legend(frameon=False)
    sns.despine(ax=ax)
    return ax


def _count_histogram(ax: Axes, values: np.ndarray, *, bins: int, color: str) -> None:
    """Bars of the counts of ``values`` in ``bins`` equal bins: the bars (and pixels) of
    ``sns.histplot(values, bins=bins, color=color, ax=ax)`` for an unnamed float array,
    without seaborn's data handling (tested pixel for pixel against it).

    The steps are seaborn 0.13's: the bin edges of ``np.histogram_bin_edges``, counts by
    ``np.histogram`` over their range, the edges recovered from the bin centres, filled bars
    at alpha 0.75 edged in the style's patch colour, sticky at zero counts, and the line
    width a tenth of the narrowest bar in points (at most the style's). Unlike seaborn it
    sets no axis labels (the caller does), so it makes no ticks before the figure is drawn.
    """
    from matplotlib.colors import to_rgba

    vals = np.asarray(values, dtype=float)
    if not vals.size:  # seaborn draws nothing for no data
        return
    first = np.histogram_bin_edges(vals, bins)
    counts, edges = np.histogram(vals, bins=len(first) - 1, range=(first.min(), first.max()))
    widths = np.diff(edges)
    left = (edges[:-1] + widths / 2) - widths / 2
    widths = (left + widths) - left
    left = left + 0.0 * widths
    bars = ax.bar(left, counts, widths, np.asarray(0), align="edge",
                  facecolor=to_rgba(color, 0.75), color="none",
                  edgecolor=plt.rcParams["patch.edgecolor"])
    for bar in bars:
        bar.sticky_edges.x[:] = []
        bar.sticky_edges.y[:] = (0, np.inf)
    thin = int(np.argmin(widths))
    ax.autoscale_view()
    points = 72 / ax.figure.dpi * abs(ax.transData.transform([left[thin] + widths[thin]] * 2)
                                      - ax.transData.transform([left[thin]] * 2))
    width = min(0.1 * points[0], math.inf)
    for bar in bars:
        bar.set_linewidth(min(width, bar.get_linewidth()))


def ratio_histogram(placebo: PlaceboResult, ax: Axes | None = None) -> Axes:
    """Histogram of post/pre RMSPE ratios with the treated unit's ratio marked."""
    ax = _axes(ax)
    r = placebo.ratio.replace([np.inf, -np.inf], np.nan).dropna()
    _count_histogram(ax, r.drop(placebo.treated, errors="ignore").to_numpy(), bins=20,
                     color=_PLACEBO)
    ax.axvline(float(placebo.ratio[placebo.treated]), color=_TREATED, lw=2,
               label=f"{unit_label(str(placebo.treated))} (p = {placebo.p_value_rmspe_ratio:.3f})")
    ax.set_xlabel("post/pre RMSPE ratio")
    ax.set_ylabel("units")
    ax.legend(frameon=False)
    sns.despine(ax=ax)
    return ax


def sdid_plot(result: SdidResult, ax: Axes | None = None) -> Axes:
    """Treated and unit-weighted control paths, with the time weights as bars below."""
    ax = _axes(ax)
    p = result.paths
    first = next(iter(result.details["adoption"].values()))
    lam = result.time_weights.iloc[:, 0].dropna()
    gap = (p["treated"] - p["synthetic"]).loc[lam.index].to_numpy(dtype=float)
    shift = float(gap @ lam.to_numpy(dtype=float))
    ax.plot(p.index, p["treated"], color=_TREATED, lw=2, label="treated")
    ax.plot(p.index, p["synthetic"] + shift, color=_SYNTH, lw=2, ls="--",
            label="synthetic control (shifted by the time-weighted pre gap)")
    ax.axvline(first - 0.5, color="black", lw=0.8, ls=":")
    lo, hi = ax.get_ylim()
    height = 0.15 * (hi - lo)
    ax.bar(lam.index, lam.to_numpy() / max(float(lam.max()), 1e-12) * height, bottom=lo,
           color=_PLACEBO, width=0.8, label="time weights")
    period_axis(ax, p.index, result.sample.frequency)
    ax.set_xlabel(str(p.index.name))
    ax.set_ylabel(result.outcome)
    ax.set_title(f"{result.method}: {result.outcome} (estimate {result.estimate:.3g})")
    ax.legend(frameon=False, fontsize="small")
    sns.despine(ax=ax)
    return ax
