"""The report section on the uncertain adoption year: the headline estimates re-run for every
year of the registry's ``adoption_range``, as a table and a figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evalmodel.cases import Design
from evalmodel.errors import EvalModelError
from evalmodel.estimators.sdid import SdidResult
from evalmodel.estimators.synth import SynthResult
from evalmodel.report.estimates import Fit, OutcomeEstimates
from evalmodel.report.plan import OutcomePlan, plan_outcome
from evalmodel.report.sec_did import planted_effect
from evalmodel.report.section import Section
from evalmodel.report.settings import N_DRAWS

__all__ = ["ADOPTION_METHODS", "adoption_rows", "build_adoption_section"]

#: The headline methods re-run for each adoption year.
ADOPTION_METHODS = ("2x2 DiD", "Callaway-Sant'Anna, simple ATT", "synthetic control",
                    "synthetic DiD")


def _perm(est: OutcomeEstimates, pre: Sequence[int], post: Sequence[int]) -> dict[str, object]:
    fit = est.permutation(pre, post)
    if fit.value is None:
        assert fit.error is not None
        raise fit.error
    r = fit.value
    return {"estimate": r.estimate, "ci_lower": r.ci_lower, "ci_upper": r.ci_upper,
            "p_value": r.p_value, "inference": f"permutation ({r.n_draws} placebos)"}


def _method_row(est: OutcomeEstimates, method: str) -> dict[str, object]:
    """The row of ``method`` from the estimates of one adoption year's design."""
    design = est.design
    if method == "2x2 DiD":
        return _perm(est, *est.did_periods)
    if method == "Callaway-Sant'Anna, simple ATT":
        # One cohort against never-treated units: the simple ATT is the 2x2 DiD of the post
        # mean against the year before adoption (checked in the triangulation tests).
        return _perm(est, [design.adoption - 1], list(design.post_periods))
    fit: Fit[SynthResult] | Fit[SdidResult]
    if method == "synthetic control":
        if est.synth is None:
            return {"note": "synthetic control needs one treated unit"}
        fit, inference = est.synth, "placebo in space"
    else:
        fit, inference = est.sdid, f"placebo standard error ({N_DRAWS} draws)"
    if fit.value is None:
        assert fit.error is not None
        raise fit.error
    row = fit.value.overall
    assert row is not None
    return {"estimate": row["estimate"], "ci_lower": row["ci_lower"],
            "ci_upper": row["ci_upper"], "p_value": row["p_value"], "inference": inference}


def _known_plan(known: Mapping[str, OutcomeEstimates] | None, name: str, year: int
                ) -> OutcomePlan | None:
    """The plan of ``name`` that the case's estimates were made on, when ``year`` is theirs
    and planning it again would warn of nothing (no series break, no filled treated cell:
    :func:`~evalmodel.report.plan.plan_outcome` warns of each, every time); else ``None``."""
    for est in (known or {}).values():
        plan = est.plan
        if (plan is not None and plan.name == name and plan.design is not None
                and plan.design.adoption == year and plan.window is not None
                and not plan.breaks and not plan.window.filled):
            return plan
    return None


def adoption_rows(design: Design, names: Sequence[str],
                  known: Mapping[str, OutcomeEstimates] | None = None) -> pd.DataFrame:
    """One row per adoption year of the case's range, outcome and method: the estimate with its
    interval and p-value, or the reason there is none.

    Parameters
    ----------
    design : Design
        The case's design at the registry's adoption year.
    names : sequence of str
        The outcomes (KPIs or constructs).
    known : mapping of str to OutcomeEstimates, optional
        The case's estimates by KPI; for the registry's adoption year they are read (the same
        estimators on the same window) instead of being estimated again.
    """
    case = design.case
    lo, hi = case.adoption_range
    rows: list[dict[str, object]] = []
    for year in range(lo, hi + 1):
        try:
            dy = case.design(design.full_panel, adoption=year, pool=design.pool)  # type: ignore[arg-type]
        except EvalModelError as exc:
            dy = None
            why = str(exc)
        stores: dict[str, OutcomeEstimates] = {}  # this year's estimates, by KPI
        for name in names:
            plan = (_known_plan(known, name, year) or plan_outcome(dy, name)
                    if dy is not None else None)
            for method in ADOPTION_METHODS:
                row: dict[str, object] = {"adoption": year, "outcome": name,
                                          "kpi": plan.kpi if plan else None, "method": method}
                if plan is None or plan.design is None:
                    row["note"] = plan.reason if plan else why
                else:
                    kpi = str(plan.kpi)
                    if kpi not in stores:
                        same = (known or {}).get(kpi) if year == case.adoption else None
                        stores[kpi] = same or OutcomeEstimates(plan.design, kpi, plan)
                    try:
                        row |= _method_row(stores[kpi], method)
                    except EvalModelError as exc:
                        row["note"] = f"not estimated: {exc}"
                    planted = planted_effect(plan.design, str(plan.kpi),
                                             tuple(plan.design.post_periods))
                    if planted is not None:
                        row["planted"] = planted
                rows.append(row)
    table = pd.DataFrame(rows)
    for c in ("estimate", "ci_lower", "ci_upper", "p_value"):
        if c not in table:
            table[c] = np.nan
    table["note"] = table["note"].fillna("") if "note" in table else ""
    table["inference"] = table["inference"].fillna("") if "inference" in table else ""
    return table


def build_adoption_section(design: Design, names: Sequence[str],
                           known: Mapping[str, OutcomeEstimates] | None = None) -> Section:
    """The headline estimates for each year of the case's ``adoption_range`` (table and
    figure), and whether their sign and significance at 5 % hold across the range.
    ``known``: the case's estimates by KPI, read for the registry's adoption year."""
    import matplotlib.pyplot as plt

    table = adoption_rows(design, names, known)
    lo, hi = design.case.adoption_range
    notes = [f"The adoption year is uncertain ({design.case.adoption_note}); every headline "
             f"method is re-run for each year from {lo} to {hi}, with the window and donors the "
             "data allow for that year."]
    notes += robustness_notes(table)
    figures = []
    est = table.dropna(subset=["estimate"])
    if len(est):
        outs = list(dict.fromkeys(est["outcome"]))
        fig, axes = plt.subplots(1, len(outs), figsize=(4.2 * len(outs), 3.6),
                                 layout="constrained", squeeze=False)
        for ax, outcome in zip(axes[0], outs, strict=True):
            part = est[est["outcome"] == outcome]
            for k, (method, m) in enumerate(part.groupby("method", sort=False)):
                x = m["adoption"].to_numpy(float) + (k - 1.5) * 0.08
                y = m["estimate"].to_numpy(float)
                err = np.vstack([y - m["ci_lower"].to_numpy(float),
                                 m["ci_upper"].to_numpy(float) - y])
                ax.errorbar(x, y, yerr=np.where(np.isfinite(err), err, 0), fmt="o", capsize=3,
                            label=method)
            ax.axhline(0, color="#7f8c8d", lw=0.8)
            ax.axvline(design.case.adoption, color="#c0392b", lw=0.8, ls=":")
            ax.set_xticks(range(lo, hi + 1))
            kpi = part["kpi"].dropna().iloc[0] if part["kpi"].notna().any() else outcome
            ax.set_title(f"{kpi}", fontsize=10)
            ax.set_xlabel("adoption year")
        axes[0][0].set_ylabel("effect (outcome units)")
        axes[0][-1].legend(fontsize="x-small", frameon=False, loc="best")
        fig.suptitle(f"{design.case.title}: estimates by adoption year (dotted: registry's)")
        figures.append(("by_year", fig))
    return Section(key="adoption", title=f"Adoption year varied: {lo}-{hi}",
                   tables=(("by_year", table),), figures=tuple(figures), notes=tuple(notes))


def robustness_notes(table: pd.DataFrame) -> list[str]:
    """Per outcome: whether every estimate across the adoption range has the same sign and the
    same significance at 5 %."""
    out = []
    for outcome, part in table.groupby("outcome", sort=False):
        est = part.dropna(subset=["estimate"])
        if est.empty:
            out.append(f"{outcome}: no estimate for any adoption year.")
            continue
        signs = set(np.sign(est["estimate"].to_numpy(float)))
        sig = est["p_value"].to_numpy(float) < 0.05
        years = sorted(set(est["adoption"]))
        span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
        n, k = len(sig), int(sig.sum())
        word = "negative" if signs == {-1.0} else "positive" if signs == {1.0} else "mixed"
        if len(signs) == 1 and (k == n or k == 0):
            level = "significant at 5 %" if k == n else "not significant at 5 %"
            out.append(f"{outcome}: the conclusion survives the adoption range: all {n} "
                       f"estimates for {span} are {word} and {level}.")
        elif len(signs) == 1:
            out.append(f"{outcome}: the direction survives the adoption range ({span}): all {n} "
                       f"estimates are {word}; {k} of {n} are significant at 5 %.")
        else:
            out.append(f"{outcome}: the conclusion depends on the adoption year or the method "
                       f"({span}): signs are mixed; {k} of {n} estimates are significant at "
                       "5 %.")
    return out
