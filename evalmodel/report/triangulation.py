"""The triangulation table: every method's headline estimate for a case, side by side.

One row per method (2x2 DiD, TWFE, Sun-Abraham and imputation event studies, Callaway-Sant'Anna,
synthetic control, synthetic DiD) with its interval, p-value and the inference behind them,
and the case's diagnostics beside them: the pre-trend test, the sensitivity breakdown value,
the minimum detectable effect, the Bacon decomposition where it matters, and (on simulated
data) the planted effect over the same periods.

With fewer than 5 treated units analytic standard errors are not valid. Where a method's
headline equals a 2x2 DiD of means (one adoption date, a balanced panel: Callaway-Sant'Anna's
simple ATT against the period before adoption, the Sun-Abraham mean of post effects, the
imputation estimator against all pre-periods) the row's p-value and interval come from the same
randomisation inference as the DiD rows; the equality is checked, not assumed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import norm

from evalmodel.breaks import clean_windows
from evalmodel.cases import Design
from evalmodel.errors import EvalModelError, EvalModelWarning
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.estimators.bacon import bacon
from evalmodel.estimators.event_study import event_study
from evalmodel.inference.permutation import DiD2x2Statistic, permutation_inference
from evalmodel.report.plan import OutcomePlan
from evalmodel.report.sec_did import planted_effect
from evalmodel.report.sec_inference import SEED
from evalmodel.report.section import Section, find_table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["EVENT_WINDOW", "METHODS", "build_triangulation"]

#: Event times of the Sun-Abraham and imputation event studies (post effects averaged).
EVENT_WINDOW = (-5, 5)
COLUMNS = ["outcome", "method", "estimate", "ci_lower", "ci_upper", "p_value", "inference"]


def _permuted(design: Design, outcome: str, estimate: float | None, pre: Sequence[int],
              post: Sequence[int]) -> tuple[float, float, float, float, str] | None:
    """Permutation inference for the 2x2 DiD of ``pre`` vs ``post``: its estimate, interval,
    p-value and a label. With ``estimate`` given, ``None`` unless the headline equals it."""
    stat = DiD2x2Statistic(outcome, pre=pre, post=post)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalModelWarning)
            r = permutation_inference(design.panel, outcome, statistic=stat,
                                      treated=design.treated, pool=design.comparison,
                                      seed=SEED)
    except EvalModelError:
        return None
    if estimate is not None and not np.isclose(r.estimate, estimate, rtol=1e-8, atol=1e-8):
        return None
    return r.estimate, r.ci_lower, r.ci_upper, r.p_value, f"permutation ({r.n_perm} placebos)"


def _event_window(design: Design) -> tuple[int, int]:
    """:data:`EVENT_WINDOW`, narrowed to the event times the design observes."""
    return (max(EVENT_WINDOW[0], -len(design.pre_periods)),
            min(EVENT_WINDOW[1], len(design.post_periods) - 1))


def _event_rows(design: Design, outcome: str) -> list[dict[str, object]]:
    """Sun-Abraham and imputation: the mean of the post-period effects in the window."""
    rows: list[dict[str, object]] = []
    g = design.adoption
    few = len(design.treated) < MIN_TREATED_CLUSTERS
    for estimator, label in (("sun_abraham", "Sun-Abraham event study, mean post effect"),
                             ("imputation", "imputation (BJS), mean post effect")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EvalModelWarning)
                es = event_study(design.panel, outcome, window=_event_window(design),
                                 estimator=estimator)  # type: ignore[arg-type]
        except EvalModelError as exc:
            rows.append({"method": label, "inference": f"not estimated: {exc}"})
            continue
        b, v = es.coefficients, es.vcov
        post = [int(e) for e in b.index if e >= 0]
        w = np.full(len(post), 1 / len(post))
        est = float(w @ b.loc[post].to_numpy(float))
        se = float(np.sqrt(w @ v.loc[post, post].to_numpy(float) @ w))
        periods = [g + e for e in post]
        base = [g - 1] if estimator == "sun_abraham" else list(design.pre_periods)
        perm = _permuted(design, outcome, est, base, periods) if few else None
        if perm is not None:
            _, lo, hi, p, how = perm
        else:
            lo, hi = est - 1.96 * se, est + 1.96 * se
            p = float(2 * norm.sf(abs(est / se))) if se > 0 else float("nan")
            how = "analytic" + (" (not valid: fewer than 5 treated units)" if few else "")
        rows.append({"method": label, "estimate": est, "ci_lower": lo, "ci_upper": hi,
                     "p_value": p, "inference": how,
                     "planted": planted_effect(design, outcome, tuple(periods))})
    return rows


#: The methods of the table, in order; a method without an estimate gets a row with the reason.
METHODS = ("2x2", "TWFE, all periods", "Callaway-Sant'Anna, simple ATT",
           "Sun-Abraham event study, mean post effect", "imputation (BJS), mean post effect",
           "synthetic control", "synthetic DiD")


def _outcome_rows(design: Design, sections: Sequence[Section], outcome: str
                  ) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    few = len(design.treated) < MIN_TREATED_CLUSTERS
    did = find_table(sections, f"did_{outcome}", "estimates")
    if did is not None:
        for rec in did.to_dict("records"):
            if few and not str(rec["inference"]).startswith("permutation"):
                rec["inference"] = f"{rec['inference']} (not valid: fewer than 5 treated " \
                                   "units, and the pool is too small for permutation)"
            rows.append({str(k): v for k, v in rec.items()})
    cs = find_table(sections, f"staggered_{outcome}", "aggregations")
    if cs is not None and (cs["aggregation"] == "simple").any():
        r = cs[cs["aggregation"] == "simple"].iloc[0]
        post = tuple(design.post_periods)
        perm = _permuted(design, outcome, float(r["estimate"]),
                         [design.adoption - 1], post) if few else None
        row: dict[str, object] = {"method": METHODS[2], "estimate": r["estimate"]}
        if perm is not None:
            row |= dict(zip(["ci_lower", "ci_upper", "p_value", "inference"], perm[1:],
                            strict=True))
        else:
            row |= {"ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"],
                    "p_value": r["p_value"], "inference": "analytic (influence function)"
                    + (" (not valid: fewer than 5 treated units)" if few else "")}
        row["planted"] = planted_effect(design, outcome, post)
        rows.append(row)
    rows += _event_rows(design, outcome)
    synth = find_table(sections, f"synth_{outcome}", "estimates")
    if synth is not None:
        for rec in synth.to_dict("records"):
            rows.append({**{str(k): v for k, v in rec.items()},
                         "inference": "placebo in space"})
    return rows


def _reason(sections: Sequence[Section], outcome: str, method: str) -> str:
    """Why ``method`` has no estimate: the section note that says so, else a generic reason."""
    key = {"synthetic control": "Synthetic control", "synthetic DiD": "Synthetic DiD"}.get(method)
    for sec in sections:
        if sec.key.endswith(f"_{outcome}"):
            for n in sec.notes:
                if key and n.startswith(key) and ("not estimated" in n or "skipped" in n):
                    return n
    return "not estimated: the section of this method produced no estimate for this outcome"


def _break_row(plan: OutcomePlan) -> dict[str, object] | None:
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
            perm = _permuted(design, w.outcome, None, pre, post)
            if perm is None:
                break
            est, lo_, hi_, p, how = perm
            return {"method": f"{label}: {lo}-{hi}", "estimate": est, "ci_lower": lo_,
                    "ci_upper": hi_, "p_value": p, "inference": how,
                    "planted": planted_effect(design, w.outcome, tuple(post))}
    return {"method": label, "note": "no window without the break holds both a period before "
            f"and the adoption period {design.adoption}: the break cannot be separated from "
            "the adoption with these data"}


def build_triangulation(plans: Sequence[OutcomePlan], sections: Sequence[Section]) -> Section:
    """The triangulation table of a case from its already built sections: one row a method
    and outcome, each with an estimate or the reason it has none, a robustness row for every
    series break inside an outcome's window, and the diagnostics beside them."""
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for plan in plans:
        name = plan.kpi or plan.name
        if plan.design is None:
            rows.append({"outcome": name, "method": "every method", "note": plan.reason})
            continue
        found = _outcome_rows(plan.design, sections, name)
        for m in METHODS:
            if not any(str(r.get("method", "")).startswith(m) for r in found):
                found.append({"method": m, "note": _reason(sections, name, m)})
        found.sort(key=lambda r: next(i for i, m in enumerate(METHODS)
                                      if str(r["method"]).startswith(m)))
        extra = _break_row(plan)
        if extra is not None:
            found.append(extra)
        for r in found:
            r["outcome"] = name
            if not np.isfinite(float(r.get("estimate", np.nan))) and not r.get("note"):  # type: ignore[arg-type]
                r["note"] = "not estimated"
        rows += found
        diag = _diagnostics(plan.design, sections, name)
        if diag:
            notes.append(f"{name}: " + "; ".join(diag) + ".")
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


def _diagnostics(design: Design, sections: Sequence[Section], outcome: str) -> list[str]:
    out: list[str] = []
    pt = find_table(sections, f"inference_{outcome}", "pretrend")
    if pt is not None and len(pt):
        out.append(f"pre-trend Wald test p = {float(pt['p_value'].iloc[0]):.3f}")
    rm = find_table(sections, f"inference_{outcome}", "sensitivity_relative_magnitude")
    if rm is not None and len(rm):
        out.append(f"sensitivity breakdown Mbar = {float(rm['breakdown'].iloc[0]):.2f}")
    perm = find_table(sections, f"inference_{outcome}", "permutation")
    if perm is not None and "mde" in perm and perm["mde"].notna().any():
        out.append(f"minimum detectable effect (2x2, 80 % power) = "
                   f"{float(perm['mde'].dropna().iloc[0]):.3f}")
    cohorts = design.panel.cohorts()
    if cohorts[cohorts != 0].nunique() > 1 and design.panel.is_balanced:
        bt = bacon(design.panel, outcome).by_type
        out.append("Bacon weights: " + ", ".join(f"{t} {w:.2f}" for t, w in
                                                 zip(bt["type"], bt["weight"], strict=True)))
    else:
        out.append("Bacon decomposition not needed: one adoption date, so TWFE is a single "
                   "treated-versus-never-treated comparison")
    return out
