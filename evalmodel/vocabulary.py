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
import numbers
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar, cast, get_args

import numpy as np

from evalmodel.errors import EstimationError, EvalModelError
from evalmodel.months import month_label, parse_month, period_span

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
    "OlsCovType",
    "PredictionErrorMethod",
    "PxWebFormat",
    "Restriction",
    "SdidInference",
    "SdidMethod",
    "Seasonal",
    "SolverEngine",
    "SynthAugment",
    "SynthInference",
    "SynthOperation",
    "SynthPredictorNA",
    "SynthVStart",
    "TreatedGaps",
    "WildWeights",
    "check_conf_level",
    "check_draws",
    "check_names",
    "check_number",
    "check_option",
    "check_period",
    "check_seed",
    "check_window",
    "did_you_mean",
    "draws_argument",
    "options_of",
    "renamed_attribute",
]

# -- inference -----------------------------------------------------------------------------
#: ``did2x2`` and ``twfe``: ``"auto"`` is permutation with fewer than 5 treated clusters, else
#: the cluster-robust (analytic) errors.
DidInference = Literal["auto", "analytic", "permutation"]
#: ``did2x2`` and ``twfe`` on monthly panels: ``"unit"`` adds unit-by-calendar-month effects
#: (in place of the unit effects, which they nest), ``"common"`` calendar-month effects only.
Seasonal = Literal["none", "unit", "common"]
#: ``att_gt``: ``"auto"`` is analytic for the cells and design-based (placebo in space) for the
#: aggregations with fewer than 5 treated clusters; ``"bootstrap"`` is the multiplier bootstrap.
AttGtInference = Literal["auto", "analytic", "bootstrap"]
#: ``AttGtResult.aggregate``: ``"auto"`` is design-based when ``att_gt`` chose it for few
#: treated clusters, else the inference of the ``att_gt`` result.
AggregateInference = Literal["auto", "analytic", "bootstrap"]
#: ``sdid``: ``"auto"`` is placebo with one treated unit, else the unit bootstrap.
SdidInference = Literal["auto", "placebo", "bootstrap", "jackknife", "none"]
#: ``synth``: ``"auto"`` is placebo (one treated unit is fewer than 5 treated clusters, with
#: or without ``augment=``), placebo in space over the donors, conformal inference
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
#: Starting values of ``synth``'s predictor weights V: R ``Synth``'s two (equal weights and the
#: regression-based start), one of them, or those two and a global search's optimum.
SynthVStart = Literal["both", "equal", "regression", "global"]
#: Missing predictor values in ``synth``: refuse them, or summarise each predictor over the
#: periods a unit has (R ``Synth``'s ``na.rm = TRUE``; counted in a warning and the notes).
SynthPredictorNA = Literal["raise", "skip"]
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
#: Covariance of ``core.ols.ols``: heteroskedasticity-robust (HC1) or cluster-robust (CR1).
OlsCovType = Literal["HC1", "cluster"]
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
#: Data format asked of a PxWeb v2 API by the SCB client (both are parsed).
PxWebFormat = Literal["json-stat2", "csv"]
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


def did_you_mean(value: Any, words: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the word of ``words`` closest to ``value``, else ``""``.

    Examples
    --------
    >>> did_you_mean("maxitr", ["maxiter", "maxfev", "disp"])
    " (did you mean 'maxiter'?)"
    >>> did_you_mean(3, ["a"])
    ''
    """
    if not isinstance(value, str):
        return ""
    words = list(words)
    close = difflib.get_close_matches(value, words, n=1, cutoff=0.6)
    if not close:
        close = [w for w in words if w.lower() == value.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


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
    hint = did_you_mean(value, [o for o in options if isinstance(o, str)])
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


def _is_whole(value: Any) -> bool:
    """A whole number of any numeric type (``2019``, ``np.int64(2019)``, ``2019.0``); not bool."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def check_period(fn: str, name: str, value: Any, periods: Any = None, *, what: str = "period",
                 error: type[EvalModelError] = EstimationError, frequency: str = "year") -> int:
    """Return ``value`` as an int, raising unless it is a whole number of any numeric type.

    ``2019``, ``np.int64(2019)`` and ``2019.0`` are the period 2019; a month written as text
    (``"2021-01"``, ``"2021M01"``), a pandas Period[M] or a month-start date is its month code
    (:mod:`evalmodel.months`); ``2019.5``, ``"2019"``, ``True``, NaN and anything else are
    refused, never truncated. Whether the period is in the panel is the caller's check (some
    arguments may lie outside it).

    Parameters
    ----------
    fn : str
        The public function, named in the message.
    name : str
        The argument (``"start"``, ``"pre"``, ``"window[0]"``, ...).
    value : object
        What was passed.
    periods : sequence of int, optional
        The panel's sorted periods; the message then gives their range.
    what : str
        What the number is: ``"period"`` or ``"event time"``.
    error : type of EvalModelError
        The error raised (:class:`~evalmodel.errors.EstimationError` by default).
    frequency : {"year", "month"}
        The panel's frequency: on a monthly panel the message writes the range and the example
        as months (``"2021-01"``), not as their codes.

    Examples
    --------
    >>> check_period("synth", "start", np.float64(2010.0))
    2010
    >>> check_period("synth", "start", "2021-01")  # a month: its code 12 * 2021 + 0
    24252
    >>> check_period("synth", "start", 2010.5, [1998, 2024])
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: synth: start=2010.5 is not a whole number; a period is \
a whole number (the panel covers 1998-2024): pass e.g. start=2010 or start=2011.
    """
    if _is_whole(value):
        return int(value)
    month = parse_month(value) if what == "period" else None
    if month is not None:
        return month
    a = f"{'an' if what[0] in 'aeiou' else 'a'} {what}"
    span = ""
    if periods is not None and len(periods):
        span = f" (the panel covers {period_span(periods[0], periods[-1], frequency)})"
    if frequency == "month" and what == "period":
        example = f"'{month_label(periods[0])}'" if span else "'2021-01'"
        raise error(f"{fn}: {name}={value!r} is not a month; a period of a monthly panel is a "
                    f"month written '2021-01' or '2021M01', a pandas Period[M] or a month-start "
                    f"date{span}: pass e.g. {name}={example}.")
    if isinstance(value, str):
        try:
            fix = f"pass {name}={int(value.strip())} without quotes"
        except ValueError:
            fix = f"pass a whole number, e.g. {name}={int(periods[0]) if span else 2010}"
        raise error(f"{fn}: {name}={value!r} is text; {a} is a whole number{span}: {fix}.")
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_) and np.isfinite(
            float(value)):
        lo = int(np.floor(float(value)))
        raise error(f"{fn}: {name}={value!r} is not a whole number; {a} is a whole number"
                    f"{span}: pass e.g. {name}={lo} or {name}={lo + 1}.")
    raise error(f"{fn}: {name}={value!r} ({type(value).__name__}) is not {a}; {a} is a whole "
                f"number{span}, e.g. {name}={int(periods[0]) if span else 2010}.")


def check_window(fn: str, window: Any, *, error: type[EvalModelError] = EstimationError
                 ) -> tuple[int, int]:
    """Return ``window`` as two whole event times ``(first, last)``, each checked by
    :func:`check_period` (``(-2.5, 2)`` and ``("-2", 2)`` are refused, ``(np.int64(-2), 2.0)``
    is ``(-2, 2)``).

    Examples
    --------
    >>> check_window("event_study", (np.int64(-3), 3.0))
    (-3, 3)
    """
    if isinstance(window, str) or not isinstance(window, tuple | list) or len(window) != 2:
        raise error(f"{fn}: window={window!r} must be two event times (first, last), e.g. "
                    "window=(-4, 4).")
    return (check_period(fn, "window[0]", window[0], what="event time", error=error),
            check_period(fn, "window[1]", window[1], what="event time", error=error))


def check_names(fn: str, name: str, value: Any, *, what: str = "unit",
                allow_empty: bool = False, error: type[EvalModelError] = EstimationError
                ) -> list[str]:
    """Return ``value`` as a list of ids (strings), raising unless it is one id or an iterable
    of them.

    A string is one id; numbers are ids as text (``580`` is ``'580'``; leading zeros are the
    caller's check). ``None``, a float, a mapping or an empty list (unless ``allow_empty``) are
    refused, naming the argument. Whether the ids exist is the caller's check.

    Examples
    --------
    >>> check_names("spillover", "exposed", "1280")
    ['1280']
    >>> check_names("spillover", "exposed", None)
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: spillover: exposed=None must be a unit id or a list of \
them, e.g. exposed=['1287'].
    """
    if isinstance(value, str):
        return [value]
    ok = isinstance(value, Iterable) and not isinstance(value, Mapping | bytes)
    items = list(value) if ok else []
    if ok and all(isinstance(v, str) or (isinstance(v, numbers.Integral)
                                         and not isinstance(v, bool | np.bool_)) for v in items):
        if items or allow_empty:
            return [str(v) for v in items]
        raise error(f"{fn}: {name} is empty; name at least one {what}.")
    noun, example = ("id", "'1287'") if what == "unit" else ("name", "'x'")
    raise error(f"{fn}: {name}={value!r} must be a {what} {noun} or a list of them, e.g. "
                f"{name}=[{example}].")


def check_number(fn: str, name: str, value: Any, *, minimum: float | None = None,
                 maximum: float | None = None, strict: bool = False, integer: bool = False,
                 allow_inf: bool = False, example: str = "",
                 error: type[EvalModelError] = EstimationError) -> Any:
    """Return ``value`` (an int when ``integer``), raising unless it is a real number (a whole
    one when ``integer``) within ``[minimum, maximum]`` (open bounds when ``strict``).

    Examples
    --------
    >>> check_number("aggregate", "balance_e", np.int64(2), integer=True)
    2
    >>> check_number("pretrend_test", "margin", "0.1", minimum=0, strict=True)
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: pretrend_test: margin='0.1' must be a number > 0.
    """
    real = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    ok = real and not np.isnan(float(value)) and (allow_inf or np.isfinite(float(value)))
    if ok and integer:
        ok = _is_whole(value) or (allow_inf and np.isinf(float(value)))
    if ok and minimum is not None:
        ok = float(value) > minimum if strict else float(value) >= minimum
    if ok and maximum is not None:
        ok = float(value) < maximum if strict else float(value) <= maximum
    if ok:
        return int(value) if integer and np.isfinite(float(value)) else value
    kind = "a whole number" if integer else "a number"
    lo = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
    hi = "" if maximum is None else f" {'<' if strict else '<='} {maximum:g}"
    both = " and" if lo and hi else ""
    raise error(f"{fn}: {name}={value!r} must be {kind}{lo}{both}{hi}{example}.")


def check_seed(fn: str, seed: Any, *, error: type[EvalModelError] = EstimationError) -> None:
    """Raise unless ``seed`` is ``None``, a non-negative whole number or a numpy ``Generator``.

    One check for every function that takes ``seed``, so that ``seed="42"`` or ``seed=4.2``
    is refused at the entry point instead of inside numpy. ``np.int64`` seeds are accepted;
    ``True``/``False`` and floats (even ``42.0``) are not.

    Examples
    --------
    >>> check_seed("att_gt", 42)
    >>> check_seed("att_gt", "42")
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: att_gt: seed='42' must be a non-negative whole number \
(e.g. seed=42), a numpy Generator (np.random.default_rng(42)) or None: pass seed=42.
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if (isinstance(seed, numbers.Integral) and not isinstance(seed, bool | np.bool_)
            and int(seed) >= 0):
        return
    fix = "use a whole number >= 0"
    if isinstance(seed, str) and seed.strip().isdigit():
        fix = f"pass seed={int(seed)}"
    elif _is_whole(seed) and float(seed) >= 0:
        fix = f"pass seed={int(seed)}"
    raise error(f"{fn}: seed={seed!r} must be a non-negative whole number (e.g. seed=42), a "
                f"numpy Generator (np.random.default_rng(42)) or None: {fix}.")


#: ``int`` for a count with a default, ``int | None`` where ``None`` means "all" or "default".
Draws = TypeVar("Draws", int, int | None)


def draws_argument(fn: str, n_draws: Draws, *, default: Draws, minimum: int = 1,
                   **old: int | None) -> Draws:
    """The number of draws, taken from ``n_draws`` or from its deprecated old name.

    Parameters
    ----------
    fn : str
        The public function, named in the warning.
    n_draws : int or None
        The value of ``n_draws`` as passed (``default`` when not passed).
    default : int or None
        The default of ``n_draws`` in ``fn``'s signature.
    minimum : int
        The fewest draws ``fn`` can use (checked by :func:`check_draws`).
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
        return check_draws(fn, n_draws, minimum=minimum, allow_none=default is None)
    if len(given) > 1 or n_draws != default:
        names = ", ".join(["n_draws", *given])
        raise EstimationError(f"{fn}: {names} are one argument, the number of draws; pass "
                              "n_draws only.")
    name, value = next(iter(given.items()))
    warnings.warn(f"{fn}: {name} is deprecated and will be removed in the next release; pass "
                  f"n_draws={value!r} instead.", DeprecationWarning, stacklevel=3)
    return cast(Draws, check_draws(fn, value, minimum=minimum, name=name))


def check_draws(fn: str, n_draws: Any, *, minimum: int = 1, allow_none: bool = False,
                name: str = "n_draws", error: type[EvalModelError] = EstimationError) -> Any:
    """Return ``n_draws`` as an int (or ``None`` where allowed), raising unless it is a whole
    number of at least ``minimum``.

    A count is an integer: ``0``, negative numbers, floats (``99.5``, also ``999.0``),
    ``"999"`` and ``True`` are refused; ``np.int64(999)`` is 999.

    Examples
    --------
    >>> check_draws("did2x2", 0)
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: did2x2: n_draws=0 must be an integer of at least 1, \
e.g. n_draws=999.
    """
    if n_draws is None and allow_none:
        return None
    if (isinstance(n_draws, numbers.Integral) and not isinstance(n_draws, bool | np.bool_)
            and int(n_draws) >= minimum):
        return int(n_draws)
    none = " or None (every assignment, up to the cap)" if allow_none else ""
    example = int(n_draws) if _is_whole(n_draws) and float(n_draws) >= minimum else 999
    raise error(f"{fn}: {name}={n_draws!r} must be an integer of at least {minimum}{none}, "
                f"e.g. {name}={example}.")


def renamed_attribute(obj: object, old: str, new: str) -> Any:
    """``getattr(obj, new)``, warning that ``old`` is its deprecated name.

    For the read-only properties that keep a result's old attribute names (``n_perm``,
    ``n_boot``) working for one release.
    """
    warnings.warn(f"{type(obj).__name__}.{old} is deprecated and will be removed in the next "
                  f"release; use .{new} instead.", DeprecationWarning, stacklevel=3)
    return getattr(obj, new)
