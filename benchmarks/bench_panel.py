"""Benchmark: building a Panel from 1M rows beside one pandas groupby-mean over the same frame
(issue 16: the build within 2x of it).

Three frames of 1,000,000 rows with a cohort and one outcome: 20,000 text ids x 50 years in
(unit, year) order, the same rows shuffled, and 100,000 integer ids x 10 years (the ids become
text, and the rows are put in the order of that text). The first and the last are in blocks of
one unit each, which the build reads per block (``evalmodel.panel_blocks``: ids once per run,
blocks moved whole, the integer ids' text made when first read); the shuffled rows take the
general path (the ids hashed, the rows sorted by their key codes). The groupby is
``df.groupby(unit)[outcome].mean()``, the least a tool that reads the units must do. The two
are timed back to back, seven times: the ratio printed is the median of the pairs' ratios,
with their range (on a shared machine the load changes between two separate series of runs),
beside each side's best time.

Run ``python benchmarks/bench_panel.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from _timing import timed

REPEAT = 7


def _frame(ids: np.ndarray, n_periods: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(ids)
    first = 1970
    return pd.DataFrame({
        "unit": np.repeat(ids, n_periods),
        "year": np.tile(np.arange(first, first + n_periods), n),
        "cohort": np.repeat(rng.choice(np.array([0, first + 5, first + 8, first + 9]), n),
                            n_periods),
        "y": rng.normal(size=n * n_periods),
    })


def main() -> dict[str, float]:
    """Time the builds and the groupby, print them with their ratios, return the ratios."""
    from evalmodel.panel import Panel

    text_ids = np.array([f"{i:05d}" for i in range(20_000)])
    frames = {
        "20,000 text ids x 50 years": _frame(text_ids, 50),
        "the same rows shuffled": _frame(text_ids, 50).sample(frac=1, random_state=1),
        "100,000 integer ids x 10 years": _frame(np.arange(100_000), 10),
    }
    print("Panel build (unit, time, cohort, one outcome) beside one groupby-mean, 1,000,000 rows")
    print(f"  {'frame':<34}{'groupby s':>11}{'Panel s':>10}{'ratio':>8}  range")
    ratios: dict[str, float] = {}
    for name, df in frames.items():
        pairs = []
        for _ in range(REPEAT):
            t_group, _ = timed(lambda df=df: df.groupby("unit")["y"].mean())  # type: ignore[misc]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # integer ids become text (a counted warning)
                t_panel, _ = timed(lambda df=df: Panel(  # type: ignore[misc]
                    df, unit="unit", time="year", cohort="cohort", outcomes=["y"]))
            pairs.append((t_group, t_panel))
        each = sorted(p / g for g, p in pairs)
        ratios[name] = float(np.median(each))
        best_g, best_p = min(g for g, _ in pairs), min(p for _, p in pairs)
        print(f"  {name:<34}{best_g:>11.4f}{best_p:>10.4f}{ratios[name]:>8.2f}"
              f"  {each[0]:.2f}-{each[-1]:.2f}")
    print("  target: the build within 2x of the groupby (issue 16)")
    return ratios


if __name__ == "__main__":
    main()
