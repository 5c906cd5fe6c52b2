"""A catalogue of malformed ARGUMENTS and impossible DESIGNS across the public API (issue 15).

Each case is an id, a call, the :class:`~evalmodel.errors.EvalModelError` subclass (or
:class:`~evalmodel.errors.EvalModelWarning` subclass) it must raise, and a pinned ``match=``
pattern naming the argument, the bad value or the real cause. No case expects a foreign
exception type: ``EvalModelError`` is a ``ValueError``, so the subclass is pinned exactly.
The data are small simulated panels (20 units, 10 periods; Trelleborg with 12 donors), so the
whole catalogue runs in a few seconds.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel import displacement as dp
from evalmodel.cli import build_parser
from evalmodel.data.simulate import simple_panel
from evalmodel.errors import (
    DataSourceError,
    DesignError,
    EstimationError,
    EvalModelError,
    EvalModelWarning,
    FewTreatedClustersWarning,
    PanelError,
)
from evalmodel.inference.multiplier import multiplier_bootstrap


@dataclass(frozen=True)
class Ctx:
    """The data every case may use."""

    panel: em.Panel         # 20 units, periods 1-10, cohort 6 for 6 units, covariate x
    never: list[str]        # its never-treated units
    cells: em.AttGtResult   # att_gt on it
    es: em.EventStudyResult  # event_study(window=(-3, 3)) on it
    design: Any             # Trelleborg on the simulated panel, 12 donors
    ddd: em.Panel           # a panel with a group role (target/other)
    synth: em.SynthResult   # synth on design (no inference), for the placebo tests
    tmp: Path               # a folder for the command's cases


def _quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        return call()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Ctx:
    df, _ = simple_panel(n_units=20, seed=3)
    panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    cohorts = panel.cohorts()
    d = em.cases.get("trelleborg").design(em.datasets.simulated())
    d = dataclasses.replace(d, panel=d.panel.select(units=["1287", *d.comparison[:12]]))
    g = pd.concat([df.assign(group="target"), df.assign(group="other")], ignore_index=True)
    ddd = em.Panel(g, unit="unit", time="time", cohort="cohort", group="group")
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "a_file.txt").write_text("not a folder", encoding="utf-8")
    return Ctx(panel=panel, never=sorted(cohorts.index[cohorts == 0]),
               cells=_quiet(lambda: em.att_gt(panel, "y")),
               es=_quiet(lambda: em.event_study(panel, "y", window=(-3, 3),
                                                inference="analytic")),
               design=d, ddd=ddd, tmp=tmp,
               synth=_quiet(lambda: em.synth(d.panel, "N31807", treated="1287", start=2010,
                                             inference="none")))


def _cli(*argv: str) -> int:
    """``evalmodel ARGV`` without the handler in ``main`` that prints the error: its raise."""
    args = build_parser().parse_args(list(argv))
    return int(args.func(args))


Call = Callable[[Ctx], Any]
CASES: list[tuple[str, Call, type[Exception], str]] = [
    # -- did2x2 ---------------------------------------------------------------------------
    ("did2x2-pre-fraction", lambda c: em.did2x2(c.panel, "y", pre=2.5, post=7),
     EstimationError, r"^did2x2: pre=2\.5 is not a whole number; a period is a whole number "
                      r"\(the panel covers 1-10\)"),
    ("did2x2-post-text", lambda c: em.did2x2(c.panel, "y", pre=3, post="7"),
     EstimationError, r"^did2x2: post='7' is text; .* pass post=7 without quotes\.$"),
    ("did2x2-pre-outside", lambda c: em.did2x2(c.panel, "y", pre=[0, 1], post=7),
     EstimationError, r"^did2x2: pre has periods not in the panel \(\[0\]\); the panel covers "
                      r"1-10\.$"),
    ("did2x2-post-before-pre", lambda c: em.did2x2(c.panel, "y", pre=[7, 8], post=[3]),
     EstimationError, r"^did2x2: pre=\[7, 8\] ends after post=\[3\] begins"),
    ("did2x2-pre-post-overlap", lambda c: em.did2x2(c.panel, "y", pre=[3, 4], post=[4, 7]),
     EstimationError, r"^did2x2: pre and post share periods \[4\]; they must be disjoint\.$"),
    ("did2x2-pre-after-adoption", lambda c: em.did2x2(c.panel, "y", pre=[6], post=[8]),
     EstimationError, r"^did2x2: pre=\[6\] reaches the first treated period of 6 treated "
                      r"unit\(s\) \(e\.g\. 'u000', cohort 6\)"),
    ("did2x2-seed-text", lambda c: em.did2x2(c.panel, "y", pre=3, post=7, seed="42"),
     EstimationError, r"^did2x2: seed='42' must be a non-negative whole number"),
    ("did2x2-n-draws-zero", lambda c: em.did2x2(c.panel, "y", pre=3, post=7, n_draws=0),
     EstimationError, r"^did2x2: n_draws=0 must be an integer of at least 1 or None"),
    ("did2x2-conf-level-95", lambda c: em.did2x2(c.panel, "y", pre=3, post=7, conf_level=95),
     EstimationError, r"^did2x2: conf_level=95 must be a number strictly between 0 and 1, "
                      r"e\.g\. 0\.95\.$"),
    ("did2x2-inference-typo",
     lambda c: em.did2x2(c.panel, "y", pre=3, post=7, inference="permuation"),
     EstimationError, r"^did2x2: inference='permuation' is not one of \['auto', 'analytic', "
                      r"'permutation'\]; pass one of those \(did you mean 'permutation'\?\)\.$"),
    ("did2x2-cluster-column", lambda c: em.did2x2(c.panel, "y", pre=3, post=7, cluster="lan"),
     EstimationError, r"^did2x2: cluster='lan' is not 'unit', None or a column of the panel"),
    ("did2x2-treated-unknown",
     lambda c: em.did2x2(c.panel, "y", pre=3, post=7, treated=["u999"]),
     EstimationError, r"^did2x2: treated has units not in the panel \(\['u999'\]\)"),
    ("did2x2-outcome-typo", lambda c: em.did2x2(c.panel, "yy", pre=3, post=7),
     PanelError, r"^outcome 'yy' is not a variable of the panel; variables are \['y', 'x'\] "
                 r"\(did you mean 'y'\?\)\.$"),
    ("did2x2-few-treated-analytic",
     lambda c: em.did2x2(c.panel.with_cohorts({"u000": 6}), "y", pre=3, post=7,
                         inference="analytic"),
     FewTreatedClustersWarning, r"^did2x2: cluster-robust standard errors with 1 treated "
                                r"cluster\(s\) are not reliable"),
    ("did2x2-treated-float", lambda c: em.did2x2(c.panel, "y", pre=3, post=7, treated=1.5),
     EstimationError, r"^did2x2: treated=1\.5 must be a unit id or a list of them, e\.g\. "
                      r"treated=\['1287'\]\.$"),
    ("did2x2-cluster-list", lambda c: em.did2x2(c.panel, "y", pre=3, post=7, cluster=["unit"]),
     EstimationError, r"^did2x2: cluster=\['unit'\] is not 'unit', None or a column"),
    # -- twfe -----------------------------------------------------------------------------
    ("twfe-covariates-float", lambda c: em.twfe(c.panel, "y", covariates=1.5),
     EstimationError, r"^twfe: covariates=1\.5 must be a variable name or a list of them"),
    ("twfe-covariate-unknown", lambda c: em.twfe(c.panel, "y", covariates=["z"]),
     EstimationError, r"^twfe: covariate 'z' is not a variable of the panel"),
    ("twfe-treatment-not-binary", lambda c: em.twfe(c.panel, "y", treatment="x"),
     EstimationError, r"^twfe: treatment column 'x' must hold only 0 and 1\.$"),
    ("twfe-seed-float", lambda c: em.twfe(c.panel, "y", seed=1.5),
     EstimationError, r"^twfe: seed=1\.5 must be a non-negative whole number .*: use a whole "
                      r"number >= 0\.$"),
    ("twfe-n-draws-negative", lambda c: em.twfe(c.panel, "y", n_draws=-5),
     EstimationError, r"^twfe: n_draws=-5 must be an integer of at least 1"),
    ("twfe-single-period", lambda c: em.twfe(c.panel.select(periods=[4]), "y"),
     EstimationError, r"^twfe: the panel has 1 period \(4\)"),
    ("twfe-first-period-adoption",
     lambda c: em.twfe(c.panel.with_cohorts({u: 1 for u in ("u000", "u001")}), "y"),
     EstimationError, r"^twfe: every treated unit \(2\) is treated from the panel's first "
                      r"period \(1\)"),
    ("twfe-no-comparison",
     lambda c: em.twfe(c.panel.with_cohorts({u: 6 for u in c.panel.units}), "y"),
     EstimationError, r"^twfe: every unit \(20\) adopts in period 6 and none is never treated"),
    # -- att_gt and aggregate ---------------------------------------------------------------
    ("att_gt-control-group-typo", lambda c: em.att_gt(c.panel, "y", control_group="notyet"),
     EstimationError, r"^att_gt: control_group='notyet' is not one of \['never', 'not_yet'\]; "
                      r"pass one of those \(did you mean 'not_yet'\?\)\.$"),
    ("att_gt-anticipation-float", lambda c: em.att_gt(c.panel, "y", anticipation=1.5),
     EstimationError, r"^att_gt: anticipation=1\.5 must be a non-negative integer"),
    ("att_gt-n-draws-float",
     lambda c: em.att_gt(c.panel, "y", inference="bootstrap", n_draws=99.5),
     EstimationError, r"^att_gt: n_draws=99\.5 must be an integer of at least 2"),
    ("att_gt-seed-bool", lambda c: em.att_gt(c.panel, "y", seed=True),
     EstimationError, r"^att_gt: seed=True must be a non-negative whole number"),
    ("att_gt-seed-negative", lambda c: em.att_gt(c.panel, "y", seed=-3),
     EstimationError, r"^att_gt: seed=-3 must be a non-negative whole number"),
    ("att_gt-unbalanced-flag", lambda c: em.att_gt(c.panel, "y", allow_unbalanced_panel="yes"),
     EstimationError, r"^att_gt: allow_unbalanced_panel='yes' must be True or False\.$"),
    ("att_gt-not-yet-one-cohort",
     lambda c: em.att_gt(c.panel.with_cohorts({u: 6 for u in c.panel.units}), "y",
                         control_group="not_yet"),
     EstimationError, r"^att_gt: every treated unit \(20\) adopts in period 6 and none is never "
                      r"treated, so there is no comparison group"),
    ("att_gt-cluster-column", lambda c: em.att_gt(c.panel, "y", cluster="county"),
     EstimationError, r"^att_gt: cluster='county' is not a column of the panel"),
    ("att_gt-covariate-unknown", lambda c: em.att_gt(c.panel, "y", covariates=["xx"]),
     EstimationError, r"^att_gt: covariate 'xx' is not a variable of the panel"),
    ("att_gt-single-period", lambda c: em.att_gt(c.panel.select(periods=[7]), "y"),
     EstimationError, r"^att_gt: the panel has 1 period \(7\)"),
    ("aggregate-kind-typo", lambda c: c.cells.aggregate("dynamc"),  # type: ignore[arg-type]
     EstimationError, r"^aggregate: kind='dynamc' is not one of .* \(did you mean "
                      r"'dynamic'\?\)\.$"),
    ("aggregate-balance-e-group", lambda c: c.cells.aggregate("group", balance_e=1),
     EstimationError, r"balance_e=1 applies only to kind='dynamic'"),
    ("aggregate-balance-e-text", lambda c: c.cells.aggregate("dynamic", balance_e="2"),
     EstimationError, r"^aggregate: balance_e='2' must be a whole number, e\.g\. balance_e=2 "
                      r"\(or None\)\.$"),
    ("aggregate-min-e-none", lambda c: c.cells.aggregate("dynamic", min_e=None),
     EstimationError, r"^aggregate: min_e=None must be a whole number \(an event time"),
    ("att_gt-cluster-list", lambda c: em.att_gt(c.panel, "y", cluster=["unit"]),
     EstimationError, r"^att_gt: cluster=\['unit'\] must be 'unit', None or the name of a "
                      r"column"),
    ("aggregate-inference-word",
     lambda c: c.cells.aggregate("simple", inference="placebo"),  # type: ignore[arg-type]
     EstimationError, r"^aggregate: inference='placebo' is not one of \['auto', 'analytic', "
                      r"'bootstrap'\]"),
    # -- event_study ------------------------------------------------------------------------
    ("event_study-window-fraction", lambda c: em.event_study(c.panel, "y", window=(-2.5, 2)),
     EstimationError, r"^event_study: window\[0\]=-2\.5 is not a whole number; an event time "
                      r"is a whole number: pass e\.g\. window\[0\]=-3 or window\[0\]=-2\.$"),
    ("event_study-window-text", lambda c: em.event_study(c.panel, "y", window=("-2", 2)),
     EstimationError, r"^event_study: window\[0\]='-2' is text; .* pass window\[0\]=-2 without "
                      r"quotes\.$"),
    ("event_study-window-shape", lambda c: em.event_study(c.panel, "y", window=4),
     EstimationError, r"^event_study: window=4 must be two event times \(first, last\), e\.g\. "
                      r"window=\(-4, 4\)\.$"),
    ("event_study-reference-positive",
     lambda c: em.event_study(c.panel, "y", window=(-2, 2), reference=1),
     EstimationError, r"^event_study: window=\(-2, 2\) and reference=1 must satisfy"),
    ("event_study-window-past-the-data", lambda c: em.event_study(c.panel, "y", window=(-9, 9)),
     EstimationError, r"^event_study: window=\(-9, 9\) reaches past the event times of the "
                      r"treated units \(-5 to 4\), so its end bins are empty; pass a window "
                      r"inside them, e\.g\. window=\(-5, 4\)\.$"),
    ("event_study-estimator-typo", lambda c: em.event_study(c.panel, "y", estimator="sunab"),
     EstimationError, r"^event_study: estimator='sunab' is not one of"),
    ("event_study-n-draws-zero", lambda c: em.event_study(c.panel, "y", n_draws=0),
     EstimationError, r"^event_study: n_draws=0 must be a positive integer"),
    ("event_study-seed-text", lambda c: em.event_study(c.panel, "y", seed="7"),
     EstimationError, r"^event_study: seed='7' must be a non-negative whole number .*: pass "
                      r"seed=7\.$"),
    # -- synth ------------------------------------------------------------------------------
    ("synth-start-fraction",
     lambda c: em.synth(c.design.panel, "N31807", treated="1287", start=2010.5),
     EstimationError, r"^synth: start=2010\.5 is not a whole number; a period is a whole "
                      r"number \(the panel covers 1998-2024\)"),
    ("synth-start-text", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                            start="2010"),
     EstimationError, r"^synth: start='2010' is text"),
    ("synth-start-too-early",
     lambda c: em.synth(c.design.panel, "N31807", treated="1287", start=1998),
     EstimationError, r"^synth: start=1998 leaves 0 pre-period\(s\) for unit '1287'"),
    ("synth-optimizer-option-typo",
     lambda c: em.synth(c.design.panel, "N31807", treated="1287", start=2010,
                        predictors=["N31807"], optimizer_options={"maxitr": 5}),
     EstimationError, r"^synth: optimizer_options has 'maxitr', which is not an option of "
                      r"scipy's 'Nelder-Mead'; .* \(did you mean 'maxiter'\?\)\.$"),
    ("synth-optimizer-options-not-dict",
     lambda c: em.synth(c.design.panel, "N31807", treated="1287", start=2010,
                        optimizer_options=[("maxiter", 5)]),
     EstimationError, r"^synth: optimizer_options=\[\('maxiter', 5\)\] must be a dict"),
    ("synth-optimizer-unknown",
     lambda c: em.synth(c.design.panel, "N31807", treated="1287", start=2010,
                        optimizer="newton"),
     EstimationError, r"^synth: optimizer='newton' is not a method of scipy\.optimize\.minimize"),
    ("synth-treated-list", lambda c: em.synth(c.design.panel, "N31807", treated=["1287"],
                                              start=2010),
     EstimationError, r"^synth: treated=\['1287'\] must be one unit id .* use em\.sdid\.$"),
    ("synth-treated-unknown",
     lambda c: em.synth(c.design.panel, "N31807", treated="1286", start=2010),
     EstimationError, r"^synth: treated unit '1286' is not in the panel"),
    ("synth-ratio-zero", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                            start=2010, max_pre_mspe_ratio=0),
     EstimationError, r"^synth: max_pre_mspe_ratio=0 must be a positive number"),
    ("synth-ratio-none", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                            start=2010, max_pre_mspe_ratio=None),
     EstimationError, r"^synth: max_pre_mspe_ratio=None must be a positive number"),
    ("synth-ratio-text", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                            start=2010, max_pre_mspe_ratio="5"),
     EstimationError, r"^synth: max_pre_mspe_ratio='5' must be a positive number"),
    ("synth-predictors-empty", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                                  start=2010, predictors=[]),
     EstimationError, r"^synth: predictors=\[\] must be a non-empty list of variable names"),
    ("synth-predictors-float", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                                  start=2010, predictors=1.5),
     EstimationError, r"^synth: predictors=1\.5 must be a non-empty list"),
    ("synth-fit-periods-text", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                                  start=2010, fit_periods="x"),
     EstimationError, r"^synth: fit_periods='x' must be a sequence of pre-periods"),
    ("synth-fit-period-text", lambda c: em.synth(c.design.panel, "N31807", treated="1287",
                                                 start=2010, fit_periods=["2008"]),
     EstimationError, r"^synth: fit_periods='2008' is text; a period is a whole number"),
    # -- sdid -------------------------------------------------------------------------------
    ("sdid-donors-float", lambda c: em.sdid(c.design.panel, "N31807", treated="1287",
                                            start=2010, donors=1.5),
     EstimationError, r"^sdid: donors=1\.5 must be a unit id or a list of them"),
    ("sdid-start-text", lambda c: em.sdid(c.design.panel, "N31807", treated="1287",
                                          start="2010"),
     EstimationError, r"^sdid: start='2010' is text"),
    ("sdid-seed-text", lambda c: em.sdid(c.design.panel, "N31807", treated="1287", start=2010,
                                         seed="1"),
     EstimationError, r"^sdid: seed='1' must be a non-negative whole number"),
    ("sdid-n-draws-one", lambda c: em.sdid(c.design.panel, "N31807", treated="1287",
                                           start=2010, n_draws=1),
     EstimationError, r"^sdid: n_draws=1 must be an integer of at least 2"),
    ("sdid-method-typo", lambda c: em.sdid(c.design.panel, "N31807", treated="1287",
                                           start=2010, method="synthdid"),
     EstimationError, r"^sdid: method='synthdid' is not one of \['sdid', 'sc', 'did'\]"),
    ("sdid-no-donors", lambda c: em.sdid(c.panel.with_cohorts({u: 6 for u in c.panel.units}),
                                         "y"),
     EstimationError, r"^sdid: the donor pool has 0 unit\(s\)"),
    # -- displacement -----------------------------------------------------------------------
    ("triple_difference-no-group",
     lambda c: dp.triple_difference(c.panel, "y", target="target", pre=[3], post=[7]),
     EstimationError, r"^triple_difference: the panel has no group role"),
    ("triple_difference-target-unknown",
     lambda c: dp.triple_difference(c.ddd, "y", target="young", pre=[3], post=[7]),
     EstimationError, r"^triple_difference: target='young' is not a level of 'group'"),
    ("triple_difference-pre-fraction",
     lambda c: dp.triple_difference(c.ddd, "y", target="target", pre=[3.5], post=[7]),
     EstimationError, r"^triple_difference: pre=3\.5 is not a whole number"),
    ("triple_difference-seed-text",
     lambda c: dp.triple_difference(c.ddd, "y", target="target", pre=[3], post=[7],
                                    seed="0"),
     EstimationError, r"^triple_difference: seed='0' must be a non-negative whole number"),
    ("outcome_displacement-transform-typo",
     lambda c: dp.outcome_displacement(c.panel, "y", treated=["u000"], pool=c.never, pre=[3],
                                       post=[7], transform="logs"),
     EstimationError, r"^outcome_displacement: transform='logs' is not one of \['level', "
                      r"'log'\]; pass one of those \(did you mean 'log'\?\)\.$"),
    ("outcome_displacement-post-before-pre",
     lambda c: dp.outcome_displacement(c.panel, "y", treated=["u000"], pool=c.never,
                                       pre=[7, 8], post=[5]),
     EstimationError, r"^outcome_displacement: pre=\[7, 8\] ends after post=\[5\] begins"),
    ("outcome_displacement-treated-in-pool",
     lambda c: dp.outcome_displacement(c.panel, "y", treated=[c.never[0]], pool=c.never,
                                       pre=[3], post=[7]),
     EstimationError, r"^outcome_displacement: treated units \['u\d+'\] are also in the pool"),
    ("outcome_displacement-unknown-pool-unit",
     lambda c: dp.outcome_displacement(c.panel, "y", treated=["u000"], pool=[*c.never, "x"],
                                       pre=[3], post=[7]),
     EstimationError, r"^outcome_displacement: units \['x'\] are not in the panel"),
    ("outcome_displacement-max-exact-negative",
     lambda c: dp.outcome_displacement(c.panel, "y", treated=["u000"], pool=c.never, pre=[3],
                                       post=[7], max_exact=-1),
     EstimationError, r"^outcome_displacement: max_exact=-1 must be a whole number >= 1, "
                      r"e\.g\. max_exact=10_000\.$"),
    ("outcome_displacement-treated-none",
     lambda c: dp.outcome_displacement(c.panel, "y", treated=None, pool=c.never, pre=[3],
                                       post=[7]),
     EstimationError, r"^outcome_displacement: treated=None must be a unit id"),
    ("spillover-exposed-none",
     lambda c: dp.spillover(c.panel, "y", treated=["u000"], exposed=None, pool=c.never,
                            pre=[3], post=[7]),
     EstimationError, r"^spillover: exposed=None must be a unit id or a list of them"),
    ("spillover-exposed-treated",
     lambda c: dp.spillover(c.panel, "y", treated=["u000"], exposed=["u000"], pool=c.never,
                            pre=[3], post=[7]),
     EstimationError, r"^spillover: the exposure list contains treated units \['u000'\]"),
    ("spillover-inference-typo",
     lambda c: dp.spillover(c.panel, "y", treated=["u000"], exposed=[c.never[0]],
                            pool=c.never[1:], pre=[3], post=[7], inference="placebo"),
     EstimationError, r"^spillover: inference='placebo' is not one of \['auto', 'permutation', "
                      r"'analytic'\]"),
    # -- design ---------------------------------------------------------------------------
    ("design-adoption-fraction",
     lambda c: em.cases.get("trelleborg").design(c.design.panel, adoption=2010.5),
     DesignError, r"^case 'trelleborg': adoption=2010\.5 is not a whole number; a period is a "
                  r"whole number \(the panel covers 1998-2024\)"),
    ("design-adoption-first-period",
     lambda c: em.cases.get("trelleborg").design(c.design.panel, adoption=1998),
     DesignError, r"^case 'trelleborg': adoption=1998 must be a period of the panel after its "
                  r"first \(1998-2024\), so that there is a pre-period\.$"),
    ("design-pool-typo",
     lambda c: em.cases.get("trelleborg").design(c.design.panel, pool="similiar"),
     DesignError, r"^case 'trelleborg': pool='similiar' is not one of \['never_treated', "
                  r"'similar'\]; pass one of those \(did you mean 'similar'\?\)\.$"),
    ("design-treated-not-in-panel",
     lambda c: em.cases.get("lindangen").design(c.design.panel),
     DesignError, r"^case 'lindangen': treated unit '.*' is not in the panel .* this is a "
                  r"district-level case"),
    ("estimation_window-adoption-fraction",
     lambda c: em.estimation_window(c.design.panel, "N31807", treated=["1287"],
                                    pool=list(c.design.panel.units[1:]), adoption=2010.5),
     DesignError, r"^estimation_window: adoption=2010\.5 is not a whole number"),
    # -- placebo tests and randomisation inference --------------------------------------------
    ("placebo_event_study-window-text",
     lambda c: em.placebo_event_study(c.panel, "y", treated=["u000"], pool=c.never,
                                      adoption=6, window=("-3", 3)),
     EstimationError, r"^placebo_event_study: window\[0\]='-3' is text"),
    ("placebo_event_study-adoption-fraction",
     lambda c: em.placebo_event_study(c.panel, "y", treated=["u000"], pool=c.never,
                                      adoption=5.5),
     EstimationError, r"^placebo_event_study: adoption=5\.5 is not a whole number"),
    ("permutation_inference-seed-text",
     lambda c: em.permutation_inference(c.panel, "y", statistic=em.DiD2x2Statistic(
         "y", pre=[3], post=[7]), treated=["u000"], pool=c.never, seed="1"),
     EstimationError, r"^permutation_inference: seed='1' must be a non-negative whole number"),
    ("permutation_inference-n-draws-zero",
     lambda c: em.permutation_inference(c.panel, "y", statistic=em.DiD2x2Statistic(
         "y", pre=[3], post=[7]), treated=["u000"], pool=c.never, n_draws=0),
     EstimationError, r"^permutation_inference: n_draws=0 must be an integer of at least 1"),
    ("DiD2x2Statistic-pre-fraction", lambda c: em.DiD2x2Statistic("y", pre=[2.5], post=[7]),
     EstimationError, r"^DiD2x2Statistic: pre=2\.5 is not a whole number"),
    ("placebo_in_time-start-text", lambda c: em.placebo_in_time(c.synth, starts=["2005"]),
     EstimationError, r"^placebo_in_time: starts='2005' is text; a period is a whole number "
                      r"\(the panel covers 1998-2024\): pass starts=2005 without quotes\.$"),
    ("placebo_in_time-start-fraction", lambda c: em.placebo_in_time(c.synth, starts=2005.5),
     EstimationError, r"^placebo_in_time: starts=2005\.5 is not a whole number"),
    ("placebo_in_time-start-too-early", lambda c: em.placebo_in_time(c.synth, starts=[1999]),
     EstimationError, r"^placebo_in_time: fake start 1999 must be a pre-period with at least 2 "
                      r"periods before it \(2000-2009\)\.$"),
    ("leave_one_out-min-weight-text", lambda c: em.leave_one_out(c.synth, min_weight="x"),
     EstimationError, r"^leave_one_out: min_weight='x' must be a number >= 0, e\.g\. "
                      r"min_weight=1e-6\.$"),
    ("permutation_inference-pool-none",
     lambda c: em.permutation_inference(c.panel, "y", statistic=em.DiD2x2Statistic(
         "y", pre=[3], post=[7]), treated=["u000"], pool=None),
     EstimationError, r"^permutation_inference: pool=None must be a unit id"),
    ("placebo_event_study-treated-empty",
     lambda c: em.placebo_event_study(c.panel, "y", treated=[], pool=c.never, adoption=6),
     EstimationError, r"^placebo_event_study: treated is empty; name at least one unit\.$"),
    ("conley_taber-seed-text",
     lambda c: em.conley_taber(c.panel, "y", treated=["u000", "u001"], pool=c.never[:12],
                               pre=[3], post=[7], conf_level=0.8, seed="9"),
     EstimationError, r"^conley_taber: seed='9' must be a non-negative whole number"),
    ("conley_taber-too-few-controls",
     lambda c: em.conley_taber(c.panel, "y", treated=["u000"], pool=c.never[:5], pre=[3],
                               post=[7]),
     EstimationError, r"^conley_taber: 5 comparison units cannot give a 95% interval"),
    ("wild_bootstrap-seed-text",
     lambda c: em.wild_bootstrap(np.arange(20.0), np.ones((20, 1)), np.repeat(np.arange(10), 2),
                                 coef=0, seed="3"),
     EstimationError, r"^wild_bootstrap: seed='3' must be a non-negative whole number"),
    ("multiplier_bootstrap-seed-float",
     lambda c: multiplier_bootstrap(np.ones((4, 1)), seed=2.0),
     EstimationError, r"^multiplier_bootstrap: seed=2\.0 must be a non-negative whole number "
                      r".*: pass seed=2\.$"),
    # -- honest_ci and sensitivity ----------------------------------------------------------
    ("sensitivity-restriction-typo", lambda c: em.sensitivity(c.es, restriction="smooth"),
     EstimationError, r"^sensitivity: restriction='smooth' is not one of \['relative_magnitude', "
                      r"'smoothness'\]; pass one of those \(did you mean 'smoothness'\?\)\.$"),
    ("sensitivity-m-negative", lambda c: em.sensitivity(c.es, m=[-1, 1]),
     EstimationError, r"^sensitivity: m=\[-1, 1\] must be a non-empty list of numbers >= 0"),
    ("sensitivity-m-text", lambda c: em.sensitivity(c.es, m=["one"]),
     EstimationError, r"^sensitivity: m=\['one'\] must be a non-empty list of numbers >= 0"),
    ("sensitivity-event-time-fraction", lambda c: em.sensitivity(c.es, event_time=0.5),
     EstimationError, r"^sensitivity: event_time=0\.5 is not a whole number; an event time"),
    ("sensitivity-event-time-not-post", lambda c: em.sensitivity(c.es, event_time=9),
     EstimationError, r"^sensitivity: event_time=9 is not a post-period of the event study"),
    ("sensitivity-seed-text", lambda c: em.sensitivity(c.es, seed="0"),
     EstimationError, r"^sensitivity: seed='0' must be a non-negative whole number"),
    ("honest_ci-m-negative",
     lambda c: em.honest_ci(np.array([0.1, -0.1, 0.5, 0.6]), np.eye(4) * 0.04, m=-1,
                            restriction="smoothness", num_pre_periods=2, num_post_periods=2),
     EstimationError, r"^honest_ci: m=-1 must be a finite number >= 0\.$"),
    ("honest_ci-m-none",
     lambda c: em.honest_ci(np.array([0.1, -0.1, 0.5, 0.6]), np.eye(4) * 0.04, m=None,
                            restriction="smoothness", num_pre_periods=2, num_post_periods=2),
     EstimationError, r"^honest_ci: m=None must be a finite number >= 0\.$"),
    ("pretrend_test-margin-text", lambda c: em.pretrend_test(c.es, margin="0.1"),
     EstimationError, r"^pretrend_test: margin='0\.1' must be a positive number\.$"),
    ("honest_ci-seed-text",
     lambda c: em.honest_ci(np.array([0.1, -0.1, 0.5, 0.6]), np.eye(4) * 0.04, m=1,
                            restriction="relative_magnitude", num_pre_periods=2,
                            num_post_periods=2, seed="5"),
     EstimationError, r"^honest_ci: seed='5' must be a non-negative whole number"),
    # -- calibrate and placebo_study --------------------------------------------------------
    ("placebo_study-adoption-fraction",
     lambda c: em.placebo_study(c.panel, "y", em.calibrate.twfe(), pool=c.never,
                                adoption=5.5),
     EstimationError, r"^placebo_study: adoption=5\.5 is not a whole number; a period is a "
                      r"whole number \(the panel covers 1-10\)"),
    ("placebo_study-adoption-first",
     lambda c: em.placebo_study(c.panel, "y", em.calibrate.twfe(), pool=c.never, adoption=1),
     EstimationError, r"^placebo_study: adoption=1 must be a period of the panel after its "
                      r"first \(1-10\)\.$"),
    ("placebo_study-effect-text",
     lambda c: em.placebo_study(c.panel, "y", em.calibrate.twfe(), pool=c.never, adoption=6,
                                effect="1"),
     EstimationError, r"^placebo_study: effect='1' must be a finite number\.$"),
    ("placebo_study-seed-text",
     lambda c: em.placebo_study(c.panel, "y", em.calibrate.twfe(), pool=c.never, adoption=6,
                                n_units=3, seed="1"),
     EstimationError, r"^placebo_study: seed='1' must be a non-negative whole number"),
    ("placebo_study-pool-none",
     lambda c: em.placebo_study(c.panel, "y", em.calibrate.twfe(), pool=None, adoption=6),
     EstimationError, r"^placebo_study: pool=None must be a unit id or a list of them"),
    ("placebo_study-pool-small",
     lambda c: em.placebo_study(c.panel, "y", em.calibrate.twfe(), pool=c.never[:2],
                                adoption=6),
     EstimationError, r"^placebo_study: the pool has 2 untreated units; a placebo study needs "
                      r"at least 3"),
    ("calibrate-att_gt-kind-typo", lambda c: em.calibrate.att_gt("dinamic"),
     EstimationError, r"^calibrate\.att_gt: kind='dinamic' is not one of .* \(did you mean "
                      r"'dynamic'\?\)\.$"),
    ("calibrate-sdid-seed-text", lambda c: em.calibrate.sdid(seed="0"),
     EstimationError, r"^calibrate\.sdid: seed='0' must be a non-negative whole number"),
    ("calibrate-event_study-event-time",
     lambda c: em.calibrate.event_study(event_time=1.5),
     EstimationError, r"^calibrate\.event_study: event_time=1\.5 is not a whole number"),
    ("calibrate-permutation_did2x2-post-text",
     lambda c: em.calibrate.permutation_did2x2(pre=[3], post="7"),
     EstimationError, r"^calibrate\.permutation_did2x2: post='7' is text"),
    # -- power ----------------------------------------------------------------------------
    ("mde-power-percent", lambda c: em.minimum_detectable_effect(np.arange(20.0), power=80),
     EstimationError, r"^minimum_detectable_effect: power=80 must be a number strictly "
                      r"between 0 and 1, e\.g\. 0\.8\.$"),
    ("mde-power-text", lambda c: em.minimum_detectable_effect(np.arange(20.0), power="0.8"),
     EstimationError, r"^minimum_detectable_effect: power='0\.8' must be a number strictly"),
    ("mde-distribution-text", lambda c: em.minimum_detectable_effect(["a", "b"]),
     EstimationError, r"^minimum_detectable_effect: distribution must be an array of placebo "
                      r"estimates"),
    ("mde-conf-level-95", lambda c: em.minimum_detectable_effect(np.arange(20.0), conf_level=95),
     EstimationError, r"^minimum_detectable_effect: conf_level=95 must be a number strictly"),
    # -- data sets ------------------------------------------------------------------------
    ("datasets-simulated-seed-text", lambda c: em.datasets.simulated(seed="1"),
     EstimationError, r"^datasets\.simulated: seed='1' must be a non-negative whole number .*: "
                      r"pass seed=1\.$"),
    ("datasets-simulated_districts-seed-negative",
     lambda c: em.datasets.simulated_districts(seed=-1),
     EstimationError, r"^datasets\.simulated_districts: seed=-1 must be a non-negative whole "
                      r"number"),
    # -- the command ------------------------------------------------------------------------
    ("cli-unknown-case", lambda c: _cli("run", "--cases", "trelleborgg", "--out", str(c.tmp)),
     DesignError, r"^--cases: unknown \['trelleborgg'\]; known cases are \[.*\] \(did you mean "
                  r"'trelleborg'\?\)\.$"),
    ("cli-data-missing", lambda c: _cli("run", "--data", str(c.tmp / "none.csv"), "--out",
                                        str(c.tmp)),
     DataSourceError, r"^--data: no file or folder .*none\.csv'; give 'simulated', 'kolada'"),
    ("cli-districts-missing",
     lambda c: _cli("run", "--districts", str(c.tmp / "d.csv"), "--cases", "lindangen",
                    "--out", str(c.tmp)),
     DataSourceError, r"^--districts: no file .*d\.csv'; give a CSV of the district panel"),
    ("cli-offline-without-kolada", lambda c: _cli("run", "--offline", "--out", str(c.tmp)),
     DataSourceError, r"^--offline apply only to --data kolada \(the data are --data "
                      r"'simulated'\)"),
    ("cli-analyses-missing",
     lambda c: _cli("run", "--analyses", str(c.tmp / "nowhere"), "--out", str(c.tmp)),
     DataSourceError, r"^--analyses: no folder .*nowhere'"),
    ("cli-out-is-a-file", lambda c: _cli("run", "--out", str(c.tmp / "a_file.txt")),
     DataSourceError, r"^--out: .*a_file\.txt' is a file, not a folder"),
    ("cli-gender-with-simulated", lambda c: _cli("run", "--gender", "K", "--out", str(c.tmp)),
     DataSourceError, r"^--gender K: --data simulated holds totals \(T\) only"),
]


def test_the_catalogue_is_large_and_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) >= 45
    assert len(set(ids)) == len(ids)
    assert all(issubclass(e, EvalModelError | EvalModelWarning) for _, _, e, _ in CASES)
    assert all(e is not EvalModelError for _, _, e, _ in CASES)  # the subclass is pinned


@pytest.mark.parametrize(("call", "expected", "pattern"),
                         [pytest.param(call, exp, pat, id=name) for name, call, exp, pat in CASES])
def test_malformed_argument(ctx: Ctx, call: Call, expected: type[Exception],
                            pattern: str) -> None:
    if issubclass(expected, Warning):
        with pytest.warns(expected, match=pattern):
            _quiet_except(expected, lambda: call(ctx))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        with pytest.raises(expected, match=pattern) as info:
            call(ctx)
    assert type(info.value) is expected  # not a subclass of it: exactly the class pinned


def _quiet_except(kind: type[Warning], call: Callable[[], Any]) -> Any:
    """Run ``call`` ignoring evalmodel's warnings other than ``kind``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        warnings.simplefilter("always", kind)
        return call()


def test_the_command_prints_the_error_and_exits_2(ctx: Ctx,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from evalmodel.cli import main

    assert main(["run", "--cases", "trelleborgg", "--out", str(ctx.tmp)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalmodel: error: --cases: unknown ['trelleborgg']")
    assert "(did you mean 'trelleborg'?)" in err
