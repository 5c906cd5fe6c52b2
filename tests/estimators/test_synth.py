"""Synthetic control: pysyncon on a shared example, an exact QP check, planted truth, errors.

There is no published synthetic-control number on data shipped in a wheel that uses only the
outcome (Abadie et al. 2010's Proposition 99 fit uses covariates the synthdid wheel lacks), so
the reference checks are: the inner problem against an independent QP solver on Proposition 99,
the synthdid package's SC (a ridge-regularised Frank-Wolfe approximation of the same problem)
on Proposition 99 within 1 %, and pysyncon's Synth (same predictors, equal start,
Nelder-Mead) on a shared simulated example: unit weights within 0.01, average effect within 1 %.
"""

from __future__ import annotations

import warnings
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
import synthdid as sd
from pysyncon import Dataprep, Synth
from scipy.optimize import nnls

import evalmodel as em
from evalmodel.errors import ConvexHullWarning, EstimationError
from evalmodel.estimators.synth import synth
from evalmodel.inference.placebo import leave_one_out, leave_one_out_effects, placebo_in_time

PRE = list(range(2000, 2016))
SPECIAL = [("y", list(range(2000, 2006)), "mean"), ("y", list(range(2006, 2011)), "mean"),
           ("y", list(range(2011, 2016)), "mean"), ("x", PRE, "mean")]


@pytest.fixture(scope="module")
def prop99() -> em.Panel:
    df = pd.read_csv(files("synthdid") / "data" / "california_prop99.csv", sep=";")
    return em.Panel(df, unit="State", time="Year", outcomes=["PacksPerCapita"])


def shared_example(seed: int = 3, n: int = 11, t: int = 22) -> pd.DataFrame:
    """Two-factor panel whose last unit has a covariate above every donor's (unique weights)."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0, 2, size=(n, 2))
    a = rng.normal(10, 2, n)
    f = np.cumsum(rng.normal(0, 1, size=(t, 2)), axis=0)
    y = a[:, None] + mu @ f.T + rng.normal(0, 0.3, (n, t))
    cov = rng.normal(5, 1, n)
    cov[-1] = cov[:-1].max() + 1.0
    units = [f"u{i:02d}" for i in range(n)]
    return pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(np.arange(2000, 2000 + t), n),
                         "y": y.ravel(), "x": np.repeat(cov, t)})


def factor_panel(seed: int, *, n: int = 25, t: int = 20, t0: int = 14,
                 effect: float = 0.0) -> em.Panel:
    """Interactive fixed effects; the treated unit (last) is a mix of donors, so inside the hull."""
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.5, 1.5, (n, 2))
    load[-1] = load[:-1].mean(axis=0)
    fac = np.cumsum(rng.normal(0, 1, (t, 2)), axis=0)
    y = 5 + load @ fac.T + rng.normal(0, 0.3, (n, t))
    y[-1, t0:] += effect
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(np.arange(2000, 2000 + t), n),
                       "y": y.ravel()})
    return em.Panel(df, unit="unit", time="year")


# -- peer: pysyncon ----------------------------------------------------------------------------
def test_matches_pysyncon_shared_example() -> None:
    df = shared_example()
    units = sorted(df["unit"].unique())
    dp = Dataprep(foo=df, predictors=[], predictors_op="mean", time_predictors_prior=PRE,
                  special_predictors=SPECIAL, dependent="y", unit_variable="unit",
                  time_variable="year", treatment_identifier=units[-1],
                  controls_identifier=units[:-1], time_optimize_ssr=PRE)
    peer = Synth()
    peer.fit(dataprep=dp, optim_method="Nelder-Mead", optim_initial="equal")
    w_peer = pd.Series(peer.W, index=peer.W_names)
    panel = em.Panel(df, unit="unit", time="year")
    with pytest.warns(ConvexHullWarning, match=r"pre-period RMSPE = \d"):
        # like for like: pysyncon's one run (equal start, scipy's Nelder-Mead settings)
        r = synth(panel, "y", treated=units[-1], start=2016, predictors=SPECIAL,
                  v_start="equal", optimizer="Nelder-Mead",
                  optimizer_options={"maxiter": 1000}, inference="none")
    with pytest.warns(ConvexHullWarning):
        full = synth(panel, "y", treated=units[-1], start=2016, predictors=SPECIAL,
                     inference="none")
    # R Synth's search (two starts, Nelder-Mead and BFGS) keeps its best run: no worse
    assert full.details["loss_v"] <= peer.loss_V * (1 + 1e-9)
    assert full.details["loss_v"] == pytest.approx(full.details["v_search"]["loss_v"].min(),
                                                   rel=1e-9)
    assert list(full.details["v_search"]["optimizer"]) == ["Nelder-Mead", "BFGS"] * 2
    assert np.abs(r.weights - w_peer.reindex(r.weights.index)).max() < 0.01
    z = df.pivot(index="year", columns="unit", values="y")
    att_peer = float((z.loc[2016:, units[-1]] - z.loc[2016:, units[:-1]] @ w_peer).mean())
    assert r.estimate == pytest.approx(att_peer, rel=0.01)
    assert r.v.to_numpy() == pytest.approx(np.asarray(peer.V), abs=0.01)
    assert r.details["loss_v"] == pytest.approx(peer.loss_V, rel=1e-3)


# -- the inner solver: exact least squares over the simplex ------------------------------------
def _random_problem(rng: np.random.Generator, inside: bool) -> tuple[np.ndarray, np.ndarray]:
    n, m = int(rng.integers(2, 25)), int(rng.integers(2, 300))
    a = rng.normal(size=(n, m))
    b = a @ rng.dirichlet(np.full(m, 0.3)) if inside else 3 * rng.normal(size=n)
    return a, b


def test_simplex_solver_meets_the_kkt_conditions_and_beats_nnls() -> None:
    """Certificate of optimality: weights on the simplex, and every column's gradient at least
    the common gradient of the columns with weight (which agree), to rounding. Peer: scipy's
    NNLS with the adding-up constraint as a heavily weighted row."""
    from evalmodel.core.simplex_kernel import simplex_ls

    rng = np.random.default_rng(11)
    for k in range(200):
        a, b = _random_problem(rng, inside=k % 2 == 1)
        w = simplex_ls(a, b)
        assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
        g = a.T @ (a @ w - b)
        on = w > 0
        scale = np.abs(a).max() * (np.abs(a).max() + np.abs(b).max())
        assert np.ptp(g[on]) <= 1e-8 * scale
        assert g.min() >= g[on].mean() - 1e-8 * scale
        big = 1e4 * max(np.abs(a).max(), np.abs(b).max())
        ref, _ = nnls(np.vstack([a, np.full((1, a.shape[1]), big)]), np.r_[b, big],
                      maxiter=10_000)
        ref = ref / ref.sum()
        assert np.sum((a @ w - b) ** 2) <= np.sum((a @ ref - b) ** 2) + 1e-10 * scale


def test_simplex_solver_warm_start_and_python_twin_agree() -> None:
    """The warm start changes the path, not the optimum; the uncompiled function (the twin used
    without numba) gives the same weights."""
    from evalmodel.core import simplex_kernel as sk

    rng = np.random.default_rng(12)
    for k in range(40):
        a, b = _random_problem(rng, inside=k % 2 == 0)
        cold = sk.simplex_ls(a, b)
        start = np.zeros(a.shape[1])
        start[rng.choice(a.shape[1], size=min(a.shape), replace=False)] = 1.0
        warm = sk.simplex_ls(a, b, start)
        f_cold, f_warm = (float(np.sum((a @ w - b) ** 2)) for w in (cold, warm))
        assert f_warm == pytest.approx(f_cold, rel=1e-9, abs=1e-18)
    twin = getattr(sk._simplex_ls, "py_func", sk._simplex_ls)
    for k in range(8):  # the plain-Python loops are slow: a few small problems
        a = rng.normal(size=(6, 40))
        b = a @ rng.dirichlet(np.ones(40)) if k % 2 else 3 * rng.normal(size=6)
        plain = twin(a, b, np.zeros(40), 450)
        assert np.allclose(plain, sk.simplex_ls(a, b), atol=1e-10)


# -- planted truth: the V search --------------------------------------------------------------
def test_v_search_recovers_planted_weights_past_a_misleading_predictor() -> None:
    """The treated unit is a planted mix of three donors in every period; one extra predictor
    (a covariate) is far from that mix. With equal V the covariate pulls the weights away; the
    search must down-weight it and recover the planted weights with a near-zero loss."""
    rng = np.random.default_rng(31)
    n, t = 20, 16
    load = rng.uniform(0.5, 1.5, (n, 2))
    y = 10 + load @ np.cumsum(rng.normal(0, 1, (t, 2)), axis=0).T + rng.normal(0, 0.5, (n, t))
    planted = np.zeros(n - 1)
    planted[[2, 7, 11]] = [0.5, 0.3, 0.2]
    y[-1] = planted @ y[:-1]
    cov = rng.normal(0, 1, n)
    cov[-1] = 3.0  # far from the planted mix of the donors' covariate
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(np.arange(2000, 2000 + t), n),
                       "y": y.ravel(), "x": np.repeat(cov, t)})
    panel = em.Panel(df, unit="unit", time="year")
    preds = [("y", list(range(2000, 2004)), "mean"), ("y", list(range(2004, 2008)), "mean"),
             ("y", list(range(2008, 2012)), "mean"), ("x", list(range(2000, 2012)), "mean")]
    kw = {"treated": units[-1], "start": 2012, "predictors": preds, "inference": "none"}
    with pytest.warns(ConvexHullWarning, match=r"'x \(2000-2011\)' is outside"):
        fixed = synth(panel, "y", custom_v=[0.25] * 4, **kw)  # type: ignore[arg-type]
    with pytest.warns(ConvexHullWarning):  # the covariate only: the outcome path is matched
        r = synth(panel, "y", **kw)  # type: ignore[arg-type]
    assert np.abs(fixed.weights.to_numpy() - planted).max() > 0.1  # equal V is misled
    assert np.abs(r.weights.to_numpy() - planted).max() < 0.02
    assert r.v.iloc[-1] < 0.05
    assert r.pre_rmspe < 0.05 * fixed.pre_rmspe


# -- reference: the inner problem and synthdid's SC on Proposition 99 --------------------------
def test_prop99_weights_solve_the_simplex_qp(prop99: em.Panel) -> None:
    r = synth(prop99, "PacksPerCapita", treated="California", start=1989, inference="none")
    y = prop99.wide("PacksPerCapita")
    z0 = y.drop(index="California").loc[:, :1988].to_numpy().T
    z1 = y.loc["California", :1988].to_numpy()
    # Peer: the simplex QP as non-negative least squares with the adding-up constraint as a
    # heavily weighted extra row (an independent solver; SLSQP can stop at its start point).
    big = 1e4 * float(np.abs(z0).max())
    qp_x, _ = nnls(np.vstack([z0, np.full((1, z0.shape[1]), big)]), np.r_[z1, big],
                   maxiter=10_000)
    assert qp_x.sum() == pytest.approx(1.0, abs=1e-8)
    w = r.weights.reindex(y.drop(index="California").index).to_numpy()
    assert np.sum((z1 - z0 @ w) ** 2) <= np.sum((z1 - z0 @ qp_x) ** 2) + 1e-8
    assert w == pytest.approx(qp_x, abs=2e-3)
    assert r.pre_rmspe == pytest.approx(np.sqrt(np.mean((z1 - z0 @ w) ** 2)), rel=1e-12)


def test_prop99_close_to_synthdid_sc(prop99: em.Panel) -> None:
    peer = sd.panel_matrices(sd.load_california_prop99())
    sc = float(sd.sc_estimate(peer.Y, peer.N0, peer.T0))  # -19.61966 in R synthdid
    r = synth(prop99, "PacksPerCapita", treated="California", start=1989, inference="none")
    assert r.estimate == pytest.approx(sc, rel=0.01)


def test_prop99_placebo_in_space(prop99: em.Panel) -> None:
    r = synth(prop99, "PacksPerCapita", treated="California", start=1989)
    pl = r.placebo
    assert pl is not None
    assert pl.gaps.shape == (39, 31)
    # California's post/pre RMSPE ratio ranks in the top few of 39 states (ADH 2010, Fig. 8)
    assert pl.p_value_rmspe_ratio <= 4 / 39
    kept = pl.kept
    assert kept.sum() == (pl.pre_mspe.drop("California") <= 5 * pl.pre_mspe["California"]).sum()
    assert r.overall["p_value"] == pytest.approx(
        (1 + (pl.placebo_effects()["average"].abs() >= abs(r.estimate)).sum()) / (1 + kept.sum()))
    assert set(r.table.columns) >= {"term", "estimate", "std_error", "ci_lower", "ci_upper",
                                    "p_value"}
    assert list(r.table["term"])[-1] == "average"


# -- planted truth -----------------------------------------------------------------------------
def test_planted_effect_in_placebo_interval() -> None:
    r = synth(factor_panel(21, effect=-2.0), "y", treated="u24", start=2014)
    row = r.overall
    assert row["ci_lower"] < -2.0 < row["ci_upper"]
    assert r.estimate == pytest.approx(-2.0, abs=1.0)
    assert row["p_value"] < 0.1


def test_no_effect_placebo_in_time_and_leave_one_out() -> None:
    r = synth(factor_panel(22), "y", treated="u24", start=2014, inference="none")
    fake = placebo_in_time(r, starts=[2010, 2011])
    assert list(fake.index) == [2010, 2011]
    assert (fake["estimate"].abs() < 1.0).all()
    paths = leave_one_out(r)
    assert list(paths.columns) == [str(u) for u in r.weights.index[r.weights > 1e-6]]
    eff = leave_one_out_effects(r, paths)
    assert (eff.abs() < 1.0).all()


@pytest.mark.slow
def test_placebo_p_value_uniform_under_no_effect() -> None:
    """Exchangeable units, no effect: the RMSPE-ratio p-value is uniform on {1/N, ..., 1}."""
    p = []
    for s in range(150):
        rng = np.random.default_rng(500 + s)
        y = rng.normal(0, 1, (12, 10)) + np.cumsum(rng.normal(0, 1, 10))
        df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(12)], 10),
                           "year": np.tile(np.arange(2000, 2010), 12), "y": y.ravel()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvexHullWarning)
            r = synth(em.Panel(df, unit="unit", time="year"), "y", treated="u11", start=2006)
        assert r.placebo is not None
        p.append(r.placebo.p_value_rmspe_ratio)
    p_arr = np.array(p)
    # uniform on k/12: P(p <= 1/12 * 3) = 0.25, P(p <= 0.5) = 0.5
    assert abs(np.mean(p_arr <= 0.25) - 0.25) < 0.09
    assert abs(np.mean(p_arr <= 0.5) - 0.5) < 0.11
    assert abs(p_arr.mean() - 6.5 / 12) < 0.06


# -- errors and warnings -----------------------------------------------------------------------
def test_errors(prop99: em.Panel) -> None:
    kw = {"treated": "California", "start": 1989}
    with pytest.raises(EstimationError, match=r"treated unit 'Stockholm' is not in the panel"):
        synth(prop99, "PacksPerCapita", treated="Stockholm", start=1989)
    with pytest.raises(EstimationError, match=r"donor pool has 1 unit"):
        synth(prop99, "PacksPerCapita", donors=["Utah"], **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"start=1971 leaves 1 pre-period"):
        synth(prop99, "PacksPerCapita", treated="California", start=1971)
    with pytest.raises(EstimationError,
                       match=r"^synth: predictor 'PacksPerCapita' operation='avg' is not one "
                             r"of \['mean', 'median', 'min', 'max', 'sum'\]; pass one of those"):
        synth(prop99, "PacksPerCapita", predictors=[("PacksPerCapita", [1980], "avg")],
              **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"uses periods \[1990\] that are not pre-periods"):
        synth(prop99, "PacksPerCapita", predictors=[("PacksPerCapita", [1990], "mean")],
              **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"fit_periods \[1995\] are not pre-periods"):
        synth(prop99, "PacksPerCapita", fit_periods=[1995], **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"inference='bootstrap' is not one of"):
        synth(prop99, "PacksPerCapita", inference="bootstrap", **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"optimizer=\[\] names no method"):
        synth(prop99, "PacksPerCapita", optimizer=[], **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"not an option of scipy's 'BFGS'.* apply to every "
                                              r"method of optimizer=\['Nelder-Mead', 'BFGS'\]"):
        synth(prop99, "PacksPerCapita", optimizer_options={"xatol": 1e-6},
              **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"v_start='random' is not one of"):
        synth(prop99, "PacksPerCapita", v_start="random", **kw)  # type: ignore[arg-type]


def test_nan_predictor_named() -> None:
    df = shared_example()
    df.loc[(df["unit"] == "u03") & (df["year"] == 2004), "x"] = np.nan
    with pytest.warns(em.EvalModelWarning, match="missing values"):
        panel = em.Panel(df, unit="unit", time="year")
    with pytest.raises(EstimationError, match=r"predictor 'x' is missing for unit 'u03' in "
                                              r"period 2004"):
        synth(panel, "y", treated="u10", start=2016, predictors=SPECIAL, inference="none")


def test_outside_hull_warns_with_rmspe(prop99: em.Panel) -> None:
    df = prop99.data
    df.loc[df["State"] == "California", "PacksPerCapita"] += 200.0
    panel = em.Panel(df, unit="State", time="Year")
    with pytest.warns(ConvexHullWarning, match=r"above every donor's .* pre-period RMSPE = "):
        r = synth(panel, "PacksPerCapita", treated="California", start=1989, inference="none")
    assert any("convex hull" in n for n in r.notes)


def test_training_validation_v(prop99: em.Panel) -> None:
    train = [("PacksPerCapita", [1970, 1971, 1972], "mean"), ("PacksPerCapita", [1975], "mean")]
    valid = [("PacksPerCapita", [1980, 1981, 1982], "mean"), ("PacksPerCapita", [1985], "mean")]
    r = synth(prop99, "PacksPerCapita", treated="California", start=1989, predictors=valid,
              training_predictors=train, fit_periods=range(1980, 1989), inference="none")
    assert r.v.sum() == pytest.approx(1.0)
    assert list(r.v.index) == ["PacksPerCapita (1980-1982)", "PacksPerCapita (1985)"]
    assert r.weights.sum() == pytest.approx(1.0)


def test_plots(prop99: em.Panel) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from evalmodel.plotting.synth import gaps_plot, ratio_histogram

    r = synth(prop99, "PacksPerCapita", treated="California", start=1989)
    assert r.plot().get_title().startswith("Synthetic control")
    assert len(gaps_plot(r).lines) >= 2
    assert r.placebo is not None
    assert ratio_histogram(r.placebo).get_xlabel() == "post/pre RMSPE ratio"
