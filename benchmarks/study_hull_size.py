"""Study: size of plain synthetic control's placebo test where the hull rule keeps it.

Not a timing benchmark (``run.py`` does not run it). The report uses plain synthetic control
with its placebo-in-space p-value when the treated unit's hull RMSPE is within
``NOISE_MULTIPLE`` noise scales (2 when this study was run, 1 since, after it;
:mod:`evalmodel.estimators.synth_diagnostics`), and the ridge-augmented one with its
studentized placebo test beyond. This study draws null worlds (no effect) from ``factor_world``
of ``tests/inference/test_placebo_plain_sc_size.py``, the last unit's factor loadings
``outside`` times the donors' largest, for several donor pools, and records for each world the
hull rule's ratio (in noise scales) and verdict, plain SC's p-values as ``em.synth`` gives them
by default (the table's effect-rank ``p_value`` of the average effect and the RMSPE-ratio
p-value), and the augmented SC's (``augment="ridge"``, ``inference="placebo"``: the studentized
table p-value and the raw effect-rank one). It then prints rejection rates at 5 % and 10 % by
bins of the ratio, and the rate of the test the rule would choose for other values of the noise
multiple. ``study_sc_test.py`` follows it up: which one test keeps its size in every band, and
its power.

Result at the default size (13 650 worlds): between 1 and 2 noise scales, where the rule keeps
plain SC, its effect-rank p-value rejects 0.69 of null worlds at 5 % and 0.75 at 10 % (2 837
worlds with 40-200 donors, binomial SE at the level 0.004 and 0.006); from 0.5 to 1 noise
scales still 0.19-0.39 at 5 %. Its RMSPE-ratio p-value rejects 0.018 and 0.057 there, the
augmented SC's studentized test 0.048 and 0.110. With the multiple at 1 instead of 2 the
chosen test rejects 0.049 and 0.116 in the 1-2 band. The hull ratio measures the pre-period
misfit; a unit at the edge of the donors' loadings can fit within the noise and still drift
away after the start.

Run (about 25 min of CPU at the default size, BLAS on one thread)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/study_hull_size.py [--worlds 600] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.estimators.synth_diagnostics import hull_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "inference"))
from test_placebo_plain_sc_size import T0, as_panel, factor_world

#: Donor pools and the number of worlds per loading multiple, as a share of ``--worlds``.
POOLS = {15: 1.0, 40: 1.0, 100: 5 / 6, 200: 5 / 12}
OUTSIDE = (0.8, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6)
BINS = [0, 1, 1.5, 2, np.inf]


def world(j: int, outside: float, seed: int) -> dict[str, float]:
    """One null world: the hull rule's ratio and verdict and the four p-values."""
    panel = as_panel(factor_world(seed, j=j, outside=outside))
    plain = em.synth(panel, "y", treated="TR", start=2000 + T0)
    hull = hull_of(plain)
    aug = em.synth(panel, "y", treated="TR", start=2000 + T0, augment="ridge",
                   inference="placebo")
    assert plain.placebo is not None and aug.placebo is not None
    return {"j": j, "outside": outside, "seed": seed, "ratio": hull.ratio,
            "inside": hull.inside, "p_plain": float(plain.table["p_value"].iloc[-1]),
            "p_plain_ratio": plain.placebo.p_value_rmspe_ratio,
            "p_ascm": float(aug.table["p_value"].iloc[-1]),
            "p_ascm_raw": float(aug.placebo.effect_rank_table["p_value"].iloc[-1])}


def rates(g: pd.DataFrame) -> pd.Series:
    """Rejection rates at 5 % and 10 % and the binomial SE at each level."""
    out: dict[str, float] = {"n": len(g), "inside": g["inside"].mean()}
    for a in (0.05, 0.10):
        for col in ("p_plain", "p_plain_ratio", "p_ascm", "p_ascm_raw"):
            out[f"{col}<={a:g}"] = float((g[col] <= a + 1e-12).mean())
        out[f"se@{a:g}"] = float(np.sqrt(a * (1 - a) / len(g)))
    return pd.Series(out)


def rule(d: pd.DataFrame) -> pd.DataFrame:
    """Rejection rate of the test the hull rule would choose (plain SC's effect rank within
    ``m`` noise scales, the augmented SC's studentized test beyond) for several ``m``."""
    rows = []
    for m in (2.0, 1.5, 1.0, 0.75, 0.5):
        plain = d["ratio"] <= m
        for a in (0.05, 0.10):
            rej = np.where(plain, d["p_plain"] <= a + 1e-12, d["p_ascm"] <= a + 1e-12)
            row = {"multiple": m, "alpha": a, "plain share": float(plain.mean()),
                   "all": float(rej.mean())}
            for lo, hi in itertools.pairwise(BINS):
                row[f"({lo:g},{hi:g}]"] = float(rej[(d["ratio"] > lo) & (d["ratio"] <= hi)]
                                                 .mean())
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    """Run the worlds (or read them from ``--out`` with ``--read``) and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=600)
    ap.add_argument("--out", default="hull_size_worlds.csv")
    ap.add_argument("--read", action="store_true", help="only summarise --out")
    args = ap.parse_args()
    if not args.read:
        warnings.simplefilter("ignore")
        rows = [world(j, o, 100_000 * j + 1000 * round(o * 100) + s)
                for j, share in POOLS.items() for o in OUTSIDE
                for s in range(round(args.worlds * share))]
        pd.DataFrame(rows).to_csv(args.out, index=False)
    d = pd.read_csv(args.out)
    d["bin"] = pd.cut(d["ratio"], BINS, labels=["<1", "1-1.5", "1.5-2", ">2"])
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("By pool and noise-scale bin (plain SC's 5 % test cannot reject with 15 donors)")
        print(d.groupby(["j", "bin"], observed=True)[list(d.columns)].apply(rates).round(3))
        band = d[(d["ratio"] >= 1) & (d["ratio"] <= 2) & (d["j"] >= 40)]
        print("\n1-2 noise scales, pools of 40 or more donors")
        print(rates(band).round(4).to_string())
        print("\nThe chosen test's rejection rate for other noise multiples (pools >= 40)")
        print(rule(d[d["j"] >= 40]).round(3).to_string())


if __name__ == "__main__":
    main()
