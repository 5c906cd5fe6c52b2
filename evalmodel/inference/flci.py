"""The fixed-length confidence interval (FLCI) under smoothness, ``Delta^SD(M)``, solved exactly.

The interval is ``l_pre' beta_pre + l' beta_post +/- chi`` (Armstrong and Kolesar 2018;
Rambachan and Roth 2023, section 4.1). In the cumulative-weight coordinates ``z`` of the
pre-period weights (``n = num_pre_periods - 1`` free values; the last one is fixed by
unbiasedness under linear trends) its standard deviation is ``h(z) = sqrt(V(z))`` with
``V(z) = z' Q z + r' z + c0``, and its worst-case bias over ``Delta^SD(M)`` is ``M B(z)``
with ``B(z) = const + |z_K| + ||z||_1``. The half-length is
``chi = h cv(M B / h)``, ``cv(t)`` the ``conf_level`` quantile of ``|N(t, 1)|``.

How it is solved (no iterative optimiser with a stopping tolerance):

* **The bias-variance frontier, exactly.** The least bias at standard deviation ``h`` lies on
  the path of ``min_z V(z) + mu ||z||_1`` over ``mu >= 0`` (the multiplier of the variance
  constraint is ``1 / mu``). ``V`` is a strictly convex quadratic, so the path is piecewise
  linear in ``mu``: on each piece the non-zero ``z`` solve a linear system and the rest stay
  zero (the lasso homotopy). It is traced once per covariance, from ``z = 0`` (least bias,
  ``mu >= ||r||_inf``) down to the least-variance weights (``mu = 0``), every breakpoint found
  in closed form, and shared by every ``M``.
* **The best standard deviation.** ``B(h)`` is convex and decreasing, with
  ``dB/dh = -2 h / mu``; ``cv`` is convex and increasing, so ``chi(h) = h cv(M B(h) / h)``
  (the perspective of ``cv``, composed with ``B``) is convex in ``h``. Its derivative
  ``cv(t) - cv'(t) (t + 2 M h / mu)``, ``cv' = (phi(cv - t) - phi(cv + t)) /
  (phi(cv - t) + phi(cv + t))``, is found to vanish along the path by Brent's root finder to
  the last bits of ``mu``; an end of the path is taken when the derivative keeps its sign.

Accuracy: the frontier is exact up to the rounding of its small linear solves (it equals a
50-digit brute-force solve to 1e-12 relative in the tests), and the half-length is the least
over every ``h`` up to the tolerance of ``cv`` (Newton's method, 1e-13 relative). HonestDiD
evaluates the same frontier at 100 values of ``h`` with a conic solver and keeps the best; the
optimum over every ``h`` is never longer than that (up to HonestDiD's simulated ``cv``). The
SLSQP solves this replaces stopped with the variance constraint exceeded by up to 8e-7
relative, so their intervals were up to 2e-7 too short for the weights they were centred on.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from evalmodel.errors import EstimationError

__all__ = ["FLCIProblem", "flci", "folded_normal_quantile"]

#: Breakpoints closer than this (relative to the larger) are one event of the homotopy.
_TIE = 1e-12


def folded_normal_quantile(p: float, mu: float) -> float:
    """The ``p`` quantile of ``|N(mu, 1)|`` (Newton's method on the CDF)."""
    mu = abs(mu)
    x = max(mu + float(special.ndtri(p)), float(special.ndtri((1 + p) / 2)))
    for _ in range(100):
        f = float(special.ndtr(x - mu) - special.ndtr(-x - mu)) - p
        d = (math.exp(-0.5 * (x - mu) ** 2) + math.exp(-0.5 * (x + mu) ** 2)) / math.sqrt(
            2 * math.pi)
        step = f / d
        x = max(x - step, x / 2)
        if abs(step) < 1e-13 * max(1.0, x):
            break
    return x


def _quantile_slope(c: float, t: float) -> float:
    """``d cv / d t`` at ``cv(t) = c`` (implicit differentiation of the folded normal CDF)."""
    lo, hi = math.exp(-0.5 * (c - t) ** 2), math.exp(-0.5 * (c + t) ** 2)
    return (lo - hi) / (lo + hi)


@dataclass(frozen=True)
class FLCIProblem:
    """One covariance's FLCI optimisation and its bias-variance frontier.

    Attributes
    ----------
    q, r, c0 : ndarray, ndarray, float
        The variance of the estimator with weights ``z`` is ``z' q z + r' z + c0``.
    const, zk : float
        Its worst-case bias per unit of ``M`` is ``const + |zk| + ||z||_1``.
    to_lpre, to_lpre_const : ndarray
        Its pre-period weights are ``to_lpre @ z + to_lpre_const``.
    mus : ndarray
        The frontier's breakpoints, decreasing from ``||r||_inf`` to 0.
    offsets, slopes : ndarray
        One row per piece: ``z(mu) = offsets[k] + mu * slopes[k]`` for
        ``mus[k+1] <= mu <= mus[k]``.
    """

    q: np.ndarray
    r: np.ndarray
    c0: float
    const: float
    zk: float
    to_lpre: np.ndarray
    to_lpre_const: np.ndarray
    mus: np.ndarray
    offsets: np.ndarray
    slopes: np.ndarray

    @classmethod
    def build(cls, sigma: np.ndarray, npre: int, lv: np.ndarray) -> FLCIProblem:
        """The problem of ``theta = lv' tau_post`` with ``npre`` leads, and its frontier."""
        npost = lv.size
        s = np.arange(1, npost + 1)
        zk = float(s @ lv)
        const = sum(abs(float(np.arange(1, j + 1) @ lv[npost - j:])) for j in range(1, npost + 1))
        const = const - zk
        # l_pre = D D z with D the first difference (leading zero); z = (z_free, zK)
        d1 = np.eye(npre) - np.eye(npre, k=-1)
        diff = d1 @ d1
        to_lpre = diff[:, : npre - 1]
        to_lpre_const = diff[:, npre - 1] * zk
        spp, spq = sigma[:npre, :npre], sigma[:npre, npre:]
        spost = float(lv @ sigma[npre:, npre:] @ lv)
        q = to_lpre.T @ spp @ to_lpre
        r = 2 * to_lpre.T @ (spp @ to_lpre_const + spq @ lv)
        c0 = float(to_lpre_const @ spp @ to_lpre_const + 2 * to_lpre_const @ spq @ lv + spost)
        eig = np.linalg.eigvalsh(q) if npre > 1 else np.ones(1)
        if not eig[0] > 1e-14 * eig[-1]:
            raise EstimationError(
                f"honest_ci: the covariance of the leads is singular (the variance of the "
                f"smoothness FLCI's pre-period weights has eigenvalues from {eig[0]:.3g} to "
                f"{eig[-1]:.3g}, so no unique least variance); check sigma, the event study's "
                "vcov (too few clusters or collinear leads)."
            )
        mus, offsets, slopes = _frontier(q, r)
        return cls(q, r, c0, const, zk, to_lpre, to_lpre_const, mus, offsets, slopes)

    def weights(self, mu: float) -> np.ndarray:
        """The least-bias weights ``z`` on the frontier at ``mu`` (``0 <= mu``)."""
        if self.q.size == 0:
            return np.zeros(0)
        mu = min(mu, float(self.mus[0]))
        k = min(int(np.searchsorted(-self.mus, -mu, side="right")) - 1, self.offsets.shape[0] - 1)
        return np.asarray(self.offsets[max(k, 0)] + mu * self.slopes[max(k, 0)])

    def variance(self, z: np.ndarray) -> float:
        """Variance of the estimator with weights ``z``."""
        return float(z @ self.q @ z + self.r @ z + self.c0)

    def bias(self, z: np.ndarray) -> float:
        """Worst-case bias per unit of ``M`` of the estimator with weights ``z``."""
        return self.const + float(np.abs(z).sum()) + abs(self.zk)

    def halflength(self, z: np.ndarray, m: float, conf_level: float) -> float:
        """``h cv(m B / h)`` at the weights ``z``."""
        h = math.sqrt(self.variance(z))
        return folded_normal_quantile(conf_level, m * self.bias(z) / h) * h

    def optimum(self, m: float, conf_level: float) -> tuple[float, np.ndarray]:
        """The least half-length over the frontier, and its weights."""
        if self.q.size == 0 or self.mus[0] == 0:
            z = np.zeros(self.q.shape[0])
            return self.halflength(z, m, conf_level), z
        z_min = self.weights(0.0)
        if m == 0:
            return self.halflength(z_min, m, conf_level), z_min

        def slope(mu: float) -> float:  # sign of d chi / d h at the frontier's point mu
            z = self.weights(mu)
            h = math.sqrt(self.variance(z))
            t = m * self.bias(z) / h
            c = folded_normal_quantile(conf_level, t)
            return c - _quantile_slope(c, t) * (t + 2 * m * h / mu)

        top = float(self.mus[0])
        ends = [z_min, np.zeros_like(z_min)]
        lo = top * 1e-12
        if slope(top) <= 0 or slope(lo) >= 0:  # chi is monotone: the better end
            cands = ends
        else:
            mu = optimize.brentq(slope, lo, top, xtol=top * 1e-15, rtol=4 * np.finfo(float).eps)
            cands = [*ends, self.weights(mu)]
        found = [(self.halflength(z, m, conf_level), z) for z in cands]
        return min(found, key=lambda c: c[0])


def _piece(q: np.ndarray, r: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``z = offset + mu * slope`` with the weights of non-zero ``signs`` solving
    ``2 q_AA z_A = -r_A - mu s_A`` and the others zero."""
    act = np.flatnonzero(signs)
    off, slo = np.zeros(r.size), np.zeros(r.size)
    if act.size:
        two_q = 2 * q[np.ix_(act, act)]
        off[act] = np.linalg.solve(two_q, -r[act])
        slo[act] = np.linalg.solve(two_q, -signs[act])
    return off, slo


def _next_signs(q: np.ndarray, r: np.ndarray, signs: np.ndarray, at: list[int],
                grad: np.ndarray) -> np.ndarray:
    """The signs of the piece below a breakpoint where the weights ``at`` are on the edge
    (a weight at zero, or a gradient ``grad`` at ``+/- mu``).

    Each of them either is non-zero below the breakpoint, with the sign opposite to its
    gradient, and moves that way as ``mu`` falls (``-slope * sign >= 0``), or stays zero with
    a gradient that falls at least as fast as ``mu`` (``sign(grad) * dgrad/dmu >= 1``). The
    choice that satisfies both (one exists: the path is unique) is found among all of them
    (``at`` holds one weight but at exact ties); rounding is allowed for by taking the least
    violation.
    """
    best, best_bad = signs, math.inf
    for pick in itertools.product((False, True), repeat=len(at)):
        trial = signs.copy()
        for i, on in zip(at, pick, strict=True):
            trial[i] = -np.sign(grad[i]) if on else 0.0
        slo = _piece(q, r, trial)[1]
        beta = 2 * q @ slo
        scale = max(float(np.abs(slo).max()), 1e-300)
        bad = 0.0
        for i, on in zip(at, pick, strict=True):
            bad = max(bad, (slo[i] * trial[i]) / scale if on else 1 - np.sign(grad[i]) * beta[i])
        if bad < best_bad:
            best, best_bad = trial, bad
        if bad <= 1e-9:
            break
    return best


def _frontier(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The path of ``argmin_z z' q z + r' z + mu ||z||_1`` as ``mu`` falls from ``||r||_inf``
    to 0: breakpoints and, on each piece, ``z = offset + mu * slope``.

    On a piece the non-zero weights ``A`` with signs ``s`` satisfy ``2 q_AA z_A = -r_A - mu s``
    and the others ``|2 q_jA z_A + r_j| <= mu``; a piece ends where a weight reaches zero (it
    leaves ``A``) or a gradient reaches ``mu`` (it joins with the opposite sign); at each end
    :func:`_next_signs` decides which of the weights on the edge are non-zero below it.
    """
    n = r.size
    if n == 0:
        return np.zeros(1), np.zeros((1, 0)), np.zeros((1, 0))
    mu = float(np.abs(r).max())
    if mu == 0:  # z = 0 is the least variance too
        return np.array([0.0, 0.0]), np.zeros((1, n)), np.zeros((1, n))
    mus: list[float] = [mu]
    offsets: list[np.ndarray] = []
    slopes: list[np.ndarray] = []
    at = [int(i) for i in np.flatnonzero(np.abs(r) >= mu * (1 - _TIE))]
    signs = _next_signs(q, r, np.zeros(n), at, r)
    for _ in range(8 * n + 8):
        off, slo = _piece(q, r, signs)
        offsets.append(off)
        slopes.append(slo)
        # gradient of the variance: grad = alpha + mu * beta. Events at this breakpoint
        # itself (the weights that just changed, up to rounding) are ties, not new events.
        alpha, beta = 2 * q @ off + r, 2 * q @ slo
        events: list[tuple[float, int]] = []
        for i in np.flatnonzero(signs):  # a weight reaches zero
            if slo[i] != 0:
                events.append((-off[i] / slo[i], int(i)))
        for j in np.flatnonzero(signs == 0):  # a gradient reaches +mu or -mu
            for sgn in (1.0, -1.0):
                denom = sgn - beta[j]
                if denom != 0:
                    events.append((alpha[j] / denom, int(j)))
        below = [(e, i) for e, i in events if 0 < e < mu * (1 - _TIE)]
        nxt = max((e for e, _ in below), default=0.0)
        mus.append(nxt)
        if nxt <= 0:
            break
        at = sorted({i for e, i in below if e >= nxt * (1 - _TIE)})
        signs = _next_signs(q, r, signs, at, alpha + nxt * beta)
        mu = nxt
    else:  # pragma: no cover - each piece ends at an event, and the path has finitely many
        raise EstimationError("honest_ci: the smoothness FLCI's bias-variance frontier did not "
                              "close; report this covariance as a bug.")
    return np.array(mus), np.array(offsets), np.array(slopes)


def flci(problem: FLCIProblem, b: np.ndarray, npre: int, lv: np.ndarray, m: float,
         conf_level: float) -> tuple[float, float]:
    """The FLCI ``(ci_lower, ci_upper)`` of ``theta = lv' tau_post`` at smoothness ``m``."""
    hl, z = problem.optimum(m, conf_level)
    l_pre = problem.to_lpre @ z + problem.to_lpre_const
    centre = float(l_pre @ b[:npre] + lv @ b[npre:])
    return centre - hl, centre + hl
