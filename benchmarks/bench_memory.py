"""Benchmark: peak memory of the Panel build, TWFE and Callaway-Sant'Anna on 10M rows
(1,000,000 units x 10 periods), beside the input frame's own size.

Each estimator runs in a fresh Python process (``python bench_memory.py --child ...``), which
builds the input (integer unit ids, periods and cohorts, a float outcome), takes its size with
``DataFrame.memory_usage(deep=True)``, then measures the *resident set size*: the Linux peak
counter ``VmHWM`` of ``/proc/self/status`` is reset (``/proc/self/clear_refs``, value 5, after
``malloc_trim`` has returned freed heap to the system) before each step and read after it,
minus the resident size at the start of the step. So the
figures are the extra peak RSS of each step (all allocations: numpy, pandas, arrow), not
tracemalloc's Python-heap count. The input stays alive throughout, as it would for a user.
The input's size is the frame's ``memory_usage(deep=True)``: four 8-byte columns of 10M rows,
320 MB. ``att_gt`` is measured alone and with the simple aggregation (the overall ATT and its
standard error, which need the cells' influence functions).

Run ``python benchmarks/bench_memory.py [n_units]``.
"""

from __future__ import annotations

import ctypes
import gc
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

N_UNITS = 1_000_000
N_PERIODS = 10
COHORTS = (2003, 2004, 2005, 2006, 2007, 2008, 2009)
ESTIMATORS = ("twfe", "att_gt", "att_gt_simple")
NAMES = {"twfe": "em.twfe", "att_gt": "em.att_gt (analytic)",
         "att_gt_simple": "att_gt + simple agg."}


def _status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    """Return freed heap to the system, then restart the peak counter at the current size."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")


def _data(n_units: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    first = 2001
    cohort = rng.choice(np.array((0, *COHORTS)), n_units)
    period = np.tile(np.arange(first, first + N_PERIODS), n_units)
    c = np.repeat(cohort, N_PERIODS)
    treated = (c > 0) & (period >= c)
    y = (np.repeat(rng.normal(size=n_units), N_PERIODS) + 0.1 * (period - first)
         + treated * 1.0 + rng.normal(size=n_units * N_PERIODS))
    return pd.DataFrame({"id": np.repeat(np.arange(n_units), N_PERIODS), "period": period,
                         "cohort": c, "y": y})


def _child(n_units: int, estimator: str) -> None:
    """Measure one estimator in this (fresh) process and print the figures as JSON."""
    import evalmodel as em

    df = _data(n_units)
    out: dict[str, float] = {"input": float(df.memory_usage(deep=True).sum())}
    _reset_peak()
    start = _status("VmRSS")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # integer ids are kept as strings (a counted warning)
        panel = em.Panel(df, unit="id", time="period", cohort="cohort", outcomes=["y"])
    out["panel_seconds"] = time.perf_counter() - t0
    out["panel_peak"] = float(_status("VmHWM") - start)
    _reset_peak()
    out["panel_kept"] = float(_status("VmRSS") - start)  # what the built Panel holds
    start = _status("VmRSS")
    t0 = time.perf_counter()
    if estimator == "twfe":
        em.twfe(panel, "y", inference="analytic")
    elif estimator == "att_gt":
        em.att_gt(panel, "y", inference="analytic")
    else:  # the overall ATT with its standard error, from the cells' influence functions
        em.att_gt(panel, "y", inference="analytic").aggregate("simple", inference="analytic")
    out["seconds"] = time.perf_counter() - t0
    out["peak"] = float(_status("VmHWM") - start)
    print(json.dumps(out))


def main(n_units: int = N_UNITS) -> dict[str, dict[str, float]]:
    """Run each estimator in a fresh process; print and return the figures."""
    print(f"Peak memory (extra resident set size, VmHWM) on {n_units * N_PERIODS:,} rows "
          f"({n_units:,} units x {N_PERIODS} periods), each estimator in a fresh process")
    results: dict[str, dict[str, float]] = {}
    for est in ESTIMATORS:
        proc = subprocess.run([sys.executable, __file__, "--child", str(n_units), est],
                              capture_output=True, text=True, check=True)
        results[est] = json.loads(proc.stdout.strip().splitlines()[-1])
    mb = 1e6
    first = next(iter(results.values()))
    print(f"  input frame (memory_usage(deep=True)): {first['input'] / mb:,.0f} MB")
    print(f"  {'step':<34}{'seconds':>9}{'peak MB':>10}{'x input':>9}")
    for est, r in results.items():
        print(f"  {'Panel build (' + est + ' run)':<34}{r['panel_seconds']:>9.1f}"
              f"{r['panel_peak'] / mb:>10,.0f}{r['panel_peak'] / r['input']:>9.2f}")
        name = NAMES[est]
        print(f"  {name + ' from the Panel':<34}{r['seconds']:>9.1f}"
              f"{r['peak'] / mb:>10,.0f}{r['peak'] / r['input']:>9.2f}")
    worst = max(max(r["panel_peak"], r["peak"]) / r["input"] for r in results.values())
    print(f"  the built Panel keeps {first['panel_kept'] / mb:,.0f} MB "
          f"({first['panel_kept'] / first['input']:.2f}x the input) beside the input")
    print(f"  largest step: {worst:.2f}x the input (target < 3x: "
          f"{'met' if worst < 3 else 'NOT met'})")
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(int(sys.argv[2]), sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else N_UNITS)
