"""Figures of the staggered estimators: event studies, ATT(g, t), aggregations, Bacon scatter.

matplotlib and seaborn are imported here, never when :mod:`evalmodel` is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import seaborn as sns

from evalmodel.months import period_label
from evalmodel.plotting.core import PALETTE, interval_errors, mark_unbounded, new_axes
from evalmodel.plotting.monthly import period_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.estimators.aggregate import AggregateResult
    from evalmodel.estimators.bacon import BaconResult
    from evalmodel.estimators.event_study import EventStudyResult
    from evalmodel.estimators.staggered import AttGtResult

__all__ = ["aggregate_plot", "att_gt_plot", "bacon_plot", "event_study_plot", "path_plot"]


def path_plot(table: pd.DataFrame, *, x: str, conf_level: float, title: str,
              reference: int | None = None, shade_from: float | None = None,
              ax: Axes | None = None) -> Axes:
    """Estimates by ``x`` with intervals (and the uniform band when the table has one)."""
    ax = new_axes(ax)
    t = table.dropna(subset=[x]).sort_values(x)
    xs = t[x].to_numpy(float)
    est = t["estimate"].to_numpy(float)
    if shade_from is not None:
        ax.axvspan(shade_from - 0.5, xs.max() + 0.5, color=PALETTE["neutral"], alpha=0.12,
                   lw=0, label="post-treatment")
    if "band_lower" in t:
        finite = np.isfinite(t["band_lower"].to_numpy(float)) & np.isfinite(
            t["band_upper"].to_numpy(float))
        ax.fill_between(xs, t["band_lower"].to_numpy(float), t["band_upper"].to_numpy(float),
                        where=finite,
                        color=PALETTE["treated"], alpha=0.15, lw=0,
                        label=f"{conf_level:.0%} uniform band")
    err, unbounded = interval_errors(est, t["ci_lower"].to_numpy(float),
                                     t["ci_upper"].to_numpy(float))
    ax.errorbar(xs, est, yerr=err, fmt="o", color=PALETTE["treated"],
                ecolor=PALETTE["comparison"], capsize=3, label=f"estimate, {conf_level:.0%} CI")
    mark_unbounded(ax, xs, est, unbounded)
    ax.axhline(0, color=PALETTE["neutral"], lw=1, ls="--")
    if reference is not None:
        ax.axvline(reference, color=PALETTE["comparison"], lw=1, ls=":",
                   label=f"reference period ({reference})")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("effect")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax


def event_study_plot(result: EventStudyResult, ax: Axes | None = None) -> Axes:
    """The standard event-study figure: intervals, zero line, reference period, post shading."""
    ref = result.reference if result.estimator != "imputation" else None
    return path_plot(result.table, x="event_time", conf_level=result.conf_level,
                     title=f"{result.method}: {result.outcome}", reference=ref,
                     shade_from=0.0, ax=ax)


def aggregate_plot(result: AggregateResult, ax: Axes | None = None) -> Axes:
    """Components of an aggregation (event-study figure for ``dynamic``)."""
    comp = result.components
    key = {"dynamic": "event_time", "group": "cohort", "calendar": "time"}.get(result.kind)
    if key is None:
        from evalmodel.plotting.core import coefficient_plot

        return coefficient_plot(result, ax=ax)
    ax = path_plot(comp, x=key, conf_level=result.conf_level,
                   title=f"{result.method}: {result.outcome}",
                   shade_from=0.0 if key == "event_time" else None, ax=ax)
    if key != "event_time":  # cohorts or periods: month labels on a monthly panel
        period_axis(ax, comp[key].dropna(), result.sample.frequency)
    return ax


def att_gt_plot(result: AttGtResult, ax: Axes | None = None) -> Axes:
    """ATT(g, t) against event time, one colour per cohort, with pointwise intervals."""
    ax = new_axes(ax)
    t = result.table
    cohorts = sorted(t["cohort"].unique())
    colours = sns.color_palette("crest", len(cohorts))
    for i, (g, colour) in enumerate(zip(cohorts, colours, strict=True)):
        s = t[t["cohort"] == g]
        xs = s["event_time"].to_numpy(float) + (i - (len(cohorts) - 1) / 2) * 0.08
        est = s["estimate"].to_numpy(float)
        err, _ = interval_errors(est, s["ci_lower"].to_numpy(float),
                                 s["ci_upper"].to_numpy(float))
        ax.errorbar(xs, est, yerr=err, fmt="o", color=colour, capsize=2,
                    label=f"cohort {period_label(g, result.sample.frequency)}")
    ax.axhline(0, color=PALETTE["neutral"], lw=1, ls="--")
    ax.axvspan(-0.5, t["event_time"].max() + 0.5, color=PALETTE["neutral"], alpha=0.12, lw=0)
    ax.set_xlabel("event time")
    ax.set_ylabel("ATT(g, t)")
    ax.set_title(f"{result.method}: {result.outcome}")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax


def bacon_plot(result: BaconResult, ax: Axes | None = None) -> Axes:
    """2x2 estimates against their weights by comparison type, with the TWFE estimate."""
    ax = new_axes(ax)
    c = result.comparisons
    sns.scatterplot(data=c, x="weight", y="estimate", hue="type", style="type", s=70, ax=ax)
    ax.axhline(result.estimate, color=PALETTE["treated"], lw=1.2,
               label=f"TWFE = {result.estimate:.3f}")
    ax.axhline(0, color=PALETTE["neutral"], lw=1, ls="--")
    ax.set_xlabel("weight")
    ax.set_ylabel("2x2 DiD estimate")
    ax.set_title(f"Goodman-Bacon decomposition: {result.outcome}")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax
