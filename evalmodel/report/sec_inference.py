"""The report section on inference: which inference is used and why, the permutation test of
the DiD estimates, the minimum detectable effect, and the sensitivity to parallel trends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalmodel.cases import Design
from evalmodel.errors import EvalModelError
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.inference.conley_taber import conley_taber
from evalmodel.inference.permutation import DiD2x2Statistic, permutation_inference
from evalmodel.inference.placebo_event import placebo_event_study
from evalmodel.inference.power import minimum_detectable_effect
from evalmodel.inference.sensitivity import pretrend_test, sensitivity
from evalmodel.report.sec_did import WINDOW
from evalmodel.report.section import Section

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["RM_GRID", "SEED", "build_inference_section"]

#: Values of Mbar shown by the report.
RM_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
#: Seed of every random draw of the section.
SEED = 20240601


def _why(n_treated: int) -> str:
    if n_treated < MIN_TREATED_CLUSTERS:
        return (
            f"{n_treated} treated unit(s) is fewer than {MIN_TREATED_CLUSTERS} treated clusters: "
            "cluster-robust standard errors are not valid (Conley and Taber 2011; MacKinnon and "
            "Webb 2017), so p-values and intervals come from randomisation inference over the "
            "comparison pool, with Conley-Taber intervals beside them."
        )
    return (
        f"{n_treated} treated units: randomisation inference is shown beside the "
        "cluster-robust results of the DiD section."
    )


def build_inference_section(design: Design, outcome: str) -> Section:
    """Permutation inference, MDE and parallel-trends sensitivity for one outcome of a case."""
    import matplotlib.pyplot as plt

    from evalmodel.plotting.inference import permutation_plot, sensitivity_plot

    panel, treated, pool = design.panel, list(design.treated), list(design.comparison)
    pre, post = list(design.pre_periods), list(design.post_periods)
    notes = [_why(len(treated))]
    tests = {
        f"did2x2 ({pre[-WINDOW[0]:][0]}-{pre[-1]} vs {post[0]}-{post[:WINDOW[1]][-1]})":
            DiD2x2Statistic(outcome, pre=pre[-WINDOW[0]:], post=post[:WINDOW[1]]),
        "twfe (all pre vs all post periods)": DiD2x2Statistic(outcome, pre=pre, post=post),
    }
    rows: list[dict[str, object]] = []
    figures: list[tuple[str, Figure]] = []
    for label, stat in tests.items():
        try:
            r = permutation_inference(panel, outcome, statistic=stat, treated=treated, pool=pool,
                                      seed=SEED)
        except EvalModelError as exc:
            notes.append(f"{label}: permutation inference not possible: {exc}")
            continue
        mde = minimum_detectable_effect(r.distribution)
        rows.append({"method": label, "inference": "permutation", "estimate": r.estimate,
                     "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "p_value": r.p_value,
                     "n_perm": r.n_perm, "exact": r.exact, "min_p_value": r.min_p_value,
                     "mde": mde.mde})
        try:
            ct = conley_taber(panel, outcome, treated=treated, pool=pool, pre=stat.pre,
                              post=stat.post, seed=SEED)
            rows.append({"method": label, "inference": "Conley-Taber", "estimate": ct.estimate,
                         "ci_lower": ct.ci_lower, "ci_upper": ct.ci_upper,
                         "p_value": ct.p_value, "n_perm": ct.distribution.size,
                         "exact": ct.n_treated == 1, "min_p_value": np.nan, "mde": np.nan})
        except EvalModelError as exc:
            notes.append(f"{label}: no Conley-Taber interval: {exc}")
        if not figures:
            fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
            permutation_plot(r, ax=ax)
            ax.set_title(f"{design.case.title}: {outcome}, {label}")
            figures.append(("permutation", fig))
            notes.append(f"{label}: {r.describe()}; minimum detectable effect at 80% power "
                         f"{mde.mde:.4g} (normal approximation {mde.normal_mde:.4g}).")
    tables: list[tuple[str, pd.DataFrame]] = [("permutation", pd.DataFrame(rows))]
    try:
        es = placebo_event_study(panel, outcome, treated=treated, pool=pool,
                                 adoption=design.adoption)
        pt = pretrend_test(es)
        tables.append(("pretrend", pd.DataFrame([{
            "wald": pt.wald, "df": pt.df, "p_value": pt.p_value,
            "equivalence_bound": pt.equivalence_bound}])))
        for restriction, grid in (("relative_magnitude", RM_GRID),
                                  ("smoothness", tuple(np.linspace(0, 1, 5) * float(
                                      np.sqrt(es.vcov.to_numpy().diagonal().mean()))))):
            h = sensitivity(es, restriction=restriction, m=list(grid), seed=SEED)  # type: ignore[arg-type]
            tables.append((f"sensitivity_{restriction}",
                           h.table.assign(breakdown=h.breakdown, method=h.method)))
            fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
            sensitivity_plot(h, ax=ax)
            ax.set_title(f"{design.case.title}: {outcome}, {restriction.replace('_', ' ')}")
            figures.append((f"sensitivity_{restriction}", fig))
        notes.append(
            "Sensitivity: event study of the treated against the comparison mean (reference "
            "the year before adoption) with a placebo covariance (each comparison unit treated "
            "in turn); robust sets of Rambachan and Roth (2023) for the first treated year.")
    except EvalModelError as exc:
        notes.append(f"no sensitivity analysis: {exc}")
    return Section(key=f"inference_{outcome}", title=f"Inference and sensitivity: {outcome}",
                   tables=tuple(tables), figures=tuple(figures), notes=tuple(notes))
