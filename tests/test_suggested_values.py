"""Messages suggest only allowed option values (issue 15: one message recommended
``inference='cluster'``, which the check then refused): every error and warning message of the
package is scanned for ``name='value'`` and each value checked against that argument's words."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import evalmodel as em
from evalmodel import vocabulary as vocab
from evalmodel.data.simulate import simple_panel
from evalmodel.errors import EstimationError

PACKAGE = Path(em.__file__).parent


@pytest.fixture(scope="module")
def panel() -> em.Panel:
    df, _ = simple_panel(n_units=30, seed=3)
    return em.Panel(df, unit="unit", time="time", cohort="cohort")


#: The ``Literal`` types of each argument name that messages suggest values for; ``inference``
#: and ``method`` take every vocabulary type named ``...Inference`` or ``...Method`` (so a new
#: estimator's type joins by its name).
SUGGESTED: dict[str, tuple[Any, ...]] = {
    "inference": tuple(getattr(vocab, n) for n in vocab.__all__ if n.endswith("Inference")),
    "method": tuple(getattr(vocab, n) for n in vocab.__all__ if n.endswith("Method")),
    "control_group": (vocab.ControlGroup,), "base_period": (vocab.BasePeriod,),
    "estimator": (vocab.EventStudyEstimator,), "multipliers": (vocab.Multipliers,),
    "weights": (vocab.WildWeights,), "restriction": (vocab.Restriction,),
    "v_start": (vocab.SynthVStart,), "pool": (vocab.CasePool,),
    "transform": (vocab.DisplacementTransform,), "kind": (vocab.AggregationKind,),
    "treated_gaps": (vocab.TreatedGaps,), "engine": (vocab.SolverEngine,),
}
_SUGGESTION = re.compile(r"\b(" + "|".join(SUGGESTED) + r")=(['\"])([A-Za-z_]+)\2")


def _suggestions(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(3)) for m in _SUGGESTION.finditer(text)]


def _allowed(name: str) -> set[str]:
    return {w for lit in SUGGESTED[name] for w in vocab.options_of(lit)}


def _messages(tree: ast.AST) -> Iterator[ast.Constant]:
    """The string pieces of every error and warning message: the arguments of ``raise X(...)``
    and of ``warnings.warn(...)`` (f-string pieces included)."""
    for node in ast.walk(tree):
        args: list[ast.expr] = []
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            args = list(node.exc.args)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr == "warn"):
            args = list(node.args[:1])
        for arg in args:
            for piece in ast.walk(arg):
                if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                    yield piece


def test_the_message_scan_finds_the_old_wrong_suggestion() -> None:
    old = ('def f():\n    raise EstimationError("twfe: permutation inference needs the cohort '
           'role, not a treatment column; pass inference=\'cluster\'.")\n')
    found = [s for c in _messages(ast.parse(old)) for s in _suggestions(c.value)]
    assert found == [("inference", "cluster")]
    assert "cluster" not in _allowed("inference")
    assert {"analytic", "permutation", "placebo", "bootstrap"} <= _allowed("inference")


def test_every_suggested_option_value_is_allowed() -> None:
    """Scan every error and warning message of the package for ``name='value'`` with ``name``
    an option argument, and require ``value`` to be one of that argument's words: a message
    must never recommend a value the check then refuses (issue 15: one message recommended
    ``inference='cluster'``)."""
    bad = []
    n_found = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _messages(tree):
            for name, value in _suggestions(node.value):
                n_found += 1
                if value not in _allowed(name):
                    rel = path.relative_to(PACKAGE).as_posix()
                    bad.append(f"{rel}:{node.lineno}: {name}={value!r}")
    assert n_found > 10  # the scan reads the messages (it finds the suggestions there are)
    assert bad == []


def test_twfe_with_a_treatment_column_suggests_an_allowed_inference(panel: em.Panel) -> None:
    """The message that once said ``inference='cluster'`` (not allowed) and its advice works."""
    p = em.Panel(panel.data.assign(d=lambda d: (d["cohort"] > 0) & (d["time"] >= 6)).astype(
        {"d": float}), unit="unit", time="time", cohort="cohort")
    with pytest.raises(EstimationError, match=r"^twfe: permutation inference needs the cohort "
                                              r"role, not a treatment column; pass "
                                              r"inference='analytic'\.$"):
        em.twfe(p, "y", treatment="d", inference="permutation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        assert np.isfinite(em.twfe(p, "y", treatment="d", inference="analytic").estimate)
