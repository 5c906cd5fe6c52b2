"""Starting weights shared by the placebo fits of successive placebos-in-space on one panel.

A placebo study of the synthetic control (:func:`~evalmodel.inference.calibration.
placebo_study`) makes each of 30 units in turn the treated unit and runs placebos in space
around it: every other unit is fitted against the rest, 30 times over nearly the same pools
(unit ``j`` against all units but ``j`` and that run's treated unit). Inside
:func:`placebo_starts`, :func:`~evalmodel.inference.placebo.placebo_in_space` keeps each
placebo's weights by unit id and starts the same unit's next fit from them (restricted to its
new pool): a few active-set steps instead of a cold start's many.

The start changes no number where the fit's optimum is unique (the exact solver ends with the
KKT solution on the optimum's support, however it got there), and inside the pool's hull,
where the predictor fit is not unique, the tie-break that decides the weights starts cold
(:class:`~evalmodel.core.synth_inner.InnerProblem`). Outside a ``with placebo_starts():``
block nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

__all__ = ["PlaceboStarts", "active_starts", "placebo_starts"]


class PlaceboStarts:
    """Each unit's last placebo weights on the other units, by unit id, with the outcome row it
    was fitted on (a unit whose row changed starts afresh, so another outcome or panel never
    shares them)."""

    def __init__(self) -> None:
        self._clear(0)

    def _clear(self, periods: int) -> None:
        """Forget every unit; rows of ``periods`` outcome values from now on."""
        self._ids: dict[str, int] = {}
        self._rows = np.zeros((0, periods))
        self._w = np.zeros((0, 0))

    def _index(self, units: Sequence[str], y: np.ndarray) -> np.ndarray:
        """The store's index of each of ``units`` (outcome rows ``y``), added where new; a
        unit whose row differs from the one kept loses its weights."""
        if self._rows.shape[1] != y.shape[1]:
            self._clear(y.shape[1])
        new = [u for u in dict.fromkeys(units) if u not in self._ids]
        if new:
            n = len(self._ids)
            self._ids.update((u, n + i) for i, u in enumerate(new))
            size = n + len(new)
            self._rows = np.vstack([self._rows, np.full((len(new), y.shape[1]), np.nan)])
            w = np.zeros((size, size))
            w[:n, :n] = self._w
            self._w = w
        idx = np.fromiter((self._ids[u] for u in units), dtype=np.int64, count=len(units))
        changed = ~(self._rows[idx] == y).all(axis=1)
        if changed.any():
            self._w[idx[changed], :] = 0.0
            self._rows[idx[changed]] = y[changed]
        return idx

    def starts(self, units: Sequence[str], y: np.ndarray) -> np.ndarray:
        """Starting weights of ``units`` (ids; outcome rows ``y``) fitted against each other:
        row ``j`` is unit ``j``'s last weights on the others among ``units``, zero where none
        are kept."""
        idx = self._index(units, y)
        w0 = self._w[np.ix_(idx, idx)]
        np.fill_diagonal(w0, 0.0)
        return w0

    def keep(self, units: Sequence[str], y: np.ndarray, w: np.ndarray) -> None:
        """Keep row ``j`` of ``w`` as unit ``j``'s weights on the others among ``units``."""
        idx = self._index(units, y)
        self._w[idx, :] = 0.0
        self._w[np.ix_(idx, idx)] = w


_ACTIVE: ContextVar[PlaceboStarts | None] = ContextVar("placebo_starts", default=None)


def active_starts() -> PlaceboStarts | None:
    """The store of the innermost :func:`placebo_starts` block, if any."""
    return _ACTIVE.get()


@contextmanager
def placebo_starts(store: PlaceboStarts | None = None) -> Iterator[PlaceboStarts]:
    """Share placebo starting weights between the placebos-in-space run inside the block
    (``store``, default a new one, may be kept and passed again to share across blocks)."""
    token = _ACTIVE.set(store if store is not None else PlaceboStarts())
    try:
        yield _ACTIVE.get()  # type: ignore[misc]
    finally:
        _ACTIVE.reset(token)
