"""A plain verdict per case, generated from its results.

For each outcome: direction and size (in the outcome's unit and relative to the treated unit's
pre-adoption level), agreement across methods, the inference behind it (valid with one treated
unit), pre-trend evidence, sensitivity (breakdown value), power (minimum detectable effect), the
adoption-year robustness, series caveats, and the displacement verdict. The synthetic control
among the methods is the one the convex-hull diagnostic chooses (the augmented one, said so,
for a treated unit outside the donors' hull). A result that is not
significant is never read as "no effect": the minimum detectable effect says what the data
could have seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evalmodel.kpis import ADVERSE, KPI_LABELS
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.plan import OutcomePlan
from evalmodel.report.sec_adoption import robustness_notes
from evalmodel.report.sec_displacement import DisplacementFindings
from evalmodel.report.section import Section

__all__ = ["build_verdict", "verdict_sentences"]


def _unit(kpi: str) -> str:
    label = KPI_LABELS.get(kpi, "")
    if "%" in label:
        return "percentage points"
    if "kr" in label:
        return "kr per inhabitant"
    return "units of the outcome"


def _fmt(x: float) -> str:
    return f"{x:+.3g}" if abs(x) < 1000 else f"{x:+,.0f}"


def _outcome_verdict(plan: OutcomePlan, found: OutcomeEstimates,
                     tri: pd.DataFrame, adoption: pd.DataFrame | None) -> tuple[str, dict]:
    kpi = str(plan.kpi)
    design = plan.design
    assert design is not None
    rows = tri[(tri["outcome"] == kpi) & tri["estimate"].notna()
               & ~tri["method"].astype(str).str.contains("without the break")]
    row: dict[str, object] = {"outcome": kpi}
    if rows.empty:
        return f"{kpi}: no method produced an estimate.", row
    head = rows.iloc[0]
    est = float(head["estimate"])
    pre = list(design.pre_periods)[-3:]
    level = float(design.panel.wide(kpi).loc[list(design.treated), pre].mean(axis=1).mean())
    rel = est / level if level else np.nan
    p = float(head["p_value"])
    sig = p < 0.05
    signs = np.sign(rows["estimate"].to_numpy(float))
    n_sig = int((rows["p_value"].to_numpy(float) < 0.05).sum())
    agree = int((signs == np.sign(est)).sum())
    direction = "fell" if est < 0 else "rose"
    word = "lower" if est < 0 else "higher"
    unit = _unit(kpi)
    name = KPI_LABELS.get(kpi, kpi)
    peers = f"comparison {'districts' if design.case.level == 'district' else 'municipalities'}"
    # the headline's permutation test cannot reach 5 % (too few comparison units): the whole
    # line is its interval and p is its smallest attainable value
    untestable = (not sig and float(head["ci_lower"]) == -np.inf
                  and float(head["ci_upper"]) == np.inf)
    text = [f"{kpi} ({name}): relative to the {peers}, the outcome {direction} "
            f"by {abs(est):.3g} {unit} ({abs(rel):.0%} of the pre-adoption level {level:.3g}) "
            f"by the {head['method']}" if np.isfinite(rel) else
            f"{kpi}: the estimate is {_fmt(est)} {unit} by the {head['method']}"]
    text[0] += f", p = {p:.3f} ({head['inference']})."
    text.append(f"{agree} of {len(rows)} methods put the effect {word}; {n_sig} of {len(rows)} "
                f"are significant at 5 % (estimates from {rows['estimate'].min():.3g} to "
                f"{rows['estimate'].max():.3g}).")
    choice = found.synth_choice
    if choice is not None and choice.augmented:
        text.append(f"The synthetic control counted is the augmented (ridge) one with its "
                    f"studentized placebo test: the treated unit lies outside the donors' "
                    f"convex hull (pre-period misfit {choice.hull.ratio:.2g} times the noise "
                    "scale), where the plain one's placebo test over-rejects.")
    mde = found.mde_headline
    mde = np.nan if mde is None else mde
    if untestable:
        text.append(f"Not testable at 5 % with these data: {len(design.comparison)} "
                    f"{peers} give {len(design.comparison) + 1} placebo assignments, so "
                    f"p = {p:.3f} is the smallest attainable p-value and every interval of the "
                    "design-based tests is the whole line. This is neither evidence of an "
                    "effect nor of none; a larger comparison pool, or a lower confidence level, "
                    "would be needed.")
    elif not sig:
        text.append("Not distinguishable from zero"
                    + (f": with this comparison pool only effects larger than about "
                       f"{mde:.3g} {unit} in size would be detected with 80 % power, so smaller "
                       "effects cannot be ruled out." if np.isfinite(mde) else
                       "; the power of the test is unknown, so this is no evidence of no "
                       "effect."))
    elif np.isfinite(mde):
        text.append(f"The minimum detectable effect (80 % power) is {mde:.3g} {unit}.")
    pt = found.sensitivity.pretrend
    if pt is not None:
        pp = float(pt.p_value)
        text.append(f"Pre-trends: Wald test p = {pp:.3f}"
                    + (" (the pre-period paths differ: read the estimate with caution)."
                       if pp < 0.05 else " (no evidence against parallel pre-trends)."))
    rm = found.sensitivity.bounds.get("relative_magnitude")
    if sig and rm is not None and len(rm.table) and np.isfinite(float(rm.breakdown)):
        mbar = float(rm.breakdown)
        text.append(f"Sensitivity (Rambachan-Roth, first treated year): breakdown value "
                    f"Mbar = {mbar:.2f}"
                    + (": the first-year effect is not robust to any violation of parallel "
                       "trends as large as the pre-period ones." if mbar == 0 else
                       ": the first-year effect stays significant for violations of parallel "
                       f"trends up to {mbar:.2f} times the largest pre-period violation."))
    if adoption is not None:
        part = adoption[adoption["kpi"] == kpi]
        text += robustness_notes(part.assign(outcome=kpi))
    if plan.breaks:
        kinds: dict[int, list[str]] = {}
        for b in plan.breaks:
            kinds.setdefault(b.period, []).append(b.kind)
        at = ", ".join(f"{yr} ({' and '.join(dict.fromkeys(k))})" for yr, k in kinds.items())
        w = plan.window
        assert w is not None
        text.append(f"Series caveat: a break at {at} lies inside the window "
                    f"{w.periods[0]}-{w.periods[-1]}.")
        brk = tri[(tri["outcome"] == kpi)
                  & tri["method"].astype(str).str.contains("without the break")]
        if len(brk) and np.isfinite(float(brk["estimate"].iloc[0])):
            clean = brk.iloc[0]
            text.append(f"On a window that does not cross it "
                        f"({str(clean['method']).rsplit(': ', 1)[-1]}) the estimate is "
                        f"{float(clean['estimate']):.3g}, p = {float(clean['p_value']):.3f}.")
        elif len(brk):
            text.append(f"Robustness: {brk['note'].iloc[0]}.")
    if plan.choice:
        text.append(plan.choice)
    if sig and agree == len(rows):
        short = (f"{kpi} {direction} by {abs(est):.3g} {unit} against the {peers} "
                 f"(p = {p:.3f}; {n_sig} of {len(rows)} methods significant)")
    elif sig:
        short = (f"{kpi} {direction} by {abs(est):.3g} {unit} (p = {p:.3f}), but the methods "
                 f"disagree ({agree} of {len(rows)} in that direction)")
    elif untestable:
        short = (f"{kpi}: not testable at 5 % against {len(design.comparison)} {peers} "
                 f"({_fmt(est)} {unit}, p = {p:.3f}, the smallest attainable; {agree} of "
                 f"{len(rows)} methods put it {word})")
    else:
        short = (f"{kpi}: no change detectable against the {peers} "
                 f"({_fmt(est)} {unit}, p = {p:.3f}"
                 + (f"; effects smaller than about {mde:.3g} {unit} could not be detected)"
                    if np.isfinite(mde) else ")"))
    caveats = []
    if pt is not None and float(pt.p_value) < 0.05:
        caveats.append("pre-trends differ")
    brk = tri[(tri["outcome"] == kpi) & tri["method"].astype(str).str.contains("without the")]
    if len(brk) and not np.isfinite(float(brk["estimate"].iloc[0])):
        caveats.append("a series break coincides with adoption and cannot be separated from it")
    elif plan.breaks:
        caveats.append("a series break lies inside the window (see the robustness row)")
    if caveats:
        short += "; but " + " and ".join(caveats)
    row |= {"method": head["method"], "estimate": est, "relative": rel, "p_value": p,
            "significant": sig, "methods_agreeing": f"{agree}/{len(rows)}",
            "methods_significant": f"{n_sig}/{len(rows)}", "mde": mde, "headline": short}
    return " ".join(text), row


def verdict_sentences(plans: Sequence[OutcomePlan], estimates: Mapping[str, OutcomeEstimates],
                      tri: pd.DataFrame | None, adoption: pd.DataFrame | None = None,
                      displacement: DisplacementFindings | None = None
                      ) -> tuple[list[str], pd.DataFrame]:
    """The verdict's sentences (one paragraph per outcome, then displacement) and its table.

    Parameters
    ----------
    plans : sequence of OutcomePlan
        The case's primary outcomes.
    estimates : mapping of str to OutcomeEstimates
        Their estimates, by KPI.
    tri : DataFrame or None
        The triangulation table.
    adoption : DataFrame, optional
        The estimates by adoption year.
    displacement : DisplacementFindings, optional
        The displacement tests.
    """
    out: list[str] = []
    rows = []
    for plan in plans:
        if plan.design is None or tri is None or str(plan.kpi) not in estimates:
            out.append(f"{plan.name}: {plan.reason}.")
            rows.append({"outcome": plan.name, "note": plan.reason,
                         "headline": f"{plan.name}: {plan.reason}"})
            continue
        text, row = _outcome_verdict(plan, estimates[str(plan.kpi)], tri, adoption)
        out.append(text)
        rows.append(row)
    heads = [str(r["headline"]) for r in rows]
    if displacement is not None:
        out.append("Displacement: " + " ".join(displacement.verdicts))
        heads.append(_displacement_short(displacement.table))
    out.insert(0, "In short: " + "; ".join(heads) + ".")
    return out, pd.DataFrame(rows).drop(columns="headline")


def _displacement_short(tests: pd.DataFrame) -> str:
    """One clause on the displacement tests: detected, not detectable (with power) or not
    testable."""
    if tests.empty:
        return "displacement: not testable with these data"
    done = tests[tests["estimate"].notna()] if "estimate" in tests else tests.iloc[:0]
    found = done[done["detected"].astype(bool)] if len(done) else done
    untestable = len(tests) - len(done)
    parts = []
    for _, r in found.iterrows():
        test, est = str(r["test"]), float(r["estimate"])
        kpi = test.removesuffix(" (non-targeted)")
        if test.endswith("(non-targeted)"):
            adverse = np.sign(est) == ADVERSE.get(kpi, 1)
            what = "displacement" if adverse else "an effect in the opposite direction"
            parts.append(f"{what} on {kpi} ({est:+.2g} log points, p = "
                         f"{float(r['p_value']):.3f})")
        else:
            parts.append(f"spill-over detected on {kpi} ({est:+.3g}, p = "
                         f"{float(r['p_value']):.3f})")
    quiet = done[~done["detected"].astype(bool)] if len(done) else done
    if len(quiet):
        parts.append("no displacement or spill-over detectable on " + ", ".join(
            f"{t.removesuffix(' (non-targeted)')} (MDE {m:.2g}"
            f"{' log points' if t.endswith('(non-targeted)') else ''})"
            for t, m in zip(quiet["test"].astype(str), quiet["mde"], strict=True)))
    if untestable:
        parts.append(f"{untestable} displacement test(s) not testable with these data")
    return "; ".join(parts)


def build_verdict(design_title: str, plans: Sequence[OutcomePlan],
                  estimates: Mapping[str, OutcomeEstimates], tri: pd.DataFrame | None,
                  adoption: pd.DataFrame | None = None,
                  displacement: DisplacementFindings | None = None) -> Section:
    """The verdict section of a case (first on its page and in ``index.html``)."""
    sentences, table = verdict_sentences(plans, estimates, tri, adoption, displacement)
    return Section(key="verdict", title=f"Verdict: {design_title}",
                   tables=(("verdict", table),), notes=tuple(sentences))
