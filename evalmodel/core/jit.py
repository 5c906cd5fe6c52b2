"""Optional compilation of inner loops with numba.

A handful of algorithms are sequential at heart (Frank-Wolfe steps, one multiplier draw after
another over units) and cost more in Python's per-call overhead than in arithmetic. Their
kernels are compiled with :func:`numba.njit` when numba is installed; each has a NumPy twin
that gives the same numbers (to rounding) and is used when numba is missing or when
``EVALMODEL_NUMBA=0`` is set in the environment. Compiled kernels are cached on disk, so the
compilation (a few seconds per kernel) is paid once per installation. numba itself is imported
only when a kernel module is first used, so ``import evalmodel`` stays quick.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["HAVE_NUMBA", "njit", "numba_threads", "use_numba"]

HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def use_numba() -> bool:
    """Whether compiled kernels are used: numba is installed and ``EVALMODEL_NUMBA`` is not 0."""
    return HAVE_NUMBA and os.environ.get("EVALMODEL_NUMBA", "1") != "0"


def njit(**options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``numba.njit(cache=True, **options)`` (numba must be installed)."""
    import numba

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return numba.njit(cache=True, **options)(fn)

    return wrap


@contextmanager
def numba_threads(n: int) -> Iterator[None]:
    """Within the block, the compiled parallel loops that this thread starts use at most ``n``
    threads (:func:`numba.set_num_threads`; the previous number is restored after). A
    process that already has a core to itself, such as a report worker, gains nothing from
    more and would only crowd the other workers. Nothing happens without numba or with
    ``EVALMODEL_NUMBA=0``."""
    if not use_numba():
        yield
        return
    import numba

    before = numba.get_num_threads()
    most = int(getattr(numba.config, "NUMBA_NUM_THREADS"))  # noqa: B009 (set at import)
    numba.set_num_threads(max(1, min(int(n), most)))
    try:
        yield
    finally:
        numba.set_num_threads(before)
