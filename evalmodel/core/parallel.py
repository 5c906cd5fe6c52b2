"""Independent tasks spread over processes (or a cluster) through joblib.

Every embarrassingly parallel loop of the package (placebos in space, permutation statistics
without a vectorised form, placebo studies, the cases of ``evalmodel run``) goes through
:func:`run_tasks`. It calls joblib's :class:`~joblib.Parallel` without naming a backend, so the
backend is whatever the caller chose with ``joblib.parallel_config``: loky processes by
default, or a Dask or Ray cluster (docs: "Parallel and cluster runs").

A task's result must depend on its arguments only, never on the worker that runs it or on the
order of the tasks. Random draws are therefore made before the loop, or inside a task from a
generator seeded for that task by :func:`task_rng` (the study's seed and the task's index), so
the numbers are identical whatever the number of workers or the backend.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
from joblib import Parallel, delayed

from evalmodel.errors import EvalModelError

__all__ = ["check_n_jobs", "run_tasks", "task_rng"]

T = TypeVar("T")


def check_n_jobs(fn: str, n_jobs: Any, error: type[EvalModelError] = EvalModelError) -> int:
    """``n_jobs`` as an int: a number of workers, or -1 for every core (joblib's -k: every
    core but k - 1).

    Raises
    ------
    EvalModelError
        (or ``error``) for 0, a bool or a non-integer, naming ``fn``.
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs == 0:
        raise error(f"{fn}: n_jobs={n_jobs!r} must be a non-zero integer: 1 for one "
                             "process (the default), 2 or more for that many, -1 for every "
                             "core.")
    return int(n_jobs)


def task_rng(seed: int | None, index: int) -> np.random.Generator:
    """The generator of task ``index`` of a loop seeded with ``seed``.

    Seeded with ``(seed, index)`` through :class:`numpy.random.SeedSequence`, so each task's
    draws are independent of the other tasks' and of the worker that runs it. ``seed=None``
    gives fresh entropy (not reproducible).
    """
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), int(index)])


def run_tasks(fn: Callable[..., T], args: Iterable[Sequence[Any]], *, n_jobs: int = 1
              ) -> list[T]:
    """``[fn(*a) for a in args]``, in order, over ``n_jobs`` joblib workers.

    ``n_jobs=1`` runs in this process, without joblib; otherwise the tasks go to joblib's
    current backend (loky processes unless ``joblib.parallel_config`` says otherwise). The
    result list is in the order of ``args`` whatever the backend.
    """
    if n_jobs == 1:
        return [fn(*a) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # joblib's notes on worker start-up
        out = Parallel(n_jobs=n_jobs)(delayed(fn)(*a) for a in args)
    return list(out)
