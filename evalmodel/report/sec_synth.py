"""The report section of the synthetic estimators: synthetic control and synthetic DiD."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from evalmodel.cases import Design
from evalmodel.errors import ConvexHullWarning
from evalmodel.estimators.synth import SynthResult
from evalmodel.names import unit_label
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.sec_did import planted_rows
from evalmodel.report.section import Section
from evalmodel.report.settings import N_DRAWS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["build_synth_section", "planted_post_mean", "sdid_reason",
           "synth_reason", "synth_rows"]

#: Donors listed in the weights table.
TOP = 10


def planted_post_mean(design: Design, outcome: str) -> float | None:
    """Mean planted effect on the treated units over the post periods (simulated data)."""
    truth = design.panel.truth
    if truth is None or not {"case", "outcome", "unit", "period", "effect"} <= set(truth):
        return None
    sel = planted_rows(design, outcome, design.post_periods)
    return float(sel["effect"].mean()) if sel is not None and len(sel) else None


def synth_reason(est: OutcomeEstimates) -> str | None:
    """Why the synthetic control has no estimate (``None`` when it has one)."""
    if est.synth is None:
        return (f"Synthetic control skipped: it needs one treated unit, the case has "
                f"{len(est.design.treated)} (synthetic DiD covers them).")
    if est.synth.error is not None:
        return f"Synthetic control not estimated: {est.synth.error}"
    return None


def sdid_reason(est: OutcomeEstimates) -> str | None:
    """Why the synthetic DiD has no estimate (``None`` when it has one)."""
    return None if est.sdid.error is None else f"Synthetic DiD not estimated: {est.sdid.error}"


def _synth(est: OutcomeEstimates) -> SynthResult | None:
    return est.synth.value if est.synth is not None else None


def synth_rows(est: OutcomeEstimates) -> list[dict[str, object]]:
    """The headline rows of the synthetic control (with placebos in space) and the synthetic
    DiD, each where it was estimated."""
    rows: list[dict[str, object]] = []
    rs = _synth(est)
    if rs is not None and rs.placebo is not None:
        row = rs.overall
        assert row is not None
        rows.append({"method": "synthetic control", "estimate": row["estimate"],
                     "std_error": row["std_error"], "ci_lower": row["ci_lower"],
                     "ci_upper": row["ci_upper"], "p_value": row["p_value"],
                     "p_value_rmspe_ratio": rs.placebo.p_value_rmspe_ratio,
                     "pre_rmspe": rs.pre_rmspe})
    rd = est.sdid.value
    if rd is not None:
        row = rd.overall
        assert row is not None
        rows.append({"method": "synthetic DiD", "estimate": row["estimate"],
                     "std_error": row["std_error"], "ci_lower": row["ci_lower"],
                     "ci_upper": row["ci_upper"], "p_value": row["p_value"],
                     "p_value_rmspe_ratio": float("nan"), "pre_rmspe": float("nan")})
    return rows


def build_synth_section(est: OutcomeEstimates) -> Section:
    """Synthetic control (placebos in space) and synthetic DiD (placebo SE) for one outcome.

    Tables: the headline estimates side by side, the synthetic control's donor weights and
    per-period effects, and the placebo RMSPE ratios. Figures: treated and synthetic paths,
    gaps with placebo lines, the RMSPE-ratio histogram and the synthetic DiD plot. Estimation
    problems (missing values, a treated unit outside the donors' hull) become notes.
    """
    import matplotlib.pyplot as plt

    from evalmodel.plotting.synth import gaps_plot, paths_plot, ratio_histogram, sdid_plot

    design, outcome = est.design, est.outcome
    notes: list[str] = [
        f"Donor pool: {len(design.comparison)} units ({design.pool}); "
        f"{len(design.excluded)} units excluded (exposed to spill-over or treated elsewhere).",
        "Synthetic control: the outcome's pre-period values as predictors; inference by "
        "placebos in space, excluding placebos with pre-MSPE above 5 times the treated "
        "unit's (Abadie, Diamond and Hainmueller 2010).",
        f"Synthetic DiD: placebo standard error from {N_DRAWS} draws of pseudo-treated donors "
        "(Arkhangelsky et al. 2021, Algorithm 4).",
    ]
    tables: list[tuple[str, pd.DataFrame]] = []
    figures: list[tuple[str, Figure]] = []
    planted = planted_post_mean(design, outcome)
    why = synth_reason(est)
    if why is not None:
        notes.append(why)
    elif est.synth is not None:
        notes += est.synth.messages(ConvexHullWarning)
    rs = _synth(est)
    if rs is not None and rs.placebo is not None:
        w = rs.weights.sort_values(ascending=False).head(TOP)
        weights = w[w > 0].rename("weight").reset_index()
        weights.insert(1, "name", [unit_label(str(u)) for u in weights.iloc[:, 0]])
        tables.append(("synth_weights", weights))
        tables.append(("synth_effects", rs.table))
        tables.append(("synth_rmspe_ratios", rs.placebo.ratio_table().head(20).reset_index()))
        for name, plot in (("synth_paths", paths_plot), ("synth_gaps", gaps_plot)):
            fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
            plot(rs, ax=ax)
            figures.append((name, fig))
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        ratio_histogram(rs.placebo, ax=ax)
        figures.append(("synth_ratios", fig))
    est.sdid.reemit()
    rd = est.sdid.value
    if rd is None:
        notes.append(str(sdid_reason(est)))
    else:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        sdid_plot(rd, ax=ax)
        figures.append(("sdid", fig))
        notes.extend(rd.notes)
    table = pd.DataFrame(synth_rows(est))
    if planted is not None and len(table):
        table["planted"] = planted
    return Section(key=f"synth_{outcome}", title=f"Synthetic control and synthetic DiD: {outcome}",
                   tables=(("estimates", table), *tables), figures=tuple(figures),
                   notes=tuple(dict.fromkeys(notes)))
