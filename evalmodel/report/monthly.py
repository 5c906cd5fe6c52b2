"""The case page on a monthly panel: the same-month comparison and estimates on months.

A municipality's own report compares one month with the same month years later (Linköping:
January 2021 against January 2024). On a monthly panel (``panel.frequency == "month"``) the
report puts that comparison beside estimates against a comparison group, for each of the case's
``monthly_outcomes`` the data hold:

- the January-to-January comparison (:mod:`evalmodel.report.monthly_january`);
- the seasonal TWFE (unit-by-calendar-month and month effects, ``twfe(..., seasonal="unit")``)
  with its permutation test over the comparison pool, the synthetic control and the synthetic
  DiD, each over every month from adoption to the end of the data;
- the minimum detectable effect of the seasonal TWFE's permutation test, beside its estimate;
- a figure of the treated unit's months against its synthetic control and the comparison mean;
- a verdict line per outcome, first on the page.

Every estimator runs on the case's comparison pool (every municipality not treated in a case
and not exposed to spill-over); on 290 units x 126 months the three take about 2 s together.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalmodel.cases import Design
from evalmodel.errors import EvalModelError
from evalmodel.estimators.did import twfe
from evalmodel.estimators.sdid import SdidResult, sdid
from evalmodel.estimators.synth import SynthResult, synth
from evalmodel.estimators.synth_diagnostics import choose, hull_of
from evalmodel.inference.power import MDEResult, minimum_detectable_effect
from evalmodel.months import month_label
from evalmodel.names import unit_label
from evalmodel.report.monthly_january import (
    MONTHLY_LABELS,
    JanuaryComparison,
    january_comparison,
)
from evalmodel.report.sec_did import planted_effect
from evalmodel.report.section import Section
from evalmodel.report.settings import CONF_LEVEL, N_DRAWS, SEED
from evalmodel.results import EstimateResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["MonthlyEstimates", "monthly_estimates", "monthly_sections"]


@dataclass
class MonthlyEstimates:
    """The estimates of one outcome on a monthly design, and why any is missing.

    Attributes
    ----------
    design : Design
        The design restricted to the outcome's estimation window.
    outcome : str
    did, synth, sdid : result or None
        Seasonal TWFE, synthetic control and synthetic DiD.
    synth_augmented : SynthResult or None
        The ridge-augmented synthetic control (studentized placebos), fitted when the treated
        unit lies outside the donors' convex hull.
    hull_reason : str
        Which synthetic control the hull diagnostic calls for, and why.
    mde : MDEResult or None
        Minimum detectable effect of the seasonal TWFE's permutation test.
    reasons : dict of str to str
        Method -> why it has no result.
    """

    design: Design
    outcome: str
    did: EstimateResult | None = None
    synth: SynthResult | None = None
    sdid: SdidResult | None = None
    synth_augmented: SynthResult | None = None
    hull_reason: str = ""
    mde: MDEResult | None = None
    reasons: dict[str, str] = field(default_factory=dict)


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def monthly_estimates(design: Design, outcome: str) -> MonthlyEstimates | str:
    """Seasonal TWFE (with its permutation test and MDE), synthetic control and synthetic DiD
    of ``outcome`` on the design's estimation window (the months with data around adoption
    and the donors complete over them, :mod:`evalmodel.coverage`).

    Returns the reason instead when the outcome cannot be estimated on these data.
    """
    window = design.estimation_window(outcome, treated_gaps="trim")
    if not window.testable:
        return str(window.reason)
    d = design.restrict(window)
    est = MonthlyEstimates(design=d, outcome=outcome)
    start = int(d.adoption)
    try:
        est.did = twfe(d.panel, outcome, seasonal="unit", seed=SEED, conf_level=CONF_LEVEL)
    except EvalModelError as exc:
        est.reasons["seasonal TWFE"] = _error(exc)
    perm = est.did.details.get("permutation") if est.did is not None else None
    distribution = getattr(perm, "distribution", None)
    if distribution is not None:
        try:
            est.mde = minimum_detectable_effect(np.asarray(distribution, dtype=float),
                                                conf_level=CONF_LEVEL)
        except EvalModelError as exc:
            est.reasons["MDE"] = _error(exc)
    elif est.did is not None:
        est.reasons["MDE"] = (f"the seasonal TWFE's inference is {est.did.inference}, not a "
                              "permutation test, so it has no placebo distribution")
    if len(d.treated) == 1:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                est.synth = synth(d.panel, outcome, treated=d.treated[0], start=start,
                                  conf_level=CONF_LEVEL)
        except EvalModelError as exc:
            est.reasons["synthetic control"] = _error(exc)
        if est.synth is not None:
            _augment_outside_hull(est)
    else:
        est.reasons["synthetic control"] = (f"{len(d.treated)} treated units: the synthetic "
                                            "control is fitted for one")
    try:
        est.sdid = sdid(d.panel, outcome, treated=list(d.treated), start=start, seed=SEED,
                        n_draws=N_DRAWS, conf_level=CONF_LEVEL)
    except EvalModelError as exc:
        est.reasons["synthetic DiD"] = _error(exc)
    return est


def _augment_outside_hull(est: MonthlyEstimates) -> None:
    """Fit the ridge-augmented synthetic control when the hull diagnostic calls for it (the
    treated unit outside the donors' convex hull, e.g. the largest municipality on counts)."""
    assert est.synth is not None
    d = est.design
    method, est.hull_reason = choose(hull_of(est.synth), unit_label(d.treated[0]))
    if method != "augmented synthetic control":
        return
    try:
        # the penalty cross-validated on the treated unit's pre-period months, then given to
        # every placebo: cross-validating each placebo's own penalty takes about 30 s of CPU
        # on 280 donors x 84 months, against 4 s
        penalty = synth(d.panel, est.outcome, treated=d.treated[0], start=int(d.adoption),
                        augment="ridge", inference="none").augmentation
        assert penalty is not None
        est.synth_augmented = synth(d.panel, est.outcome, treated=d.treated[0],
                                    start=int(d.adoption), augment="ridge",
                                    ridge_lambda=penalty.penalty, conf_level=CONF_LEVEL)
        est.hull_reason += (f" The augmented synthetic control's ridge penalty "
                            f"({penalty.penalty:.4g}) is cross-validated on the treated unit's "
                            "pre-period months and used for every placebo, to keep the "
                            "monthly run short.")
    except EvalModelError as exc:
        est.reasons["augmented synthetic control"] = _error(exc)


def _rows(est: MonthlyEstimates) -> tuple[tuple[str, EstimateResult | None], ...]:
    """The methods of the table, the one the hull diagnostic sets aside marked."""
    plain = ("synthetic control (outside the hull: set aside)"
             if est.synth_augmented is not None else "synthetic control")
    return (("seasonal TWFE (unit x calendar month)", est.did), (plain, est.synth),
            ("augmented synthetic control", est.synth_augmented), ("synthetic DiD", est.sdid))


def estimates_table(est: MonthlyEstimates) -> pd.DataFrame:
    """One row per method: estimate, std_error, interval, p-value, inference, the MDE (on the
    seasonal TWFE's row) and the planted effect on simulated data."""
    d = est.design
    post = tuple(d.post_periods)
    planted = planted_effect(d, est.outcome, post)
    span = f"{month_label(post[0])} to {month_label(post[-1])}"
    rows: list[dict[str, object]] = []
    for label, res in _rows(est):
        if res is None:
            continue
        row = res.overall
        assert row is not None
        rows.append({"method": label, "estimate": float(row["estimate"]),
                     "std_error": float(row["std_error"]), "ci_lower": float(row["ci_lower"]),
                     "ci_upper": float(row["ci_upper"]), "p_value": float(row["p_value"]),
                     "mde": float("nan"), "months": span, "inference": res.inference,
                     "planted": planted})
    table = pd.DataFrame(rows, columns=["method", "estimate", "std_error", "ci_lower",
                                        "ci_upper", "p_value", "mde", "months", "inference",
                                        "planted"])
    if est.mde is not None and est.did is not None:
        table.loc[0, "mde"] = est.mde.mde
    if planted is None:
        table = table.drop(columns="planted")
    return table


def _figure(est: MonthlyEstimates) -> Figure:
    import matplotlib.pyplot as plt

    from evalmodel.plotting.monthly import monthly_path_plot

    d = est.design
    wide = d.panel.wide(est.outcome)
    periods = [int(p) for p in wide.columns]
    treated = wide.loc[list(d.treated)].mean(axis=0).to_numpy(float)
    comp = wide.loc[list(d.comparison)].mean(axis=0).to_numpy(float)
    pre = np.isin(periods, d.pre_periods)
    others: dict[str, np.ndarray] = {}
    sc = est.synth_augmented or est.synth
    if sc is not None:
        label = "augmented synthetic control" if est.synth_augmented else "synthetic control"
        others[label] = sc.paths["synthetic"].reindex(periods).to_numpy(float)
    if est.sdid is not None and "synthetic" in est.sdid.paths:
        sd = est.sdid.paths["synthetic"].reindex(periods).to_numpy(float)
        others["synthetic DiD controls, moved to the pre-period level"] = (
            sd + np.nanmean(treated[pre] - sd[pre]))
    others[f"comparison mean ({len(d.comparison)} units), moved to the pre-period level"] = (
        comp + np.nanmean(treated[pre] - comp[pre]))
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    name = (unit_label(d.treated[0]) if len(d.treated) == 1
            else f"{len(d.treated)} treated units (mean)")
    monthly_path_plot(periods, treated, others, adoption=int(d.adoption), treated_label=name,
                      ylabel=MONTHLY_LABELS.get(est.outcome, est.outcome), ax=ax)
    ax.set_title(f"{d.case.title}: {est.outcome} by month")
    return fig


def _fmt(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+.3g}"


def verdict_line(est: MonthlyEstimates, jan: JanuaryComparison | str) -> str:
    """The plain-language verdict on one outcome: the seed's comparison, the estimate against a
    comparison group with its p-value and MDE, and whether the methods agree."""
    parts = [f"{est.outcome}:"]
    if isinstance(jan, JanuaryComparison):
        parts.append(jan.sentence)
    table = estimates_table(est)
    if table.empty:
        parts.append("no estimator ran (" + "; ".join(est.reasons.values()) + ").")
        return " ".join(parts)
    head = table.iloc[0]
    e, p = float(head["estimate"]), float(head["p_value"])
    post = est.design.post_periods
    text = (f"Against the comparison group, the {head['method']} puts the effect at "
            f"{_fmt(e)} a month over {month_label(post[0])}-{month_label(post[-1])} "
            f"(p = {p:.3g}")
    mde = float(head["mde"])
    text += f"; minimum detectable effect {mde:.3g})." if np.isfinite(mde) else ")."
    used = table[~table["method"].str.contains("set aside")]
    signs = np.sign(used["estimate"].to_numpy(float))
    others = used["method"][signs != np.sign(e)].tolist()
    if p < 1 - CONF_LEVEL and (not np.isfinite(mde) or abs(e) >= mde):
        text += (" The fall is larger than the comparison group's and than chance would give"
                 if e < 0 else " The rise is larger than the comparison group's and than chance "
                 "would give")
        text += (f", but the {' and the '.join(others)} point{'s' if len(others) == 1 else ''} "
                 "the other way, so the direction is not settled by these data (see each "
                 "method's notes)." if others else f", and all {len(used)} methods agree on "
                 "the direction.")
    elif np.isfinite(mde) and abs(e) < mde:
        text += (" The estimate is smaller than the effect these data could detect with 80 % "
                 "power: the data cannot tell it from no effect, which is not the same as no "
                 "effect.")
    else:
        text += " It is not distinguishable from no effect at the 5 % level."
    parts.append(text)
    return " ".join(parts)


def _outcome_section(design: Design, outcome: str) -> tuple[Section, str]:
    jan = january_comparison(design, outcome)
    est = monthly_estimates(design, outcome)
    tables: list[tuple[str, pd.DataFrame]] = []
    notes: list[str] = []
    if isinstance(jan, JanuaryComparison):
        tables.append(("january", jan.table))
        notes += [jan.sentence, *jan.notes]
    else:
        notes.append(f"No January-to-January comparison: {jan}.")
    if isinstance(est, str):
        notes.append(f"No estimates against a comparison group: {est}.")
        line = f"{outcome}: " + (jan.sentence if isinstance(jan, JanuaryComparison) else jan)
        line += f" No estimate against a comparison group: {est}."
        return Section(key=f"monthly_{outcome}", title=f"Monthly data: {outcome}",
                       tables=tuple(tables), notes=tuple(notes)), line
    d = est.design
    tables.append(("estimates", estimates_table(est)))
    summaries = [(k, r.summary()) for k, r in (("twfe", est.did), ("mde", est.mde)) if r]
    notes.append(f"Estimates over every month from {month_label(d.adoption)} to "
                 f"{month_label(d.post_periods[-1])} ({len(d.post_periods)} months) against "
                 f"{len(d.pre_periods)} months before, on the comparison pool of "
                 f"{len(d.comparison)} units ({d.pool}; {len(d.excluded)} units excluded as "
                 "treated elsewhere or exposed to spill-over).")
    notes.append("Seasonal TWFE: unit-by-calendar-month and month effects, so each unit's "
                 "own seasonal profile is removed; one treated unit is one treated cluster, so "
                 "its p-value and interval come from the permutation test over the comparison "
                 "pool, whose placebo estimates also give the minimum detectable effect (80 % "
                 "power, 5 % level). Synthetic control: weights fitted on every pre-period "
                 "month, placebos in space. Synthetic DiD: placebo standard error "
                 f"({N_DRAWS} draws, seed {SEED}).")
    if est.hull_reason:
        notes.append(est.hull_reason)
    notes += [f"{k}: {v}" for k, v in est.reasons.items()]
    for r in (est.did, est.synth, est.synth_augmented, est.sdid):
        if r is not None:
            notes += list(r.notes)
    figures = (("path", _figure(est)),)
    section = Section(key=f"monthly_{outcome}", title=f"Monthly data: {outcome}",
                      tables=(*tables, *summaries), figures=figures,
                      notes=tuple(dict.fromkeys(notes)))
    return section, verdict_line(est, jan)


def monthly_sections(design: Design) -> list[Section]:
    """The sections of a case's page on a monthly panel: a verdict, then for each of the case's
    ``monthly_outcomes`` in the data the January-to-January comparison, the estimates with
    the MDE, and the figure.

    Parameters
    ----------
    design : Design
        The case's design on a monthly panel (:meth:`evalmodel.cases.Case.design`).
    """
    outcomes = list(design.outcomes)
    if not outcomes:
        wanted = list(design.case.monthly_outcomes)
        return [Section(key="verdict", title="Verdict (monthly data)", notes=(
            f"None of the case's monthly outcomes {wanted} is in the data (variables: "
            f"{list(design.full_panel.outcomes)[:8]}); add them to the file, or list the "
            "file's names under monthly_outcomes in data/cases.toml.",))]
    built = [_outcome_section(design, o) for o in outcomes]
    lines = [line for _, line in built]
    periods = design.full_panel.periods
    span = (f"Monthly data {month_label(periods[0])} to {month_label(periods[-1])}, adoption "
            f"{month_label(design.adoption)}.")
    # the first note is the line the report's index shows for the case
    verdict = Section(key="verdict", title="Verdict (monthly data)",
                      notes=(f"{span} {lines[0]}", *lines[1:]))
    return [verdict, *(s for s, _ in built)]
