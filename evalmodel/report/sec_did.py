"""The report section of the canonical estimators: trends, the 2x2 DiD and two-way FE."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalmodel.cases import Design
from evalmodel.kpis import KPI_LABELS
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.section import Section

__all__ = ["build_did_section", "did_rows", "planted_effect", "planted_log_effect",
           "planted_rows"]


#: Per truth frame (kept, so that its id stays its own; a few at most): its rows of each
#: (case, outcome), and the planted effects already computed. The sections of a case ask for
#: the same few effects many times (179 calls, 50 distinct, in ``evalmodel run``).
_TRUTHS: dict[int, tuple[pd.DataFrame, dict[tuple[str, str], pd.DataFrame],
                         dict[tuple[object, ...], float]]] = {}


def _memo(truth: pd.DataFrame) -> tuple[dict[tuple[str, str], pd.DataFrame],
                                        dict[tuple[object, ...], float]]:
    entry = _TRUTHS.get(id(truth))
    if entry is None or entry[0] is not truth:
        if len(_TRUTHS) >= 4:
            _TRUTHS.clear()
        entry = _TRUTHS[id(truth)] = (truth, {}, {})
    return entry[1], entry[2]


def planted_rows(design: Design, outcome: str, periods: Sequence[int],
                 units: Sequence[str] | None = None) -> pd.DataFrame | None:
    """The rows of the panel's truth for the case's ``outcome`` over ``periods`` on ``units``
    (default: the treated units); ``None`` on data without a truth (real data)."""
    truth = design.panel.truth
    if truth is None:
        return None
    by_case, _ = _memo(truth)
    key = (design.case.name, outcome)
    if key not in by_case:
        by_case[key] = truth[(truth["case"] == key[0]) & (truth["outcome"] == outcome)]
    rows = by_case[key]  # the same rows, in the same order, as a filter of the whole truth
    return rows[rows["unit"].isin(units or design.treated) & rows["period"].isin(periods)]


def planted_effect(design: Design, outcome: str, periods: tuple[int, ...],
                   units: tuple[str, ...] | None = None) -> float | None:
    """Mean planted effect over ``periods`` on ``units`` (default: the treated units).

    ``None`` on data without a truth (real data); 0.0 where nothing was planted.
    """
    truth = design.panel.truth
    if truth is None:
        return None
    _, known = _memo(truth)
    key = (design.case.name, outcome, tuple(periods), tuple(units or design.treated))
    if key not in known:
        sel = planted_rows(design, outcome, periods, units)
        assert sel is not None
        known[key] = (float(sel.groupby("period")["effect"].mean().mean()) if len(sel)
                      else 0.0)
    return known[key]


def planted_log_effect(design: Design, outcome: str, periods: tuple[int, ...],
                       units: tuple[str, ...] | None = None) -> float | None:
    """The planted effect in log points: mean of ``log(y) - log(y - effect)`` over ``periods``
    and ``units`` (simulated data only)."""
    sel = planted_rows(design, outcome, periods, units)
    if sel is None:
        return None
    if not len(sel):
        return 0.0
    wide = design.full_panel.wide(outcome)
    y = np.array([wide.loc[u, p] for u, p in zip(sel["unit"], sel["period"], strict=True)])
    logs = pd.Series(np.log(y) - np.log(y - sel["effect"].to_numpy()), index=sel.index)
    return float(logs.groupby(sel["period"]).mean().mean())


def did_rows(est: OutcomeEstimates) -> list[dict[str, object]]:
    """The 2x2 DiD and TWFE rows (headline, interval, p-value, inference, planted effect)."""
    design, outcome = est.design, est.outcome
    pre, post = est.did_periods
    rows: list[dict[str, object]] = []
    label2x2 = f"2x2: {pre[0]}-{pre[-1]} vs {post[0]}-{post[-1]}"
    for r, periods, label in ((est.did2x2, post, label2x2),
                              (est.twfe, tuple(design.post_periods), "TWFE, all periods")):
        row = r.overall
        assert row is not None
        rows.append({"method": label, "estimate": row["estimate"],
                     "std_error": row["std_error"], "ci_lower": row["ci_lower"],
                     "ci_upper": row["ci_upper"], "p_value": row["p_value"],
                     "inference": r.inference,
                     "planted": planted_effect(design, outcome, periods)})
    return rows


def build_did_section(est: OutcomeEstimates) -> Section:
    """Trend figure, 2x2 DiD (last 3 pre vs first 4 post periods) and TWFE for one outcome."""
    import matplotlib.pyplot as plt

    from evalmodel.plotting.core import trend_plot

    design, outcome = est.design, est.outcome
    r2, rt = est.did2x2, est.twfe
    table = pd.DataFrame(did_rows(est))
    if table["planted"].isna().all():
        table = table.drop(columns="planted")
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    trend_plot(design.panel, outcome, treated=design.treated, comparison=design.comparison,
               adoption=design.adoption, ax=ax, label=KPI_LABELS.get(outcome, outcome))
    ax.set_title(f"{design.case.title}: {outcome}")
    notes = (f"Comparison pool: {len(design.comparison)} units ({design.pool}); "
             f"{len(design.excluded)} units excluded (exposed to spill-over or treated "
             "elsewhere).", *dict.fromkeys(r2.notes + rt.notes))
    return Section(key=f"did_{outcome}", title=f"Difference-in-differences: {outcome}",
                   tables=(("estimates", table), ("did2x2", r2.summary()),
                           ("twfe", rt.summary())),
                   figures=(("trend", fig),), notes=notes)
