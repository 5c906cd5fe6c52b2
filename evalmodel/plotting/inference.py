"""Figures of design-based inference: the permutation histogram and the sensitivity plot.

matplotlib and seaborn are imported here, never when :mod:`evalmodel` is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evalmodel.plotting.core import PALETTE, new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.inference.permutation import PermutationResult
    from evalmodel.inference.sensitivity import SensitivityResult

__all__ = ["permutation_plot", "sensitivity_plot"]


def permutation_plot(result: PermutationResult, ax: Axes | None = None) -> Axes:
    """Histogram of the placebo estimates with the observed estimate marked."""
    ax = new_axes(ax, (6.0, 3.8))
    d = result.distribution
    bins = int(np.clip(np.sqrt(d.size) * 2, 10, 60))
    ax.hist(d, bins=bins, color=PALETTE["comparison"], alpha=0.75, label="placebo estimates")
    ax.axvline(result.estimate, color=PALETTE["treated"], lw=2,
               label=f"observed {result.estimate:.3g} (p = {result.p_value:.3f})")
    ax.axvline(0, color=PALETTE["neutral"], lw=1, ls="--")
    ax.set_xlabel("estimate")
    ax.set_ylabel("placebo assignments")
    kind = "exact" if result.exact else f"{result.n_draws:,} draws"
    ax.set_title(f"Permutation distribution ({kind})")
    ax.legend(loc="best", fontsize="small")
    return ax


def sensitivity_plot(result: SensitivityResult, ax: Axes | None = None) -> Axes:
    """Robust intervals against ``m`` beside the original interval, with the breakdown value."""
    ax = new_axes(ax, (6.5, 4.0))
    t = result.table
    ms = t["m"].to_numpy(float)
    gap = float(np.min(np.diff(np.sort(ms)))) if ms.size > 1 else max(float(ms[0]), 1.0) / 2
    x0 = float(ms.min()) - gap
    o = result.original
    ax.errorbar([x0], [o["estimate"]], yerr=[[o["estimate"] - o["ci_lower"]],
                                             [o["ci_upper"] - o["estimate"]]],
                fmt="o", color=PALETTE["comparison"], capsize=4, label="original")
    mid = (t["ci_lower"] + t["ci_upper"]) / 2
    ax.errorbar(ms, mid, yerr=[mid - t["ci_lower"], t["ci_upper"] - mid], fmt="none",
                ecolor=PALETTE["treated"], capsize=4, lw=2, label=f"robust ({result.method})")
    ax.axhline(0, color=PALETTE["neutral"], lw=1, ls="--")
    if np.isfinite(result.breakdown) and result.breakdown <= ms.max():
        ax.axvline(result.breakdown, color=PALETTE["neutral"], lw=1, ls=":",
                   label=f"breakdown {result.breakdown:.3g}")
    name = "Mbar (relative magnitudes)" if result.restriction == "relative_magnitude" else (
        "M (smoothness)")
    ax.set_xlabel(name)
    ax.set_ylabel(f"effect at event time {result.event_time} ({result.conf_level:.0%})")
    ax.set_title("Sensitivity to violations of parallel trends")
    ax.legend(loc="best", fontsize="small")
    return ax
