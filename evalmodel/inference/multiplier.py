"""Multiplier bootstrap of asymptotically linear estimators, with uniform (sup-t) bands.

Given the influence functions ``psi`` (n units x k estimates) of estimators
``theta_hat - theta = (1/n) sum_i psi_i + o_p(n^-1/2)``, each draw perturbs the sum with
independent Rademacher multipliers ``V_b`` (one per unit, or one per cluster when the
influence functions are first summed within clusters):

    delta_b = (1/n) sum_c V_bc S_c,       S_c = sum_{i in c} psi_i.

The standard error of each estimate is the interquartile range of its draws divided by
``2 * qnorm(0.75)`` (robust to heavy tails), and the critical value of the simultaneous band is
the ``conf_level`` quantile of ``max_j |delta_bj| / se_j`` (Callaway and Sant'Anna 2021,
section 4.1). The results depend only on ``seed``.

Multipliers are Rademacher (as R ``did``) by default. Their signs are packed random bits, and
the signed sums run in a compiled kernel (:mod:`.multiplier_kernel`) that touches each cluster's
non-zero columns only, works in a verified low-rank basis where a large group of clusters has
one (:func:`low_rank`), and adds eight clusters at a time from a table of their 256 signed
sums; without numba, BLAS computes them in blocks of bounded memory, at a cost of
``n_draws * C * k``. With ``multipliers="gaussian"`` the draws are, conditionally on the data,
exactly normal with covariance ``S'S / n^2``, so they are drawn from that distribution directly
at a cost of ``C * k^2 + n_draws * k^2``: the same bootstrap, much faster for large ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from evalmodel.core.clusters import cluster_sums
from evalmodel.core.jit import use_numba
from evalmodel.errors import EstimationError
from evalmodel.vocabulary import (
    Multipliers,
    check_conf_level,
    check_option,
    check_seed,
    draws_argument,
    renamed_attribute,
)

__all__ = [
    "MultiplierBootstrap", "Multipliers", "low_rank", "multiplier_bootstrap",
    "support_patterns",
]

_BLOCK_CELLS = 16_000_000  # signs per block (64 MB as float32 0/1 bits)


@dataclass(frozen=True)
class MultiplierBootstrap:
    """Bootstrap standard errors and the critical value of the uniform band.

    Attributes
    ----------
    std_error : ndarray (k,)
        Bootstrap standard errors (NaN where the draws do not vary).
    crit_value : float
        Critical value of the simultaneous band at ``conf_level``.
    n_draws : int
        Number of draws (``n_boot``, its old name, is deprecated).
    seed : int or None
        Seed of the multipliers.
    n_clusters : int
        Number of independent multipliers per draw.
    """

    std_error: np.ndarray
    crit_value: float
    n_draws: int
    seed: int | None
    n_clusters: int

    @property
    def n_boot(self) -> int:
        """Deprecated name of :attr:`n_draws` (warns ``DeprecationWarning``)."""
        return int(renamed_attribute(self, "n_boot", "n_draws"))


def multiplier_bootstrap(
    influence: np.ndarray,
    *,
    n_draws: int = 999,
    seed: int | None = None,
    cluster: np.ndarray | None = None,
    conf_level: float = 0.95,
    multipliers: Multipliers = "rademacher",
    n_boot: int | None = None,
) -> MultiplierBootstrap:
    """Run the multiplier bootstrap on influence functions.

    Parameters
    ----------
    influence : ndarray (n, k)
        Influence functions, one row per unit.
    n_draws : int
        Number of draws.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same results.
    cluster : ndarray (n,) of int, optional
        Cluster codes; multipliers are then drawn per cluster.
    conf_level : float
        Coverage of the simultaneous band.
    multipliers : {"rademacher", "gaussian"}
        Distribution of the multipliers.
    n_boot : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).

    Returns
    -------
    MultiplierBootstrap
    """
    fn = "multiplier_bootstrap"
    n_draws = draws_argument(fn, n_draws, default=999, minimum=2, n_boot=n_boot)
    check_option(fn, "multipliers", multipliers, Multipliers)
    check_conf_level(fn, conf_level)
    check_seed(fn, seed)
    if not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise EstimationError(f"{fn}: n_draws={n_draws!r} must be an integer of at least 2.")
    psi = np.atleast_2d(np.asarray(influence, dtype=float).T).T
    n = psi.shape[0]
    s = cluster_sums(psi, cluster)
    n_c = s.shape[0]
    rng = np.random.default_rng(seed)
    if multipliers == "gaussian":
        lam, q = np.linalg.eigh(s.T @ s)
        root = q * np.sqrt(np.clip(lam, 0.0, None))
        draws = rng.standard_normal((n_draws, s.shape[1])) @ root.T
    else:
        draws = _rademacher_draws(s, n_draws, rng)
    draws /= n
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se > np.sqrt(np.finfo(float).eps) * 10 * np.abs(draws).max(initial=0), se,
                  np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_max = np.nanmax(np.abs(draws) / se, axis=1) if np.isfinite(se).any() else None
    crit = (float(np.quantile(t_max, conf_level, method="inverted_cdf"))
            if t_max is not None else float("nan"))
    return MultiplierBootstrap(std_error=se, crit_value=crit, n_draws=n_draws, seed=seed,
                               n_clusters=n_c)


def support_patterns(s: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Group the rows of ``s`` by the set of columns where they are non-zero.

    Returns the pattern code of each row and the columns of each pattern. When there are many
    patterns (more than one per 64 rows, and more than 16) all rows share one dense pattern.
    """
    n_c, k = s.shape
    packed = np.packbits(s != 0, axis=1)
    width = packed.shape[1]
    if width <= 8:  # one integer key per row
        wide = np.zeros((n_c, 8), dtype=np.uint8)
        wide[:, :width] = packed
        uniq, code = np.unique(wide.view(np.uint64).ravel(), return_inverse=True)
        rows = uniq.view(np.uint8).reshape(-1, 8)[:, :width]
    else:
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, width))).ravel()
        uniq, code = np.unique(keys, return_inverse=True)
        rows = np.frombuffer(uniq.tobytes(), dtype=np.uint8).reshape(len(uniq), width)
    if len(uniq) > max(16, n_c // 64):
        return np.zeros(n_c, dtype=np.int64), [np.arange(k)]
    cols = [np.flatnonzero(np.unpackbits(r, count=k)) for r in rows]
    return code.astype(np.int64).ravel(), cols


def _rademacher_draws(s: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``V @ s`` for Rademacher ``V`` (n_boot x C).

    The signs are packed random bits, eight draws a byte: cluster ``c``'s sign in draw ``b`` is
    ``2 u - 1`` with ``u`` bit ``b % 8`` of byte ``bits[c, b // 8]``; the bytes are the bit
    generator's raw 64-bit outputs read as little-endian bytes. With numba the sum runs in
    the compiled kernel of :mod:`.multiplier_kernel`; otherwise ``2 B @ s - 1's`` (``B`` the 0/1
    bits) is computed by BLAS in blocks of bounded memory.
    """
    n_c, n_bytes = s.shape[0], (n_boot + 7) // 8
    raw = rng.bit_generator.random_raw(-(-n_c * n_bytes // 8)).astype("<u8", copy=False)
    bits = raw.view(np.uint8)[:n_c * n_bytes].reshape(n_c, n_bytes)
    if use_numba():
        return _rademacher_draws_compiled(s, bits, n_boot)
    return _rademacher_draws_blas(s, bits, n_boot)


def low_rank(block: np.ndarray, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray] | None:
    """An exact factorisation ``block = z @ v.T`` with orthonormal ``v`` of few columns, or None.

    The row space is read off the singular vectors of an evenly spaced sample of rows, and the
    factorisation is accepted only if it reproduces every row: two random probes ``g`` give
    ``block @ g`` and ``z @ (v.T @ g)``, which must agree to ``tol`` times the sampled rows'
    largest entry (times the probe's size); a row outside the sampled space would differ by
    about its distance from it. None when the rank exceeds half the columns or a probe
    disagrees.
    """
    n, c = block.shape
    sample = block[:: max(1, n // (4 * c))]
    _, sv, vt = np.linalg.svd(sample, full_matrices=False)
    if sv.size == 0 or sv[0] == 0:
        return None
    r = int((sv > sv[0] * 1e-9).sum())
    if r > c // 2:
        return None
    v = np.ascontiguousarray(vt[:r].T)
    z = block @ v
    probe = np.random.default_rng(0).standard_normal((c, 2))
    gap = np.abs(block @ probe - z @ (v.T @ probe)).max()
    if gap > tol * np.abs(sample).max() * np.abs(probe).sum(axis=0).max():
        return None
    return z, v


def _rademacher_draws_compiled(s: np.ndarray, bits: np.ndarray, n_boot: int) -> np.ndarray:
    """The kernel's route. Clusters are grouped by support pattern; a large pattern of low
    rank (never-treated units' influence functions are linear in their few outcome
    differences) is summed in its rotated coordinates and rotated back."""
    from evalmodel.inference.multiplier_kernel import rademacher_draws_kernel

    pattern, cols = support_patterns(s)
    factors = {}
    for p, c in enumerate(cols):
        rows = np.flatnonzero(pattern == p) if len(c) >= 16 else np.zeros(0, dtype=np.int64)
        if len(rows) < max(8 * len(c), 1):
            continue
        if rows[-1] - rows[0] + 1 == len(rows):  # contiguous rows: a view
            block = s[rows[0]:rows[-1] + 1]
            block = block if len(c) == s.shape[1] else block[:, c]
        else:
            block = s[np.ix_(rows, c)]
        factor = low_rank(block)
        if factor is not None:
            factors[p] = factor
    return rademacher_draws_kernel(s, bits, n_boot, pattern=pattern, cols=cols, factors=factors)


def _rademacher_draws_blas(s: np.ndarray, bits: np.ndarray, n_boot: int) -> np.ndarray:
    """The NumPy twin of the kernel: ``2 B @ s - 1's`` in blocks of draws."""
    n_c = s.shape[0]
    block = max(8, min(n_boot, _BLOCK_CELLS // max(n_c, 1)) // 8 * 8)
    draws = np.empty((n_boot, s.shape[1]))
    s32 = s.astype(np.float32) if n_c * s.shape[1] > 1_000_000 else s
    total = s32.sum(axis=0)
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        sub = np.unpackbits(bits[:, start // 8:(start + b + 7) // 8], axis=1, count=b,
                            bitorder="little")
        draws[start:start + b] = 2 * (sub.T.astype(s32.dtype) @ s32) - total
    return draws
