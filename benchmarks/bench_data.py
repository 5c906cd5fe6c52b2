"""Benchmark: reading the real Kolada extract, and the monthly synthetic control and SDID.

Two timings that used to be asserted inside tests (speed is measured here, not asserted there):

1. ``read_panel`` on the real extract (the path in ``$EVALMODEL_REAL_DATA``, as the tests read
   it; skipped with a line saying so when it is unset), beside ``pandas.read_csv`` of the same
   file, which is the floor any reader pays.
2. ``synth`` and ``sdid`` without inference on the simulated monthly world (289 units x 126
   months, Linkoping from 2021-01), the shape of the monthly report.

Each is the best of three runs; nothing here is a test.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd

import evalmodel as em
from evalmodel.months import month_code


def _best(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _read() -> None:
    path = os.environ.get("EVALMODEL_REAL_DATA")
    if not path or not os.path.exists(path):
        print("read_panel: EVALMODEL_REAL_DATA is not set to the real extract; skipped")
        return
    from evalmodel.data.read import read_panel

    def ours() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_panel(path, gender="K")

    t_ours = _best(ours)
    t_csv = _best(lambda: pd.read_csv(path))
    print(f"read_panel (real extract, gender K): {t_ours:.3f} s; pandas.read_csv of the file "
          f"{t_csv:.3f} s; ratio {t_ours / t_csv:.2f}")


def _monthly() -> None:
    panel = em.datasets.simulated_monthly()
    panel = panel.select(units=[u for u in panel.units if u != "1280"])
    start = month_code(2021, 1)
    for name, fn in (("synth", em.synth), ("sdid", em.sdid)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(panel, "share", treated="0580", start=start, inference="none")  # compile, cache
            t = _best(lambda fn=fn: fn(panel, "share", treated="0580", start=start,
                                       inference="none"))
        print(f"{name} on the monthly world (289 units x 126 months), no inference: {t:.3f} s")


def main() -> None:
    """Print both timings."""
    _read()
    _monthly()


if __name__ == "__main__":
    main()
