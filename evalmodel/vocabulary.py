"""One vocabulary for evalmodel's options: the ``Literal`` types, their words and their checks.

Every option of the public API that takes one of a fixed set of words has its ``Literal`` type
here, and the same type serves the type hint and the run-time check
(:func:`check_option`). A wrong word always gives the same message::

    att_gt: inference='bootsrap' is not one of ['auto', 'analytic', 'bootstrap']; pass one of
    those (did you mean 'bootstrap'?).

and a confidence level outside ``(0, 1)`` always gives the one message of
:func:`check_conf_level`. The number of random draws of any resampling or re-assignment
procedure is always called ``n_draws`` (:func:`draws_argument` keeps the old names ``n_perm``,
``n_boot``, ``n_reps`` and ``n_sim`` working for one release, with a ``DeprecationWarning``).

**The words of inference.** The same word means the same thing in every estimator:

``"auto"``
    Chosen from the design: design-based inference when there are fewer than
    ``MIN_TREATED_CLUSTERS`` (5) treated clusters, where cluster-robust formulas are not valid
    (Conley and Taber 2011), and the analytic formula otherwise.
``"analytic"``
    A standard error from a formula: cluster-robust (or HC1) for regressions, the influence
    function for ``att_gt`` and its aggregations.
``"bootstrap"``
    Standard errors from resampling draws: the multiplier bootstrap of the influence functions
    (``att_gt``, with ``multipliers`` the distribution of the multipliers), the wild cluster
    bootstrap (``weights``), or the unit bootstrap of ``sdid``.
``"permutation"`` and ``"placebo"``
    Design-based inference, one idea under two traditional names: the treatment is re-assigned
    to comparison units (each in turn, or drawn sets of them) and the estimate is set against
    the estimates of those fake assignments. ``"permutation"`` is the word of the
    regression estimators (``did2x2``, ``twfe``; :func:`~evalmodel.permutation_inference`),
    which report the randomisation-test p-value and its inverted interval; ``"placebo"`` is the
    word of the synthetic-control literature (``synth``: ranks of post/pre RMSPE ratios over
    the placebo donors; ``sdid``: the placebo standard error of Arkhangelsky et al. 2021), and
    the aggregations of ``att_gt`` call their design-based rows "placebo in space".
``"jackknife"``
    Leave-one-unit-out standard errors (``sdid`` with several treated units).
``"none"``
    Point estimates only.

**Draws.** ``n_draws`` is the number of random draws of every such procedure: placebo assignments
(permutation), bootstrap replications (multiplier, wild, ``sdid``) or simulated errors
(Conley-Taber); ``seed`` seeds them.
"""

from __future__ import annotations

import difflib
import warnings
from typing import Any, Literal, TypeVar, cast, get_args

from evalmodel.errors import EstimationError, EvalModelError

__all__ = [
    "AggregateInference",
    "AggregationKind",
    "AttGtInference",
    "BasePeriod",
    "BreakKind",
    "CacheEntryStatus",
    "CaseLevel",
    "CasePool",
    "Cluster",
    "CompareShow",
    "ConformalScheme",
    "ControlGroup",
    "DemeanMethod",
    "DidInference",
    "DisplacementInference",
    "DisplacementTransform",
    "DrDidMethod",
    "EventStudyEstimator",
    "KoladaGender",
    "KoladaScope",
    "LambdaRule",
    "Multipliers",
    "MultisynthInference",
    "PredictionErrorMethod",
    "Restriction",
    "SdidInference",
    "SdidMethod",
    "SolverEngine",
    "SynthAugment",
    "SynthInference",
    "SynthOperation",
    "SynthVStart",
    "TreatedGaps",
    "WildWeights",
    "check_conf_level",
    "check_option",
    "draws_argument",
    "options_of",
    "renamed_attribute",
]

# -- inference -----------------------------------------------------------------------------
#: ``did2x2`` and ``twfe``: ``"auto"`` is permutation with fewer than 5 treated clusters, else
#: the cluster-robust (analytic) errors.
DidInference = Literal["auto", "analytic", "permutation"]
#: ``att_gt``: ``"auto"`` is analytic for the cells and design-based (placebo in space) for the
#: aggregations with fewer than 5 treated clusters; ``"bootstrap"`` is the multiplier bootstrap.
AttGtInference = Literal["auto", "analytic", "bootstrap"]
#: ``AttGtResult.aggregate``: ``"auto"`` is design-based when ``att_gt`` chose it for few
#: treated clusters, else the inference of the ``att_gt`` result.
AggregateInference = Literal["auto", "analytic", "bootstrap"]
#: ``sdid``: ``"auto"`` is placebo with one treated unit, else the unit bootstrap.
SdidInference = Literal["auto", "placebo", "bootstrap", "jackknife", "none"]
#: ``synth``: ``"auto"`` is placebo (one treated unit is fewer than 5 treated clusters; with
#: ``augment=`` it is conformal), placebo in space over the donors, conformal inference
#: (Chernozhukov, Wuthrich and Zhu 2021), or none.
SynthInference = Literal["auto", "placebo", "conformal", "none"]
#: The displacement designs: ``"auto"`` is permutation with fewer than 5 treated clusters,
#: else analytic.
DisplacementInference = Literal["auto", "permutation", "analytic"]
#: ``multisynth``: ``"auto"`` is placebo (in space) with fewer than 5 treated units, else the
#: leave-one-unit-out jackknife (augsynth's).
MultisynthInference = Literal["auto", "placebo", "jackknife", "none"]
#: Out-of-sample bounds of ``prediction_intervals``: sub-Gaussian, or location-scale
#: (scpi's ``e_method``).
PredictionErrorMethod = Literal["gaussian", "ls"]
#: Multipliers of the multiplier bootstrap (``att_gt(multipliers=...)``).
Multipliers = Literal["rademacher", "gaussian"]
#: Cluster weights of the wild cluster bootstrap (``wild_bootstrap(weights=...)``).
WildWeights = Literal["rademacher", "webb"]
#: Restriction on post-treatment violations of parallel trends (``sensitivity``, ``honest_ci``).
Restriction = Literal["relative_magnitude", "smoothness"]

# -- estimators ----------------------------------------------------------------------------
#: Cluster of the robust standard errors: the unit, another column of the panel, or none.
Cluster = Literal["unit"] | str | None
#: Comparison units of ``att_gt``: never treated, or never plus not yet treated.
ControlGroup = Literal["never", "not_yet"]
#: Base period of ``att_gt``'s pre-treatment cells.
BasePeriod = Literal["varying", "universal"]
#: The two-period DiD estimator: doubly robust, inverse probability weighting, regression.
DrDidMethod = Literal["dr", "ipw", "reg"]
#: Aggregations of group-time effects (R ``did``'s ``aggte``).
AggregationKind = Literal["simple", "dynamic", "group", "calendar"]
#: Estimator behind ``event_study``.
EventStudyEstimator = Literal["twfe", "sun_abraham", "imputation"]
#: Estimator of ``sdid``: synthetic DiD, synthetic control (SDID solver), or plain DiD.
SdidMethod = Literal["sdid", "sc", "did"]
#: How a ``synth`` predictor summarises its periods.
SynthOperation = Literal["mean", "median", "min", "max", "sum"]
#: Starting values of ``synth``'s predictor weights V.
SynthVStart = Literal["both", "equal", "regression"]
#: Augmentation of ``synth``: none, ridge (Ben-Michael, Feller and Rothstein 2021), or ridge on
#: outcomes de-meaned by each unit's pre-period mean (their "fixed effects" variant).
SynthAugment = Literal["none", "ridge", "ridge_fe"]
#: How the cross-validated ridge penalty of the augmented synthetic control is read off its
#: error path: the smallest error, or the largest penalty within one standard error of it.
LambdaRule = Literal["min", "1se"]
#: Permutations of the residuals in conformal inference: cyclic shifts (moving blocks) or iid.
ConformalScheme = Literal["moving_block", "iid"]
#: Solver of the SDID weights.
SolverEngine = Literal["auto", "numba", "numpy"]
#: Two-way demeaning of ``core.demean.twoway_demean``: closed form, exact solve or iterations.
DemeanMethod = Literal["auto", "closed", "direct", "alternating"]
#: Scale of the outcome in the displacement designs.
DisplacementTransform = Literal["level", "log"]

# -- data, cases and tables -------------------------------------------------------------------
#: Kolada's genders: total, women (kvinnor), men (män).
KoladaGender = Literal["T", "K", "M"]
#: Units read from Kolada: the municipalities only, or every unit.
KoladaScope = Literal["municipalities", "all"]
#: What to do with gaps of a treated unit inside an estimation window.
TreatedGaps = Literal["error", "fill", "trim"]
#: Comparison pool of a case design.
CasePool = Literal["never_treated", "similar"]
#: Level of a case's units.
CaseLevel = Literal["municipality", "district"]
#: Whether a series break was detected in the data or announced by the source.
BreakKind = Literal["detected", "announced"]
#: The state of a cache entry (not an option: what ``Cache.status`` reports).
CacheEntryStatus = Literal["ok", "missing", "corrupt"]
#: What ``compare`` shows under each estimate.
CompareShow = Literal["std_error", "ci", "both"]


# -- checks ----------------------------------------------------------------------------------
def options_of(literal: Any) -> tuple[Any, ...]:
    """The words of a ``Literal`` type (of its ``Literal`` members, for a union)."""
    out: list[Any] = []
    for arg in get_args(literal):
        out.extend(options_of(arg) if get_args(arg) else [arg])
    return tuple(out)


def check_option(fn: str, name: str, value: Any, literal: Any, *,
                 error: type[EvalModelError] = EstimationError) -> None:
    """Raise unless ``value`` is one of the words of the ``Literal`` type ``literal``.

    Parameters
    ----------
    fn : str
        The public function (or method) that takes the option, named in the message.
    name : str
        The argument.
    value : object
        What was passed.
    literal : Literal type
        The option's type, e.g. :data:`AttGtInference`.
    error : type of EvalModelError
        The error raised (:class:`~evalmodel.errors.EstimationError` by default).

    Raises
    ------
    EvalModelError
        ``"{fn}: {name}={value!r} is not one of [...]; pass one of those."``, with
        ``"(did you mean ...?)"`` when a word is close to ``value``.

    Examples
    --------
    >>> check_option("att_gt", "method", "dr", DrDidMethod)
    >>> check_option("att_gt", "method", "ipv", DrDidMethod)
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: att_gt: method='ipv' is not one of ['dr', 'ipw', 'reg']; \
pass one of those (did you mean 'ipw'?).
    """
    options = options_of(literal)
    try:
        ok = any(isinstance(value, type(o)) and value == o for o in options)
    except (TypeError, ValueError):  # e.g. an array, whose == is elementwise
        ok = False
    if ok:
        return
    hint = ""
    if isinstance(value, str):
        words = [o for o in options if isinstance(o, str)]
        close = difflib.get_close_matches(value, words, n=1, cutoff=0.6)
        if not close:
            close = [w for w in words if w.lower() == value.lower()]
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    raise error(f"{fn}: {name}={value!r} is not one of {list(options)}; pass one of those{hint}.")


def check_conf_level(fn: str, conf_level: Any, *,
                     error: type[EvalModelError] = EstimationError) -> float:
    """Return ``conf_level`` as a float, raising unless it is a number strictly in (0, 1).

    Examples
    --------
    >>> check_conf_level("did2x2", 0.9)
    0.9
    >>> check_conf_level("did2x2", 95)
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: did2x2: conf_level=95 must be a number strictly between \
0 and 1, e.g. 0.95.
    """
    try:
        ok = not isinstance(conf_level, bool | str) and 0 < float(conf_level) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise error(f"{fn}: conf_level={conf_level!r} must be a number strictly between 0 and "
                    "1, e.g. 0.95.")
    return float(conf_level)


#: ``int`` for a count with a default, ``int | None`` where ``None`` means "all" or "default".
Draws = TypeVar("Draws", int, int | None)


def draws_argument(fn: str, n_draws: Draws, *, default: Draws, **old: int | None) -> Draws:
    """The number of draws, taken from ``n_draws`` or from its deprecated old name.

    Parameters
    ----------
    fn : str
        The public function, named in the warning.
    n_draws : int or None
        The value of ``n_draws`` as passed (``default`` when not passed).
    default : int or None
        The default of ``n_draws`` in ``fn``'s signature.
    **old : int or None
        The function's deprecated names of ``n_draws`` (e.g. ``n_perm=n_perm``), ``None`` when
        not passed.

    Returns
    -------
    int or None
        ``n_draws``, or the value given under an old name.

    Warns
    -----
    DeprecationWarning
        When an old name is used; the message names ``n_draws``.

    Raises
    ------
    EstimationError
        When both ``n_draws`` and an old name (or two old names) are given.
    """
    given: dict[str, int] = {k: v for k, v in old.items() if v is not None}
    if not given:
        return n_draws
    if len(given) > 1 or n_draws != default:
        names = ", ".join(["n_draws", *given])
        raise EstimationError(f"{fn}: {names} are one argument, the number of draws; pass "
                              "n_draws only.")
    name, value = next(iter(given.items()))
    warnings.warn(f"{fn}: {name} is deprecated and will be removed in the next release; pass "
                  f"n_draws={value!r} instead.", DeprecationWarning, stacklevel=3)
    return cast(Draws, value)


def renamed_attribute(obj: object, old: str, new: str) -> Any:
    """``getattr(obj, new)``, warning that ``old`` is its deprecated name.

    For the read-only properties that keep a result's old attribute names (``n_perm``,
    ``n_boot``) working for one release.
    """
    warnings.warn(f"{type(obj).__name__}.{old} is deprecated and will be removed in the next "
                  f"release; use .{new} instead.", DeprecationWarning, stacklevel=3)
    return getattr(obj, new)
