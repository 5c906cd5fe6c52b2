"""The triangulation table: every method's headline estimate for a case, side by side.

One row per method (2x2 DiD, TWFE, Sun-Abraham and imputation event studies, Callaway-Sant'Anna,
synthetic control, synthetic DiD) with its interval, p-value and the inference behind them,
and the case's diagnostics beside them: the pre-trend test, the sensitivity breakdown value,
the minimum detectable effect, the Bacon decomposition where it matters, and (on simulated
data) the planted effect over the same periods.

Every row is read from the outcome's estimates
(:class:`~evalmodel.report.estimates.OutcomeEstimates`), which the sections read as well:
nothing is estimated twice.

With fewer than :data:`~evalmodel.report.settings.MIN_TREATED` treated units analytic standard
errors are not valid. Where a method's headline equals a 2x2 DiD of means (one adoption date, a
balanced panel: Callaway-Sant'Anna's simple ATT against the period before adoption, the
Sun-Abraham mean of post effects, the imputation estimator against all pre-periods) the row's
p-value and interval come from the same randomisation inference as the DiD rows; the equality
is checked, not assumed.

The synthetic-control row is the one the convex-hull diagnostic chooses
(:attr:`~evalmodel.report.estimates.OutcomeEstimates.synth_choice`): the plain synthetic control
with its placebos in space when the treated unit lies inside the donors' hull, the augmented
(ridge) one with its studentized placebo test and interval when it lies outside (the plain
placebo test over-rejects there), the method label saying so and the notes why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import norm

from evalmodel.breaks import clean_windows
from evalmodel.errors import EvalModelWarning
from evalmodel.estimators.synth_diagnostics import NOISE_MULTIPLE
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.plan import OutcomePlan
from evalmodel.report.sec_did import did_rows, planted_effect
from evalmodel.report.sec_synth import (
    augmented_row,
    planted_post_mean,
    sdid_reason,
    synth_reason,
    synth_rows,
)
from evalmodel.report.section import Section
from evalmodel.report.settings import MIN_TREATED, Z

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["METHODS", "build_triangulation", "triangulation_rows"]

COLUMNS = ["outcome", "method", "estimate", "ci_lower", "ci_upper", "p_value", "inference"]
NOT_VALID = f"(not valid: fewer than {MIN_TREATED} treated units)"
#: The synthetic-control row's label when the hull diagnostic calls for the augmented one.
SYNTH_AUGMENTED = "synthetic control: augmented (ridge), outside the donors' hull"

#: The methods of the table, in order; a method without an estimate gets a row with the reason.
METHODS = ("2x2", "TWFE, all periods", "Callaway-Sant'Anna, simple ATT",
           "Sun-Abraham event study, mean post effect", "imputation (BJS), mean post effect",
           "synthetic control", "synthetic DiD")


def _permuted(est: OutcomeEstimates, estimate: float | None, pre: Sequence[int],
              post: Sequence[int]) -> tuple[float, float, float, float, str] | None:
    """Permutation inference for the 2x2 DiD of ``pre`` vs ``post``: its estimate, interval,
    p-value and a label. With ``estimate`` given, ``None`` unless the headline equals it."""
    fit = est.permutation(pre, post)
    fit.reemit(skip=EvalModelWarning)
    r = fit.value
    if r is None:
        return None
    if estimate is not None and not np.isclose(r.estimate, estimate, rtol=1e-8, atol=1e-8):
        return None
    return r.estimate, r.ci_lower, r.ci_upper, r.p_value, f"permutation ({r.n_draws} placebos)"


def _analytic(estimate: float, se: float, few: bool) -> tuple[float, float, float, str]:
    """Normal interval and p-value at the report's confidence level."""
    p = float(2 * norm.sf(abs(estimate / se))) if se > 0 else float("nan")
    return (estimate - Z * se, estimate + Z * se, p,
            "analytic" + (f" {NOT_VALID}" if few else ""))


def _event_rows(est: OutcomeEstimates) -> list[dict[str, object]]:
    """Sun-Abraham and imputation: the mean of the post-period effects in the window."""
    design = est.design
    rows: list[dict[str, object]] = []
    g = design.adoption
    for estimator, label in (("sun_abraham", METHODS[3]), ("imputation", METHODS[4])):
        fit = est.event_study(estimator)
        fit.reemit(skip=EvalModelWarning)
        es = fit.value
        if es is None:
            rows.append({"method": label, "inference": f"not estimated: {fit.error}"})
            continue
        b, v = es.coefficients, es.vcov
        post = [int(e) for e in b.index if e >= 0]
        w = np.full(len(post), 1 / len(post))
        mean = float(w @ b.loc[post].to_numpy(float))
        se = float(np.sqrt(w @ v.loc[post, post].to_numpy(float) @ w))
        periods = [g + e for e in post]
        base = [g - 1] if estimator == "sun_abraham" else list(design.pre_periods)
        perm = _permuted(est, mean, base, periods) if est.few else None
        if perm is not None:
            _, lo, hi, p, how = perm
        else:
            lo, hi, p, how = _analytic(mean, se, est.few)
        rows.append({"method": label, "estimate": mean, "ci_lower": lo, "ci_upper": hi,
                     "p_value": p, "inference": how,
                     "planted": planted_effect(design, est.outcome, tuple(periods))})
    return rows


def _staggered_row(est: OutcomeEstimates) -> dict[str, object]:
    """Callaway-Sant'Anna's simple ATT, with the permutation test of the equal 2x2 DiD when
    there are few treated units."""
    design = est.design
    r = est.staggered.aggregations["simple"].overall
    assert r is not None
    post = tuple(design.post_periods)
    perm = _permuted(est, float(r["estimate"]), [design.adoption - 1], post) if est.few \
        else None
    row: dict[str, object] = {"method": METHODS[2], "estimate": r["estimate"]}
    if perm is not None:
        row |= dict(zip(["ci_lower", "ci_upper", "p_value", "inference"], perm[1:],
                        strict=True))
    else:
        row |= {"ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"], "p_value": r["p_value"],
                "inference": "analytic (influence function)" + (f" {NOT_VALID}" if est.few
                                                                 else "")}
    row["planted"] = planted_effect(design, est.outcome, post)
    return row


def _outcome_rows(est: OutcomeEstimates) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for rec in did_rows(est):
        if est.few and not str(rec["inference"]).startswith("permutation"):
            rec["inference"] = (f"{rec['inference']} (not valid: fewer than {MIN_TREATED} "
                                "treated units, and the pool is too small for permutation)")
        rows.append(rec)
    rows.append(_staggered_row(est))
    rows += _event_rows(est)
    planted = planted_post_mean(est.design, est.outcome)
    for rec in synth_rows(est):
        rec |= {"inference": "placebo in space"}
        if rec["method"] == "synthetic control":
            rec = _chosen_synth(est, rec)
        rows.append(rec | ({"planted": planted} if planted is not None else {}))
    return rows


def _chosen_synth(est: OutcomeEstimates, plain: dict[str, object]) -> dict[str, object]:
    """The synthetic-control row of the method the hull diagnostic chooses: ``plain`` inside
    the donors' hull, the augmented synthetic control with its studentized placebo test
    outside it."""
    choice = est.synth_choice
    aug = augmented_row(est)
    if choice is None or not choice.augmented or aug is None:
        return plain
    return aug | {"method": SYNTH_AUGMENTED,
                  "inference": "placebo in space, studentized (augmented synthetic control)"}


def _hull_note(est: OutcomeEstimates) -> str | None:
    """Which synthetic control the triangulation shows, and why, in one clause."""
    choice = est.synth_choice
    if choice is None:
        return None
    h = choice.hull
    where = (f"pre-period hull RMSPE {h.rmspe:.3g} = {h.ratio:.2g} times the noise scale "
             f"{h.noise:.3g}")
    if choice.augmented:
        return (f"synthetic control: the augmented (ridge) one with its studentized placebo "
                f"test, the treated unit being outside the donors' hull ({where}, beyond "
                f"{NOISE_MULTIPLE:g})")
    outside = not h.inside
    return ("synthetic control: the plain one, "
            + ("the augmented fit having failed although the treated unit is outside the "
               if outside else "the treated unit being inside the ")
            + f"donors' hull ({where})")


def _reason(est: OutcomeEstimates, method: str) -> str:
    """Why ``method`` has no estimate."""
    why = {"synthetic control": synth_reason, "synthetic DiD": sdid_reason}.get(method)
    said = why(est) if why is not None else None
    return said or "not estimated: the section of this method produced no estimate for this " \
                   "outcome"


def _break_row(plan: OutcomePlan, est: OutcomeEstimates) -> dict[str, object] | None:
    """The robustness row of a series break inside the window: the 2x2 DiD of every pre
    against every post period on a window that does not cross any break, or why none exists."""
    if not plan.breaks or plan.design is None or plan.window is None:
        return None
    design, w = plan.design, plan.window
    at = sorted({b.period for b in plan.breaks})
    label = f"2x2 on a window without the break ({', '.join(map(str, at))})"
    for lo, hi in clean_windows(w.periods, at):
        pre = [p for p in range(lo, hi + 1) if p < design.adoption]
        post = [p for p in range(lo, hi + 1) if p >= design.adoption]
        if pre and post:
            perm = _permuted(est, None, pre, post)
            if perm is None:
                break
            e, lo_, hi_, p, how = perm
            return {"method": f"{label}: {lo}-{hi}", "estimate": e, "ci_lower": lo_,
                    "ci_upper": hi_, "p_value": p, "inference": how,
                    "planted": planted_effect(design, w.outcome, tuple(post))}
    return {"method": label, "note": "no window without the break holds both a period before "
            f"and the adoption period {design.adoption}: the break cannot be separated from "
            "the adoption with these data"}


def triangulation_rows(plan: OutcomePlan, est: OutcomeEstimates | None
                       ) -> list[dict[str, object]]:
    """The rows of one outcome: each method in :data:`METHODS` order (an estimate or the reason
    there is none) and the robustness row of a series break."""
    name = plan.kpi or plan.name
    if plan.design is None or est is None:
        return [{"outcome": name, "method": "every method", "note": plan.reason}]
    found = _outcome_rows(est)
    for m in METHODS:
        if not any(str(r.get("method", "")).startswith(m) for r in found):
            found.append({"method": m, "note": _reason(est, m)})
    found.sort(key=lambda r: next(i for i, m in enumerate(METHODS)
                                  if str(r["method"]).startswith(m)))
    extra = _break_row(plan, est)
    if extra is not None:
        found.append(extra)
    for r in found:
        r["outcome"] = name
        if not np.isfinite(float(r.get("estimate", np.nan))) and not r.get("note"):  # type: ignore[arg-type]
            r["note"] = "not estimated"
    return found


def build_triangulation(plans: Sequence[OutcomePlan],
                        estimates: Mapping[str, OutcomeEstimates]) -> Section:
    """The triangulation table of a case from its estimates (``estimates``: by KPI): one row a
    method and outcome, each with an estimate or the reason it has none, a robustness row for
    every series break inside an outcome's window, and the diagnostics beside them."""
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for plan in plans:
        est = estimates.get(str(plan.kpi)) if plan.design is not None else None
        rows += triangulation_rows(plan, est)
        if est is not None:
            diag = diagnostics(est)
            if diag:
                notes.append(f"{est.outcome}: " + "; ".join(diag) + ".")
    table = pd.DataFrame(rows)
    keep = [c for c in [*COLUMNS, "planted", "note"] if c in table.columns]
    table = table[keep]
    if "planted" in table and table["planted"].isna().all():
        table = table.drop(columns="planted")
    table["note"] = table["note"].fillna("") if "note" in table else ""
    notes.insert(0, "Each row is one method's headline effect; agreement across designs that "
                    "rest on different assumptions is the evidence, disagreement the warning. "
                    "A row without an estimate says why.")
    return Section(key="triangulation", title="Triangulation: every method side by side",
                   tables=(("table", table),), figures=tuple(_figures(table)),
                   notes=tuple(notes))


def _figures(table: pd.DataFrame) -> list[tuple[str, Figure]]:
    import matplotlib.pyplot as plt

    from evalmodel.plotting.core import forest_plot

    out = []
    for outcome, part in table.dropna(subset=["estimate"]).groupby("outcome", sort=False):
        fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.45 * len(part)), layout="constrained")
        forest_plot(part, ax=ax, title=f"{outcome}: every method")
        out.append((f"forest_{outcome}", fig))
    return out


def diagnostics(est: OutcomeEstimates) -> list[str]:
    """The diagnostics of one outcome: pre-trend test, sensitivity breakdown, minimum
    detectable effect, the Bacon decomposition (or why it is not needed) and which synthetic
    control the hull diagnostic chose."""
    out: list[str] = []
    sens = est.sensitivity
    if sens.pretrend is not None:
        out.append(f"pre-trend Wald test p = {float(sens.pretrend.p_value):.3f}")
    rm = sens.bounds.get("relative_magnitude")
    if rm is not None and len(rm.table):
        out.append(f"sensitivity breakdown Mbar = {float(rm.breakdown):.2f}")
    mde = est.mde_headline
    if mde is not None and not np.isnan(mde):
        out.append(f"minimum detectable effect (2x2, 80 % power) = {mde:.3f}")
    bd = est.bacon
    if bd is not None:
        bt = bd.by_type
        out.append("Bacon weights: " + ", ".join(f"{t} {w:.2f}" for t, w in
                                                 zip(bt["type"], bt["weight"], strict=True)))
    else:
        out.append("Bacon decomposition not needed: one adoption date, so TWFE is a single "
                   "treated-versus-never-treated comparison")
    hull = _hull_note(est)
    if hull is not None:
        out.append(hull)
    return out
