"""One vocabulary (issue 13, part 3): option types, their one check, one conf_level check, n_draws.

- every option of a public entry point is checked by :func:`evalmodel.vocabulary.check_option`,
  so a bad word gives the one message shape;
- every ``conf_level`` check gives the one message of
  :func:`evalmodel.vocabulary.check_conf_level`;
- the old names of the number of draws (``n_perm``, ``n_boot``, ``n_reps``, ``n_sim``) warn
  ``DeprecationWarning`` naming ``n_draws`` and give the same numbers;
- every ``Literal`` type in a public signature is one of :mod:`evalmodel.vocabulary`'s, and no
  module spells a ``Literal`` of its own.
"""

from __future__ import annotations

import ast
import inspect
import re
import types
import typing
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel import vocabulary as vocab
from evalmodel.core.sdid_solver import frank_wolfe
from evalmodel.data.simulate import simple_panel
from evalmodel.errors import DataSourceError, DesignError, EstimationError, EvalModelError
from evalmodel.inference.multiplier import multiplier_bootstrap

PACKAGE = Path(em.__file__).parent

#: Modules that still spell their own ``Literal`` types (none: every one is migrated).
NOT_YET_MIGRATED: tuple[str, ...] = ()
#: Public callables that still take an old name of ``n_draws`` without it (none).
DRAWS_NOT_YET_MIGRATED: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def panel() -> em.Panel:
    df, _ = simple_panel(n_units=30, seed=3)
    return em.Panel(df, unit="unit", time="time", cohort="cohort")


@pytest.fixture(scope="module")
def cells(panel: em.Panel) -> em.AttGtResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        return em.att_gt(panel, "y", inference="analytic")


def _wild_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    cl = np.repeat(np.arange(12), 10)
    x = np.column_stack([np.ones(cl.size), rng.normal(size=cl.size)])
    y = x @ np.array([1.0, 0.5]) + rng.normal(size=cl.size) + rng.normal(size=12)[cl]
    return y, x, cl


#: Never-treated units of the ``panel`` fixture (``simple_panel(n_units=30, seed=3)``: cohort 6
#: for u000-u008).
_NEVER = [f"u{i:03d}" for i in range(9, 30)]
_B = np.array([0.1, -0.1, 0.5, 0.6])
_S = np.diag([0.04, 0.04, 0.05, 0.05])
_HONEST = {"num_pre_periods": 2, "num_post_periods": 2}


# -- check_option ------------------------------------------------------------------------------
def _option_calls() -> list[tuple[str, Callable[[em.Panel, em.AttGtResult], object], str, str,
                                  type[EvalModelError]]]:
    """(function name in the message, call, argument, bad value, error)."""
    y, x, cl = _wild_data()
    case = em.cases.get("trelleborg")
    return [
        ("did2x2", lambda p, _: em.did2x2(p, "y", pre=[3], post=[7], inference="bootstrap"),
         "inference", "bootstrap", EstimationError),
        ("twfe", lambda p, _: em.twfe(p, "y", inference="permutaton"),
         "inference", "permutaton", EstimationError),
        ("att_gt", lambda p, _: em.att_gt(p, "y", control_group="notyet"),
         "control_group", "notyet", EstimationError),
        ("att_gt", lambda p, _: em.att_gt(p, "y", method="ols"), "method", "ols",
         EstimationError),
        ("att_gt", lambda p, _: em.att_gt(p, "y", base_period="fixed"), "base_period", "fixed",
         EstimationError),
        ("att_gt", lambda p, _: em.att_gt(p, "y", inference="permutation"), "inference",
         "permutation", EstimationError),
        ("att_gt", lambda p, _: em.att_gt(p, "y", multipliers="mammen"), "multipliers",
         "mammen", EstimationError),
        ("aggregate", lambda _, r: r.aggregate("event"), "kind", "event", EstimationError),
        ("aggregate", lambda _, r: r.aggregate("dynamic", inference="placebo"), "inference",
         "placebo", EstimationError),
        ("event_study", lambda p, _: em.event_study(p, "y", estimator="cs"), "estimator", "cs",
         EstimationError),
        ("event_study", lambda p, _: em.event_study(p, "y", inference="placebo"), "inference",
         "placebo", EstimationError),
        ("synth", lambda p, _: em.synth(p, "y", treated="u000", start=6, inference="bootstrap"),
         "inference", "bootstrap", EstimationError),
        ("synth", lambda p, _: em.synth(p, "y", treated="u000", start=6, v_start="ones"),
         "v_start", "ones", EstimationError),
        ("synth", lambda p, _: em.synth(p, "y", treated="u000", start=6,
                                        predictors=[("x", [3, 4], "avg")]),
         "predictor 'x' operation", "avg", EstimationError),
        ("sdid", lambda p, _: em.sdid(p, "y", treated="u000", start=6, method="synth"),
         "method", "synth", EstimationError),
        ("sdid", lambda p, _: em.sdid(p, "y", treated="u000", start=6, inference="permutation"),
         "inference", "permutation", EstimationError),
        ("outcome_displacement",
         lambda p, _: em.displacement.outcome_displacement(
             p, "y", treated=["u000"], pool=_NEVER, pre=[3], post=[7], transform="logs"),
         "transform", "logs", EstimationError),
        ("outcome_displacement",
         lambda p, _: em.displacement.outcome_displacement(
             p, "y", treated=["u000"], pool=_NEVER, pre=[3], post=[7], inference="placebo"),
         "inference", "placebo", EstimationError),
        ("wild_bootstrap", lambda *_: em.wild_bootstrap(y, x, cl, coef=1, weights="mammen"),
         "weights", "mammen", EstimationError),
        ("multiplier_bootstrap",
         lambda *_: multiplier_bootstrap(np.ones((4, 1)), multipliers="webb"),
         "multipliers", "webb", EstimationError),
        ("sensitivity", lambda *_: em.sensitivity(None, restriction="rm"),  # type: ignore[arg-type]
         "restriction", "rm", EstimationError),
        ("honest_ci", lambda *_: em.honest_ci(_B, _S, restriction="smooth", m=1, **_HONEST),
         "restriction", "smooth", EstimationError),
        ("breakdown_value",
         lambda *_: em.breakdown_value(_B, _S, restriction="relative", **_HONEST),
         "restriction", "relative", EstimationError),
        ("compare", lambda p, _: em.compare([em.twfe(p, "y", inference="analytic")],
                                            show="se"), "show", "se", EstimationError),
        ("estimation_window",
         lambda p, _: em.estimation_window(p, "y", treated=["u000"], pool=["u001"], adoption=6,
                                           treated_gaps="drop"),
         "treated_gaps", "drop", DesignError),
        ("case 'trelleborg'", lambda p, _: case.design(p, pool="nearest"), "pool", "nearest",
         DesignError),
        ("read_panel", lambda *_: em.read_panel("no-such-file.csv", gender="women!"), "gender",
         "women!", DataSourceError),
        ("read_panel", lambda *_: em.read_panel("no-such-file.csv", scope="kommuner"), "scope",
         "kommuner", DataSourceError),
        ("frank_wolfe",
         lambda *_: frank_wolfe(np.ones((1, 2, 2)), np.ones((1, 2)), np.full((1, 2), 0.5),
                                zeta=np.ones(1), n_rows=np.ones(1), min_decrease=np.ones(1),
                                max_iter=1, engine="cython"),
         "engine", "cython", EstimationError),
    ]


def _one_shape(fn: str, name: str, value: str) -> str:
    return (rf"^{re.escape(fn)}: {name}={re.escape(repr(value))} is not one of \[[^]]*\]; "
            r"pass one of those( \(did you mean '[^']*'\?\))?\.$")


@pytest.mark.parametrize("i", range(len(_option_calls())))
def test_every_option_has_the_one_message(i: int, panel: em.Panel,
                                          cells: em.AttGtResult) -> None:
    fn, call, name, value, error = _option_calls()[i]
    with pytest.raises(error, match=_one_shape(fn, name, value)):
        call(panel, cells)


def test_check_option_suggests_the_close_word() -> None:
    with pytest.raises(EstimationError, match=r"\(did you mean 'bootstrap'\?\)\.$"):
        vocab.check_option("att_gt", "inference", "bootsrap", vocab.AttGtInference)
    with pytest.raises(EstimationError, match=r"\(did you mean 'T'\?\)\.$"):
        vocab.check_option("read_panel", "gender", "t", vocab.KoladaGender)
    with pytest.raises(EstimationError, match=r"pass one of those\.$"):  # nothing close
        vocab.check_option("att_gt", "method", "xyz", vocab.DrDidMethod)


def test_check_option_accepts_the_words_and_rejects_other_types() -> None:
    for word in typing.get_args(vocab.DrDidMethod):
        vocab.check_option("att_gt", "method", word, vocab.DrDidMethod)
    for bad in (None, 1, ["dr"], np.array(["dr", "ipw"])):
        with pytest.raises(EstimationError, match="is not one of"):
            vocab.check_option("att_gt", "method", bad, vocab.DrDidMethod)
    with pytest.raises(DesignError):
        vocab.check_option("f", "x", "z", vocab.CasePool, error=DesignError)


def test_common_check_choice_is_the_vocabulary_check() -> None:
    from evalmodel.estimators import _common

    assert _common.check_conf_level is vocab.check_conf_level
    with pytest.raises(EstimationError, match=_one_shape("f", "kind", "x")):
        _common.check_choice("f", "kind", "x", vocab.AggregationKind)


def test_old_type_names_are_the_vocabulary_types() -> None:
    from evalmodel import cases, coverage, displacement, results
    from evalmodel.core import sdid_solver, synth_solver
    from evalmodel.data import read
    from evalmodel.estimators import aggregate, did, drdid, event_study, sdid, staggered, synth
    from evalmodel.inference import honest, multiplier, wild

    pairs = [
        (did.Inference, vocab.DidInference), (staggered.Inference, vocab.AttGtInference),
        (staggered.ControlGroup, vocab.ControlGroup), (staggered.BasePeriod, vocab.BasePeriod),
        (aggregate.AggInference, vocab.AggregateInference),
        (aggregate.Kind, vocab.AggregationKind), (drdid.Method, vocab.DrDidMethod),
        (multiplier.Multipliers, vocab.Multipliers), (wild.WildWeights, vocab.WildWeights),
        (honest.Restriction, vocab.Restriction), (results.CompareShow, vocab.CompareShow),
        (coverage.TreatedGaps, vocab.TreatedGaps), (cases.Pool, vocab.CasePool),
        (cases.Level, vocab.CaseLevel), (read.Gender, vocab.KoladaGender),
        (read.Scope, vocab.KoladaScope), (sdid_solver.Engine, vocab.SolverEngine),
        (synth_solver.VStart, vocab.SynthVStart), (did.Cluster, vocab.Cluster),
        (event_study.EventStudyEstimator, vocab.EventStudyEstimator),
        (synth.Operation, vocab.SynthOperation), (synth.SynthInference, vocab.SynthInference),
        (synth.SynthVStart, vocab.SynthVStart), (sdid.SdidMethod, vocab.SdidMethod),
        (sdid.SdidInference, vocab.SdidInference),
        (displacement.Transform, vocab.DisplacementTransform),
        (displacement.DisplacementInference, vocab.DisplacementInference),
    ]
    assert all(old is new for old, new in pairs)
    # distinct meanings, distinct names, shared words
    assert vocab.DidInference != vocab.AttGtInference
    assert "permutation" in typing.get_args(vocab.DidInference)
    assert "placebo" in typing.get_args(vocab.SdidInference)


# -- conf_level --------------------------------------------------------------------------------
def _conf_level_calls() -> list[tuple[str, Callable[[em.Panel], object]]]:
    y, x, cl = _wild_data()
    units = [f"u{i:03d}" for i in range(30)]
    return [
        ("did2x2", lambda p: em.did2x2(p, "y", pre=[3], post=[7], conf_level=1.5)),
        ("twfe", lambda p: em.twfe(p, "y", conf_level=1.5)),
        ("att_gt", lambda p: em.att_gt(p, "y", conf_level=1.5)),
        ("event_study", lambda p: em.event_study(p, "y", conf_level=1.5)),
        ("permutation_inference", lambda p: em.permutation_inference(
            p, "y", statistic=em.DiD2x2Statistic("y", pre=[3], post=[7]), treated=units[:1],
            pool=units[1:], conf_level=1.5)),
        ("conley_taber", lambda p: em.conley_taber(p, "y", treated=units[:1], pool=units[1:],
                                                   pre=[3], post=[7], conf_level=1.5)),
        ("wild_bootstrap", lambda _: em.wild_bootstrap(y, x, cl, coef=1, conf_level=1.5)),
        ("multiplier_bootstrap", lambda _: multiplier_bootstrap(np.ones((4, 1)),
                                                                conf_level=1.5)),
        ("honest_ci", lambda _: em.honest_ci(_B, _S, restriction="smoothness", m=1,
                                             conf_level=1.5, **_HONEST)),
        ("breakdown_value", lambda _: em.breakdown_value(_B, _S, restriction="smoothness",
                                                         conf_level=1.5, **_HONEST)),
        ("sensitivity", lambda _: em.sensitivity(None, conf_level=1.5)),  # type: ignore[arg-type]
        ("pretrend_test", lambda _: em.pretrend_test(None, conf_level=1.5)),  # type: ignore[arg-type]
        ("minimum_detectable_effect",
         lambda _: em.minimum_detectable_effect(np.arange(20.0), conf_level=1.5)),
        ("synth", lambda p: em.synth(p, "y", treated="u000", start=6, conf_level=1.5)),
        ("sdid", lambda p: em.sdid(p, "y", treated="u000", start=6, conf_level=1.5)),
        ("outcome_displacement", lambda p: em.displacement.outcome_displacement(
            p, "y", treated=["u000"], pool=_NEVER, pre=[3], post=[7], conf_level=1.5)),
        ("placebo_study", lambda p: em.placebo_study(
            p, "y", em.calibrate.did2x2(pre=[3], post=[7]), pool=_NEVER, adoption=6,
            conf_level=1.5)),
    ]


@pytest.mark.parametrize("i", range(len(_conf_level_calls())))
def test_every_conf_level_check_gives_the_one_message(i: int, panel: em.Panel) -> None:
    fn, call = _conf_level_calls()[i]
    with pytest.raises(EstimationError, match=rf"^{fn}: conf_level=1\.5 must be a number "
                                              r"strictly between 0 and 1, e\.g\. 0\.95\.$"):
        call(panel)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.95", True, None, float("nan")])
def test_check_conf_level_rejects(bad: object) -> None:
    with pytest.raises(EstimationError, match=r"must be a number strictly between 0 and 1"):
        vocab.check_conf_level("f", bad)


def test_check_conf_level_returns_a_float() -> None:
    out = vocab.check_conf_level("f", np.float32(0.9))
    assert isinstance(out, float) and out == pytest.approx(0.9)


# -- n_draws -----------------------------------------------------------------------------------
def _draw_calls() -> list[tuple[str, str, Callable[..., Any], Callable[[Any], Any]]]:
    """(function, old name, call taking the draws keyword, numbers of the result)."""
    y, x, cl = _wild_data()
    units = [f"u{i:03d}" for i in range(30)]
    psi = np.random.default_rng(1).normal(size=(40, 3))
    return [
        ("did2x2", "n_perm",
         lambda p, **kw: em.did2x2(p, "y", pre=[3], post=[7], inference="permutation",
                                   seed=1, **kw),
         lambda r: r.table),
        ("twfe", "n_perm",
         lambda p, **kw: em.twfe(p, "y", inference="permutation", seed=1, **kw),
         lambda r: r.table),
        ("att_gt", "n_boot",
         lambda p, **kw: em.att_gt(p, "y", inference="bootstrap", seed=1, **kw),
         lambda r: r.table),
        ("permutation_inference", "n_perm",
         lambda p, **kw: em.permutation_inference(
             p, "y", statistic=em.DiD2x2Statistic("y", pre=[3], post=[7]), treated=units[:3],
             pool=units[3:], seed=1, **kw),
         lambda r: r.distribution),
        ("wild_bootstrap", "n_boot",
         lambda _, **kw: em.wild_bootstrap(y, x, cl, coef=1, weights="webb", seed=1, **kw),
         lambda r: r.t_boot),
        ("multiplier_bootstrap", "n_boot",
         lambda _, **kw: multiplier_bootstrap(psi, seed=1, **kw), lambda r: r.std_error),
        ("conley_taber", "n_sim",
         lambda p, **kw: em.conley_taber(p, "y", treated=units[:3], pool=units[3:], pre=[3],
                                         post=[7], conf_level=0.8, seed=1, **kw),
         lambda r: r.distribution),
        ("sdid", "n_reps",
         lambda p, **kw: em.sdid(p, "y", treated="u000", start=6, inference="placebo", seed=1,
                                 **kw),
         lambda r: r.replicates),
        ("calibrate.permutation_did2x2", "n_perm",
         lambda _, **kw: em.calibrate.permutation_did2x2(pre=[3], post=[7], seed=1, **kw),
         lambda a: a.options["n_draws"]),
    ]


def _numbers(x: Any) -> np.ndarray:
    if isinstance(x, pd.DataFrame):
        return x.select_dtypes("number").to_numpy(float)
    return np.asarray(x, dtype=float)


@pytest.mark.parametrize("i", range(len(_draw_calls())))
def test_old_draw_names_warn_and_give_the_same_numbers(i: int, panel: em.Panel) -> None:
    fn, old, call, numbers = _draw_calls()[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        warnings.simplefilter("error", DeprecationWarning)
        new = call(panel, n_draws=120)
        with pytest.warns(DeprecationWarning,
                          match=rf"^{fn}: {old} is deprecated .*; pass n_draws=120 instead\.$"):
            was = call(panel, **{old: 120})
        other = call(panel, n_draws=150)
    np.testing.assert_array_equal(_numbers(numbers(was)), _numbers(numbers(new)))
    assert not np.array_equal(_numbers(numbers(other)), _numbers(numbers(new)), equal_nan=True)
    with pytest.raises(EstimationError, match=rf"{fn}: n_draws, {old} are one argument"):
        call(panel, n_draws=150, **{old: 120})


def test_draws_argument_prefers_n_draws_and_warns_once() -> None:
    assert vocab.draws_argument("f", 7, default=9, n_old=None) == 7
    with pytest.warns(DeprecationWarning, match="f: n_old is deprecated") as rec:
        assert vocab.draws_argument("f", 9, default=9, n_old=5) == 5
    assert len(rec) == 1
    with pytest.raises(EstimationError, match="pass n_draws only"):
        vocab.draws_argument("f", None, default=None, n_a=1, n_b=2)


def test_result_attributes_have_the_new_name_and_the_old_one_warns(
        panel: em.Panel) -> None:
    y, x, cl = _wild_data()
    units = [f"u{i:03d}" for i in range(30)]
    perm = em.permutation_inference(panel, "y", statistic=em.DiD2x2Statistic("y", pre=[3],
                                                                              post=[7]),
                                    treated=units[:1], pool=units[1:])
    wild = em.wild_bootstrap(y, x, cl, coef=1, n_draws=199, weights="webb", seed=1)
    boot = multiplier_bootstrap(np.ones((5, 1)), n_draws=50, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        gt = em.att_gt(panel, "y", inference="bootstrap", n_draws=60, seed=1)
    for result, old, value in ((perm, "n_perm", 29), (wild, "n_boot", 199),
                               (boot, "n_boot", 50), (gt, "n_boot", 60)):
        assert result.n_draws == value
        with pytest.warns(DeprecationWarning, match=rf"\.{old} is deprecated.*use \.n_draws"):
            assert getattr(result, old) == value


def test_no_public_signature_keeps_an_old_draw_name_without_n_draws() -> None:
    old = {"n_perm", "n_boot", "n_reps", "n_sim"}
    bad = []
    for where, fn in _public_callables():
        params = {p.name for p in _parameters(fn)}
        if params & old and "n_draws" not in params:
            bad.append(where)
    assert sorted(bad) == sorted(DRAWS_NOT_YET_MIGRATED)


# -- every Literal in a public signature comes from the vocabulary -----------------------------
def _public_callables() -> Iterator[tuple[str, Callable[..., Any]]]:
    """Functions, classes and their public methods named in ``evalmodel.__all__`` (and one
    level into the subpackages it names)."""
    seen: set[int] = set()

    def members(owner: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        for name in getattr(owner, "__all__", []):
            if name in ("cli", "report"):
                continue
            yield f"{prefix}{name}", getattr(owner, name)

    todo = list(members(em, "em."))
    todo += [(f"{w}.{n}", o) for w, mod in list(todo) if isinstance(mod, types.ModuleType)
             for n, o in members(mod, "")]
    for where, obj in todo:
        if id(obj) in seen or isinstance(obj, types.ModuleType):
            continue
        seen.add(id(obj))
        if inspect.isfunction(obj):
            yield where, obj
        elif inspect.isclass(obj) and obj.__module__.startswith("evalmodel"):
            yield where, obj
            for mname, meth in vars(obj).items():
                if inspect.isfunction(meth) and not mname.startswith("_"):
                    yield f"{where}.{mname}", meth


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # e.g. exception classes: no Python signature
        return []


def _literal_problems(where: str, fn: Callable[..., Any]) -> list[str]:
    """Annotations of ``fn`` that are, or name, a ``Literal`` not defined in the vocabulary."""
    namespace = vars(inspect.getmodule(fn)) if inspect.getmodule(fn) else {}
    allowed = [v for k, v in vars(vocab).items() if not k.startswith("_") and _literals(v)]
    out = []
    for p in _parameters(fn):
        ann = p.annotation
        if ann is inspect.Parameter.empty:
            continue
        if not isinstance(ann, str):
            found = _literals(ann)
            if any(lit not in allowed for lit in found):
                out.append(f"{where}({p.name}): {ann!r}")
            continue
        for node in ast.walk(ast.parse(ann, mode="eval")):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and (
                    node.value.id == "Literal"):
                out.append(f"{where}({p.name}): an inline {ast.unparse(node)}")
            elif isinstance(node, ast.Name) and node.id in namespace:
                value = namespace[node.id]
                if _literals(value) and not any(value == a for a in allowed):
                    out.append(f"{where}({p.name}): {node.id} is not a vocabulary type")
    return out


def _literals(tp: Any) -> list[Any]:
    """The ``Literal`` types in ``tp`` (itself, or members of a union)."""
    if typing.get_origin(tp) is Literal:
        return [tp]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [lit for arg in typing.get_args(tp) for lit in _literals(arg)]
    return []


def test_every_literal_in_a_public_signature_is_a_vocabulary_type() -> None:
    callables = list(_public_callables())
    assert len(callables) > 50
    problems = [msg for where, fn in callables for msg in _literal_problems(where, fn)]
    assert problems == []


def test_the_signature_walk_catches_a_foreign_literal() -> None:
    Foreign = Literal["one", "two"]

    def f(x: Foreign = "one") -> None:
        """Not in the vocabulary."""

    f.__annotations__ = {"x": Foreign}  # a resolved annotation

    def g(x: Literal["a"]) -> None:
        """Inline."""

    g.__annotations__ = {"x": 'Literal["a"]'}
    assert _literal_problems("f", f) == [f"f(x): {Foreign!r}"]
    f.__annotations__ = {"x": vocab.DrDidMethod}
    assert _literal_problems("f", f) == []
    assert _literal_problems("g", g) == ['g(x): an inline Literal[\'a\']']
    assert _literal_problems("ok", vocab.check_option) == []


def test_no_module_spells_its_own_literal() -> None:
    """``Literal[...]`` appears only in ``evalmodel/vocabulary.py`` (and, until they are
    migrated, in the modules of :data:`NOT_YET_MIGRATED`)."""
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "vocabulary.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and (
                    node.value.id == "Literal"):
                bad.append(f"{rel}:{node.lineno}")
    pending = [b for b in bad if b.split(":")[0] in NOT_YET_MIGRATED]
    assert [b for b in bad if b not in pending] == []


# -- argument checks of issue 15: periods, seeds, draws, solver options ----------------------
@pytest.mark.parametrize("value", [2010, np.int64(2010), np.int32(2010), 2010.0,
                                   np.float64(2010.0)])
def test_check_period_takes_whole_numbers_of_any_type(value: object) -> None:
    got = vocab.check_period("synth", "start", value)
    assert got == 2010 and type(got) is int


@pytest.mark.parametrize(("value", "pattern"), [
    (2010.5, r"^synth: start=2010\.5 is not a whole number; a period is a whole number \(the "
             r"panel covers 1998-2024\): pass e\.g\. start=2010 or start=2011\.$"),
    ("2010", r"^synth: start='2010' is text; a period is a whole number \(the panel covers "
             r"1998-2024\): pass start=2010 without quotes\.$"),
    ("next year", r"start='next year' is text; .* pass a whole number, e\.g\. start=1998\.$"),
    (True, r"start=True \(bool\) is not a period"),
    (float("nan"), r"start=nan \(float\) is not a period"),
    (None, r"start=None \(NoneType\) is not a period"),
])
def test_check_period_refuses_fractions_and_text(value: object, pattern: str) -> None:
    with pytest.raises(EstimationError, match=pattern):
        vocab.check_period("synth", "start", value, np.array([1998, 2024]))


def test_check_period_names_event_times_and_takes_the_error() -> None:
    with pytest.raises(DesignError, match=r"window\[0\]=-2\.5 is not a whole number; an event "
                                          r"time is a whole number: pass e\.g\. window\[0\]=-3"):
        vocab.check_period("f", "window[0]", -2.5, what="event time", error=DesignError)
    assert vocab.check_window("f", [np.int64(-2), 2.0]) == (-2, 2)
    with pytest.raises(EstimationError, match=r"window=4 must be two event times"):
        vocab.check_window("f", 4)


@pytest.mark.parametrize("seed", [None, 0, 42, np.int64(7), np.random.default_rng(1)])
def test_check_seed_takes_ints_generators_and_none(seed: object) -> None:
    vocab.check_seed("att_gt", seed)


@pytest.mark.parametrize(("seed", "fix"), [
    ("42", "pass seed=42"), (42.0, "pass seed=42"), (4.2, "use a whole number >= 0"),
    (-1, "use a whole number >= 0"), (True, "use a whole number >= 0"),
    (np.random.RandomState(0), "use a whole number >= 0"),
])
def test_check_seed_refuses_text_floats_bools_and_negatives(seed: object, fix: str) -> None:
    with pytest.raises(EstimationError, match=r"^att_gt: seed=.* must be a non-negative whole "
                       r"number \(e\.g\. seed=42\), a numpy Generator \(np\.random\."
                       rf"default_rng\(42\)\) or None: {re.escape(fix)}\.$"):
        vocab.check_seed("att_gt", seed)


def test_check_draws() -> None:
    assert vocab.check_draws("f", np.int64(99)) == 99
    assert vocab.check_draws("f", None, allow_none=True) is None
    for bad in (0, -5, 99.0, 99.5, "99", True, None):
        with pytest.raises(EstimationError, match=r"^f: n_draws=.* must be an integer of at "
                                                  r"least 1, e\.g\. n_draws=99?9?\.$"):
            vocab.check_draws("f", bad)
    with pytest.raises(EstimationError, match=r"n_draws=1 must be an integer of at least 2"):
        vocab.draws_argument("f", 1, default=999, minimum=2)
    with pytest.raises(EstimationError, match=r"n_perm=0 must be an integer of at least 1"):
        with pytest.warns(DeprecationWarning):
            vocab.draws_argument("f", None, default=None, n_perm=0)


def test_check_names() -> None:
    assert vocab.check_names("f", "treated", "0580") == ["0580"]
    assert vocab.check_names("f", "treated", ("a", np.int64(7))) == ["a", "7"]
    assert vocab.check_names("f", "exposed", [], allow_empty=True) == []
    with pytest.raises(EstimationError, match=r"^f: treated is empty; name at least one unit\.$"):
        vocab.check_names("f", "treated", [])
    for bad in (None, 1.5, {"a": 1}, [1.5], [None]):
        with pytest.raises(EstimationError, match=r"^f: treated=.* must be a unit id or a list "
                                                  r"of them, e\.g\. treated=\['1287'\]\.$"):
            vocab.check_names("f", "treated", bad)
    with pytest.raises(EstimationError, match=r"covariates=3\.0 must be a variable name"):
        vocab.check_names("f", "covariates", 3.0, what="variable")


def test_check_number() -> None:
    assert vocab.check_number("f", "x", np.int64(3), integer=True) == 3
    assert vocab.check_number("f", "x", -np.inf, integer=True, allow_inf=True) == -np.inf
    assert vocab.check_number("f", "p", 0.8, minimum=0, maximum=1, strict=True) == 0.8
    cases = [("x", 2.5, {"integer": True}, r"x=2\.5 must be a whole number\.$"),
             ("x", np.inf, {"integer": True}, r"x=inf must be a whole number\.$"),
             ("p", 1, {"minimum": 0, "maximum": 1, "strict": True},
              r"p=1 must be a number > 0 and < 1\.$"),
             ("p", "0.8", {"minimum": 0}, r"p='0\.8' must be a number >= 0\.$"),
             ("p", True, {}, r"p=True must be a number\.$"),
             ("p", np.nan, {}, r"p=nan must be a number\.$")]
    for name, value, kw, pattern in cases:
        with pytest.raises(EstimationError, match=rf"^f: {pattern}"):
            vocab.check_number("f", name, value, **kw)
