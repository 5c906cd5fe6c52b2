"""The synthetic control method for one treated unit (Abadie, Diamond and Hainmueller 2010).

A weighted average of donor units, with non-negative weights summing to one, is chosen so that
it matches the treated unit's predictors (variables averaged over chosen pre-periods, or R
``Synth``-style ``(variable, periods, operation)`` triples), with the predictors weighted by a
matrix V that minimises the outcome's mean squared prediction error over the fit periods (see
:mod:`evalmodel.core.synth_solver`). The effect in each post-period is the gap between the
treated unit and its synthetic control; inference is by placebos in space
(:mod:`evalmodel.inference.placebo`): one treated unit is one treated cluster, fewer than
``MIN_TREATED_CLUSTERS``, so the default ``inference="auto"`` is design-based.

Two p-values, two tests: the table's ``p_value`` (per post-period and for the average) is the
rank of the treated unit's absolute effect among the kept placebos', and the table's interval
inverts that same test, so it excludes 0 exactly when ``p_value <= 1 - conf_level``.
:attr:`SynthResult.p_value_rmspe_ratio` is Abadie, Diamond and Hainmueller's (2010) joint
RMSPE-ratio rank p-value over all post-periods, with no interval.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.core.synth_solver import DEFAULT_OPTIMIZERS, SynthProblem
from evalmodel.errors import ConvexHullWarning, EstimationError, MissingValueWarning
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.estimators.synth_augment import (
    Augmentation,
    augment_fit,
    check_augment,
    conformal_synth,
    placebo_synth,
)
from evalmodel.estimators.synth_design import SynthDesign, check_finite, resolve_design
from evalmodel.inference.placebo import PlaceboResult, placebo_in_space
from evalmodel.months import period_labels, period_span
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, inference_table
from evalmodel.vocabulary import (
    SynthAugment,
    SynthInference,
    SynthOperation,
    SynthPredictorNA,
    SynthVStart,
    check_conf_level,
    check_option,
    check_period,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "Operation",
    "Predictor",
    "SynthInference",
    "SynthOperation",
    "SynthResult",
    "SynthVStart",
    "synth",
]

#: The old name of :data:`~evalmodel.vocabulary.SynthOperation`.
Operation = SynthOperation
#: A predictor: a variable averaged over the pre-periods, or ``(variable, periods, operation)``.
Predictor = str | tuple[str, Sequence[int], str]
#: Null rejection rates at 10 % of plain synthetic control's placebo p-values (effect rank,
#: RMSPE ratio) for a unit outside the others' hull, quoted by the hull warning: 1500 worlds
#: of 16 units, tests/inference/test_placebo_plain_sc_size.py, which checks them.
OUTSIDE_HULL_PLACEBO_SIZE: Mapping[str, float] = MappingProxyType(
    {"effect_rank": 0.92, "rmspe_ratio": 0.12})


@dataclass(frozen=True)
class SynthResult(EstimateResult):
    """Result of :func:`synth`.

    Attributes
    ----------
    weights : pandas.Series
        Unit weights by donor.
    v : pandas.Series
        Predictor weights (diagonal of V) by predictor.
    balance : pandas.DataFrame
        By predictor: ``treated``, ``synthetic``, ``donor_mean`` and ``v``.
    paths : pandas.DataFrame
        By period: ``treated`` and ``synthetic`` outcome.
    gaps : pandas.Series
        Treated minus synthetic, by period.
    pre_rmspe, post_rmspe : float
        Root mean squared gap before and after adoption.
    placebo : PlaceboResult or None
        Placebos in space behind the inference.
    p_value_rmspe_ratio : float
        The RMSPE-ratio rank p-value (a property): a joint test over all post-periods, not
        the table's ``p_value``.

    Notes
    -----
    The :attr:`table`'s ``p_value``, ``ci_lower`` and ``ci_upper`` come from one test, the
    rank of the absolute effect among the kept placebos' (the interval inverts it for a
    constant additive effect), so the interval excludes 0 exactly when ``p_value <= 1 -
    conf_level``. The RMSPE-ratio p-value is a different test and is only reported under its
    own name (:attr:`p_value_rmspe_ratio`, and a header line of :meth:`summary`).
    """

    weights: pd.Series = field(default_factory=pd.Series)
    v: pd.Series = field(default_factory=pd.Series)
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    paths: pd.DataFrame = field(default_factory=pd.DataFrame)
    gaps: pd.Series = field(default_factory=pd.Series)
    pre_rmspe: float = float("nan")
    post_rmspe: float = float("nan")
    placebo: PlaceboResult | None = None
    augmentation: Augmentation | None = None

    @property
    def bias(self) -> float:
        """Estimated bias of the plain synthetic control's average effect (the plain minus the
        augmented estimate); NaN without ``augment=``."""
        return float("nan") if self.augmentation is None else self.augmentation.average_bias

    @property
    def p_value_rmspe_ratio(self) -> float:
        """RMSPE-ratio rank p-value (Abadie, Diamond and Hainmueller 2010); NaN without placebos.

        The share of all units, the treated included, whose post/pre RMSPE ratio is at least
        the treated unit's. Not the table's ``p_value`` (the effect-rank test of each row).
        """
        return float("nan") if self.placebo is None else self.placebo.p_value_rmspe_ratio

    def _header(self) -> tuple[tuple[str, str], ...]:
        head = super()._header()
        if self.augmentation is not None:
            a = self.augmentation
            head = (*head, ("Augmentation", f"{a.kind}, penalty {a.penalty:.4g}"),
                    ("Plain SC estimate; estimated bias",
                     f"{a.scm_estimate:.4f}; {a.average_bias:.4f}"))
        if self.placebo is None:
            return head
        return (*head, ("RMSPE-ratio p-value (joint test; not the table's p_value)",
                        f"{self.p_value_rmspe_ratio:.4f}"))

    def plot(self, ax: Axes | None = None) -> Axes:
        """Treated and synthetic paths; returns the Axes."""
        from evalmodel.plotting.synth import paths_plot

        return paths_plot(self, ax=ax)

    def refit(self, **changes: Any) -> SynthResult:
        """The same synthetic control with some arguments changed, without inference.

        ``changes`` may replace the ``panel`` or any keyword of :func:`synth` recorded in
        ``details["call"]`` (the placebo-in-time and leave-one-out checks of
        :mod:`evalmodel.inference.placebo` re-fit through this method).
        """
        call = dict(self.details["call"])
        panel = changes.pop("panel", self.details["panel"])
        call.update(changes)
        outcome = call.pop("outcome")
        return synth(panel, outcome, inference="none", **call)


def _label(var: str, periods: Sequence[int], op: str) -> str:
    ps = list(periods)
    span = str(ps[0]) if len(ps) == 1 else f"{ps[0]}-{ps[-1]}"
    return f"{var} ({span})" if op == "mean" else f"{var} ({span}, {op})"


def _predictors(panel: Panel, design: SynthDesign, predictors: Sequence[Predictor],
                pre: np.ndarray, arg: str, skip_na: bool = False
                ) -> tuple[np.ndarray, list[str], list[str]]:
    """The predictor matrix (k x units, in the design's unit order), its labels, and what was
    skipped: one line per predictor with missing cells left out of its summary (``skip_na``)."""
    rows, labels, skipped = [], [], []
    units = list(design.y.index)
    for p in predictors:
        if isinstance(p, str):
            var, periods, op = p, [int(t) for t in pre], "mean"
        elif isinstance(p, tuple | list) and len(p) == 3:
            var, periods, op = str(p[0]), [int(t) for t in p[1]], str(p[2])
        else:
            raise EstimationError(
                f"synth: {arg} entry {p!r} is neither a variable name nor a (variable, periods, "
                "operation) triple; write e.g. 'N01951' or ('N31807', [2005, 2006], 'mean')."
            )
        if var not in panel.outcomes:
            raise EstimationError(
                f"synth: predictor variable {var!r} is not in the panel; variables are "
                f"{panel.outcomes[:10]}."
            )
        check_option("synth", f"predictor {var!r} operation", op, SynthOperation)
        late = [t for t in periods if t not in set(pre.tolist())]
        if not periods or late:
            shown: list[int] | list[str] = late or periods
            if panel.frequency == "month":  # months by their labels, as the reader wrote them
                shown = period_labels(late or periods, panel.frequency)
            raise EstimationError(
                f"synth: predictor {var!r} uses periods {shown} that are not "
                f"pre-periods ({period_span(pre[0], pre[-1], panel.frequency)}); predictors must "
                "be measured before adoption."
            )
        block = panel.wide(var).reindex(index=units, columns=periods)
        label = _label(var, periods, op)
        n_na = int(block.isna().to_numpy().sum())
        if skip_na and n_na:
            empty = block.index[block.isna().all(axis=1)]
            if len(empty):
                raise EstimationError(
                    f"synth: predictor {label!r} has no value at all for unit {empty[0]!r} "
                    f"({len(empty)} unit(s) in all); choose periods where it is observed or "
                    "drop that unit (donors=[...])."
                )
            units_na = int(block.isna().any(axis=1).sum())
            skipped.append(f"{label}: {n_na} missing cell(s) of {units_na} unit(s) left out of "
                           f"the {op}")
        else:
            check_finite(block, f"predictor {var!r}", "synth", panel.frequency)
        rows.append(getattr(block, op)(axis=1).to_numpy(dtype=float))
        labels.append(label)
    return np.vstack(rows), labels, skipped


def _check(inference: str, v_start: str, ratio: float, conf_level: float) -> None:
    check_option("synth", "inference", inference, SynthInference)
    check_option("synth", "v_start", v_start, SynthVStart)
    if not isinstance(ratio, numbers.Real) or isinstance(ratio, bool) or not ratio > 0:
        raise EstimationError(
            f"synth: max_pre_mspe_ratio={ratio!r} must be a positive number (5 as in Abadie "
            "et al. 2010; use float('inf') to keep every placebo)."
        )
    check_conf_level("synth", conf_level)


def _hull_warning(x: np.ndarray | None, labels: list[str], y: np.ndarray, pre_cols: np.ndarray,
                  pre_rmspe: float, *, augmented: bool = False) -> str | None:
    """Say why the treated unit (last column/row) is outside its donors' hull, if it is.

    Two sufficient signs: a predictor outside the donors' range (when predictors are given),
    or a pre-period outcome above (below) every donor's in at least half the pre-periods.
    For plain synthetic control (``augmented`` false) the message adds that its placebo
    p-values may be anti-conservative for such a unit, with the rates measured in simulation
    (:data:`OUTSIDE_HULL_PLACEBO_SIZE`).
    """
    out = np.empty(0, dtype=int)
    if x is not None:
        x0, x1 = x[:, :-1], x[:, -1]
        out = np.flatnonzero((x1 > x0.max(axis=1)) | (x1 < x0.min(axis=1)))
    pre = y[:, pre_cols]
    above = (pre[-1] > pre[:-1].max(axis=0)).mean()
    below = (pre[-1] < pre[:-1].min(axis=0)).mean()
    if out.size == 0 and max(above, below) < 0.5:
        return None
    why = (f"predictor {labels[out[0]]!r} is outside the donors' range" if out.size else
           f"its pre-period outcome is {'above' if above >= below else 'below'} every donor's "
           f"in {max(above, below):.0%} of pre-periods")
    msg = (f"synth: the treated unit lies outside the donors' convex hull ({why}); no weighted "
           f"average of donors can match it: pre-period RMSPE = {pre_rmspe:.4g}. Consider "
           "synthetic DiD (em.sdid), which allows a level difference.")
    if augmented:
        return msg
    size = OUTSIDE_HULL_PLACEBO_SIZE
    return (f"{msg} Its placebo p-values may be anti-conservative: in simulated worlds with no "
            "effect, a unit outside the others' hull was rejected at 10 % by the effect-rank "
            f"p-value in {size['effect_rank']:.0%} of them and by the RMSPE-ratio p-value in "
            f"{size['rmspe_ratio']:.0%} (exact size 1/16 with 16 units). augment='ridge' "
            "reduces the bias, and its default placebo test is studentized (each effect over "
            "the unit's own forecast error): 13 % in the same kind of worlds.")


def synth(
    panel: Panel,
    outcome: str,
    *,
    treated: str,
    start: int,
    predictors: Sequence[Predictor] | None = None,
    fit_periods: Sequence[int] | None = None,
    training_predictors: Sequence[Predictor] | None = None,
    donors: Sequence[str] | None = None,
    v_start: SynthVStart = "both",
    custom_v: Sequence[float] | None = None,
    optimizer: str | Sequence[str] = DEFAULT_OPTIMIZERS,
    optimizer_options: Mapping[str, Any] | None = None,
    inference: SynthInference = "auto",
    max_pre_mspe_ratio: float = 5.0,
    conf_level: float = 0.95,
    augment: SynthAugment = "none",
    ridge_lambda: float | None = None,
    predictor_na: SynthPredictorNA = "raise",
) -> SynthResult:
    """Synthetic control estimate of the effect on one treated unit.

    Parameters
    ----------
    panel : Panel
        The panel (the case registry's design panel holds the treated unit and its donors).
    outcome : str
        Outcome variable.
    treated : str
        The treated unit.
    start : int
        First treated period.
    predictors : sequence, optional
        Variable names (averaged over all pre-periods) or ``(variable, periods, operation)``
        triples with ``operation`` in ``mean, median, min, max, sum``. By default every
        pre-period value of the outcome, equally weighted and unscaled (V is then not
        optimised: the weights minimise the pre-period MSPE directly).
    fit_periods : sequence of int, optional
        Pre-periods whose outcome fit chooses V; by default all pre-periods.
    training_predictors : sequence, optional
        The same predictors measured in a training window (Abadie, Diamond and Hainmueller
        2015): V is chosen with these and the fit over ``fit_periods`` (the validation window),
        then applied to ``predictors`` to give the weights.
    donors : sequence of str, optional
        Donor pool; by default every other never-treated unit of the panel.
    v_start : {"both", "equal", "regression", "global"}
        Starts of the V search (:mod:`evalmodel.core.synth_solver`). ``"both"`` (default) is
        R ``Synth``'s: equal weights and the regression-based start; ``"global"`` adds the
        optimum of a seeded global search (differential evolution, the role of ``Synth``'s
        ``genoud=TRUE``). Every optimiser runs from every start and the smallest fit-period
        MSPE is kept; all runs are in ``details["v_search"]``.
    custom_v : sequence of float, optional
        Fixed predictor weights instead of optimising V.
    optimizer : str or sequence of str
        ``scipy.optimize.minimize`` methods of the V search; by default Nelder-Mead and BFGS,
        R ``Synth``'s ``optimxmethod``, with R ``optim``'s settings. Placebo fits refine the
        treated unit's V with the first of them only.
    optimizer_options : mapping, optional
        Options of every optimiser, replacing R ``optim``'s settings.
    inference : {"auto", "placebo", "conformal", "none"}
        ``"auto"`` (default): ``"placebo"``, since one treated unit is fewer than
        ``MIN_TREATED_CLUSTERS`` (5) treated clusters and analytic errors would not be valid,
        with or without ``augment=``. ``"placebo"``: placebos in space, every donor in
        turn as the treated unit against the other donors (with ``augment=``, each placebo
        gets the same augmented fit, its penalty cross-validated on its own data unless
        ``ridge_lambda`` is given, and the table's test is studentized by each unit's
        forecast error; the raw effect-rank test is ``result.placebo.effect_rank_table``:
        :mod:`evalmodel.inference.placebo_ascm`).
        ``"conformal"``: conformal inference (Chernozhukov, Wuthrich and Zhu 2021,
        :mod:`evalmodel.inference.conformal`),
        p-values and the intervals that invert them, per period and for the average effect
        (``std_error`` is NaN). ``"none"``: no inference (NaN standard columns).
    max_pre_mspe_ratio : float
        Placebos whose pre-period MSPE exceeds this multiple of the treated unit's are left out
        of the effect-based p-values and intervals. The default 5 is Abadie, Diamond and
        Hainmueller's (2010) Figure 6 convention, stated on the MSPE scale as they do (5 times
        the MSPE is about 2.24 times the RMSPE). The RMSPE-ratio p-value uses every placebo.
    conf_level : float
        Coverage of the placebo intervals.
    augment : {"none", "ridge", "ridge_fe"}
        Augmented synthetic control (Ben-Michael, Feller and Rothstein 2021,
        :mod:`evalmodel.core.ascm`): ``"ridge"`` corrects the synthetic control by a ridge
        regression of the outcomes on the donors' pre-period outcomes; ``"ridge_fe"`` does so
        on outcomes de-meaned by each unit's pre-period mean (their "fixed effects"
        variant; outcome only, no ``predictors=``). ``weights`` are then the effective
        weights (which may be negative), ``paths``/``gaps`` the augmented ones, and
        ``augmentation`` (:class:`~evalmodel.estimators.synth_augment.Augmentation`) holds
        the penalty, the plain weights and the estimated bias (also ``result.bias``).
    ridge_lambda : float, optional
        The ridge penalty; by default chosen by leave-one-period-out cross-validation over
        the pre-periods (smallest error, as ``augsynth-py``).
    predictor_na : {"raise", "skip"}
        A missing predictor value raises (default), or, with ``"skip"``, is left out of that
        unit's summary over the predictor's periods (R ``Synth``'s ``na.rm = TRUE``), with a
        :class:`~evalmodel.errors.MissingValueWarning` and the count in ``notes``.

    Returns
    -------
    SynthResult
        ``table``: one row per post-period (``term`` the period, ``time``) and the row
        ``term="average"``. ``p_value`` is the effect-rank placebo p-value and
        ``ci_lower``/``ci_upper`` invert that same test (exact duality: the interval excludes
        0 exactly when ``p_value <= 1 - conf_level``); ``std_error`` is the kept placebo
        effects' standard deviation. The RMSPE-ratio p-value is
        ``result.p_value_rmspe_ratio``.

    Raises
    ------
    EstimationError
        Unknown treated unit, fewer than 2 donors or pre-periods, a bad predictor, a missing
        predictor or outcome value (named by unit and period).

    Warns
    -----
    ConvexHullWarning
        When the treated unit lies outside the donors' hull; the message shows the pre-period
        RMSPE and, for plain synthetic control, that its placebo p-values may then be
        anti-conservative (the null rejection rates measured in simulation).
    """
    from evalmodel.solver_options import check_optimizer  # issue 15: typos refused before scipy
    methods = [optimizer] if isinstance(optimizer, str) else list(optimizer)
    if not methods:
        raise EstimationError("synth: optimizer=[] names no method; pass e.g. "
                              "optimizer='Nelder-Mead' or the default ('Nelder-Mead', 'BFGS').")
    refused: list[EstimationError] = []
    for method in methods:
        try:
            check_optimizer("synth", method, optimizer_options)
        except EstimationError as err:
            refused.append(err)
    if refused and len(refused) < len(methods):  # options of one method, not of all
        raise EstimationError(
            f"{refused[0]} optimizer_options apply to every method of optimizer={methods}; "
            "pass one method (e.g. optimizer='Nelder-Mead') to use options of that method only."
        )
    if refused:
        raise refused[0]
    check_option("synth", "predictor_na", predictor_na, SynthPredictorNA)
    _check(inference, v_start, max_pre_mspe_ratio, conf_level)
    check_augment(augment, ridge_lambda, has_predictors=predictors is not None,
                  inference=inference)
    if not isinstance(treated, str):
        raise EstimationError(
            f"synth: treated={treated!r} must be one unit id (a string such as '1287'); for "
            "several treated units use em.sdid."
        )
    design = resolve_design(panel, outcome, treated=treated, start=start, donors=donors,
                            fn="synth")
    check_finite(design.y, f"outcome {outcome!r}", "synth", design.frequency)
    periods = design.periods
    pre = periods[periods < start]
    if fit_periods is None:
        fit = pre
    else:
        if isinstance(fit_periods, str) or not isinstance(fit_periods, Iterable):
            raise EstimationError(
                f"synth: fit_periods={fit_periods!r} must be a sequence of pre-periods, e.g. "
                f"fit_periods=range({int(pre[0])}, {int(pre[-1]) + 1})."
            )
        fit = np.array(sorted(check_period("synth", "fit_periods", t, periods)
                              for t in fit_periods), dtype=int)
        bad = [int(t) for t in fit if t not in set(pre.tolist())]
        if bad or fit.size == 0:
            raise EstimationError(
                f"synth: fit_periods {bad or list(fit)} are not pre-periods "
                f"({int(pre[0])}-{int(pre[-1])}); V must be chosen on pre-adoption fit."
            )
    y = design.y.to_numpy(dtype=float)
    fit_cols = np.searchsorted(periods, fit)
    pre_cols = np.arange(pre.size)
    if predictors is None and (custom_v is not None or training_predictors is not None):
        raise EstimationError(
            "synth: custom_v= and training_predictors= need predictors=[...]; without "
            "predictors the weights fit every pre-period outcome directly and V is not used."
        )
    skipped: list[str] = []
    for arg, given in (("predictors", predictors), ("training_predictors", training_predictors)):
        if given is not None and (isinstance(given, str) or not isinstance(given, Iterable)
                                  or len(list(given)) == 0):
            raise EstimationError(
                f"synth: {arg}={given!r} must be a non-empty list of variable names or "
                "(variable, periods, operation) triples, e.g. ['N01951', ('N31807', [2005, "
                f"2006], 'mean')]; leave {arg} out to fit every pre-period outcome."
            )
    if predictors is None:
        x, labels = y[:, pre_cols].T, [f"{outcome} ({int(t)})" for t in pre]
        problem = SynthProblem(x=x, y=y, fit_cols=fit_cols, scale=False,
                               custom_v=np.full(len(pre), 1.0 / len(pre)))
    else:
        skip = predictor_na == "skip"
        x, labels, skipped = _predictors(panel, design, predictors, pre, "predictors", skip)
        x_train = None
        if training_predictors is not None:
            x_train, _, skipped_train = _predictors(panel, design, training_predictors, pre,
                                                    "training_predictors", skip)
            skipped += [f"training {line}" for line in skipped_train]
            if x_train.shape != x.shape:
                raise EstimationError(
                    f"synth: training_predictors has {x_train.shape[0]} entries but predictors "
                    f"has {x.shape[0]}; list the same variables in the same order."
                )
        cv = None if custom_v is None else np.asarray(custom_v, dtype=float)
        if cv is not None and (cv.shape != (x.shape[0],) or (cv < 0).any() or cv.sum() <= 0):
            raise EstimationError(
                f"synth: custom_v must hold {x.shape[0]} non-negative weights (one per "
                f"predictor), got {list(np.atleast_1d(cv))}."
            )
        problem = SynthProblem(x=x, y=y, fit_cols=fit_cols, x_train=x_train, v_start=v_start,
                               custom_v=cv, optimizer=optimizer,
                               optimizer_options=optimizer_options, pre_cols=pre_cols)
    n0 = len(design.donors)
    pool, target = np.arange(n0), n0
    vfit = problem.fit(target, pool)
    gaps = problem.gaps(target, pool, vfit.w)
    w_eff, synth_path, aug = vfit.w, vfit.w @ y[pool], None
    if augment != "none":
        afit, aug = augment_fit(y, n0, pre_cols, periods, start=int(start),
                                donors=design.donors, unit=panel.unit, kind=augment,
                                weights=None if predictors is None else vfit.w,
                                penalty=ridge_lambda)
        w_eff, synth_path, gaps = afit.weights, afit.path, y[target] - afit.path
    post_mask = periods >= start
    pre_rmspe = float(np.sqrt(np.mean(gaps[pre_cols] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gaps[post_mask] ** 2)))
    notes = list(design.notes)
    if skipped:
        na_msg = ("synth: predictor_na='skip': missing predictor values left out of their "
                  "summaries (R Synth's na.rm = TRUE): " + "; ".join(skipped))
        warnings.warn(na_msg, MissingValueWarning, stacklevel=2)
        notes.append(na_msg.removeprefix("synth: "))
    msg = _hull_warning(None if predictors is None else x, labels, y, pre_cols, pre_rmspe,
                        augmented=augment != "none")
    if msg is not None:
        warnings.warn(msg, ConvexHullWarning, stacklevel=2)
        notes.append(msg.removeprefix("synth: "))
    post = periods[post_mask]
    est = np.append(gaps[post_mask], gaps[post_mask].mean())
    index: dict[str, list[Any]] = {"term": [*(str(int(t)) for t in post), "average"],
             "time": [*(int(t) for t in post), pd.NA]}
    placebo: PlaceboResult | None = None
    notes_inf: list[str] = []
    if aug is not None:
        notes_inf.append(aug.describe())
    if inference == "auto":
        inference = "placebo"
        notes_inf.append(f"inference='auto': design-based (placebos in space), because one "
                         f"treated unit is fewer than {MIN_TREATED_CLUSTERS} treated clusters"
                         + ("; inference='conformal' gives conformal inference instead"
                            if aug is not None else ""))
    if inference == "placebo" and aug is not None:
        placebo, how = placebo_synth(
            y, n0, pre_cols, periods, start=int(start), units=list(design.y.index),
            treated_gaps=gaps, augmentation=aug, given_penalty=ridge_lambda is not None,
            problem=None if predictors is None else problem,
            warm_v=None if predictors is None else vfit.v,
            max_pre_mspe_ratio=max_pre_mspe_ratio, conf_level=conf_level)
        table = placebo.effect_table(index, est, conf_level=conf_level)
    elif inference == "placebo":
        placebo = placebo_in_space(problem, n0, vfit, periods=periods, start=start,
                                   units=list(design.y.index),
                                   max_pre_mspe_ratio=max_pre_mspe_ratio,
                                   conf_level=conf_level)
        table = placebo.effect_table(index, est, conf_level=conf_level)
        how = (f"placebos in space ({n0} donors; {placebo.n_kept} with pre-MSPE within "
               f"{max_pre_mspe_ratio:g} x the treated unit's): effect-rank p-values and the "
               "intervals inverting that test; RMSPE-ratio p-value "
               f"{placebo.p_value_rmspe_ratio:.4f} (separate joint test)")
    elif inference == "conformal":
        conf, how = conformal_synth(y, n0, pre_cols, np.flatnonzero(post_mask), estimates=est,
                                    terms=list(index["term"]), augmentation=aug,
                                    conf_level=conf_level)
        if predictors is not None:
            how += ("; the re-fits use the outcome path, not predictors= (the V search is not "
                    "repeated under each null)")
        table = inference_table(index, est, np.full(est.size, np.nan), conf_level=conf_level)
        table[["ci_lower", "ci_upper", "p_value"]] = conf.table[
            ["ci_lower", "ci_upper", "p_value"]].to_numpy()
        notes_inf.extend(conf.notes)
    else:
        table = inference_table(index, est, np.full(est.size, np.nan), conf_level=conf_level)
        how = "none"
    if placebo is not None and panel.frequency != placebo.frequency:  # months shown as such
        placebo = replace(placebo, frequency=panel.frequency)
    unit = panel.unit
    xs_all = x
    return SynthResult(
        method="synthetic control" if aug is None else "augmented synthetic control",
        outcome=outcome, table=table, inference=how,
        sample=design.sample(), conf_level=conf_level, overall_term="average",
        notes=tuple([*notes, *notes_inf]),
        details={"loss_v": vfit.loss_v, "loss_w": vfit.loss_w, "start": int(start),
                 "v_search": pd.DataFrame(list(vfit.search),
                                          columns=["start", "optimizer", "loss_v"]),
                 "treated": treated, "panel": panel,
                 "call": {"outcome": outcome, "treated": treated, "start": int(start),
                          "predictors": predictors, "fit_periods": fit_periods,
                          "training_predictors": training_predictors,
                          "donors": list(design.donors), "v_start": v_start,
                          "custom_v": custom_v, "optimizer": optimizer,
                          "optimizer_options": optimizer_options, "augment": augment,
                          "ridge_lambda": ridge_lambda, "predictor_na": predictor_na}},
        weights=pd.Series(w_eff, index=pd.Index(design.donors, name=unit), name="weight"),
        v=pd.Series(vfit.v, index=pd.Index(labels, name="predictor"), name="v"),
        balance=pd.DataFrame({"treated": xs_all[:, -1], "synthetic": xs_all[:, :-1] @ w_eff,
                              "donor_mean": xs_all[:, :-1].mean(axis=1), "v": vfit.v},
                             index=pd.Index(labels, name="predictor")),
        paths=pd.DataFrame({"treated": y[target], "synthetic": synth_path},
                           index=pd.Index(periods, name=panel.time)),
        gaps=pd.Series(gaps, index=pd.Index(periods, name=panel.time), name="gap"),
        pre_rmspe=pre_rmspe, post_rmspe=post_rmspe, placebo=placebo, augmentation=aug,
    )
