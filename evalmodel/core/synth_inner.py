"""The inner problem of one synthetic control fit: unit weights for given predictor weights V,
warm-started from the last solution (the exact simplex solver of :mod:`.simplex_kernel`).

Imported on first use, not with evalmodel.
"""

from __future__ import annotations

import numpy as np

from evalmodel.core.simplex_kernel import _max_iter, _v_loss, _w_of_v

__all__ = ["InnerProblem"]


class InnerProblem:
    """The inner problem of one synthetic control fit, warm-started from its last solution.

    Parameters
    ----------
    x0, x1 : ndarray, shapes (k, J) and (k,)
        Scaled predictors of the donors and of the target unit.
    z0, z1 : ndarray, shapes (T, J) and (T,)
        Fit-period outcomes of the donors and of the target unit.

    Notes
    -----
    Successive calls start the active-set method from the previous weights (an outer search
    moves V a little at a time, so the support rarely changes and one or two steps suffice).
    The optimum does not depend on the start except where it is not unique, which the
    tie-breaking of :meth:`weights` removes. ``w0`` (J,), optional, starts the first call,
    e.g. the same target's weights on a larger pool; the tie-break (inside the hull) still
    starts cold on the first call, so the weights are those of a cold start bit for bit
    wherever the predictor fit's optimum is unique (the solver ends with the KKT solution on
    the optimum's support, however it got there).
    """

    def __init__(self, x0: np.ndarray, x1: np.ndarray, z0: np.ndarray, z1: np.ndarray,
                 w0: np.ndarray | None = None) -> None:
        self.x0, self.x1, self.z0, self.z1 = (np.ascontiguousarray(x, dtype=np.float64)
                                              for x in (x0, x1, z0, z1))
        self._warm = np.zeros((2, self.x0.shape[1]))
        if w0 is not None:  # starts the first solve only; the tie-break starts cold
            self._warm[0] = w0
        self._max_iter = _max_iter(self.x0.shape[1])

    def weights(self, v: np.ndarray) -> np.ndarray:
        """Unit weights for normalised predictor weights ``v``.

        They minimise ``(x1 - x0 w)' diag(v) (x1 - x0 w)`` over the simplex. Inside the donors'
        hull many weight vectors match the predictors exactly; among them the one that best
        fits the fit-period outcome is taken (predictor rows weighted
        ``simplex_kernel._TIE_WEIGHT`` times the outcome rows), so the weights are unique and
        move continuously with V.
        """
        v = np.ascontiguousarray(v, dtype=np.float64)
        return np.array(_w_of_v(v, self.x0, self.x1, self.z0, self.z1, self._warm,
                                self._max_iter))

    def loss(self, x: np.ndarray) -> float:
        """Fit-period outcome MSPE for ``V = |x| / sum |x|`` (R Synth's ``loss.v``); inf at 0."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        return float(_v_loss(x, self.x0, self.x1, self.z0, self.z1, self._warm,
                             self._max_iter))
