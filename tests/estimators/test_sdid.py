"""Synthetic DiD: Proposition 99 reference numbers, synthdid-py on the same data, planted truth.

Reference numbers: Arkhangelsky et al. (2021) Table 1 / the R package synthdid's vignette on
``california_prop99``: DiD -27.349, SC -19.61966, SDID -15.60383; SDID time weights on 1988,
1986, 1987 of about 0.427, 0.366, 0.206.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
import synthdid as sd

import evalmodel as em
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators.sdid import fit_cohort, sdid
from evalmodel.inference.sdid_se import _refit, jackknife_draws, jackknife_se


@pytest.fixture(scope="module")
def prop99() -> em.Panel:
    df = pd.read_csv(files("synthdid") / "data" / "california_prop99.csv", sep=";")
    return em.Panel(df, unit="State", time="Year", outcomes=["PacksPerCapita"])


@pytest.fixture(scope="module")
def prop99_peer() -> sd.PanelData:
    return sd.panel_matrices(sd.load_california_prop99())


def factor_panel(seed: int, *, n: int = 30, t: int = 20, t0: int = 14, n_tr: int = 1,
                 effect: float = 0.0, cohorts: tuple[int, ...] | None = None) -> em.Panel:
    """Interactive fixed effects panel; the last ``n_tr`` units are treated from ``t0``."""
    rng = np.random.default_rng(seed)
    alpha = rng.normal(0, 2, n)
    load = rng.uniform(0.5, 1.5, (n, 2))
    fac = np.cumsum(rng.normal(0, 1, (t, 2)), axis=0)
    y = alpha[:, None] + load @ fac.T + rng.normal(0, 0.5, (n, t))
    years = np.arange(2000, 2000 + t)
    start = np.zeros(n, dtype=int)
    if cohorts is None:
        start[n - n_tr:] = years[t0]
    else:
        start[n - len(cohorts):] = cohorts
    treated = (start > 0)[:, None] & (years[None, :] >= start[:, None])
    y = y + effect * treated
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(years, n),
                       "y": y.ravel(), "cohort": np.repeat(start, t)})
    return em.Panel(df, unit="unit", time="year", cohort="cohort")


# -- published reference numbers ---------------------------------------------------------------
@pytest.mark.parametrize(("method", "expected"),
                         [("did", -27.349), ("sc", -19.61966), ("sdid", -15.60383)])
def test_prop99_reference(prop99: em.Panel, method: str, expected: float) -> None:
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, method=method,  # type: ignore[arg-type]
             inference="none")
    assert r.estimate == pytest.approx(expected, abs=1e-3)


def test_prop99_time_weights(prop99: em.Panel) -> None:
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, inference="none")
    lam = r.time_weights[1989]
    assert lam[[1988, 1986, 1987]].to_numpy() == pytest.approx([0.427, 0.366, 0.206], abs=1e-3)
    assert lam.sum() == pytest.approx(1.0, abs=1e-12)
    assert r.unit_weights[1989].sum() == pytest.approx(1.0, abs=1e-12)


# -- the peer implementation on the same data --------------------------------------------------
@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_prop99_weights_match_synthdid(prop99: em.Panel, prop99_peer: sd.PanelData,
                                       method: str) -> None:
    peer_fn = {"sdid": sd.synthdid_estimate, "sc": sd.sc_estimate, "did": sd.did_estimate}
    peer = peer_fn[method](prop99_peer.Y, prop99_peer.N0, prop99_peer.T0)
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, method=method,  # type: ignore[arg-type]
             inference="none")
    assert r.estimate == pytest.approx(float(peer), abs=1e-8)
    names = list(prop99_peer.units[: prop99_peer.N0])
    omega = r.unit_weights[1989].reindex(names).to_numpy()
    assert omega == pytest.approx(np.asarray(peer.weights.omega), abs=1e-8)


def test_placebo_replicates_match_synthdid(prop99: em.Panel, prop99_peer: sd.PanelData) -> None:
    """Each placebo replicate equals synthdid's re-estimate on the same permutation."""
    y = prop99_peer.Y
    n0, t0 = prop99_peer.N0, prop99_peer.T0
    controls = np.arange(n0)
    fit = fit_cohort(y, controls, np.array([n0]), t0, "sdid")
    peer = sd.synthdid_estimate(y, n0, t0)
    rng = np.random.default_rng(7)
    perms = np.stack([rng.permutation(n0) for _ in range(3)])
    ctrl_mask = np.zeros(perms.shape, dtype=bool)
    ctrl_mask[:, : n0 - 1] = True
    ours = _refit(y[perms], ctrl_mask, ~ctrl_mask, np.where(ctrl_mask, fit.omega[perms], 0.0),
                  fit)
    opts = {k: peer.opts[k] for k in ("zeta_omega", "zeta_lambda", "min_decrease")}
    for b, ind in enumerate(perms):
        om = np.asarray(peer.weights.omega)[ind[: n0 - 1]]
        w = {"omega": om / om.sum(), "lambda": peer.weights.lambda_}
        ref = sd.synthdid_estimate(y[ind], n0 - 1, t0, weights=w, update_omega=True,
                                   update_lambda=True, **opts)
        assert ours[b] == pytest.approx(float(ref), abs=1e-6)


def test_jackknife_matches_synthdid() -> None:
    panel = factor_panel(3, n=25, n_tr=4, effect=2.0)
    with pytest.warns(FewTreatedClustersWarning, match="jackknife standard errors with 4"):
        r = sdid(panel, "y", inference="jackknife")
    y = panel.wide("y").to_numpy()
    peer = sd.synthdid_estimate(y, 21, 14)
    assert r.estimate == pytest.approx(float(peer), abs=1e-8)
    se_peer = float(np.sqrt(sd.vcov(peer, method="jackknife").item()))
    assert r.overall["std_error"] == pytest.approx(se_peer, rel=1e-8)


def test_jackknife_closed_form_equals_refits() -> None:
    """Leave-one-out with fixed weights, recomputed by brute force."""
    panel = factor_panel(4, n=12, n_tr=3)
    y = panel.wide("y").to_numpy()
    controls, treated = np.arange(9), np.arange(9, 12)
    fit = fit_cohort(y, controls, treated, 14, "sdid")
    jk = jackknife_draws(y, controls, [fit])
    assert jk is not None
    brute = []
    for i in range(12):
        keep_c = controls[controls != i]
        om = fit.omega[controls != i]
        om = om / om.sum()
        tr = treated[treated != i]
        d = y[:, 14:].mean(axis=1) - y[:, :14] @ fit.lam
        brute.append(d[tr].mean() - om @ d[keep_c])
    assert jk[1] == pytest.approx(np.array(brute), abs=1e-12)
    assert jackknife_se(jk[1]) > 0


# -- planted truth -----------------------------------------------------------------------------
def test_planted_effect_in_placebo_interval() -> None:
    panel = factor_panel(11, effect=3.0)
    r = sdid(panel, "y", seed=5, n_draws=100)
    row = r.overall
    assert row["ci_lower"] < 3.0 < row["ci_upper"]
    assert r.estimate == pytest.approx(3.0, abs=1.0)
    assert r.inference.startswith("placebo")
    assert r.replicates.shape == (100,)


def test_staggered_cohorts_combine_with_unit_period_weights() -> None:
    panel = factor_panel(8, n=30, t=20, effect=2.0, cohorts=(2012, 2012, 2016))
    with pytest.warns(FewTreatedClustersWarning, match="bootstrap standard errors with 3"):
        r = sdid(panel, "y", inference="bootstrap", n_draws=20, seed=2)
    tab = r.table.set_index("term")
    y = panel.wide("y").to_numpy()
    # each cohort equals synthdid on that cohort against the never-treated
    a = float(sd.synthdid_estimate(y[[*range(27), 27, 28]], 27, 12))
    b = float(sd.synthdid_estimate(y[[*range(27), 29]], 27, 16))
    assert tab.loc["cohort 2012", "estimate"] == pytest.approx(a, abs=1e-8)
    assert tab.loc["cohort 2016", "estimate"] == pytest.approx(b, abs=1e-8)
    assert r.estimate == pytest.approx((2 * 8 * a + 1 * 4 * b) / 20, abs=1e-10)
    assert r.estimate == pytest.approx(2.0, abs=1.0)
    assert np.isfinite(tab["std_error"]).all()


@pytest.mark.slow
def test_placebo_interval_coverage_monte_carlo() -> None:
    """Planted effect 1.0: the 90% placebo interval covers it in about 90% of panels."""
    hits = []
    for s in range(40):
        r = sdid(factor_panel(100 + s, n=16, t=10, t0=7, effect=1.0), "y", n_draws=30, seed=s,
                 conf_level=0.9)
        hits.append(r.overall["ci_lower"] < 1.0 < r.overall["ci_upper"])
    # 40 panels: a binomial(40, 0.9) count is at least 31 with probability > 0.99
    assert np.mean(hits) >= 31 / 40


# -- errors ------------------------------------------------------------------------------------
def test_errors(prop99: em.Panel) -> None:
    kw = {"treated": "California", "start": 1989}
    with pytest.raises(EstimationError, match=r"method='synth' is not one of"):
        sdid(prop99, "PacksPerCapita", method="synth", **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"inference='wild' is not one of"):
        sdid(prop99, "PacksPerCapita", inference="wild", **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"treated unit 'Stockholm' is not in the panel"):
        sdid(prop99, "PacksPerCapita", treated="Stockholm", start=1989)
    with pytest.raises(EstimationError, match=r"donor pool has 1 unit"):
        sdid(prop99, "PacksPerCapita", donors=["Utah"], **kw)
    with pytest.raises(EstimationError, match=r"start=1971 leaves 1 pre-period"):
        sdid(prop99, "PacksPerCapita", treated="California", start=1971)
    with pytest.raises(EstimationError, match=r"n_draws=1 must be an integer of at least 2"):
        sdid(prop99, "PacksPerCapita", n_draws=1, **kw)


def test_missing_outcome_named(prop99: em.Panel) -> None:
    df = prop99.data
    df.loc[(df["State"] == "Utah") & (df["Year"] == 1980), "PacksPerCapita"] = np.nan
    with pytest.warns(em.EvalModelWarning, match="missing values"):
        panel = em.Panel(df, unit="State", time="Year")
    with pytest.raises(EstimationError, match=r"missing for unit 'Utah' in period 1980"):
        sdid(panel, "PacksPerCapita", treated="California", start=1989)


def test_plot_and_summary(prop99: em.Panel) -> None:
    import matplotlib

    matplotlib.use("Agg")
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, inference="none")
    ax = r.plot()
    assert ax.get_title().startswith("synthetic DiD")
    assert "ATT" in str(r.summary())


# -- the compiled Frank-Wolfe kernel against the batched array code -----------------------------
@pytest.mark.parametrize("masked", [False, True])
def test_frank_wolfe_engines_agree(masked: bool) -> None:
    from evalmodel.core.sdid_solver import frank_wolfe

    rng = np.random.default_rng(7)
    n_b, n, m = 40, 12, 25
    a = rng.normal(size=(n_b, n, m))
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.8 if masked else np.ones((n_b, m), dtype=bool)
    mask[:, 0] = True
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"zeta": rng.uniform(0.01, 1.0, n_b), "n_rows": np.full(n_b, float(n)),
          "min_decrease": np.full(n_b, 1e-5), "max_iter": 2_000, "col_mask": mask}
    fast = frank_wolfe(a, b, x0, engine="numba", **kw)  # type: ignore[arg-type]
    slow = frank_wolfe(a, b, x0, engine="numpy", **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)
    assert np.all(fast[~mask] == 0.0)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-12)


def _frank_wolfe_plain(a: np.ndarray, b: np.ndarray, x: np.ndarray, zeta: float, n_rows: float,
                       tol: float, max_iter: int, mask: np.ndarray | None = None, *,
                       fixed_order: bool) -> np.ndarray:
    """The kernel's steps in plain Python: the vertex by a plain scan, each pass on its own.

    ``fixed_order=False`` sums ``g'x``, ``|r|^2`` and ``|A e_j - r|^2`` one term after
    another (the loop before issue 16); ``fixed_order=True`` sums them as the kernel does
    (:func:`~evalmodel.core.fw_passes.fixed_order_sum` over the terms padded with zeros to 32
    columns and 16 rows)."""
    from evalmodel.core.fw_passes import fixed_order_sum

    def total(terms: list[float], block: int) -> float:
        if not fixed_order:
            s = 0.0
            for t in terms:
                s += t
            return s
        return fixed_order_sum(terms + [0.0] * (-len(terms) % block))

    n, m = a.shape
    zeta2 = zeta**2
    eta = n_rows * zeta2
    at = a.T.copy()
    gram, atb = at @ a, at @ b
    resid = a @ x - b
    g = at @ resid + eta * x
    xx = total([float(v) * float(v) for v in x], 32)
    prev = 0.0
    for it in range(max_iter):
        allowed = [k for k in range(m) if mask is None or mask[k]]
        j = min(allowed, key=lambda k: (g[k], k))
        x_j, g_j = x[j], g[j]
        gx = total([float(g[k]) * float(x[k]) for k in range(m)], 32)
        # not e ** 2: numpy's power of a float64 scalar can differ in the last bit
        dd = total([float(e) * float(e) for e in at[j] - b - resid], 16)
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = min(max(-(g_j - gx) / denom if denom > 0 else 0.0, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        for k in range(m):
            x[k] *= keep
            g[k] = keep * g[k] + step * (gram[j, k] - atb[k])
        x[j] += step
        g[j] += eta * step
        for r in range(n):
            resid[r] = keep * resid[r] + step * (at[j, r] - b[r])
        ss = total([float(v) * float(v) for v in resid], 16)
        val = zeta2 * xx + ss / n_rows
        if it >= 1 and not prev - val > tol:
            break
        prev = val
    return x


def _check_against_plain(fast: np.ndarray, a: np.ndarray, b: np.ndarray, x0: np.ndarray,
                         zeta: np.ndarray, tol: np.ndarray, max_iter: int,
                         mask: np.ndarray | None) -> float:
    """Each problem: the kernel's weights are the fixed-order plain loop's to the last bit and
    the sequential plain loop's to 1e-12; returns the largest difference from the latter."""
    n_b, n, _ = a.shape
    worst = 0.0
    for p in range(n_b):
        args = (a[p], b[p], zeta[p], float(n), tol[p] ** 2, max_iter,
                None if mask is None else mask[p])
        same = _frank_wolfe_plain(args[0], args[1], x0[p].copy(), *args[2:], fixed_order=True)
        assert np.array_equal(fast[p], same), p
        seq = _frank_wolfe_plain(args[0], args[1], x0[p].copy(), *args[2:], fixed_order=False)
        np.testing.assert_allclose(fast[p], seq, rtol=0, atol=1e-12)
        worst = max(worst, float(np.abs(fast[p] - seq).max()))
    return worst


def test_frank_wolfe_kernel_is_the_plain_loop_summing_in_fixed_order() -> None:
    """From sparse starts whose support grows (and from a vertex), the kernel's weights are the
    plain loop's: bit for bit when it sums in the kernel's order, to 1e-12 one term after
    another (the sums' order changes only the last bits)."""
    from evalmodel.core.fw_kernel import frank_wolfe_batch

    rng = np.random.default_rng(11)
    n_b, n, m = 6, 7, 30
    a = rng.normal(size=(n_b, n, m))
    b = rng.normal(size=(n_b, n))
    x0 = np.zeros((n_b, m))
    x0[:, :3] = 1 / 3  # a sparse start, as after sparsifying
    x0[-1] = 0.0
    x0[-1, 5] = 1.0  # a vertex
    zeta = rng.uniform(0.05, 0.5, n_b)
    tol = np.full(n_b, 1e-7)
    fast = frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=np.full(n_b, float(n)),
                             min_decrease=tol, max_iter=400, col_mask=None)
    worst = _check_against_plain(fast, a, b, x0, zeta, tol, 400, None)
    assert worst > 0.0  # the order of the sums does show in the last bits
    assert all(np.count_nonzero(fast[p]) > 3 for p in range(n_b))  # the support grew


def test_frank_wolfe_kernel_masked_matches_plain_steps() -> None:
    """With columns switched off (as the placebo draws switch off the pseudo-treated rows), the
    kernel gives the plain loop's weights. 70 columns: two full blocks of 32 and a padded
    tail; problem 0 has its best column in the tail, problem 1 ties between two columns (the
    first one wins)."""
    from evalmodel.core.fw_kernel import frank_wolfe_batch

    rng = np.random.default_rng(23)
    n_b, n, m = 5, 9, 70
    a = rng.normal(size=(n_b, n, m))
    a[1, :, 40] = a[1, :, 8]  # two equal columns: equal gradients, the first one wins
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.85
    mask[:, [0, 8, 40, 66]] = True
    a = np.where(mask[:, None, :], a, 0.0)
    a[0, :, 66] = b[0] * 1.5  # the tail column fits b best
    x0 = np.where(mask, 1.0, 0.0) / mask.sum(axis=1, keepdims=True)
    x0[2] = 0.0
    x0[2, 0] = 1.0  # a vertex start: the support grows
    zeta = rng.uniform(0.05, 0.5, n_b)
    tol = np.full(n_b, 1e-9)
    fast = frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=np.full(n_b, float(n)),
                             min_decrease=tol, max_iter=300, col_mask=mask)
    _check_against_plain(fast, a, b, x0, zeta, tol, 300, mask)
    assert np.all(fast[~mask] == 0.0)
    assert fast[0, 66] > 0.0
    assert np.count_nonzero(fast[2]) > 1


@pytest.mark.parametrize("shape", ["omega", "lambda"])
def test_frank_wolfe_kernel_replays_plain_steps(shape: str) -> None:
    """Problems shaped like the report's (issue 16): unit weights with few rows and many
    columns, some of them padding switched off by the mask; time weights with many rows, some
    of them zero padding, and few columns. From even, sparse (as after sparsifying) and vertex
    starts, the kernel's weights are the plain loop's (bit for bit in the kernel's order of
    the sums, to 1e-12 in the sequential one)."""
    from evalmodel.core.fw_kernel import frank_wolfe_batch

    rng = np.random.default_rng(16 if shape == "omega" else 61)
    n_b = 4
    n, m = (6, 90) if shape == "omega" else (120, 7)
    a = rng.normal(size=(n_b, n, m)) + rng.normal(size=(n_b, 1, m))
    b = a[:, :, :3].mean(axis=2) + 0.3 * rng.normal(size=(n_b, n))
    mask = np.ones((n_b, m), dtype=bool)
    if shape == "omega":
        mask[:, m - 12:] = False  # padded columns (a smaller problem in a wider batch)
        mask[1, rng.choice(m - 12, 5, replace=False)] = False  # pseudo-treated units
        a = np.where(mask[:, None, :], a, 0.0)
    else:
        a[:, n - 20:, :] = 0.0  # padded rows (a problem with fewer control units)
        b[:, n - 20:] = 0.0
    x0 = mask / mask.sum(axis=1, keepdims=True)
    x0[2] = 0.0
    x0[2, :3] = 1 / 3  # a sparse start
    x0[3] = 0.0
    x0[3, 1] = 1.0  # a vertex start
    zeta = rng.uniform(0.02, 0.4, n_b)
    tol = np.full(n_b, 1e-8)
    fast = frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=np.full(n_b, float(n)),
                             min_decrease=tol, max_iter=250, col_mask=mask)
    _check_against_plain(fast, a, b, x0, zeta, tol, 250, mask)
    for p in range(n_b):
        assert np.all(fast[p, ~mask[p]] == 0.0)
        assert np.count_nonzero(fast[p]) > 1


def test_frank_wolfe_kernel_is_deterministic() -> None:
    """The same batch solved twice, on one thread or two, and one problem at a time, gives
    the same weights to the last bit."""
    from evalmodel.core.fw_kernel import frank_wolfe_batch
    from evalmodel.core.jit import numba_threads

    rng = np.random.default_rng(5)
    n_b, n, m = 24, 10, 75
    a = rng.normal(size=(n_b, n, m)) + rng.normal(size=(n_b, 1, m))
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.9
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"zeta": rng.uniform(0.05, 0.5, n_b), "n_rows": np.full(n_b, float(n)),
          "min_decrease": np.full(n_b, 1e-9), "max_iter": 2_000}
    with numba_threads(1):
        first = frank_wolfe_batch(a, b, x0, col_mask=mask, **kw)  # type: ignore[arg-type]
    with numba_threads(2):
        again = frank_wolfe_batch(a, b, x0, col_mask=mask, **kw)  # type: ignore[arg-type]
    assert np.array_equal(first, again)
    for p in range(n_b):
        one = {k: (v[p:p + 1] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        alone = frank_wolfe_batch(a[p:p + 1], b[p:p + 1], x0[p:p + 1], col_mask=mask[p:p + 1],
                                  **one)  # type: ignore[arg-type]
        assert np.array_equal(alone[0], first[p]), p
    assert np.count_nonzero(first, axis=1).min() > 1


@pytest.mark.parametrize("shape", ["omega", "lambda"])
def test_two_rounds_in_one_kernel_call_are_two_calls(shape: str) -> None:
    """The recipe's two rounds (100 steps, sparsify, then to convergence) in one kernel call,
    which sets each problem up (A'A and what follows from it) once and sparsifies compiled,
    give the weights of two separate kernel calls with numpy's sparsify between them, bit for
    bit, and the numpy engine's to rounding."""
    from evalmodel.core.sdid_solver import (
        MAX_ITER,
        PRE_SPARSIFY_ITER,
        _solve,
        frank_wolfe,
        sparsify,
    )

    rng = np.random.default_rng(7 if shape == "omega" else 70)
    n_b = 7
    n, m = (6, 90) if shape == "omega" else (120, 7)
    a = rng.normal(size=(n_b, n, m)) + rng.normal(size=(n_b, 1, m))
    b = a[:, :, :3].mean(axis=2) + 0.3 * rng.normal(size=(n_b, n))
    mask = np.ones((n_b, m), dtype=bool)
    if shape == "omega":
        mask[:, m - 12:] = False
        mask[1, rng.choice(m - 12, 5, replace=False)] = False
        a = np.where(mask[:, None, :], a, 0.0)
    else:
        a[:, n - 20:, :] = 0.0
        b[:, n - 20:] = 0.0
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"zeta": rng.uniform(0.02, 0.4, n_b), "n_rows": np.full(n_b, float(n)),
          "min_decrease": np.full(n_b, 1e-6), "col_mask": mask}
    first = frank_wolfe(a, b, x0, max_iter=PRE_SPARSIFY_ITER, engine="numba",
                        **kw)  # type: ignore[arg-type]
    separate = frank_wolfe(a, b, sparsify(first), max_iter=MAX_ITER, engine="numba",
                           **kw)  # type: ignore[arg-type]
    fused = _solve(a, b, x0, use_sparsify=True, **kw)  # type: ignore[arg-type]
    assert np.array_equal(fused, separate)
    assert np.count_nonzero(first != sparsify(first)) > 0  # sparsifying changed the starts
    first_np = frank_wolfe(a, b, x0, max_iter=PRE_SPARSIFY_ITER, engine="numpy",
                           **kw)  # type: ignore[arg-type]
    peer = frank_wolfe(a, b, sparsify(first_np), max_iter=MAX_ITER, engine="numpy",
                       **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(fused, peer, rtol=0, atol=1e-10)


def test_compiled_sparsify_is_numpys() -> None:
    """The kernel's in-place sparsify is :func:`sparsify` to the last bit on rows of every
    length from 1 to 300 (and a few longer), with weights spanning eight orders of magnitude,
    ties and all-zero rows; summing one term after another differs on many of them, so the
    order of numpy's row sum is really the one followed."""
    from evalmodel.core.fw_kernel import _sparsify
    from evalmodel.core.sdid_solver import sparsify

    rng = np.random.default_rng(3)
    differs = 0
    for m in [*range(1, 301), 517, 1000, 2900]:
        x = rng.exponential(size=(4, m)) * 10.0 ** rng.uniform(-8, 0, size=(4, m))
        x[0, : m // 3] = x[0].max()  # ties at the top
        x[1] = 0.0  # nothing to keep
        x[2, rng.random(m) < 0.5] = 0.0
        want = sparsify(x)
        for row in range(4):
            got = x[row].copy()
            _sparsify(got)
            assert np.array_equal(got, want[row]), (m, row)
            kept = np.where(x[row] <= x[row].max() / 4, 0.0, x[row])
            differs += sum(kept.tolist()) != kept.sum()
    assert differs > 100


def test_fixed_order_sums_are_the_python_ones() -> None:
    """The compiled fixed-order sums (vectors of 8 lanes) are the plain Python
    ``fixed_order_sum`` to the last bit, for terms spanning many magnitudes, and differ from
    the sequential sum on some of them (so the order is really the fixed one)."""
    from numba import njit

    from evalmodel.core.fw_passes import dist, dot, fixed_order_sum

    @njit
    def compiled(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
        return dot(p, q), dist(p, q)

    rng = np.random.default_rng(3)
    differs = 0
    for n in [0, 16, 32, 48, 288, 304]:
        for _ in range(20):
            p = rng.normal(size=n) * 10.0 ** rng.integers(-8, 8, size=n)
            q = rng.normal(size=n)
            d, e = compiled(p, q)
            assert d == fixed_order_sum((p * q).tolist())
            assert e == fixed_order_sum(((p - q) * (p - q)).tolist())
            seq = 0.0
            for u, v in zip(p, q, strict=True):
                seq += float(u) * float(v)
            differs += d != seq
    assert differs > 0


def _plain_first_min(g: np.ndarray, mask: np.ndarray) -> int:
    j, best = -1, np.inf
    for k in range(g.size):
        if mask[k] and g[k] < best:
            j, best = k, g[k]
    return j


@pytest.mark.parametrize("m", [0, 1, 5, 31, 32, 33, 64, 95, 285])
def test_vertex_of_the_column_pass_is_the_plain_scan(m: int) -> None:
    """The vertex the column pass tracks (per lane, as it writes) is the plain scan's: the
    first of equal minima, never a masked column, -0.0 equal to +0.0, NaNs never chosen,
    infinities; with it the column's x and g, and g'x as a fixed-order sum."""
    from numba import njit

    from evalmodel.core.fw_passes import column_pass, fixed_order_sum

    @njit
    def vertex(x: np.ndarray, g: np.ndarray, gate: np.ndarray) -> tuple[int, float, float, float]:
        return column_pass(x, g, np.zeros(x.size), gate, 1.0, 0.0, 0.0, -1)

    rng = np.random.default_rng(m)
    specials = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-310, -1e-310])
    mp = -(-m // 32) * 32
    for trial in range(300):
        g = rng.normal(size=m)
        if m and trial % 3:
            g[rng.integers(0, m, size=max(1, m // 4))] = rng.choice(g)  # ties
        if m and trial % 4 == 1:
            g[rng.integers(0, m, size=3)] = rng.choice(specials, size=3)
        if m and trial % 5 == 2:
            g = np.abs(g)
            g[rng.integers(0, m, size=2)] = rng.choice([0.0, -0.0], size=2)  # a zero minimum
        mask = rng.random(m) < (0.0 if trial == 7 else 0.8)
        x = np.zeros(mp)
        x[:m] = rng.random(m)
        gp = np.zeros(mp)
        gp[:m] = g
        gate = np.full(mp, np.inf)
        gate[:m][mask] = 0.0
        j, x_j, g_j, gx = vertex(x, gp, gate)
        want = _plain_first_min(g, mask)
        assert j == want, (trial, g, mask)
        if j >= 0:
            assert x_j == x[j] and g_j == g[j]
        if np.isfinite(g).all():
            assert gx == fixed_order_sum((gp * x).tolist())
    if m >= 40:  # planted: the smallest value in the last block, its twin after it
        g = np.linspace(1.0, 2.0, m)
        g[m - 3] = g[m - 1] = -5.0
        gp = np.zeros(mp)
        gp[:m] = g
        gate = np.full(mp, np.inf)
        gate[:m] = 0.0
        assert vertex(np.zeros(mp), gp.copy(), gate)[0] == m - 3
        gate[m - 3] = np.inf
        assert vertex(np.zeros(mp), gp.copy(), gate)[0] == m - 1
