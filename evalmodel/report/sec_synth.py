"""The report section of the synthetic estimators: synthetic control and synthetic DiD."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pandas as pd

from evalmodel.cases import Design
from evalmodel.errors import ConvexHullWarning, EvalModelError
from evalmodel.estimators.sdid import sdid
from evalmodel.estimators.synth import SynthResult, synth
from evalmodel.names import unit_label
from evalmodel.report.section import Section

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["build_synth_section"]

#: Placebo draws of the synthetic DiD standard error in the report.
N_REPS = 50
#: Seed of those draws (reports are reproducible byte for byte).
SEED = 20240101
#: Donors listed in the weights table.
TOP = 10


def _planted(design: Design, outcome: str) -> float | None:
    truth = design.panel.truth
    if truth is None or not {"case", "outcome", "unit", "period", "effect"} <= set(truth):
        return None
    sel = truth[(truth["case"] == design.case.name) & (truth["outcome"] == outcome)
                & truth["unit"].isin(design.treated)
                & truth["period"].isin(design.post_periods)]
    return float(sel["effect"].mean()) if len(sel) else None


def _synth(design: Design, outcome: str, notes: list[str]) -> SynthResult | None:
    if len(design.treated) != 1:
        notes.append(f"Synthetic control skipped: it needs one treated unit, the case has "
                     f"{len(design.treated)} (synthetic DiD covers them).")
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvexHullWarning)
        try:
            r = synth(design.panel, outcome, treated=design.treated[0], start=design.adoption)
        except EvalModelError as e:
            notes.append(f"Synthetic control not estimated: {e}")
            return None
    notes.extend(str(w.message) for w in caught if issubclass(w.category, ConvexHullWarning))
    return r


def build_synth_section(design: Design, outcome: str) -> Section:
    """Synthetic control (placebos in space) and synthetic DiD (placebo SE) for one outcome.

    Tables: the headline estimates side by side, the synthetic control's donor weights and
    per-period effects, and the placebo RMSPE ratios. Figures: treated and synthetic paths,
    gaps with placebo lines, the RMSPE-ratio histogram and the synthetic DiD plot. Estimation
    problems (missing values, a treated unit outside the donors' hull) become notes.
    """
    import matplotlib.pyplot as plt

    from evalmodel.plotting.synth import gaps_plot, paths_plot, ratio_histogram, sdid_plot

    notes: list[str] = [
        f"Donor pool: {len(design.comparison)} units ({design.pool}); "
        f"{len(design.excluded)} units excluded (exposed to spill-over or treated elsewhere).",
        "Synthetic control: the outcome's pre-period values as predictors; inference by "
        "placebos in space, excluding placebos with pre-MSPE above 5 times the treated "
        "unit's (Abadie, Diamond and Hainmueller 2010).",
        f"Synthetic DiD: placebo standard error from {N_REPS} draws of pseudo-treated donors "
        "(Arkhangelsky et al. 2021, Algorithm 4).",
    ]
    rows: list[dict[str, object]] = []
    tables: list[tuple[str, pd.DataFrame]] = []
    figures: list[tuple[str, Figure]] = []
    planted = _planted(design, outcome)
    rs = _synth(design, outcome, notes)
    if rs is not None and rs.placebo is not None:
        row = rs.overall
        assert row is not None
        rows.append({"method": "synthetic control", "estimate": row["estimate"],
                     "std_error": row["std_error"], "ci_lower": row["ci_lower"],
                     "ci_upper": row["ci_upper"], "p_value": row["p_value"],
                     "p_value_rmspe_ratio": rs.placebo.p_value_rmspe_ratio,
                     "pre_rmspe": rs.pre_rmspe})
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
    try:
        rd = sdid(design.panel, outcome, treated=list(design.treated), start=design.adoption,
                  inference="placebo" if len(design.comparison) > len(design.treated)
                  else "none", n_reps=N_REPS, seed=SEED)
    except EvalModelError as e:
        notes.append(f"Synthetic DiD not estimated: {e}")
    else:
        row = rd.overall
        assert row is not None
        rows.append({"method": "synthetic DiD", "estimate": row["estimate"],
                     "std_error": row["std_error"], "ci_lower": row["ci_lower"],
                     "ci_upper": row["ci_upper"], "p_value": row["p_value"],
                     "p_value_rmspe_ratio": float("nan"), "pre_rmspe": float("nan")})
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        sdid_plot(rd, ax=ax)
        figures.append(("sdid", fig))
        notes.extend(rd.notes)
    table = pd.DataFrame(rows)
    if planted is not None and len(table):
        table["planted"] = planted
    return Section(key=f"synth_{outcome}", title=f"Synthetic control and synthetic DiD: {outcome}",
                   tables=(("estimates", table), *tables), figures=tuple(figures),
                   notes=tuple(dict.fromkeys(notes)))
