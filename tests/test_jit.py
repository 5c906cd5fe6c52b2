"""The switch for numba's threads (evalmodel.core.jit.numba_threads)."""

from __future__ import annotations

import numba
import pytest

from evalmodel.core.jit import numba_threads, use_numba


@pytest.mark.skipif(not use_numba(), reason="numba switched off (EVALMODEL_NUMBA=0)")
def test_numba_threads_limits_and_restores() -> None:
    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), numba_threads(1):
        raise RuntimeError("restored on the way out")
    assert numba.get_num_threads() == before
    with numba_threads(10_000):  # more than numba has: capped, not an error
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    assert numba.get_num_threads() == before
