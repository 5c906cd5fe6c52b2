"""The faster steps of the relative-magnitudes intervals (issue 16) give the numbers of the
steps they replace, bit for bit: the hybrid test's candidate vertex subsets, its distinct
vertices (only the subsets whose determinant is not clearly zero solved), its least-favourable
draws and its acceptance of each theta. (The smoothness FLCI's solver is tested in
test_honest_flci.py.)"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

from evalmodel.errors import EstimationError
from evalmodel.inference import arp, honest


def test_subsets_are_itertools_combinations() -> None:
    for n, size in [(1, 1), (5, 2), (12, 6), (8, 8), (3, 4)]:
        want = list(itertools.combinations(range(n), size))
        got = arp.subsets(n, size)
        assert got.shape == (len(want), size)
        assert [tuple(r) for r in got.tolist()] == want
        assert not got.flags.writeable


def test_too_many_vertex_subsets_is_named() -> None:
    m, k = 40, 19  # C(40, 20), about 1.4e11 subsets: refused before any is built
    with pytest.raises(EstimationError, match="137,846,528,820 candidate vertices"):
        arp.dual_vertices(np.ones(m), np.ones((m, k)))


def test_unique_rows_is_numpys_unique() -> None:
    rng = np.random.default_rng(7)
    values = np.array([0.0, -0.0, 1e-14, 0.25, 0.5, 1.0, 3.0, 0.1 + 0.2])
    n_dups = 0
    for trial in range(400):
        n, m = int(rng.integers(0, 40)), int(rng.integers(1, 13))
        a = rng.choice(values, size=(n, m))
        if n and trial % 2:
            a = np.vstack([a, a[rng.integers(0, n, size=n)]])
        want, got = np.unique(a, axis=0), arp.unique_rows(a)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        n_dups += a.shape[0] - got.shape[0]
        nonneg = np.abs(a)  # the vertices are >= 0: there the bits agree too
        assert (arp.unique_rows(nonneg).tobytes()
                == np.unique(nonneg, axis=0).tobytes())
    assert n_dups > 1000  # rows were merged, so the test can fail


def test_dual_vertices_are_the_old_ones() -> None:
    """Vertices of the hybrid test's dual as the old code found them (``np.unique`` of the
    rounded solutions of every subset)."""
    rng = np.random.default_rng(3)
    for m, k in [(6, 2), (8, 3), (12, 5)]:
        for _ in range(3):
            sd = rng.uniform(0.5, 2.0, size=m)
            half = rng.normal(size=(m // 2, k))
            half[: m // 4] = np.round(half[: m // 4])  # ties and degenerate subsets
            x = np.vstack([half, -half])  # so that some g >= 0 has x' g = 0
            got = arp.dual_vertices(sd, x)
            w = np.column_stack([sd, x])
            verts = []
            for s in itertools.combinations(range(m), k + 1):
                mat = w[list(s)].T
                if abs(np.linalg.det(mat)) <= 1e-12 * np.max(np.abs(w)) ** (k + 1):
                    continue
                rhs = np.zeros(k + 1)
                rhs[0] = 1.0
                sol = np.linalg.solve(mat, rhs)
                if np.all(sol >= -1e-12):
                    v = np.zeros(m)
                    v[list(s)] = np.maximum(sol, 0.0)
                    verts.append(v)
            want = np.unique(np.round(np.array(verts).reshape(-1, m), 14), axis=0)
            assert len(want) > 0
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# -- the old steps, every subset solved and every theta decided, as references -------------------
def _old_vertices(sd: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The vertices as the previous code found them: every subset's determinant by LU, the
    solutions of the nonsingular ones, rounded, distinct."""
    m, k = x.shape
    w = np.column_stack([sd, x])
    idx = arp.subsets(m, k + 1)
    mats = np.transpose(w[idx], (0, 2, 1))
    rhs = np.zeros(k + 1)
    rhs[0] = 1.0
    det = np.linalg.det(mats)
    ok = np.abs(det) > 1e-12 * np.max(np.abs(w)) ** (k + 1)
    sol = np.linalg.solve(mats[ok], np.broadcast_to(rhs, (int(ok.sum()), k + 1))[..., None])[..., 0]
    feas = np.all(sol >= -1e-12, axis=1)
    verts = np.zeros((int(feas.sum()), m))
    np.put_along_axis(verts, idx[ok][feas], np.maximum(sol[feas], 0.0), axis=1)
    return np.unique(np.round(verts, 14), axis=0)


def _old_accept(y0: np.ndarray, a1: np.ndarray, x: np.ndarray, sig_y: np.ndarray,
                thetas: np.ndarray, alpha: float, kappa: float, draws: np.ndarray
                ) -> np.ndarray:
    """The previous acceptance: every theta through every step."""
    from scipy import special

    verts = _old_vertices(np.sqrt(np.diag(sig_y)), x)
    if verts.shape[0] == 0:
        return np.zeros(thetas.size, dtype=bool)
    lf_cv = float(np.quantile((draws @ verts.T).max(axis=1), 1 - kappa))
    y = y0[None, :] - thetas[:, None] * a1[None, :]
    vals = y @ verts.T
    best = vals.argmax(axis=1)
    eta = vals[np.arange(thetas.size), best]
    g = verts[best]
    sg = g @ sig_y
    sig2 = np.einsum("ij,ij->i", sg, g)
    sigma_b = np.sqrt(np.maximum(sig2, 0))
    bvec = sg / np.where(sig2 > 0, sig2, 1.0)[:, None]
    svec = y - bvec * eta[:, None]
    vs = svec @ verts.T
    vb = bvec @ verts.T - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -vs / vb
        vlo = np.where(vb < -1e-12, bound, -np.inf).max(axis=1)
        vup = np.where(vb > 1e-12, bound, np.inf).min(axis=1)
        maxstat, zlo, zup = eta / sigma_b, vlo / sigma_b, np.minimum(vup, lf_cv) / sigma_b
    mod_size = (alpha - kappa) / (1 - kappa)
    inside = (zlo <= maxstat) & (maxstat <= zup) & (sigma_b > 1e-10)
    cval = np.zeros(thetas.size)
    if inside.any():
        lo, hi = zlo[inside], zup[inside]
        plo, phi = special.ndtr(lo), special.ndtr(hi)
        q = special.ndtri(plo + (1 - mod_size) * (phi - plo))
        slo, shi = special.ndtr(-lo), special.ndtr(-hi)
        q = np.where(lo > 0, -special.ndtri(shi + mod_size * (slo - shi)), q)
        cval[inside] = np.maximum(0.0, q)
    return ~np.where(eta > lf_cv, True,
                     np.where(sigma_b <= 1e-10, eta > 0, inside & (maxstat > cval)))


def _pieces(rng: np.random.Generator, npre: int, npost: int, lv: np.ndarray,
            scale: float) -> list[tuple[np.ndarray, ...]]:
    """The moments of every piece of a relative-magnitudes interval (as ``honest._rm_ci``
    builds them) for a random event study of standard errors about ``scale``."""
    n = npre + npost
    root = rng.normal(size=(n, n)) * scale
    sigma = root @ root.T / n + np.eye(n) * scale**2 * 0.1
    b = rng.normal(size=n) * scale * 2
    ginv = np.linalg.inv(honest._gamma(lv))
    out = []
    for mbar in (0.0, float(rng.uniform(0.2, 3.0))):
        for s, positive in itertools.product(range(-(npre - 1), 1), (True, False)):
            a = honest._rm_constraints(npre, npost, mbar, s, positive)
            a_post = a[:, npre:]
            rows = np.flatnonzero(np.any(a_post != 0, axis=1)) if npost > 1 \
                else np.arange(len(a))
            agi = a_post @ ginv
            sig_y = (a @ sigma @ a.T)[np.ix_(rows, rows)]
            out.append(((a @ b)[rows], agi[rows, 0], agi[rows, 1:], sig_y))
    return out


def _problems() -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(11)
    found = []
    for npre, npost in [(4, 6), (4, 4), (3, 2), (2, 1), (5, 3)]:
        for lv in (np.eye(npost)[0], np.full(npost, 1 / npost),
                   rng.uniform(-1, 1, size=npost)):
            for scale in (1e-5, 0.2, 3e4):
                found += _pieces(rng, npre, npost, lv, scale)
    return found


def test_dual_vertices_are_every_subsets_bit_for_bit() -> None:
    """Solving only the subsets whose determinant is not clearly zero gives the vertices of
    solving every one, to the last bit: on the pieces of relative-magnitudes intervals
    (integer and fractional weights, standard errors from 1e-5 to 3e4) and on random
    moments with ties."""
    rng = np.random.default_rng(5)
    cases = [(np.sqrt(np.diag(p[3])), p[2]) for p in _problems()]
    for m, k in [(6, 2), (8, 3), (12, 5), (10, 1)]:
        for _ in range(5):
            half = rng.normal(size=(m // 2, k))
            half[: m // 4] = np.round(half[: m // 4])
            cases.append((rng.uniform(0.5, 2.0, size=m), np.vstack([half, -half])[:m]))
    n_verts = 0
    for sd, x in cases:
        want, got = _old_vertices(sd, x), arp.dual_vertices(sd, x)
        assert got.tobytes() == want.tobytes() and got.shape == want.shape
        n_verts += got.shape[0]
    assert n_verts > 5 * len(cases)  # vertices were found, so the test can fail


def test_dual_vertices_near_the_singularity_threshold() -> None:
    """Determinants within a factor 1000 of the threshold are decided by LU, as before: one
    moment, so each subset's determinant is its standard deviation, on both sides of
    ``1e-12 max``."""
    sd = np.array([1.0, 5e-13, 2e-12, 1e-20, 0.5, 9.99e-13, 1.001e-12])
    x = np.zeros((sd.size, 0))
    got, want = arp.dual_vertices(sd, x), _old_vertices(sd, x)
    assert got.tobytes() == want.tobytes()
    # 1/sd of the four standard deviations above the threshold, on their own coordinates
    assert got.shape == (4, sd.size)
    assert sorted(np.flatnonzero(got.sum(axis=0))) == [0, 2, 4, 6]


def test_lf_draws_are_numpys_multivariate_normal() -> None:
    """The least-favourable draws are those of ``multivariate_normal(method="eigh")`` to the
    last bit (full, singular and zero covariances), its warning included, and the shared
    standard normals are not changed by their use."""
    rng = np.random.default_rng(2)
    covs = [p[3] for p in _problems()[::7]]
    root = rng.normal(size=(6, 3))
    covs += [root @ root.T, np.zeros((4, 4)), np.eye(1) * 4.0]
    n_warned = 0
    for seed in (0, 1, 12345):
        for cov in covs:
            with warnings.catch_warnings(record=True) as theirs:
                warnings.simplefilter("always")
                want = np.random.default_rng(seed).multivariate_normal(
                    np.zeros(cov.shape[0]), cov, size=300, method="eigh")
            with warnings.catch_warnings(record=True) as ours:
                warnings.simplefilter("always")
                got = arp.lf_draws(seed, 300, cov)
            assert got.tobytes() == want.tobytes()
            assert [(w.category, str(w.message)) for w in ours] == [
                (w.category, str(w.message)) for w in theirs]
            n_warned += len(ours)
    assert n_warned > 0  # numpy's absolute tolerance warns at standard errors of 3e4
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalue -1
    with pytest.warns(RuntimeWarning, match="not symmetric positive-semidefinite"):
        np.random.default_rng(0).multivariate_normal(np.zeros(2), bad, size=5, method="eigh")
    with pytest.warns(RuntimeWarning, match="not symmetric positive-semidefinite"):
        got = arp.lf_draws(0, 5, bad)
    want = np.random.default_rng(0).multivariate_normal(np.zeros(2), bad, size=5,
                                                         method="eigh", check_valid="ignore")
    assert got.tobytes() == want.tobytes()
    unseeded = arp.lf_draws(None, 50, np.eye(2))
    assert unseeded.shape == (50, 2) and not np.array_equal(unseeded,
                                                            arp.lf_draws(None, 50, np.eye(2)))


def test_acceptance_is_the_old_one_theta_by_theta() -> None:
    """The acceptance of every theta of a 1,000-point grid equals that of deciding every theta
    through every step, on the pieces of relative-magnitudes intervals; some thetas are
    accepted and some rejected, so the comparison can fail."""
    alpha = 0.05
    kappa = alpha / 10
    n_acc = n_all = 0
    for y0, a1, x, sig_y in _problems():
        sd_theta = float(np.sqrt(max(a1 @ sig_y @ a1, 1e-300)))
        thetas = np.linspace(-20 * sd_theta, 20 * sd_theta, 1000) + float(a1 @ y0) / max(
            float(a1 @ a1), 1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # eigenvalues of -1e-7 at 3e4
            draws = arp.lf_draws(0, 1000, sig_y)
        got = arp.arp_accept(y0, a1, x, sig_y, thetas, alpha, kappa, draws)
        want = _old_accept(y0, a1, x, sig_y, thetas, alpha, kappa, draws)
        np.testing.assert_array_equal(got, want)
        n_acc += int(got.sum())
        n_all += got.size
    assert 0 < n_acc < n_all / 2


def test_pieces_with_the_same_moments_are_tested_once(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """At Mbar = 0 every piece of Delta^RM has the same moments: the interval tests them once,
    and equals the union over every piece tested (the old loop); at Mbar > 0 the pieces
    differ and each is tested."""
    rng = np.random.default_rng(8)
    npre, npost = 3, 3
    n = npre + npost
    root = rng.normal(size=(n, n)) * 0.3
    sigma = root @ root.T / n + np.eye(n) * 0.01
    b = rng.normal(size=n) * 0.3
    lv = np.eye(npost)[0]
    thetas = np.linspace(-3, 3, 301)
    calls = {"n": 0}
    accept = arp.arp_accept

    def counted(*args: Any) -> np.ndarray:
        calls["n"] += 1
        return accept(*args)

    def every_piece(mbar: float) -> tuple[float, float]:
        ginv = np.linalg.inv(honest._gamma(lv))
        union = np.zeros(thetas.size, dtype=bool)
        for s, positive in itertools.product(range(-(npre - 1), 1), (True, False)):
            a = honest._rm_constraints(npre, npost, mbar, s, positive)
            rows = np.flatnonzero(np.any(a[:, npre:] != 0, axis=1))
            agi = a[:, npre:] @ ginv
            sig_y = (a @ sigma @ a.T)[np.ix_(rows, rows)]
            union |= accept((a @ b)[rows], agi[rows, 0], agi[rows, 1:], sig_y, thetas, 0.05,
                            0.005, arp.lf_draws(0, 1000, sig_y))
        return float(thetas[union].min()), float(thetas[union].max())

    monkeypatch.setattr(honest, "arp_accept", counted)
    for mbar, n_tests in ((0.0, 1), (0.7, 2 * npre)):
        calls["n"] = 0
        got = honest._rm_ci(b, sigma, npre, lv, mbar, 0.95, thetas, 1000, 0)
        assert calls["n"] == n_tests
        assert got == every_piece(mbar)
        assert got[0] < got[1]
