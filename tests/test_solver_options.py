"""Solver options checked before the solver sees them (issue 15: a typo is refused, not
ignored with scipy's warning)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from evalmodel import solver_options as vocab
from evalmodel.errors import EstimationError


def test_check_solver_options() -> None:
    assert vocab.check_solver_options("f", "options", None, ["maxiter"]) == {}
    with pytest.raises(EstimationError, match=r"^f: options has 'maxitr', which is not an option "
                                              r"of the solver; its options are \['disp', "
                                              r"'maxiter'\] \(did you mean 'maxiter'\?\)\.$"):
        vocab.check_solver_options("f", "options", {"maxitr": 5}, ["maxiter", "disp"])
    with pytest.raises(EstimationError, match=r"options=\[\('maxiter', 5\)\] must be a dict"):
        vocab.check_solver_options("f", "options", [("maxiter", 5)], ["maxiter"])


def test_check_optimizer() -> None:
    vocab.check_optimizer("synth", "nelder-mead", {"maxiter": 5, "xatol": 1e-6})
    vocab.check_optimizer("synth", "L-BFGS-B", {"maxfun": 50})
    with pytest.raises(EstimationError, match=r"optimizer='Nelder-Meed' is not a method of "
                                              r"scipy\.optimize\.minimize .* \(did you mean "
                                              r"'nelder-mead'\?\)"):
        vocab.check_optimizer("synth", "Nelder-Meed", None)
    with pytest.raises(EstimationError, match=r"'fatol', which is not an option of scipy's "
                                              r"'BFGS'; its options are \['c1', "):
        vocab.check_optimizer("synth", "BFGS", {"fatol": 1e-3})


def test_scipy_minimize_options_match_the_installed_scipy() -> None:
    """The table of option names is scipy's: each method's keyword arguments, minus those that
    ``minimize`` passes itself (so a new or renamed scipy option fails here, not silently)."""
    from scipy.optimize import _minimize

    functions = {"nelder-mead": "neldermead", "powell": "powell", "cg": "cg", "bfgs": "bfgs",
                 "l-bfgs-b": "lbfgsb", "tnc": "tnc", "cobyla": "cobyla", "cobyqa": "cobyqa",
                 "slsqp": "slsqp"}
    own = {"fun", "func", "x0", "args", "jac", "hess", "hessp", "bounds", "constraints",
           "callback", "unknown_options"}
    assert set(functions) == set(vocab.SCIPY_MINIMIZE_OPTIONS)
    for method, name in functions.items():
        params = inspect.signature(getattr(_minimize, f"_minimize_{name}")).parameters
        assert set(vocab.SCIPY_MINIMIZE_OPTIONS[method]) == set(params) - own, method
        assert method in _minimize.MINIMIZE_METHODS


def test_scipy_ignores_an_unknown_option_which_is_why_synth_refuses_it() -> None:
    """The reason for :func:`check_optimizer`: scipy only warns about ``maxitr`` and runs on
    with its default, so the typo would otherwise go unnoticed."""
    from scipy.optimize import OptimizeWarning, minimize

    with pytest.warns(OptimizeWarning, match="Unknown solver options: maxitr"):
        minimize(lambda v: float(v @ v), np.ones(2), method="Nelder-Mead",
                 options={"maxitr": 1})


# -- every option value a message suggests is an allowed value ------------------------------
