"""Benchmark: the synthetic DiD weights of the report's calibration, per Frank-Wolfe step.

The report's calibration section runs ``sdid`` with its placebo standard error on 30 fake
adoptions per outcome; almost all of that time is in the compiled Frank-Wolfe kernel
(:mod:`evalmodel.core.fw_kernel`), which runs the R synthdid recipe (100 steps, sparsify, up to
10,000 more) on every placebo draw. This script

1. times (CPU seconds, best of ``REPEAT``) the SDID calibration of one case's first outcome as
   the report runs it (``calibrate.sdid`` with the report's seed and draws, 30 placebo units,
   one process, BLAS and numba on one thread), recording every batch the kernel solves;
2. replays those batches (each one call for both rounds of the recipe) through the kernel and
   through ``plain_kernel`` below, the step loop
   as it was written before issue 16 (the vertex by a plain scan, each pass on its own, every
   sum one term after another), which also counts the steps: both CPU times, the cost per
   step, and the largest difference between their weights, for each shape of problem: the
   unit weights (``omega``: A is T0 rows by N0 columns, most steps of the report) and the time
   weights (``lambda``: N0 rows by T0 columns). The kernel keeps the weights and the
   gradient scaled, takes ``g'x`` from the rows and sums in a fixed order of its own (16
   partial sums, :mod:`evalmodel.core.fw_passes`), running two problems side by side in each
   thread, so the two differ in the last bits only: about 1e-13 (``test_fw_kernel.py`` holds
   the tests).

Run ``python benchmarks/bench_sdid.py [CASE]`` (default ``trelleborg``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import sys
import time
import warnings
from typing import Any

import numpy as np
from numba import njit, prange
from threadpoolctl import threadpool_limits

import evalmodel as em
import evalmodel.core.fw_kernel as fw
from evalmodel import calibrate
from evalmodel.core.sdid_solver import sparsify
from evalmodel.inference.calibration import placebo_study
from evalmodel.report.settings import N_DRAWS, SEED

#: Timed repetitions (best of these; the machine may be shared).
REPEAT = 3


@njit(fastmath=False, cache=True)
def _support(x: np.ndarray, supp: np.ndarray) -> int:
    """Write the columns with ``x != 0`` into ``supp`` in increasing order; return how many."""
    ns = 0
    for k in range(x.shape[0]):
        if x[k] != 0.0:
            supp[ns] = k
            ns += 1
    return ns


@njit(fastmath=False, cache=True)
def _plain_one(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: float, zeta2: float,
               n_rows: float, tol: float, max_iter: int, mask: np.ndarray) -> int:
    """The step loop before issue 16; returns the number of steps taken."""
    n, m = a.shape
    at = np.ascontiguousarray(a.T)
    gram = at @ a
    atb = at @ b
    resid = a @ x - b
    g = at @ resid + eta * x
    xx = 0.0
    for k in range(m):
        xx += x[k] * x[k]
    supp = np.empty(m, dtype=np.int64)
    ns = _support(x, supp)
    prev = 0.0
    for it in range(max_iter):
        j = -1
        best = np.inf
        for k in range(m):
            if mask[k] and g[k] < best:
                best = g[k]
                j = k
        if j < 0:
            return it
        x_j, g_j = x[j], g[j]
        gx = 0.0
        for i in range(ns):
            gx += g[supp[i]] * x[supp[i]]
        dd = 0.0
        for r in range(n):
            e = at[j, r] - b[r] - resid[r]
            dd += e * e
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = -(g_j - gx) / denom if denom > 0 else 0.0
        step = min(max(step, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        for k in range(m):
            x[k] *= keep
            g[k] = keep * g[k] + step * (gram[j, k] - atb[k])
        x[j] += step
        g[j] += eta * step
        if keep == 0.0 or (x_j == 0.0 and x[j] != 0.0):
            ns = _support(x, supp)
        ss = 0.0
        for r in range(n):
            resid[r] = keep * resid[r] + step * (at[j, r] - b[r])
            ss += resid[r] * resid[r]
        val = zeta2 * xx + ss / n_rows
        if it >= 1 and not prev - val > tol:
            return it + 1
        prev = val
    return max_iter


@njit(parallel=True, cache=True)
def _plain_batch(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: np.ndarray,
                 zeta2: np.ndarray, n_rows: np.ndarray, tol: np.ndarray, max_iter: int,
                 mask: np.ndarray, steps: np.ndarray) -> None:
    for p in prange(a.shape[0]):
        steps[p] = _plain_one(a[p], b[p], x[p], eta[p], zeta2[p], n_rows[p], tol[p], max_iter,
                              mask[p])


def plain_kernel(a: np.ndarray, b: np.ndarray, x0: np.ndarray, *, zeta: np.ndarray,
                 n_rows: np.ndarray, min_decrease: np.ndarray, max_iter: int,
                 col_mask: np.ndarray | None, first_iter: int = 0) -> tuple[np.ndarray, int]:
    """:func:`evalmodel.core.fw_kernel.frank_wolfe_batch` by the old steps, and its step count
    (with ``first_iter``: that many steps, :func:`~evalmodel.core.sdid_solver.sparsify`, then
    ``max_iter`` more, as the kernel's two rounds)."""
    if first_iter > 0:
        kw = {"zeta": zeta, "n_rows": n_rows, "min_decrease": min_decrease,
              "col_mask": col_mask}
        x1, n1 = plain_kernel(a, b, x0, max_iter=first_iter, **kw)
        x2, n2 = plain_kernel(a, b, sparsify(x1), max_iter=max_iter, **kw)
        return x2, n1 + n2
    x = np.array(x0, dtype=np.float64, copy=True, order="C")
    mask = (np.ones(x.shape, dtype=np.bool_) if col_mask is None
            else np.ascontiguousarray(col_mask, dtype=np.bool_))
    zeta = np.asarray(zeta, dtype=np.float64)
    n_rows = np.asarray(n_rows, dtype=np.float64)
    steps = np.zeros(x.shape[0], dtype=np.int64)
    _plain_batch(np.ascontiguousarray(a, dtype=np.float64),
                 np.ascontiguousarray(b, dtype=np.float64), x, n_rows * zeta**2, zeta**2,
                 n_rows, np.asarray(min_decrease, dtype=np.float64) ** 2, int(max_iter), mask,
                 steps)
    return x, int(steps.sum())


def calibration(case: str, record: list[dict[str, Any]] | None = None) -> float:
    """CPU seconds of the SDID calibration of ``case``'s first outcome (recording the kernel's
    batches into ``record`` when given)."""
    design = em.cases.get(case).design(em.datasets.simulated())
    original = fw.frank_wolfe_batch

    def recording(a: np.ndarray, b: np.ndarray, x0: np.ndarray, **kw: Any) -> np.ndarray:
        if record is not None:
            record.append({"a": a.copy(), "b": b.copy(), "x0": np.array(x0), "kw": dict(kw)})
        return original(a, b, x0, **kw)

    fw.frank_wolfe_batch = recording  # type: ignore[assignment]
    try:
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            t0 = time.process_time()
            placebo_study(design.panel, design.outcomes[0],
                          calibrate.sdid(seed=SEED, n_draws=N_DRAWS), pool=design.comparison,
                          adoption=design.adoption, n_units=30, seed=SEED)
            return time.process_time() - t0
    finally:
        fw.frank_wolfe_batch = original  # type: ignore[assignment]


#: The two shapes of problem.
_WHAT = {"omega": "unit weights: few rows, many columns",
         "lambda": "time weights: many rows, few columns"}


def _shape(batch: dict[str, Any]) -> str:
    """``"omega"`` for unit weights (few rows, many columns, masked), else ``"lambda"``."""
    return "lambda" if batch["kw"]["col_mask"] is None else "omega"


def replay(batches: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Both kernels on the recorded batches, per shape: CPU seconds (best of ``REPEAT``),
    steps, the largest difference of the weights."""
    out: dict[str, dict[str, float]] = {}
    for shape in ("omega", "lambda"):
        mine = [c for c in batches if _shape(c) == shape]
        best = {"kernel": np.inf, "plain": np.inf}
        steps, gap = 0, 0.0
        for _ in range(REPEAT):
            spent = {"kernel": 0.0, "plain": 0.0}
            steps = 0
            for c in mine:
                t0 = time.process_time()
                new = fw.frank_wolfe_batch(c["a"], c["b"], c["x0"], **c["kw"])
                spent["kernel"] += time.process_time() - t0
                t0 = time.process_time()
                old, n = plain_kernel(c["a"], c["b"], c["x0"], **c["kw"])
                spent["plain"] += time.process_time() - t0
                steps += n
                gap = max(gap, float(np.abs(new - old).max()))
            best = {k: min(best[k], spent[k]) for k in best}
        out[shape] = {**best, "steps": float(steps), "gap": gap,
                      "problems": float(sum(c["a"].shape[0] for c in mine))}
    return out


def main() -> None:
    case = sys.argv[1] if len(sys.argv) > 1 else "trelleborg"
    batches: list[dict[str, Any]] = []
    calibration(case)  # compile or load the kernels from numba's cache
    plain_kernel(np.ones((1, 2, 2)), np.ones((1, 2)), np.full((1, 2), 0.5), zeta=np.ones(1),
                 n_rows=np.ones(1), min_decrease=np.ones(1), max_iter=2, col_mask=None)
    spent = min(calibration(case, batches if r == 0 else None) for r in range(REPEAT))
    print(f"SDID calibration of {case} (30 placebo units, {N_DRAWS} draws each): "
          f"{spent:.2f} s CPU (best of {REPEAT})")
    print(f"  {len(batches)} kernel batches")
    for shape, r in replay(batches).items():
        n_steps = int(r["steps"])
        what = _WHAT[shape]
        print(f"  {shape} ({what}): {int(r['problems']):,} problems, {n_steps:,} steps")
        for name, label in (("plain", "plain step loop"), ("kernel", "fw_kernel")):
            per_step = r[name] / n_steps * 1e9
            print(f"    {label:26s} {r[name]:6.2f} s CPU  {per_step:6.1f} ns per step")
        print(f"    speed-up {r['plain'] / r['kernel']:.2f}x; largest difference of the "
              f"weights {r['gap']:.1e}")


if __name__ == "__main__":
    main()
