"""Options passed through to numerical solvers, checked before the solver sees them.

``scipy.optimize.minimize`` ignores an option it does not know with a warning and runs on with
its default, so a typo such as ``maxitr`` would go unnoticed; the entry points (``synth``'s
``optimizer_options``) call :func:`check_optimizer` first (issue 15). The table of option names,
:data:`SCIPY_MINIMIZE_OPTIONS`, is checked against the installed scipy by
``tests/test_solver_options.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from evalmodel.errors import EstimationError, EvalModelError
from evalmodel.vocabulary import did_you_mean

__all__ = ["SCIPY_MINIMIZE_OPTIONS", "check_optimizer", "check_solver_options"]


def check_solver_options(fn: str, name: str, options: Any, allowed: Iterable[str], *,
                         solver: str = "the solver",
                         error: type[EvalModelError] = EstimationError) -> dict[str, Any]:
    """Return ``options`` as a dict, raising on a name the solver does not take.

    Solvers such as ``scipy.optimize.minimize`` ignore an unknown option with a warning (so a
    typo such as ``maxitr`` silently leaves the default in force); here it is refused with the
    allowed names and the closest one.

    Examples
    --------
    >>> check_solver_options("synth", "optimizer_options", {"maxiter": 5}, ["maxiter", "disp"])
    {'maxiter': 5}
    >>> check_solver_options("synth", "optimizer_options", {"maxitr": 5}, ["maxiter", "disp"])
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: synth: optimizer_options has 'maxitr', which is not an \
option of the solver; its options are ['disp', 'maxiter'] (did you mean 'maxiter'?).
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise error(f"{fn}: {name}={options!r} must be a dict of option names and values, e.g. "
                    f"{name}={{'maxiter': 1000}}, or None.")
    words = sorted(allowed)
    for key in options:
        if key not in words:
            raise error(f"{fn}: {name} has {key!r}, which is not an option of {solver}; its "
                        f"options are {words}{did_you_mean(key, words)}.")
    return dict(options)


#: The options of ``scipy.optimize.minimize``'s methods that need no gradient from the caller
#: (the names of their keyword arguments in scipy 1.17; ``tests/test_vocabulary.py`` checks them
#: against the installed scipy). Keys are the lower-case method names scipy accepts.
SCIPY_MINIMIZE_OPTIONS: dict[str, tuple[str, ...]] = {
    "nelder-mead": ("maxiter", "maxfev", "disp", "return_all", "initial_simplex", "xatol",
                    "fatol", "adaptive"),
    "powell": ("xtol", "ftol", "maxiter", "maxfev", "disp", "direc", "return_all"),
    "cg": ("gtol", "norm", "eps", "maxiter", "disp", "return_all", "finite_diff_rel_step", "c1",
           "c2", "workers"),
    "bfgs": ("gtol", "norm", "eps", "maxiter", "disp", "return_all", "finite_diff_rel_step",
             "xrtol", "c1", "c2", "hess_inv0", "workers"),
    "l-bfgs-b": ("disp", "maxcor", "ftol", "gtol", "eps", "maxfun", "maxiter", "iprint", "maxls",
                 "finite_diff_rel_step", "workers"),
    "tnc": ("eps", "scale", "offset", "mesg_num", "maxCGit", "eta", "stepmx", "accuracy",
            "minfev", "ftol", "xtol", "gtol", "rescale", "disp", "finite_diff_rel_step", "maxfun",
            "workers"),
    "cobyla": ("rhobeg", "tol", "maxiter", "disp", "catol", "f_target"),
    "cobyqa": ("disp", "maxfev", "maxiter", "f_target", "feasibility_tol", "initial_tr_radius",
               "final_tr_radius", "scale"),
    "slsqp": ("maxiter", "ftol", "iprint", "disp", "eps", "finite_diff_rel_step", "workers"),
}


def check_optimizer(fn: str, optimizer: Any, options: Any, *,
                    error: type[EvalModelError] = EstimationError) -> None:
    """Raise unless ``optimizer`` is a ``scipy.optimize.minimize`` method of
    :data:`SCIPY_MINIMIZE_OPTIONS` (any case) and ``options`` holds only its options.

    Examples
    --------
    >>> check_optimizer("synth", "Nelder-Mead", {"maxiter": 5})
    >>> check_optimizer("synth", "Nelder-Mead", {"maxitr": 5})
    Traceback (most recent call last):
    ...
    evalmodel.errors.EstimationError: synth: optimizer_options has 'maxitr', which is not an \
option of scipy's 'Nelder-Mead'; its options are ['adaptive', 'disp', 'fatol', \
'initial_simplex', 'maxfev', 'maxiter', 'return_all', 'xatol'] (did you mean 'maxiter'?).
    """
    methods = list(SCIPY_MINIMIZE_OPTIONS)
    if not isinstance(optimizer, str) or optimizer.lower() not in SCIPY_MINIMIZE_OPTIONS:
        raise error(f"{fn}: optimizer={optimizer!r} is not a method of scipy.optimize.minimize "
                    f"that needs no gradient; pass one of {methods}"
                    f"{did_you_mean(optimizer, methods)}.")
    check_solver_options(fn, "optimizer_options", options,
                         SCIPY_MINIMIZE_OPTIONS[optimizer.lower()],
                         solver=f"scipy's {optimizer!r}", error=error)
