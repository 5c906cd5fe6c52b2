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

The command (``evalmodel run``) wraps its loop in :func:`forked_workers`, so that on Linux its
workers are forked from it, with the package already imported, instead of loky's fresh
processes, unless a backend was chosen or forking is not safe (:func:`fork_refused`).
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from joblib import Parallel, delayed, parallel_config
from joblib.parallel import BACKENDS, get_active_backend

from evalmodel.errors import EvalModelError

__all__ = ["GC_THRESHOLDS", "backend_chosen", "check_n_jobs", "fork_refused", "forked_workers",
           "lean_collector", "run_tasks", "task_rng"]

#: Allocations (and younger collections) between the garbage collector's runs within
#: :func:`lean_collector` (Python's own are 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)

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


class _Counted(Parallel):
    """joblib's :class:`~joblib.Parallel`, calling ``done(n)`` once for each ``n`` as the number
    of finished tasks grows to it (from joblib's progress hook, which every backend calls as a
    batch completes, so a batch of several tasks gives several calls; the results still come
    back together, in order)."""

    def __init__(self, done: Callable[[int], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._done = done
        self._told = 0

    def print_progress(self) -> None:
        super().print_progress()
        while self._told < self.n_completed_tasks:
            self._told += 1
            self._done(self._told)


def run_tasks(fn: Callable[..., T], args: Iterable[Sequence[Any]], *, n_jobs: int = 1,
              done: Callable[[int], None] | None = None) -> list[T]:
    """``[fn(*a) for a in args]``, in order, over ``n_jobs`` joblib workers.

    ``n_jobs=1`` runs in this process, without joblib; otherwise the tasks go to joblib's
    current backend (loky processes unless ``joblib.parallel_config`` says otherwise). The
    result list is in the order of ``args`` whatever the backend. ``done``, if given, is
    called once per finished task with the number finished so far, 1, 2, ... (for a
    progress bar; with workers, as the tasks finish, in any order).
    """
    if n_jobs == 1:
        out: list[T] = []
        for a in args:
            out.append(fn(*a))
            if done is not None:
                done(len(out))
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # joblib's notes on worker start-up
        parallel = Parallel(n_jobs=n_jobs) if done is None else _Counted(done, n_jobs=n_jobs)
        result = parallel(delayed(fn)(*a) for a in args)
    return list(result)


def backend_chosen() -> bool:
    """Whether the caller chose joblib's backend (``joblib.parallel_config(backend=...)``, or
    ``prefer``/``require`` asking for threads) rather than leaving joblib's default, loky.

    joblib builds its default backend afresh at every look-up but returns the chosen one
    itself, so two look-ups give the same object only when one was chosen. Should joblib
    ever keep its default, this reads it as chosen, and :func:`forked_workers` keeps loky.
    """
    first, again = get_active_backend()[0], get_active_backend()[0]
    return first is again or not isinstance(first, BACKENDS["loky"])


def fork_refused() -> str | None:
    """Why :func:`forked_workers` keeps joblib's backend in this process, or ``None`` when it
    forks.

    It keeps it when a backend was chosen (:func:`backend_chosen`); off Linux, where fork is
    not the platform's start method and system libraries (macOS's) are not safe after it; and
    once numba is loaded, since its OpenMP threading layer kills a child forked after a
    parallel loop ran ("fork() called from a process already using GNU OpenMP") and the
    loop would wait for it forever. The command loads numba only in its workers.
    """
    if backend_chosen():
        return "a joblib backend was chosen"
    if not sys.platform.startswith("linux"):
        return f"fork is not safe on {sys.platform}"
    if "numba" in sys.modules:
        return "numba is loaded (its OpenMP threads do not survive a fork)"
    return None


@contextmanager
def forked_workers() -> Iterator[None]:
    """Within the block, joblib loops run on worker processes forked from this one, unless
    :func:`fork_refused` gives a reason not to (then joblib's backend is kept).

    A forked worker starts with the modules this process has imported, where a loky worker
    is a fresh interpreter that imports the package again (about a second of CPU each). The
    tasks and their results are pickled as with loky (joblib's ``"multiprocessing"``
    backend, on a ``fork`` context), so the numbers are the same.
    """
    if fork_refused() is not None:
        yield
        return
    with parallel_config(backend="multiprocessing",
                         context=multiprocessing.get_context("fork")):
        yield


@contextmanager
def lean_collector() -> Iterator[None]:
    """Within the block, Python's garbage collector leaves alone the objects that exist at its
    start and runs less often.

    A report worker creates many short-lived objects (figures, frames) beside the hundreds of
    thousands that the imported libraries hold. Each full collection walks all of them, and
    the collector's default thresholds run one every few thousand allocations: about 1.6 s
    of CPU over the report's five cases (measured in issue 16). :func:`gc.freeze` moves what
    exists now (the imports, the data) out of the collector's sight, which forked workers
    inherit, and :data:`GC_THRESHOLDS` spaces the collections. Reference counting still frees
    what it always freed; only cycles wait longer. Nothing computed depends on it. The
    previous thresholds are restored, and the frozen objects returned to the collector, at
    the end.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
