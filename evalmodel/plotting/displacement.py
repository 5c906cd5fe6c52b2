"""Figure of displacement tests: estimates, intervals and the minimum detectable effect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from evalmodel.plotting.core import PALETTE, new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.displacement import DisplacementTest

__all__ = ["displacement_plot"]


def displacement_plot(tests: Sequence[DisplacementTest], labels: Sequence[str],
                      ax: Axes | None = None) -> Axes:
    """One row per test: estimate and interval, with the band of effects too small to detect."""
    ax = new_axes(ax, (7.0, 1.4 + 0.7 * len(tests)))
    y = np.arange(len(tests))[::-1]
    for yi, t in zip(y, tests, strict=True):
        if np.isfinite(t.mde):
            ax.fill_betweenx([yi - 0.3, yi + 0.3], -t.mde, t.mde, color=PALETTE["neutral"],
                             alpha=0.18, lw=0)
        colour = PALETTE["treated"] if t.detected else PALETTE["comparison"]
        ax.errorbar([t.estimate], [yi], xerr=[[t.estimate - t.ci_lower],
                                              [t.ci_upper - t.estimate]],
                    fmt="o", color=colour, capsize=4, lw=2)
        ax.annotate(f"p = {t.p_value:.3f}", (t.ci_upper, yi), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.axvline(0, color=PALETTE["neutral"], lw=1, ls="--")
    ax.set_yticks(y, list(labels))
    ax.set_ylim(-0.7, len(tests) - 0.3)
    ax.set_xlabel("effect (grey band: smaller than the minimum detectable effect)")
    ax.set_title("Displacement and spill-over tests")
    return ax
