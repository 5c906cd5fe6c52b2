"""Benchmark: synthetic control placebos and synthetic DiD placebo SEs beside peer packages.

1. Placebo in space over 289 donors x 27 years with 5 predictors: evalmodel's ``synth`` (every
   donor refitted) beside pysyncon's ``Synth``. One pysyncon weight solve over 288 donors (SLSQP)
   takes about ten seconds, and a fit that optimises V repeats it at every Nelder-Mead step, so
   the like-for-like comparison holds V fixed (equal weights) and pysyncon's total is
   extrapolated from one timed fit. evalmodel's time with V optimised (the default: R Synth's
   search for the treated unit, each placebo's V refined by Nelder-Mead from the treated unit's)
   is printed as well; issue 14 asks for it under 10 s.
2. Synthetic DiD placebo standard error with 200 draws on Proposition 99: evalmodel's ``sdid``
   beside synthdid-py and diff-diff's ``SyntheticDiD`` (with its compiled Rust backend, and
   with its pure-Python backend in a subprocess). Best of three calls for evalmodel and
   diff-diff, and their first calls in the process (evalmodel's first call loads its compiled
   Frank-Wolfe kernel from numba's on-disk cache; the very first call after installing also
   compiles it, once, in a few seconds).

3. The classic studies (when ``$EVALMODEL_REFERENCE_DATA`` or ``../shared/data/reference``
   holds them): the synthetic Basque Country with V optimised, evalmodel (R Synth's search: two
   starts, Nelder-Mead and BFGS) beside pysyncon (one start, Nelder-Mead).
0. The report's synthetic-control work on a simulated case, old path beside new (issue 16):
   the augmented placebos and the synthetic control's placebo study, CPU seconds, identical
   numbers checked (:func:`bench_report_paths`).
4. The augmented synthetic control (ridge, penalty cross-validated) beside augsynth-py 0.6's
   ``AugSynth`` on Proposition 99 (38 donors, 1970-2000) and on the 290-unit panel of part 1:
   the point estimate (``"ridge"`` and ``"ridge_fe"``), conformal inference of the average
   effect (p-value at 0 and the 95 % interval) and placebos in space (the RMSPE-ratio p-value,
   every placebo's penalty cross-validated on its own data in both packages). Each line gives
   both times and the difference of the numbers. augsynth-py's placebo over 289 donors is
   extrapolated from timed fits, as pysyncon's is in part 1.

Run ``python benchmarks/bench_synth.py``; ``main()`` prints times and ratios.
"""

from __future__ import annotations

import time
import warnings
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _timing import timed

import evalmodel as em
from evalmodel.estimators.sdid import sdid
from evalmodel.estimators.synth import synth

#: pysyncon placebo fits timed (the total for 290 fits is extrapolated from these).
PEER_FITS = 1
#: Timed repetitions of the fast fits (best of these; synthdid-py runs once).
REPEAT = 3


def _big_panel(n: int = 290, t: int = 27, seed: int = 1) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.5, 1.5, (n, 3))
    fac = np.cumsum(rng.normal(0, 1, (t, 3)), axis=0)
    y = 20 + load @ fac.T + rng.normal(0, 0.5, (n, t))
    units = [f"{i:04d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(np.arange(1998, 1998 + t), n),
                       "y": y.ravel(), "x": np.repeat(rng.normal(0, 1, n), t)})
    return df, units


def bench_placebo_space() -> dict[str, float]:
    """Time the placebo in space of ours and (extrapolated) pysyncon's."""
    from pysyncon import Dataprep, Synth

    df, units = _big_panel()
    pre = list(range(1998, 2015))
    preds = [("y", list(range(1998, 2004)), "mean"), ("y", list(range(2004, 2010)), "mean"),
             ("y", list(range(2010, 2015)), "mean"), ("y", [2014], "mean"), ("x", pre, "mean")]
    panel = em.Panel(df, unit="unit", time="year")
    treated = units[-1]
    v_equal = np.full(len(preds), 1.0 / len(preds))
    times = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        for label, kw in (("fixed V", {"custom_v": v_equal}),
                          ("V optimised (defaults; placebos warm-started)", {})):
            times[label], r = timed(lambda kw=kw: synth(  # type: ignore[misc]
                panel, "y", treated=treated, start=2015, predictors=preds, **kw))
            assert r.placebo is not None
    peer_times = []
    for j in range(PEER_FITS):
        target = units[j]
        dp = Dataprep(foo=df, predictors=[], predictors_op="mean", time_predictors_prior=pre,
                      special_predictors=preds, dependent="y", unit_variable="unit",
                      time_variable="year", treatment_identifier=target,
                      controls_identifier=[u for u in units[:-1] if u != target],
                      time_optimize_ssr=pre)
        peer_times.append(timed(lambda dp=dp: Synth().fit(  # type: ignore[misc]
            dataprep=dp, custom_V=v_equal))[0])
    peer = float(np.mean(peer_times)) * len(units)
    ours = times["fixed V"]
    print(f"placebo in space, {len(units) - 1} donors x 27 years, 5 predictors "
          f"(treated + {len(units) - 1} placebo fits):")
    for label, sec in times.items():
        print(f"  evalmodel.synth, {label}: {sec:8.2f} s")
    print(f"  pysyncon Synth, fixed V ({PEER_FITS} fit timed, x{len(units)}): {peer:8.2f} s "
          "(extrapolated)")
    print(f"  ratio pysyncon/evalmodel at fixed V: {peer / ours:.0f}x  (a pysyncon fit that "
          "also optimises V repeats its inner solve at every Nelder-Mead step)")
    return {"synth_placebo_ours_fixed_v": ours, "synth_placebo_pysyncon_fixed_v": peer,
            "synth_placebo_ours_optimised_v": times[list(times)[1]]}


def bench_sdid_placebo() -> dict[str, float]:
    """Time SDID placebo SEs (200 draws) on Proposition 99."""
    import synthdid as sd
    from diff_diff import SyntheticDiD

    df = pd.read_csv(str(files("synthdid") / "data" / "california_prop99.csv"), sep=";")
    panel = em.Panel(df, unit="State", time="Year", outcomes=["PacksPerCapita"])

    def ours_fit() -> em.SdidResult:
        return sdid(panel, "PacksPerCapita", treated="California", start=1989,
                    inference="placebo", n_draws=200, seed=1)

    ours_first, r = timed(ours_fit)
    ours, _ = timed(ours_fit, REPEAT)
    pm = sd.panel_matrices(sd.load_california_prop99())

    def sd_fit() -> tuple[object, float]:
        est = sd.synthdid_estimate(pm.Y, pm.N0, pm.T0)
        return est, est.se(method="placebo", replications=200)

    t_sd, (est, se_sd) = timed(sd_fit)
    dd = df.assign(treated=(df["State"] == "California").astype(int))

    def dd_fit() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
                dd, outcome="PacksPerCapita", treatment="treated", unit="State", time="Year",
                post_periods=list(range(1989, 2001)))

    dd_first, res = timed(dd_fit)
    t_dd, _ = timed(dd_fit, REPEAT)
    t_py = _diffdiff_python_backend()
    print("synthetic DiD placebo SE, Proposition 99, 200 draws:")
    se = float(r.table["std_error"].iloc[-1])
    print(f"  evalmodel.sdid : {ours:7.2f} s  (ATT {r.estimate:.3f}, SE {se:.2f}); first call "
          f"in the process {ours_first:.2f} s (loads the compiled kernels)")
    print(f"  synthdid-py    : {t_sd:7.2f} s  (ATT {float(est):.3f}, SE {se_sd:.2f})  "
          f"ratio {t_sd / ours:.1f}x")
    print(f"  diff-diff      : {t_dd:7.2f} s  (ATT {res.att:.3f}, SE {res.se:.2f})  "  # type: ignore[attr-defined]
          f"ratio {t_dd / ours:.1f}x; first call {dd_first:.2f} s, ratio of first calls "
          f"{dd_first / ours_first:.1f}x")
    print(f"  diff-diff, pure-Python backend: {t_py:7.2f} s  ratio {t_py / ours:.1f}x")
    return {"sdid_placebo_ours": ours, "sdid_placebo_synthdid": t_sd,
            "sdid_placebo_diffdiff": t_dd, "sdid_placebo_diffdiff_python": t_py}


_DD_PY = """
import time, warnings, pandas as pd
from importlib.resources import files
from diff_diff import SyntheticDiD
df = pd.read_csv(str(files("synthdid") / "data" / "california_prop99.csv"), sep=";")
df["treated"] = (df["State"] == "California").astype(int)
t = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
        df, outcome="PacksPerCapita", treatment="treated", unit="State", time="Year",
        post_periods=list(range(1989, 2001)))
print(time.perf_counter() - t)
"""


def _diffdiff_python_backend() -> float:
    """diff-diff's time with its Rust backend switched off (it reads the switch at import)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, DIFF_DIFF_BACKEND="python")
    out = subprocess.run([sys.executable, "-c", _DD_PY], env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _reference_folder() -> Path | None:
    import os

    value = os.environ.get("EVALMODEL_REFERENCE_DATA")
    folder = (Path(value) if value else
              Path(__file__).resolve().parents[2] / "shared" / "data" / "reference")
    return folder if (folder / "basque.csv").is_file() else None


def bench_basque() -> dict[str, float]:
    """Time the synthetic Basque Country (V optimised): ours beside pysyncon's."""
    from pysyncon import Dataprep, Synth

    folder = _reference_folder()
    if folder is None:
        print("the Basque Country: reference data not found ($EVALMODEL_REFERENCE_DATA); skipped")
        return {}
    df = pd.read_csv(folder / "basque.csv")
    df = df[df["regionname"] != "Spain (Espana)"].astype({"year": int})
    school = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high",
              "invest"]
    sectors = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction",
               "sec.services.venta", "sec.services.nonventa"]
    special = [("gdpcap", list(range(1960, 1970)), "mean"),
               *[(v, list(range(1961, 1970, 2)), "mean") for v in sectors],
               ("popdens", [1969], "mean")]
    preds = [*[(v, list(range(1964, 1970)), "mean") for v in school], *special]
    treated = "Basque Country (Pais Vasco)"
    values = [c for c in df.columns if c not in ("regionno", "regionname", "year")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        panel = em.Panel(df.drop(columns="regionno"), unit="regionname", time="year",
                         outcomes=values)
        ours, r = timed(lambda: synth(panel, "gdpcap", treated=treated, start=1970,
                                      predictors=preds, fit_periods=range(1960, 1970),
                                      inference="none"), REPEAT)
    dp = Dataprep(foo=df, predictors=school, predictors_op="mean",
                  time_predictors_prior=range(1964, 1970), special_predictors=special,
                  dependent="gdpcap", unit_variable="regionname", time_variable="year",
                  treatment_identifier=treated,
                  controls_identifier=sorted(set(df["regionname"]) - {treated}),
                  time_optimize_ssr=range(1960, 1970))
    peer_model = Synth()
    peer, _ = timed(lambda: peer_model.fit(dataprep=dp))
    top = r.weights[r.weights > 0.01].round(3).to_dict()
    loss = r.details["loss_v"]
    print("the synthetic Basque Country (17 regions, 14 predictors, V optimised):")
    print(f"  evalmodel.synth (2 starts x Nelder-Mead, BFGS): {ours:6.2f} s, loss {loss:.5f}, "
          f"weights {top}")
    print(f"  pysyncon Synth (equal start, Nelder-Mead)     : {peer:6.2f} s, loss "
          f"{peer_model.loss_V:.5f}")
    return {"synth_basque_ours": ours, "synth_basque_pysyncon": peer}


def _augsynth(df: pd.DataFrame, unit: str, time: str, outcome: str, treated: str, start: int,
              *, fixedeff: bool = False) -> Any:
    """augsynth-py's ``AugSynth`` fitted on the same long frame (it takes polars)."""
    import polars as pl
    from augsynth_py import AugSynth

    frame = pl.from_pandas(df[[unit, time, outcome]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AugSynth(fixedeff=fixedeff).fit(frame, unit=unit, time=time, outcome=outcome,
                                               treated=treated, treatment_time=start)


def _ascm_point(panel: em.Panel, df: pd.DataFrame, spec: tuple[str, str, str, str, int]
                ) -> dict[str, float]:
    """Augmented SC point estimates, ``"ridge"`` and ``"ridge_fe"``, ours beside augsynth-py's."""
    unit, time_, outcome, treated, start = spec
    out = {}
    for augment, fixedeff in (("ridge", False), ("ridge_fe", True)):
        synth(panel, outcome, treated=treated, start=start, augment=augment,  # type: ignore[arg-type]
              inference="none")  # the first call loads the compiled kernels
        ours, r = timed(lambda a=augment: synth(  # type: ignore[misc]
            panel, outcome, treated=treated, start=start, augment=a, inference="none"), REPEAT)
        peer, a = timed(lambda f=fixedeff: _augsynth(  # type: ignore[misc]
            df, unit, time_, outcome, treated, start, fixedeff=f), REPEAT)
        assert r.augmentation is not None
        w_peer = np.array([a.weights_[u] for u in r.weights.index])
        print(f"  augment={augment!r:10}: evalmodel {ours:6.3f} s, augsynth-py {peer:6.3f} s "
              f"(ratio {peer / ours:5.1f}x); ATT {r.estimate:.6f} vs {a.att_:.6f} "
              f"(difference {abs(r.estimate - a.att_):.1e}), penalty "
              f"{r.augmentation.penalty:.6g} vs {a.lambda_:.6g}, largest weight difference "
              f"{np.abs(r.weights.to_numpy() - w_peer).max():.1e}")
        out[f"ascm_{augment}_ours"], out[f"ascm_{augment}_augsynth"] = ours, peer
    return out


def bench_ascm() -> dict[str, float]:
    """Augmented SC, its conformal inference and its placebos: ours beside augsynth-py."""
    from augsynth_py import conformal_interval, conformal_pvalue, placebo_in_space

    df = pd.read_csv(str(files("synthdid") / "data" / "california_prop99.csv"), sep=";")
    spec = ("State", "Year", "PacksPerCapita", "California", 1989)
    panel = em.Panel(df, unit="State", time="Year", outcomes=["PacksPerCapita"])
    kw: dict[str, Any] = {"treated": "California", "start": 1989, "augment": "ridge"}
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        print("augmented synthetic control, Proposition 99 (38 donors, 1970-2000, "
              "penalty cross-validated):")
        out |= _ascm_point(panel, df, spec)
        a = _augsynth(df, *spec)
        ours, rc = timed(lambda: synth(panel, "PacksPerCapita", inference="conformal", **kw))
        row = rc.overall
        assert row is not None

        def peer_conformal() -> tuple[float, tuple[float, float]]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return conformal_pvalue(a, 0.0), conformal_interval(a, alpha=0.05)

        peer, (p_peer, ci_peer) = timed(peer_conformal)
        print(f"  conformal, average effect: evalmodel {ours:6.2f} s (and every post-period's "
              f"test and interval), augsynth-py {peer:6.2f} s (p-value and interval of the "
              f"average only); p-value at 0 {row['p_value']:.4f} vs {p_peer:.4f}; 95 % "
              f"interval [{row['ci_lower']:.4g}, {row['ci_upper']:.4g}] vs "
              f"[{ci_peer[0]:.4g}, {ci_peer[1]:.4g}]")
        aug = rc.augmentation
        assert aug is not None and aug.cv is not None
        edge = " (the smallest of its grid)" if aug.penalty == aug.cv["penalty"].iloc[0] else ""
        level = float(rc.paths["treated"].abs().mean())
        print(f"    penalty {aug.penalty:.4g}{edge}; the augmented pre-RMSPE is "
              f"{rc.pre_rmspe:.2g} on a level of {level:.3g}. Where the fit nearly interpolates, "
              "the test accepts every null (augsynth-py's interval then ends where its grid "
              "ends), and the p-values may differ by ties: evalmodel counts statistics within "
              "1e-6 of the outcome's level as tied.")
        out["ascm_conformal_ours"], out["ascm_conformal_augsynth"] = ours, peer
        ours, rp = timed(lambda: synth(panel, "PacksPerCapita", inference="placebo", **kw),
                         REPEAT)

        def peer_placebo() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return placebo_in_space(a)

        peer, pp = timed(peer_placebo)
        print(f"  placebos in space (38 refits, each penalty cross-validated): evalmodel "
              f"{ours:6.3f} s, augsynth-py {peer:6.2f} s (ratio {peer / ours:.0f}x); "
              f"RMSPE-ratio p-value {rp.p_value_rmspe_ratio:.4f} vs {pp.pvalue:.4f}")
        out["ascm_placebo_ours"], out["ascm_placebo_augsynth"] = ours, peer

        big, units = _big_panel()
        bspec = ("unit", "year", "y", units[-1], 2015)
        bpanel = em.Panel(big, unit="unit", time="year")
        print(f"augmented synthetic control, {len(units) - 1} donors x 27 years (the panel of "
              "part 1):")
        out |= {f"{k}_big": v for k, v in _ascm_point(bpanel, big, bspec).items()}
        ours, rb = timed(lambda: synth(bpanel, "y", treated=units[-1], start=2015,
                                       augment="ridge", inference="placebo"), REPEAT)
        one = [timed(lambda j=j: _augsynth(  # type: ignore[misc]
            big[big["unit"] != units[-1]], "unit", "year", "y", units[j], 2015))[0]
            for j in range(PEER_FITS)]
        peer = float(np.mean(one)) * (len(units) - 1)
        print(f"  placebos in space ({len(units) - 1} refits): evalmodel {ours:6.2f} s "
              f"(RMSPE-ratio p-value {rb.p_value_rmspe_ratio:.4f}); augsynth-py "
              f"{peer:6.1f} s extrapolated ({PEER_FITS} fit timed, x{len(units) - 1}), ratio "
              f"{peer / ours:.0f}x")
        out["ascm_placebo_big_ours"], out["ascm_placebo_big_augsynth"] = ours, peer
    return out


def _cpu(fn: Any) -> tuple[float, Any]:
    """CPU seconds of one call of ``fn`` (this process; the machine may be shared) and its
    output."""
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def bench_report_paths(case: str = "linkoping") -> dict[str, float]:
    """The report's synthetic-control work on one simulated case, old path beside new (issue
    16), CPU seconds with BLAS on one thread, the numbers checked equal bit for bit:

    - the augmented synthetic control's placebos (every donor's gaps and every unit's forecast
      scale, penalties cross-validated): cold-started simplex fits and eigen-decompositions in
      every fold (old) against warm starts and the tridiagonal penalty choice (new);
    - the synthetic control's placebo study over 30 units (the calibration section): one
      fit per placebo through the Python loop (old) against shared starting weights and the
      compiled batch (``calibrate.synth()``, new).
    """
    from threadpoolctl import threadpool_limits

    from evalmodel import calibrate
    from evalmodel.core import ascm_placebo as ap
    from evalmodel.inference.calibration import placebo_study

    design = em.cases.get(case).design(em.datasets.simulated())
    outcome, treated = design.case.outcomes[0], design.treated[0]
    wide = design.panel.wide(outcome)
    units = [*design.comparison, treated]
    y = wide.loc[units].to_numpy(dtype=float)
    pre = np.flatnonzero(wide.columns.to_numpy() < design.adoption)

    def augmented() -> list[np.ndarray]:
        return [*ap.placebo_ascm_gaps(y[:-1], pre), *ap.forecast_scales(y, pre)]

    def cold(f: np.ndarray, cols: np.ndarray, warm: np.ndarray | None = None) -> np.ndarray:
        return simplex_weights(f, cols)

    def study(estimator: Any) -> pd.DataFrame:
        panel = design.panel.select(units=list(design.comparison))
        return placebo_study(panel, outcome, estimator, pool=list(design.comparison),
                             adoption=int(design.adoption), n_units=30, seed=0).placebos

    def loop(panel: em.Panel, outcome: str, unit: str, adoption: int) -> Any:
        return em.synth(panel, outcome, treated=unit, start=adoption)

    simplex_weights = ap._simplex_weights
    out: dict[str, float] = {}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study(calibrate.synth())  # compile or load the kernels first
        augmented()
        new_t, new = _cpu(augmented)
        ap._simplex_weights, choice = cold, ap._choice_errors
        ap._choice_errors = ap._fold_errors
        try:
            old_t, old = _cpu(augmented)
        finally:
            ap._simplex_weights, ap._choice_errors = simplex_weights, choice
        same = all(np.array_equal(a, b) for a, b in zip(old, new, strict=True))
        print(f"report paths, simulated {case} {outcome} ({len(design.comparison)} donors, "
              f"{pre.size} pre-periods), CPU s:")
        print(f"  augmented SC placebos + forecast scales: old {old_t:6.2f}  new {new_t:6.2f}  "
              f"({old_t / new_t:.1f}x; identical: {same})")
        old_s, a = _cpu(lambda: study(loop))
        new_s, b = _cpu(lambda: study(calibrate.synth()))
        same = a.equals(b)
        print(f"  SC placebo study, 30 units             : old {old_s:6.2f}  new {new_s:6.2f}  "
              f"({old_s / new_s:.1f}x; identical: {same})")
    out["report_ascm_old"], out["report_ascm_new"] = old_t, new_t
    out["report_sc_study_old"], out["report_sc_study_new"] = old_s, new_s
    return out


def main() -> dict[str, float]:
    """Run the benchmarks and print times and ratios."""
    out = bench_report_paths()
    out |= bench_sdid_placebo()
    out |= bench_placebo_space()
    out |= bench_basque()
    out |= bench_ascm()
    return out


if __name__ == "__main__":
    main()
