"""Size, coverage and power of every estimator's default inference on the simulated world.

Every never-treated municipality of the Trelleborg case's pool in turn is given a fake adoption
in 2010 and estimated against the rest of the pool with the estimator's default inference
(:func:`evalmodel.placebo_study`). Size is the share of rejections at 5 %; power against a
reduction of ``EFFECT`` points is read from the same placebo intervals
(:meth:`~evalmodel.PlaceboStudyResult.power_at`), and the detectable effect is the smallest
reduction found in 80 % of them.

Run ``python analyses/calibration.py [--units N] [--jobs J]``; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import evalmodel as em
from evalmodel.errors import EvalModelWarning

OUTCOME = "N31807"
#: The planted reduction (percentage points of the population receiving assistance).
EFFECT = -1.0


def estimators(design: em.cases.Design) -> dict[str, em.calibrate.Adapter]:
    """Each estimator with its default inference, on the case's periods."""
    pre, post = list(design.pre_periods), list(design.post_periods)
    return {
        "did2x2 (last 3 pre vs first 4 post)": em.calibrate.did2x2(pre=pre[-3:], post=post[:4]),
        "twfe": em.calibrate.twfe(),
        "att_gt, simple": em.calibrate.att_gt("simple"),
        "event_study twfe, post average": em.calibrate.event_study("twfe", window=(-5, 5)),
        "event_study sun_abraham, post average": em.calibrate.event_study(
            "sun_abraham", window=(-5, 5)),
        "event_study imputation, post average": em.calibrate.event_study(
            "imputation", window=(-5, 5)),
        "synth": em.calibrate.synth(),
        "sdid": em.calibrate.sdid(),
    }


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=None, help="placebo units (default: all)")
    ap.add_argument("--jobs", type=int, default=-1, help="processes (default: every core)")
    args = ap.parse_args()
    design = em.cases.get("trelleborg").design(em.datasets.simulated())
    rows = []
    for name, est in estimators(design).items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalModelWarning)
            s = em.placebo_study(design.panel, OUTCOME, est, pool=design.comparison,
                                 adoption=design.adoption, n_units=args.units, seed=1,
                                 n_jobs=args.jobs)
        rows.append({"estimator (default inference)": name, "n": s.n, "size": s.size,
                     "mc_se": s.rejection_se, "coverage": s.coverage,
                     f"power at {EFFECT:g}": s.power_at(EFFECT),
                     "detectable (80 %)": s.detectable_effect(0.8, direction=-1),
                     "seconds": time.perf_counter() - t0})
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
