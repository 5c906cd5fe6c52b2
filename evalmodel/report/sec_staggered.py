"""The report section of the staggered estimators: CS aggregations and the event-study figure."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evalmodel.cases import Design
from evalmodel.errors import EvalModelError, EvalModelWarning
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.estimators.event_study import event_study
from evalmodel.estimators.staggered import att_gt
from evalmodel.report.section import Section

__all__ = ["build_staggered_section"]

#: Event times shown on each side of adoption, at most.
MAX_EVENT = 5


def build_staggered_section(design: Design, outcome: str) -> Section:
    """Callaway-Sant'Anna aggregations, the Wald pre-test and the event-study figure.

    The doubly robust estimator with never-treated comparison units and the default
    inference (design-based for the aggregations with few treated units, analytic otherwise);
    the event-study figure overlays the imputation estimator. Warnings raised by the
    estimators (dropped units, single-unit cohorts) become notes of the section.
    """
    import matplotlib.pyplot as plt

    from evalmodel.plotting.staggered import path_plot

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EvalModelWarning)
        res = att_gt(design.panel, outcome)
        aggs = {k: res.aggregate(k) for k in ("simple", "group", "dynamic", "calendar")}
        lo = -min(MAX_EVENT, max(len(design.pre_periods) - 1, 1))
        hi = min(MAX_EVENT, max(len(design.post_periods) - 1, 0))
        try:
            es = event_study(design.panel, outcome, window=(lo, hi), estimator="imputation")
        except EvalModelError as exc:
            es = None
            notes.append(f"imputation event study not estimated: {exc}")
    notes += [str(w.message) for w in caught if issubclass(w.category, EvalModelWarning)]
    rows = []
    for kind, agg in aggs.items():
        row = agg.overall
        assert row is not None
        rows.append({"aggregation": kind, **{c: row[c] for c in
                     ("estimate", "std_error", "ci_lower", "ci_upper", "p_value")}})
    overall = pd.DataFrame(rows)
    dyn = aggs["dynamic"].components.drop(columns="term")
    pt = res.pretest
    if pt is not None:
        notes.append(f"Wald pre-test of parallel trends: W = {pt.statistic:.3f}, df = {pt.df}, "
                     f"p = {pt.p_value:.3f}.")
    n_treated = len(res.sample.treated_units)
    if n_treated < MIN_TREATED_CLUSTERS:
        notes.append(f"Only {n_treated} treated unit(s): the aggregations' intervals and "
                     "p-values are design-based (each comparison unit in turn as the fake "
                     "treated unit, the interval by inverting that test); the ATT(g, t) cells "
                     "in the att_gt table keep analytic standard errors, which are not "
                     "reliable with so few treated units.")
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    path_plot(aggs["dynamic"].components, x="event_time", conf_level=res.conf_level,
              title=f"{design.case.title}: {outcome}", shade_from=0.0, ax=ax)
    if es is not None:
        t = es.table
        ax.plot(t["event_time"].to_numpy(float) + 0.15, t["estimate"].to_numpy(float), "s",
                color="#2c3e50", alpha=0.7, label="imputation (BJS)")
        ax.legend(loc="best", fontsize="small", frameon=False)
    ax.set_xlim(left=float(np.min(dyn["event_time"])) - 0.7)
    return Section(
        key=f"staggered_{outcome}", title=f"Staggered DiD (Callaway-Sant'Anna): {outcome}",
        tables=(("aggregations", overall), ("dynamic", dyn), ("att_gt", res.summary())),
        figures=(("event_study", fig),), notes=tuple(dict.fromkeys(notes)),
    )
