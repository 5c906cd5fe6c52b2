"""The report section of the staggered estimators: CS aggregations and the event-study figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalmodel.errors import EvalModelWarning, FewTreatedClustersWarning
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.section import Section
from evalmodel.report.settings import MIN_TREATED

__all__ = ["build_staggered_section"]

#: Event times shown on each side of adoption, at most.
MAX_EVENT = 5


def build_staggered_section(est: OutcomeEstimates) -> Section:
    """Callaway-Sant'Anna aggregations, the Wald pre-test and the event-study figure.

    The doubly robust estimator with never-treated comparison units and the default
    inference (design-based for the aggregations with few treated units, analytic otherwise);
    the event-study figure overlays the imputation estimator. Warnings raised by the
    estimators (dropped units, single-unit cohorts) become notes of the section.
    """
    import matplotlib.pyplot as plt

    from evalmodel.plotting.staggered import path_plot

    design, outcome = est.design, est.outcome
    stag = est.staggered
    res, aggs = stag.result, stag.aggregations
    imputation = est.event_study("imputation")
    notes: list[str] = []
    if imputation.error is not None:
        notes.append(f"imputation event study not estimated: {imputation.error}")
    notes += [str(w.message) for w in stag.caught if issubclass(w.category, EvalModelWarning)]
    # The figure shows the imputation point estimates only: its interval's warning is moot.
    notes += [str(w.message) for w in imputation.caught
              if issubclass(w.category, EvalModelWarning)
              and not issubclass(w.category, FewTreatedClustersWarning)]
    # The figure shows the event times the pre-periods leave room for (one kept as reference).
    lo = -min(MAX_EVENT, max(len(design.pre_periods) - 1, 1))
    es = imputation.value
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
    if n_treated < MIN_TREATED:
        notes.append(f"Only {n_treated} treated unit(s): the aggregations' intervals and "
                     "p-values are design-based (each comparison unit in turn as the fake "
                     "treated unit, the interval by inverting that test); the ATT(g, t) cells "
                     "in the att_gt table keep analytic standard errors, which are not "
                     "reliable with so few treated units.")
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    path_plot(aggs["dynamic"].components, x="event_time", conf_level=res.conf_level,
              title=f"{design.case.title}: {outcome}", shade_from=0.0, ax=ax)
    if es is not None:
        t = es.table[es.table["event_time"] >= lo]
        ax.plot(t["event_time"].to_numpy(float) + 0.15, t["estimate"].to_numpy(float), "s",
                color="#2c3e50", alpha=0.7, label="imputation (BJS)")
        ax.legend(loc="best", fontsize="small", frameon=False)
    ax.set_xlim(left=float(np.min(dyn["event_time"])) - 0.7)
    return Section(
        key=f"staggered_{outcome}", title=f"Staggered DiD (Callaway-Sant'Anna): {outcome}",
        tables=(("aggregations", overall), ("dynamic", dyn), ("att_gt", res.summary())),
        figures=(("event_study", fig),), notes=tuple(dict.fromkeys(notes)),
    )
