"""Study: which synthetic-control test holds its size for every treated unit, and its power.

Not a timing benchmark (``run.py`` does not run it). The hull rule of
:mod:`evalmodel.estimators.synth_diagnostics` picks plain SC (with its effect-rank placebo
p-value) for a treated unit within ``NOISE_MULTIPLE`` noise scales of the donors' hull and the
ridge-augmented SC (with its studentized placebo p-value) beyond. ``study_hull_size.py`` found
the effect-rank test over-rejecting for units that are not exchangeable with the donors yet
within 1 noise scale, where the rule cannot see them. This study asks which single test,
reported whatever the rule picks for the point estimate, keeps its size in every band, and
what power it keeps.

Worlds: the generator of ``study_hull_size.py`` (``factor_world`` of
``tests/inference/test_placebo_plain_sc_size.py``: two random-walk factors, 25 periods, 15
before the start, noise SD 0.5, the last unit's loadings ``outside`` times the donors'
largest; the same seeds), plus **exchangeable** worlds: the same draws with the last unit's
loadings left as drawn, like every donor's. For each world ``em.synth`` is run twice (plain,
and ``augment="ridge", inference="placebo"``) and :func:`hull_of` gives the rule's ratio. The
candidate p-values of the average post-period effect, each from the package's own code:

- ``rank``: plain SC's effect-rank p-value (the table's ``p_value``);
- ``ratio``: plain SC's RMSPE-ratio p-value (``p_value_rmspe_ratio``);
- ``sc_t``: not in the package: plain SC's average post-period gap over the unit's pre-period
  RMSPE, ranked like the RMSPE ratio among all units (a mean-shift version of it);
- ``ascm``: the augmented SC's studentized effect-rank p-value (its table's ``p_value``);
- ``ascm_raw``, ``ascm_ratio``: the augmented SC's raw effect-rank and RMSPE-ratio p-values;
- ``cwz_sc``, ``cwz_ascm``: conformal inference (Chernozhukov, Wuthrich and Zhu 2021) of the
  average effect, moving-block permutations, plain and augmented (``conformal_p_value`` with
  :class:`~evalmodel.core.ascm.ResidualRefit`, as ``inference="conformal"`` computes it);
- combinations, in the summary: ``rule`` (the default now: ``rank`` inside, ``ascm``
  outside), ``rule_ratio`` (``ratio`` inside, ``ascm`` outside), ``rule_t`` (``sc_t``
  inside, ``ascm`` outside), ``both`` (``max(ratio, ascm)``: reject when both do),
  ``rule_both`` (``both`` inside, ``ascm`` outside) and ``bonf`` (``min(1, 2 min(ratio,
  ascm))``).

Power: a constant effect of 1, 2 and 4 noise scales (the world's hull noise scale, the
median donor's held-out hull RMSPE) is added to the treated unit's post-period outcomes. The
placebos' fits never use the treated unit, and the treated unit's weights, penalty and
forecast scale read pre-periods only, so every placebo p-value under an effect follows from
the null world's placebos with the treated gaps shifted (``placebo_from_gaps``); the conformal
tests re-fit the shifted outcome. A self-check re-runs ``em.synth`` on shifted panels and
compares.

Bands: ``exch`` (exchangeable worlds), then by the rule's ratio for the others: ``in 0.8``
(``outside`` 0.8, ratio <= 1), ``<1 edge`` (``outside`` >= 1, ratio <= 1), ``1-2``, ``>2``.

Result at the default size (6,600 worlds, 300 per band cell with 15 and 40 donors, 150 with
100, 75 with 200; 15 min of CPU). Null rejection at 5 % / 10 %, pools of 40-200 donors, bands
exch (525 worlds), in 0.8 (524), <1 edge (690), 1-2 (1,070), >2 (1,391); binomial SE at the
level 0.006-0.010 / 0.008-0.013:

- ``rank``: 0.046/0.093, 0.017/0.061, 0.41/0.50, 0.68/0.74, 0.93/0.94;
- ``ratio``: 0.027/0.059, 0.046/0.107, **0.078/0.158**, 0.018/0.065, 0.004/0.015 (the edge
  band's excess comes from the 40-donor pools: 0.109/0.207; 200 donors 0.017/0.058);
- ``ascm``: 0.029/0.072, 0.025/0.055, **0.107/0.210**, 0.050/0.113, 0.033/0.086;
- ``sc_t`` fails in the edge and 1-2 bands (0.136/0.243, 0.071/0.189); ``bonf`` at 10 % in
  the edge band (0.143); ``cwz_sc`` beyond the hull (0.26-0.49 at 5 %);
- ``cwz_ascm``: 0.019-0.039 / 0.036-0.078 in every band, but with J >= T the ridge
  interpolates every period and the test has almost no power (0.14 against 4 noise scales
  for exchangeable units); with 15 donors it over-rejects edge units (0.100/0.185);
- ``both`` = ``rule_both`` inside: 0.006/0.023, 0.006/0.017, 0.042/0.097, 0.007/0.035,
  0.001/0.004; ``rule_both``: the same inside, ``ascm``'s outside.

No single package test keeps its size in the edge band (a unit outside the donors' loadings
that fits within the noise before the start and drifts after it); reporting the plain SC's
RMSPE-ratio test and the studentized ASCM test together and rejecting only when both reject
does, in every band and pool, at 5 % and 10 % (``both``; with 15 donors at 10 %: at most
0.064). Power at 5 % (+-1, 2, 4 noise scales, pools >= 40), ``rule_both`` against ``rule``:
exchangeable 0.05/0.26/0.66 against 0.31/0.71/0.96; edge 0.08/0.17/0.50 (``rule``'s
0.51/0.67/0.88 are mostly false rejections); 1-2 and >2 unchanged (``ascm``: 0.13/0.33/0.62,
0.11/0.27/0.58).

Run (BLAS on one thread; about 15 min of CPU at the default size)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/study_sc_test.py [--worlds 300] [--out FILE]
    python benchmarks/study_sc_test.py --read --out FILE   # only the summary
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.core.ascm import ResidualRefit
from evalmodel.estimators.synth import SynthResult
from evalmodel.estimators.synth_diagnostics import hull_of
from evalmodel.inference.conformal import conformal_p_value, permutations
from evalmodel.inference.placebo_ascm import placebo_from_gaps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "inference"))
from test_placebo_plain_sc_size import T0, T, as_panel, factor_world

#: Donor pools and the number of worlds per loading multiple, as a share of ``--worlds``.
POOLS = {15: 1.0, 40: 1.0, 100: 0.5, 200: 0.25}
#: Loading multiples of the treated unit; None: exchangeable (loadings drawn like the donors').
OUTSIDE: tuple[float | None, ...] = (None, 0.8, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6)
#: Planted effects in noise scales (0: the null), each with both signs: a unit at the edge
#: drifts one way under plain SC, so an effect of one sign adds to the bias, the other hides it.
EFFECTS = (0, 1, -1, 2, -2, 4, -4)
POWER = (1, 2, 4)
TESTS = ("rank", "ratio", "sc_t", "ascm", "ascm_raw", "ascm_ratio", "cwz_sc", "cwz_ascm")
COMBOS = ("rule", "rule_ratio", "rule_t", "both", "bonf", "rule_both")
BANDS = ["exch", "in 0.8", "<1 edge", "1-2", ">2"]
START = 2000 + T0


def world_outcomes(seed: int, j: int, outside: float | None) -> np.ndarray:
    """``factor_world`` (its draws in its order), the last unit's loadings ``outside`` times
    the donors' largest, or left as drawn (``None``: exchangeable with the donors)."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(T, 2)).cumsum(axis=0) + np.linspace(0, 4, T)[:, None]
    load = rng.uniform(0.2, 1.0, size=(j + 1, 2))
    if outside is not None:
        load[-1] = outside * load[:-1].max(axis=0)
    return load @ f.T + rng.normal(scale=0.5, size=(j + 1, T)) + 10.0


def _placebo_p(fit: SynthResult, shift: float, studentized: bool) -> tuple[float, ...]:
    """(table p-value, raw effect-rank p-value, RMSPE-ratio p-value, ``sc_t`` p-value) of
    ``fit``'s placebos with the treated unit's post-period gaps shifted by ``shift``."""
    pl = fit.placebo
    assert pl is not None
    gaps = pl.gaps.to_numpy(dtype=float).copy()
    periods = pl.gaps.columns.to_numpy()
    gaps[-1, periods >= START] += shift
    scale = pl.scale.to_numpy(dtype=float) if studentized else None  # type: ignore[attr-defined]
    res = placebo_from_gaps(gaps, periods=periods, start=START, units=list(pl.gaps.index),
                            max_pre_mspe_ratio=pl.max_pre_mspe_ratio,
                            conf_level=pl.conf_level, scale=scale)
    table_p = float(res.table["p_value"].iloc[-1])  # studentized for the augmented SC
    raw = float(res.effect_rank_table["p_value"].iloc[-1]) if studentized else table_p
    post = periods >= START
    t = np.abs(gaps[:, post].mean(axis=1)) / np.sqrt((gaps[:, ~post] ** 2).mean(axis=1))
    return table_p, raw, res.p_value_rmspe_ratio, float(np.mean(t >= t[-1] * (1 - 1e-12)))


def _conformal(y: np.ndarray, lam: float | None, shift: float) -> float:
    """Conformal p-value of a zero average effect, the treated outcome shifted by ``shift``."""
    n0 = y.shape[0] - 1
    y1 = y[n0].copy()
    y1[T0:] += shift
    return conformal_p_value(ResidualRefit(y[:n0], lam=lam), y1, np.arange(T), T - T0, 0.0,
                             permutations(T, T - T0))


def world(j: int, outside: float | None, seed: int) -> dict[str, float]:
    """One world: the rule's ratio and verdict and every candidate p-value at each effect."""
    y = world_outcomes(seed, j, outside)
    panel = as_panel(y)
    plain = em.synth(panel, "y", treated="TR", start=START)
    aug = em.synth(panel, "y", treated="TR", start=START, augment="ridge",
                   inference="placebo")
    assert aug.augmentation is not None
    hull = hull_of(plain)
    row: dict[str, float] = {"j": j, "outside": np.nan if outside is None else outside,
                             "seed": seed, "ratio": hull.ratio, "inside": hull.inside,
                             "noise": hull.noise}
    for k in EFFECTS:
        d = k * hull.noise
        rank, _, ratio, sc_t = _placebo_p(plain, d, studentized=False)
        ascm, ascm_raw, ascm_ratio, _ = _placebo_p(aug, d, studentized=True)
        row.update({f"rank_{k}": rank, f"ratio_{k}": ratio, f"sc_t_{k}": sc_t, f"ascm_{k}": ascm,
                    f"ascm_raw_{k}": ascm_raw, f"ascm_ratio_{k}": ascm_ratio,
                    f"cwz_sc_{k}": _conformal(y, None, d),
                    f"cwz_ascm_{k}": _conformal(y, aug.augmentation.penalty, d)})
    return row


def self_check() -> None:
    """The shortcuts against the package's own calls: the exchangeable generator against
    ``factor_world``; at the null, the p-values against ``em.synth``'s; under an effect,
    against ``em.synth`` on a panel with the effect planted (plain, augmented, conformal)."""
    for seed in (11, 12):
        np.testing.assert_array_equal(world_outcomes(seed, 15, 1.2),
                                      factor_world(seed, j=15, outside=1.2))
    for seed, outside in ((3, 1.2), (4, None), (5, 0.8)):
        r = world(15, outside, seed)
        y = world_outcomes(seed, 15, outside)
        for k in EFFECTS:
            ys = y.copy()
            ys[-1, T0:] += k * r["noise"]
            panel = as_panel(ys)
            plain = em.synth(panel, "y", treated="TR", start=START)
            aug = em.synth(panel, "y", treated="TR", start=START, augment="ridge",
                           inference="placebo")
            conf = em.synth(panel, "y", treated="TR", start=START, augment="ridge",
                            inference="conformal")
            conf_sc = em.synth(panel, "y", treated="TR", start=START, inference="conformal")
            assert aug.placebo is not None
            got = (r[f"rank_{k}"], r[f"ratio_{k}"], r[f"ascm_{k}"], r[f"ascm_raw_{k}"],
                   r[f"ascm_ratio_{k}"], r[f"cwz_ascm_{k}"], r[f"cwz_sc_{k}"])
            want = (float(plain.table["p_value"].iloc[-1]), plain.p_value_rmspe_ratio,
                    float(aug.table["p_value"].iloc[-1]),
                    float(aug.placebo.effect_rank_table["p_value"].iloc[-1]),
                    aug.p_value_rmspe_ratio, float(conf.table["p_value"].iloc[-1]),
                    float(conf_sc.table["p_value"].iloc[-1]))
            assert got == want, (seed, outside, k, got, want)


def band(d: pd.DataFrame) -> pd.Series:
    """Each world's band (see the module docstring)."""
    b = np.select([d["outside"].isna(), d["ratio"] > 2, d["ratio"] > 1, d["outside"] < 1],
                  ["exch", ">2", "1-2", "in 0.8"], "<1 edge")
    return pd.Series(pd.Categorical(b, categories=BANDS, ordered=True), index=d.index)


def add_combos(d: pd.DataFrame) -> pd.DataFrame:
    """The combined tests' p-values at each effect."""
    d = d.copy()
    for k in EFFECTS:
        inside = d["inside"].astype(bool)
        d[f"rule_{k}"] = np.where(inside, d[f"rank_{k}"], d[f"ascm_{k}"])
        d[f"rule_ratio_{k}"] = np.where(inside, d[f"ratio_{k}"], d[f"ascm_{k}"])
        d[f"rule_t_{k}"] = np.where(inside, d[f"sc_t_{k}"], d[f"ascm_{k}"])
        d[f"rule_both_{k}"] = np.where(inside, np.maximum(d[f"ratio_{k}"], d[f"ascm_{k}"]),
                                       d[f"ascm_{k}"])
        d[f"both_{k}"] = np.maximum(d[f"ratio_{k}"], d[f"ascm_{k}"])
        d[f"bonf_{k}"] = np.minimum(1.0, 2 * np.minimum(d[f"ratio_{k}"], d[f"ascm_{k}"]))
    return d


def rates(g: pd.DataFrame, k: int, alpha: float) -> pd.Series:
    """Rejection rates at ``alpha`` of every candidate at effect ``k`` (for ``k > 0`` the mean
    over ``+k`` and ``-k``), with ``n`` and the binomial SE (``se``: at the level for the
    null, at the worst rate, 0.5, otherwise)."""
    ks = [k] if k == 0 else [k, -k]
    out = {"n": float(len(g))}
    out.update({t: float(np.mean([(g[f"{t}_{e}"] <= alpha + 1e-12).mean() for e in ks]))
                for t in TESTS + COMBOS})
    level = alpha if k == 0 else 0.5
    out["se"] = float(np.sqrt(level * (1 - level) / len(g)))
    return pd.Series(out)


def summary(d: pd.DataFrame) -> None:
    """Print the size tables (by band and pool, and by band) and the power tables."""
    d = add_combos(d)
    d["band"] = band(d)
    opts = {"display.width": 250, "display.max_columns": 30, "display.max_rows": 200}
    with pd.option_context(*[x for kv in opts.items() for x in kv]):
        print(f"{len(d)} worlds; noise scale / noise SD: median "
              f"{(d['noise'] / 0.5).median():.2f}; inside share by band:",
              d.groupby("band", observed=True)["inside"].mean().round(3).to_dict())
        for alpha in (0.05, 0.10):
            print(f"\nSize at {alpha:.0%} by band and pool (no effect; se: binomial SE at the "
                  "level; 15 donors: rank/ratio cannot reach 5 %, cwz's smallest p is 1/25)")
            print(d.groupby(["band", "j"], observed=True)[list(d.columns)]
                  .apply(rates, 0, alpha).round(3).to_string())
            print(f"\nSize at {alpha:.0%} by band, pools of 40 or more donors")
            big = d[d["j"] >= 40]
            print(big.groupby("band", observed=True)[list(big.columns)]
                  .apply(rates, 0, alpha).round(3).to_string())
        for k in POWER:
            print(f"\nPower at 5 % against +-{k} noise scales, by band, pools of 40 or more "
                  "(se: at most)")
            print(big.groupby("band", observed=True)[list(big.columns)]
                  .apply(rates, k, 0.05).round(3).to_string())
        print("\nPower at 5 % by pool, all bands pooled")
        for k in POWER:
            print(f"-- +-{k} noise scales")
            print(d.groupby("j")[list(d.columns)].apply(rates, k, 0.05).round(3).to_string())


def main() -> None:
    """Run the worlds (appending to ``--out`` as they finish) or only summarise it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=300)
    ap.add_argument("--out", default="sc_test_worlds.csv")
    ap.add_argument("--read", action="store_true", help="only summarise --out")
    args = ap.parse_args()
    if not args.read:
        warnings.simplefilter("ignore")
        tic = time.process_time()
        self_check()
        print(f"self-check passed ({time.process_time() - tic:.1f} s CPU)", flush=True)
        out = Path(args.out)
        out.unlink(missing_ok=True)
        for s in range(args.worlds):  # seeds outermost: a partial file covers every band
            rows = [world(j, o, 100_000 * j + (0 if o is None else 1000 * round(o * 100)) + s)
                    for j, share in POOLS.items() if s < round(args.worlds * share)
                    for o in OUTSIDE]
            pd.DataFrame(rows).to_csv(out, mode="a", header=not out.exists(), index=False)
            if s % 25 == 24:
                print(f"{s + 1} seeds, {time.process_time() - tic:.0f} s CPU", flush=True)
    summary(pd.read_csv(args.out))


if __name__ == "__main__":
    main()
