"""The report section on inference: which inference is used and why, the permutation test of
the DiD estimates, the minimum detectable effect, and the sensitivity to parallel trends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalmodel.report.estimates import OutcomeEstimates, reemit
from evalmodel.report.section import Section
from evalmodel.report.settings import MIN_TREATED

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["build_inference_section"]


def _why(n_treated: int) -> str:
    if n_treated < MIN_TREATED:
        return (
            f"{n_treated} treated unit(s) is fewer than {MIN_TREATED} treated clusters: "
            "cluster-robust standard errors are not valid (Conley and Taber 2011; MacKinnon and "
            "Webb 2017), so p-values and intervals come from randomisation inference over the "
            "comparison pool, with Conley-Taber intervals beside them."
        )
    return (
        f"{n_treated} treated units: randomisation inference is shown beside the "
        "cluster-robust results of the DiD section."
    )


def build_inference_section(est: OutcomeEstimates) -> Section:
    """Permutation inference, MDE and parallel-trends sensitivity for one outcome of a case."""
    import matplotlib.pyplot as plt

    from evalmodel.plotting.inference import permutation_plot, sensitivity_plot

    design, outcome = est.design, est.outcome
    notes = [_why(len(design.treated))]
    rows: list[dict[str, object]] = []
    figures: list[tuple[str, Figure]] = []
    for label, (pre, post) in est.inference_tests.items():
        fit = est.permutation(pre, post)
        fit.reemit()
        r = fit.value
        if r is None:
            notes.append(f"{label}: permutation inference not possible: {fit.error}")
            continue
        mde = est.mde(pre, post)
        assert mde is not None
        rows.append({"method": label, "inference": "permutation", "estimate": r.estimate,
                     "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "p_value": r.p_value,
                     "n_perm": r.n_draws, "exact": r.exact, "min_p_value": r.min_p_value,
                     "mde": mde.mde})
        ct_fit = est.conley_taber(pre, post)
        ct_fit.reemit()
        ct = ct_fit.value
        if ct is None:
            notes.append(f"{label}: no Conley-Taber interval: {ct_fit.error}")
        else:
            rows.append({"method": label, "inference": "Conley-Taber", "estimate": ct.estimate,
                         "ci_lower": ct.ci_lower, "ci_upper": ct.ci_upper,
                         "p_value": ct.p_value, "n_perm": ct.distribution.size,
                         "exact": ct.n_treated == 1, "min_p_value": np.nan, "mde": np.nan})
        if not figures:
            fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
            permutation_plot(r, ax=ax)
            ax.set_title(f"{design.case.title}: {outcome}, {label}")
            figures.append(("permutation", fig))
            notes.append(f"{label}: {r.describe()}; minimum detectable effect at 80% power "
                         f"{mde.mde:.4g} (normal approximation {mde.normal_mde:.4g}).")
    tables: list[tuple[str, pd.DataFrame]] = [("permutation", pd.DataFrame(rows))]
    sens = est.sensitivity
    reemit(sens.caught)
    pt = sens.pretrend
    if pt is not None:
        tables.append(("pretrend", pd.DataFrame([{
            "wald": pt.wald, "df": pt.df, "p_value": pt.p_value,
            "equivalence_bound": pt.equivalence_bound}])))
    for restriction, h in sens.bounds.items():
        tables.append((f"sensitivity_{restriction}",
                       h.table.assign(breakdown=h.breakdown, method=h.method)))
        fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
        sensitivity_plot(h, ax=ax)
        ax.set_title(f"{design.case.title}: {outcome}, {restriction.replace('_', ' ')}")
        figures.append((f"sensitivity_{restriction}", fig))
    if sens.error is None:
        notes.append(
            "Sensitivity: event study of the treated against the comparison mean (reference "
            "the year before adoption) with a placebo covariance (each comparison unit treated "
            "in turn); robust sets of Rambachan and Roth (2023) for the first treated year.")
    else:
        notes.append(f"no sensitivity analysis: {sens.error}")
    return Section(key=f"inference_{outcome}", title=f"Inference and sensitivity: {outcome}",
                   tables=tuple(tables), figures=tuple(figures), notes=tuple(notes))
