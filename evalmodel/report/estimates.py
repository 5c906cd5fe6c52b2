"""Every estimate the report shows for one outcome of a case, each computed once.

:class:`OutcomeEstimates` is the store the section builders, the triangulation and the verdict
read: the 2x2 DiD, two-way FE, Callaway-Sant'Anna with its aggregations, the Sun-Abraham and
imputation event studies, synthetic control, synthetic DiD, the permutation tests of 2x2
statistics, Conley-Taber intervals, minimum detectable effects, the placebo event study with its
pre-trend test and sensitivity bounds, and the Bacon decomposition. Each is computed on first
use and kept; nothing downstream re-runs an estimator or looks a number up in a table.

An estimator that may fail is held as a :class:`Fit`: its result or the error, and the warnings
it raised, so that each reader decides, as before, whether they become notes or are passed on.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from evalmodel.cases import Design
from evalmodel.errors import EvalModelError, EvalModelWarning
from evalmodel.estimators.aggregate import AggregateResult
from evalmodel.estimators.bacon import BaconResult, bacon
from evalmodel.estimators.did import did2x2, twfe
from evalmodel.estimators.event_study import EventStudyResult, event_study
from evalmodel.estimators.sdid import SdidResult, sdid
from evalmodel.estimators.staggered import AttGtResult, att_gt
from evalmodel.estimators.synth import SynthResult, synth
from evalmodel.estimators.synth_diagnostics import HullDistance, choose, hull_of
from evalmodel.inference.conley_taber import ConleyTaberResult, conley_taber
from evalmodel.inference.permutation import (
    DiD2x2Statistic,
    PermutationResult,
    PermutationSetup,
    permutation_setup,
)
from evalmodel.inference.placebo_event import PlaceboEventStudy, placebo_event_study
from evalmodel.inference.power import MDEResult, minimum_detectable_effect
from evalmodel.inference.sensitivity import (
    PretrendResult,
    SensitivityResult,
    pretrend_test,
    sensitivity,
)
from evalmodel.names import unit_label
from evalmodel.report.plan import OutcomePlan
from evalmodel.report.settings import (
    CONF_LEVEL,
    DID_WINDOW,
    EVENT_WINDOW,
    N_DRAWS,
    RM_GRID,
    SEED,
    few_treated,
)
from evalmodel.results import EstimateResult

__all__ = ["AGGREGATIONS", "AUGMENTED", "Fit", "OutcomeEstimates", "Sensitivity", "Staggered",
           "SynthChoice", "event_window", "reemit"]

T = TypeVar("T")
Periods = tuple[int, ...]

#: The Callaway-Sant'Anna aggregations the report shows, in order.
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")


@dataclass(frozen=True)
class Fit(Generic[T]):
    """One estimator call: its result, or the error that stopped it, and its warnings.

    Attributes
    ----------
    value : result or None
        ``None`` when the estimator raised.
    error : EvalModelError or None
        What it raised.
    caught : tuple of warnings.WarningMessage
        Every warning it raised (recorded, not shown).
    """

    value: T | None
    error: EvalModelError | None = None
    caught: tuple[warnings.WarningMessage, ...] = ()

    def messages(self, category: type[Warning] = Warning) -> list[str]:
        """The texts of the caught warnings of ``category``."""
        return [str(w.message) for w in self.caught if issubclass(w.category, category)]

    def reemit(self, skip: type[Warning] | None = None) -> None:
        """Warn again with every caught warning (but those of ``skip``), for the caller's
        handlers to record."""
        reemit(self.caught, skip)


def reemit(caught: Sequence[warnings.WarningMessage], skip: type[Warning] | None = None
           ) -> None:
    """Warn again with every warning of ``caught`` but those of ``skip``."""
    for w in caught:
        if skip is None or not issubclass(w.category, skip):
            warnings.warn(w.message, w.category, stacklevel=3)


def _fit(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Fit[T]:
    """Run ``fn`` once, recording every warning and holding an :class:`EvalModelError`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value: T | None = fn(*args, **kwargs)
            error = None
        except EvalModelError as exc:
            value, error = None, exc
    return Fit(value, error, tuple(caught))


@dataclass(frozen=True)
class Staggered:
    """Callaway-Sant'Anna: the ATT(g, t) fit, its aggregations and the warnings of both."""

    result: AttGtResult
    aggregations: dict[str, AggregateResult]
    caught: tuple[warnings.WarningMessage, ...] = ()


@dataclass(frozen=True)
class SynthChoice:
    """The synthetic control the convex-hull diagnostic calls for (issue 14).

    Attributes
    ----------
    hull : HullDistance
        The treated unit's distance from the donors' hull, against the noise scale.
    method : {"synthetic control", "augmented synthetic control"}
        Plain inside the hull; augmented outside it, where it was estimated.
    reason : str
        Why, in plain words.
    """

    hull: HullDistance
    method: str
    reason: str

    @property
    def augmented(self) -> bool:
        """Whether the augmented synthetic control is the one chosen."""
        return self.method == AUGMENTED


#: The method name of the ridge-augmented synthetic control.
AUGMENTED = "augmented synthetic control"


@dataclass(frozen=True)
class Sensitivity:
    """The placebo event study (treated against the comparison mean, placebo covariance), its
    pre-trend test and the robust sets of each restriction, as far as they were computed
    before ``error``."""

    event_study: PlaceboEventStudy | None = None
    pretrend: PretrendResult | None = None
    bounds: dict[str, SensitivityResult] = field(default_factory=dict)
    grids: dict[str, tuple[float, ...]] = field(default_factory=dict)
    error: EvalModelError | None = None
    caught: tuple[warnings.WarningMessage, ...] = ()


def event_window(design: Design) -> tuple[int, int]:
    """:data:`~evalmodel.report.settings.EVENT_WINDOW`, narrowed to the event times the design
    observes."""
    return (max(EVENT_WINDOW[0], -len(design.pre_periods)),
            min(EVENT_WINDOW[1], len(design.post_periods) - 1))


class OutcomeEstimates:
    """Every estimate of one outcome of a case's design, each computed on first use and kept.

    Parameters
    ----------
    design : Design
        The case's design (restricted to the outcome's window by the plan).
    outcome : str
        The KPI estimated.
    plan : OutcomePlan, optional
        The outcome's plan (its window and series breaks), when the report has one.
    """

    def __init__(self, design: Design, outcome: str, plan: OutcomePlan | None = None) -> None:
        self.design = design
        self.outcome = outcome
        self.plan = plan
        self._permutations: dict[tuple[Periods, Periods], Fit[PermutationResult]] = {}
        self._conley_taber: dict[tuple[Periods, Periods], Fit[ConleyTaberResult]] = {}
        self._mde: dict[tuple[Periods, Periods], MDEResult] = {}
        self._event_studies: dict[str, Fit[EventStudyResult]] = {}

    def __repr__(self) -> str:
        return f"OutcomeEstimates({self.design.case.name!r}, {self.outcome!r})"

    @property
    def few(self) -> bool:
        """Whether the design has too few treated units for analytic inference."""
        return few_treated(len(self.design.treated))

    # -- the canonical estimators ----------------------------------------------------------
    @property
    def did_periods(self) -> tuple[Periods, Periods]:
        """Pre and post periods of the report's 2x2 comparison (the last ``DID_WINDOW[0]``
        before adoption against the first ``DID_WINDOW[1]`` from it)."""
        return (tuple(self.design.pre_periods[-DID_WINDOW[0]:]),
                tuple(self.design.post_periods[:DID_WINDOW[1]]))

    @cached_property
    def did2x2(self) -> EstimateResult:
        """The 2x2 DiD of :attr:`did_periods` (an error fails the case)."""
        pre, post = self.did_periods
        return did2x2(self.design.panel, self.outcome, pre=pre, post=post, seed=SEED,
                      conf_level=CONF_LEVEL)

    @cached_property
    def twfe(self) -> EstimateResult:
        """Two-way fixed effects over every period (an error fails the case)."""
        return twfe(self.design.panel, self.outcome, seed=SEED, conf_level=CONF_LEVEL)

    @cached_property
    def staggered(self) -> Staggered:
        """Callaway-Sant'Anna (doubly robust, never-treated comparison units, the default
        inference) and its four aggregations; its EvalModel warnings are recorded."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", EvalModelWarning)
            res = att_gt(self.design.panel, self.outcome, seed=SEED, conf_level=CONF_LEVEL)
            aggs = {k: res.aggregate(k) for k in AGGREGATIONS}  # type: ignore[arg-type]
        return Staggered(res, aggs, tuple(caught))

    def event_study(self, estimator: str) -> Fit[EventStudyResult]:
        """The event study of ``estimator`` (``"sun_abraham"`` or ``"imputation"``) over
        :func:`event_window`, with analytic inference: the report uses its coefficients and
        covariance, and tests the post-period mean by the permutation test of the equal 2x2
        DiD where there are few treated units (the triangulation)."""
        if estimator not in self._event_studies:
            self._event_studies[estimator] = _fit(
                event_study, self.design.panel, self.outcome, window=event_window(self.design),
                estimator=estimator, inference="analytic", conf_level=CONF_LEVEL)
        return self._event_studies[estimator]

    @cached_property
    def synth(self) -> Fit[SynthResult] | None:
        """Synthetic control with placebos in space; ``None`` unless one unit is treated."""
        if len(self.design.treated) != 1:
            return None
        return _fit(synth, self.design.panel, self.outcome, treated=self.design.treated[0],
                    start=self.design.adoption)

    @cached_property
    def synth_augmented(self) -> Fit[SynthResult] | None:
        """Ridge-augmented synthetic control with placebos in space (issue 14; design-based,
        as ``inference="auto"`` chooses for one treated unit); ``None`` unless one unit is
        treated."""
        if len(self.design.treated) != 1:
            return None
        return _fit(synth, self.design.panel, self.outcome, treated=self.design.treated[0],
                    start=self.design.adoption, augment="ridge", inference="placebo",
                    conf_level=CONF_LEVEL)

    @cached_property
    def synth_augmented_conformal(self) -> Fit[SynthResult] | None:
        """The same augmented synthetic control with conformal inference (shown beside the
        placebo test); ``None`` unless one unit is treated."""
        if len(self.design.treated) != 1:
            return None
        return _fit(synth, self.design.panel, self.outcome, treated=self.design.treated[0],
                    start=self.design.adoption, augment="ridge", inference="conformal",
                    conf_level=CONF_LEVEL)

    @cached_property
    def synth_choice(self) -> SynthChoice | None:
        """The synthetic control the hull diagnostic calls for
        (:func:`~evalmodel.estimators.synth_diagnostics.choose`), the one the synthetic-control
        section marks and the triangulation and the verdict use: plain inside the donors'
        convex hull, augmented outside it (the plain one where the augmented fit failed);
        ``None`` without a plain fit."""
        rs = self.synth.value if self.synth is not None else None
        if rs is None:
            return None
        hull = hull_of(rs)
        method, reason = choose(hull, unit_label(str(rs.details["treated"])))
        if method == AUGMENTED:
            fit = self.synth_augmented
            ra = fit.value if fit is not None else None
            if ra is None or ra.augmentation is None:
                why = fit.error if fit is not None and fit.error is not None \
                    else "not estimated"
                method, reason = "synthetic control", (
                    f"{reason} The augmented synthetic control failed ({why}), so the plain "
                    "one is shown.")
        return SynthChoice(hull, method, reason)

    @cached_property
    def sdid(self) -> Fit[SdidResult]:
        """Synthetic DiD with a placebo standard error of :data:`N_DRAWS` draws (none when the
        pool is no larger than the treated group)."""
        d = self.design
        placebo = len(d.comparison) > len(d.treated)
        return _fit(sdid, d.panel, self.outcome, treated=list(d.treated), start=d.adoption,
                    inference="placebo" if placebo else "none", n_draws=N_DRAWS, seed=SEED)

    @cached_property
    def bacon(self) -> BaconResult | None:
        """The Goodman-Bacon decomposition, where it matters (several adoption dates in a
        balanced panel); ``None`` otherwise."""
        panel = self.design.panel
        cohorts = panel.cohorts()
        if cohorts[cohorts != 0].nunique() > 1 and panel.is_balanced:
            return bacon(panel, self.outcome)
        return None

    # -- design-based inference ------------------------------------------------------------
    def permutation(self, pre: Sequence[int], post: Sequence[int]) -> Fit[PermutationResult]:
        """Randomisation inference over the comparison pool for the 2x2 DiD of the means of
        ``pre`` against ``post`` (also when the pool is too small to reach the report's level:
        then its interval is the whole line and it never rejects, as did2x2's default)."""
        key = (tuple(int(p) for p in pre), tuple(int(p) for p in post))
        if key not in self._permutations:

            def run() -> PermutationResult:
                stat = DiD2x2Statistic(self.outcome, pre=key[0], post=key[1])
                setup = self._permutation_setup
                setup.reemit()  # its warnings belong to every test made on it
                if setup.value is None:
                    assert setup.error is not None
                    raise setup.error
                return setup.value.test(stat)

            done = self._did2x2_permutation(key)
            self._permutations[key] = Fit(done) if done is not None else _fit(run)
        return self._permutations[key]

    @cached_property
    def _permutation_setup(self) -> Fit[PermutationSetup]:
        """The assignments of every permutation test of a 2x2 statistic over the comparison
        pool (:meth:`permutation`), made once: each test is then the one
        ``permutation_inference`` makes with the same arguments (the same numbers)."""
        d = self.design
        return _fit(permutation_setup, d.panel, self.outcome, treated=d.treated,
                    pool=d.comparison, seed=SEED, conf_level=CONF_LEVEL,
                    allow_unreachable=True)

    def _did2x2_permutation(self, key: tuple[Periods, Periods]) -> PermutationResult | None:
        """The permutation test that :attr:`did2x2` already ran, when it is the one asked for.

        With few treated units ``did2x2`` tests its estimate by the permutation of the same
        2x2 statistic over the same pool with the report's seed and level; that result is
        reused (a permutation of the 2x2 means raises no warning, so none is lost). Only
        when ``did2x2`` has been computed already, on a complete balanced window (where it
        permutes the 2x2 means, as here), and its test matches in every argument.
        """
        if key != self.did_periods or "did2x2" not in self.__dict__:
            return None
        perm = self.did2x2.details.get("permutation")
        d = self.design
        if not (isinstance(perm, PermutationResult) and perm.seed == SEED
                and perm.conf_level == CONF_LEVEL and tuple(perm.treated) == tuple(d.treated)
                and tuple(perm.pool) == tuple(d.comparison)):
            return None
        window = d.panel.select(units=[*d.treated, *d.comparison], periods=[*key[0], *key[1]])
        if not (window.is_balanced and bool(window.data[self.outcome].notna().all())):
            return None
        return perm

    def conley_taber(self, pre: Sequence[int], post: Sequence[int]) -> Fit[ConleyTaberResult]:
        """Conley-Taber interval for the 2x2 DiD of ``pre`` against ``post``."""
        key = (tuple(int(p) for p in pre), tuple(int(p) for p in post))
        if key not in self._conley_taber:
            d = self.design
            self._conley_taber[key] = _fit(conley_taber, d.panel, self.outcome,
                                           treated=d.treated, pool=d.comparison, pre=key[0],
                                           post=key[1], seed=SEED)
        return self._conley_taber[key]

    def mde(self, pre: Sequence[int], post: Sequence[int]) -> MDEResult | None:
        """Minimum detectable effect (80 % power) of the permutation test of ``pre`` against
        ``post``; ``None`` when that test is not possible."""
        key = (tuple(int(p) for p in pre), tuple(int(p) for p in post))
        if key not in self._mde:
            perm = self.permutation(*key).value
            if perm is None:
                return None
            self._mde[key] = minimum_detectable_effect(perm.distribution)
        return self._mde[key]

    @property
    def inference_tests(self) -> dict[str, tuple[Periods, Periods]]:
        """The 2x2 statistics of the inference section, by label: the 2x2 window, and every
        pre against every post period (TWFE's estimate on a balanced panel)."""
        pre, post = self.did_periods
        return {
            f"did2x2 ({pre[0]}-{pre[-1]} vs {post[0]}-{post[-1]})": (pre, post),
            "twfe (all pre vs all post periods)": (tuple(self.design.pre_periods),
                                                   tuple(self.design.post_periods)),
        }

    @property
    def mde_headline(self) -> float | None:
        """The minimum detectable effect of the first inference test that could be run."""
        for pre, post in self.inference_tests.values():
            m = self.mde(pre, post)
            if m is not None:
                return float(m.mde)
        return None

    @cached_property
    def sensitivity(self) -> Sensitivity:
        """Placebo event study (reference the year before adoption), its pre-trend test and
        the relative-magnitude and smoothness robust sets of the first treated year."""
        import numpy as np

        d = self.design
        found: dict[str, Any] = {"bounds": {}, "grids": {}}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                es = placebo_event_study(d.panel, self.outcome, treated=list(d.treated),
                                         pool=list(d.comparison), adoption=d.adoption)
                found["event_study"] = es
                found["pretrend"] = pretrend_test(es)
                scale = float(np.sqrt(es.vcov.to_numpy().diagonal().mean()))
                grids = {"relative_magnitude": RM_GRID,
                         "smoothness": tuple(float(x) for x in np.linspace(0, 1, 5) * scale)}
                for restriction, grid in grids.items():
                    found["bounds"][restriction] = sensitivity(
                        es, restriction=restriction, m=list(grid), seed=SEED)  # type: ignore[arg-type]
                    found["grids"][restriction] = grid
            except EvalModelError as exc:
                found["error"] = exc
        return Sensitivity(**found, caught=tuple(caught))
