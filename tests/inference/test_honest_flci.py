"""The smoothness FLCI's solver (evalmodel.inference.flci): its bias-variance frontier is exact
and its half-length the least over every standard deviation.

Checked against (1) a brute-force solve in 50-digit decimal arithmetic: nested golden-section
searches over the ellipse of weights with standard deviation at most ``h``, which use nothing of
the frontier's structure; (2) the conic solver Clarabel through cvxpy, on the second-order cone
programme as HonestDiD writes it; (3) the optimality conditions of the path, on thousands of
covariances including ones with exact ties; (4) every standard deviation on a grid, which is
HonestDiD's own method (100 values of ``h``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, getcontext

import numpy as np
import pytest

from evalmodel.errors import EstimationError
from evalmodel.inference import honest
from evalmodel.inference.flci import FLCIProblem, flci, folded_normal_quantile

D = Decimal
INV_PHI = (D(5).sqrt() - 1) / 2
getcontext().prec = 50


# -- brute force in decimal arithmetic --------------------------------------------------------
def _dec(x: float) -> Decimal:
    return D(repr(float(x)))


def _solve(a: list[list[Decimal]], b: list[Decimal]) -> list[Decimal]:
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda i: abs(m[i][c]))
        m[c], m[p] = m[p], m[c]
        for i in range(c + 1, n):
            f = m[i][c] / m[c][c]
            m[i] = [x - f * y for x, y in zip(m[i], m[c], strict=True)]
    x = [D(0)] * n
    for i in reversed(range(n)):
        x[i] = (m[i][n] - sum(m[i][j] * x[j] for j in range(i + 1, n))) / m[i][i]
    return x


def _golden(f: Callable[[Decimal], Decimal], a: Decimal, b: Decimal, iters: int) -> Decimal:
    """The minimum of a convex ``f`` on ``[a, b]`` (golden-section search)."""
    c, d = b - INV_PHI * (b - a), a + INV_PHI * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - INV_PHI * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + INV_PHI * (b - a)
            fd = f(d)
    return min(fc, fd)


def _least_l1(q: list[list[Decimal]], r: list[Decimal], c: Decimal, h2: Decimal,
              iters: int = 150) -> Decimal:
    """``min ||z||_1`` subject to ``z' q z + r' z + c <= h2``: golden section over the first
    weight, within its range on the ellipse, of ``|z_0|`` plus the same problem in the rest."""
    n = len(r)
    centre = [-x / 2 for x in _solve(q, r)]
    rho = h2 - c - sum(ri * zi for ri, zi in zip(r, centre, strict=True)) / 2
    if rho < 0:
        return D("Infinity")
    if n == 1:
        half = (rho / q[0][0]).sqrt()
        lo, hi = centre[0] - half, centre[0] + half
        return lo if lo > 0 else (-hi if hi < 0 else D(0))
    e0 = [D(1)] + [D(0)] * (n - 1)
    half = (rho * _solve(q, e0)[0]).sqrt()
    rest = [row[1:] for row in q[1:]]

    def f(x: Decimal) -> Decimal:
        r_rest = [r[j] + 2 * q[j][0] * x for j in range(1, n)]
        return abs(x) + _least_l1(rest, r_rest, c + q[0][0] * x * x + r[0] * x, h2, iters)

    return _golden(f, centre[0] - half, centre[0] + half, iters)


def _brute_bias(prob: FLCIProblem, h2: float) -> Decimal:
    q = [[_dec(x) for x in row] for row in prob.q]
    return _least_l1(q, [_dec(x) for x in prob.r], _dec(prob.c0), _dec(h2))


def _random_problem(seed: int, npre: int, npost: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = npre + npost
    a = rng.normal(size=(n, n))
    sigma = a @ a.T / n + 0.05 * np.eye(n)
    return sigma, rng.dirichlet(np.ones(npost))


@pytest.mark.parametrize(("npre", "npost", "seed"), [(3, 2, 1), (3, 1, 2), (4, 6, 3)])
def test_frontier_is_the_brute_force_least_bias(npre: int, npost: int, seed: int) -> None:
    sigma, lv = _random_problem(seed, npre, npost)
    prob = FLCIProblem.build(sigma, npre, lv)
    assert len(prob.mus) >= 3  # the path bends at least once
    points = list(prob.mus[1:-1]) + [float(prob.mus[0]) * f for f in (0.02, 0.3, 0.7, 0.97)]
    for mu in points:
        z = prob.weights(float(mu))
        ours = float(np.abs(z).sum())
        brute = float(_brute_bias(prob, prob.variance(z)))
        assert ours == pytest.approx(brute, rel=1e-12, abs=1e-14)
    # the least-variance end is the unconstrained minimum, the other end no weight at all
    z_min_want = np.linalg.solve(2 * prob.q, -prob.r)
    np.testing.assert_allclose(prob.weights(0.0), z_min_want, rtol=1e-12, atol=1e-14)
    assert np.abs(prob.weights(float(prob.mus[0]))).max() <= 1e-15 * np.abs(z_min_want).max()


def test_flci_is_the_brute_force_optimum() -> None:
    """Half-length minimised over ``h`` by golden section, each ``B(h)`` by brute force."""
    sigma, lv = _random_problem(1, 3, 2)
    prob = FLCIProblem.build(sigma, 3, lv)
    h_min = math.sqrt(prob.variance(prob.weights(0.0)))
    h_0 = math.sqrt(prob.c0)
    for m, conf in [(0.3, 0.95), (1.0, 0.9), (4.0, 0.95)]:
        def chi(h: Decimal, m: float = m, conf: float = conf) -> Decimal:
            bias = prob.const + abs(prob.zk) + float(_brute_bias(prob, float(h) ** 2))
            return _dec(folded_normal_quantile(conf, m * bias / float(h)) * float(h))

        brute = float(_golden(chi, _dec(h_min), _dec(h_0), 70))
        ours, z = prob.optimum(m, conf)
        assert ours == pytest.approx(brute, rel=1e-11)
        assert ours <= brute * (1 + 1e-13)  # golden section can only be above the minimum
        assert prob.halflength(z, m, conf) == ours


# -- the conic solver, as HonestDiD and moderndid use it ---------------------------------------
def _clarabel_bias(prob: FLCIProblem, h: float) -> float:
    """``min ||z||_1`` subject to ``sd(z) <= h`` by Clarabel (SOCP, centred at the least
    variance)."""
    cp = pytest.importorskip("cvxpy")
    z_min = np.linalg.solve(2 * prob.q, -prob.r)
    rho = h * h - prob.variance(z_min)
    chol = np.linalg.cholesky(prob.q)
    x = cp.Variable(prob.q.shape[0])
    problem = cp.Problem(cp.Minimize(cp.norm1(x)),
                         [cp.norm2(chol.T @ (x - z_min)) <= math.sqrt(max(rho, 0.0))])
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert problem.status == "optimal"
    return float(problem.value)


@pytest.mark.parametrize(("npre", "npost", "seed"), [(5, 2, 4), (4, 6, 5), (7, 3, 6)])
def test_frontier_matches_clarabel(npre: int, npost: int, seed: int) -> None:
    sigma, lv = _random_problem(seed, npre, npost)
    prob = FLCIProblem.build(sigma, npre, lv)
    for frac in (0.05, 0.4, 0.9):
        z = prob.weights(float(prob.mus[0]) * frac)
        want = _clarabel_bias(prob, math.sqrt(prob.variance(z)))
        assert float(np.abs(z).sum()) == pytest.approx(want, rel=1e-7)


def test_never_longer_than_honestdids_grid_of_h() -> None:
    """HonestDiD's method: the least bias (Clarabel's) at 100 values of ``h`` from the least
    variance to the least bias, the shortest half-length among them. The optimum over every
    ``h`` is never longer; here, with the best ``h`` inside the grid's first step (where the
    bias falls steeply), the grid's interval is 0.11 % longer at the smallest ``m``."""
    sigma, lv = _random_problem(7, 4, 3)
    prob = FLCIProblem.build(sigma, 4, lv)
    z_min = prob.weights(0.0)
    h_min, h_0 = math.sqrt(prob.variance(z_min)), math.sqrt(prob.c0)
    grid = np.linspace(h_min, h_0, 100)
    inner = [_clarabel_bias(prob, float(h)) for h in grid[1:-1]]
    biases = prob.const + abs(prob.zk) + np.array([np.abs(z_min).sum(), *inner, 0.0])
    longer = []
    for m in (0.05, 0.3, 1.0):
        best = min(folded_normal_quantile(0.95, m * b / h) * h
                   for h, b in zip(grid, biases, strict=True))
        ours = prob.optimum(m, 0.95)[0]
        assert ours <= best * (1 + 1e-9)
        longer.append(best / ours - 1)
    assert 5e-4 < max(longer) < 5e-3


# -- optimality conditions and the choice of h --------------------------------------------------
def _kkt_error(prob: FLCIProblem, mu: float) -> float:
    """Largest violation of ``grad_i = -mu sign(z_i)`` (``z_i != 0``), ``|grad_j| <= mu``
    (``z_j = 0``), relative to ``||r||_inf``."""
    z = prob.weights(mu)
    g = 2 * prob.q @ z + prob.r
    nz = np.abs(z) > 1e-10 * np.abs(prob.weights(0.0)).max()
    on = np.abs(g[nz] + mu * np.sign(z[nz])).max(initial=0.0)
    off = max(0.0, (np.abs(g[~nz]) - mu).max(initial=0.0))
    return float(max(on, off) / np.abs(prob.r).max())


def _covariances(rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for n in range(3, 11):
        # identity, equicorrelated and AR(1) covariances give exact ties on the path
        out += [np.eye(n), 0.5 * np.eye(n) + 0.5,
                np.fromfunction(lambda i, j: 0.7 ** np.abs(i - j), (n, n))]
        for _ in range(4):
            a = rng.normal(size=(n, n))
            out.append(a @ a.T / n + 0.01 * np.eye(n))
    return out


def test_path_satisfies_the_optimality_conditions() -> None:
    rng = np.random.default_rng(11)
    n_pieces, n_checked = [], 0
    for sigma in _covariances(rng):
        n = sigma.shape[0]
        for npre in range(2, n):
            npost = n - npre
            for lv in (np.eye(npost)[0], np.eye(npost)[-1], np.full(npost, 1 / npost)):
                prob = FLCIProblem.build(sigma, npre, lv)
                mus = prob.mus
                for mu in [*mus, *((mus[1:] + mus[:-1]) / 2)]:
                    assert _kkt_error(prob, float(mu)) < 1e-12
                np.testing.assert_allclose(prob.weights(0.0),
                                           np.linalg.solve(2 * prob.q, -prob.r),
                                           rtol=1e-10, atol=1e-12 * np.abs(prob.r).max())
                n_pieces.append(len(mus) - 1)
                n_checked += 1
    assert n_checked > 500 and max(n_pieces) >= 8  # long paths were traced


def test_tied_events_choose_the_consistent_signs() -> None:
    """Identity covariance, four leads: two weights reach the edge at the same ``mu`` and only
    one of them may leave zero (taking both, as an event-by-event homotopy does, breaks the
    optimality conditions below the tie by 0.17 of ``||r||_inf``)."""
    prob = FLCIProblem.build(np.eye(5), 4, np.array([1.0]))
    assert prob.mus[1] == pytest.approx(2 / 3)
    for mu in np.linspace(0, float(prob.mus[0]), 41):
        assert _kkt_error(prob, float(mu)) < 1e-13
    z = prob.weights(0.5)
    assert z[0] == 0 and z[1] > 0  # the first stays at zero a while longer


@pytest.mark.parametrize("seed", range(4))
def test_no_standard_deviation_gives_a_shorter_interval(seed: int) -> None:
    sigma, lv = _random_problem(20 + seed, 3 + seed, 2 + seed % 3)
    prob = FLCIProblem.build(sigma, 3 + seed, lv)
    scale = math.sqrt(float(np.diag(sigma).mean()))
    at_ends = 0
    for m in np.array([0.0, 0.01, 0.1, 0.5, 2.0, 20.0]) * scale:
        ours, z = prob.optimum(float(m), 0.95)
        grid = [prob.halflength(prob.weights(float(mu)), float(m), 0.95)
                for mu in np.linspace(0, float(prob.mus[0]), 801)]
        assert ours <= min(grid) * (1 + 1e-14)
        at_ends += int(np.all(z == 0) or np.array_equal(z, prob.weights(0.0)))
    assert at_ends < 6  # interior optima were found, not only the ends


def test_one_lead_has_no_free_weight() -> None:
    """With one lead the estimator is fixed: ``beta_post - (s l) beta_-2``-type extrapolation;
    its variance and bias in closed form."""
    sigma = np.array([[0.04, 0.01], [0.01, 0.09]])
    b = np.array([0.1, 0.5])
    lo, hi = honest.honest_ci(b, sigma, num_pre_periods=1, num_post_periods=1,
                              restriction="smoothness", m=0.2)
    # l_pre = -1 * zk = -1 (linear extrapolation from -2 through -1 = 0 to 0): estimate
    # beta_0 + beta_-2, variance 0.04 + 0.09 + 2 * 0.01, bias M * 1
    sd = math.sqrt(0.04 + 0.09 + 0.02)
    half = folded_normal_quantile(0.95, 0.2 / sd) * sd
    assert (lo + hi) / 2 == pytest.approx(0.6, abs=1e-15)
    assert (hi - lo) / 2 == pytest.approx(half, rel=1e-15)


def test_singular_lead_covariance_is_named() -> None:
    sigma = np.eye(5)
    sigma[:3, :3] = 1.0  # the three leads are one and the same draw
    with pytest.raises(EstimationError, match="covariance of the leads is singular"):
        honest.honest_ci(np.zeros(5), sigma, num_pre_periods=3, num_post_periods=2,
                         restriction="smoothness", m=0.1)


def test_flci_centre_uses_the_optimal_weights() -> None:
    sigma, lv = _random_problem(3, 4, 3)
    prob = FLCIProblem.build(sigma, 4, lv)
    b = np.random.default_rng(0).normal(size=7)
    hl, z = prob.optimum(0.2, 0.95)
    lo, hi = flci(prob, b, 4, lv, 0.2, 0.95)
    l_pre = prob.to_lpre @ z + prob.to_lpre_const
    assert (lo + hi) / 2 == pytest.approx(l_pre @ b[:4] + lv @ b[4:], abs=1e-14)
    assert (hi - lo) / 2 == pytest.approx(hl, rel=1e-15)


def test_folded_normal_quantile_and_its_slope() -> None:
    """``cv`` against scipy's folded normal, and ``cv'`` against a central difference."""
    from scipy import stats

    from evalmodel.inference.flci import _quantile_slope

    for p in (0.8, 0.9, 0.95, 0.99):
        for t in (0.0, 1e-3, 0.3, 1.0, 2.5, 6.0, 20.0, 60.0):
            c = folded_normal_quantile(p, t)
            assert c == pytest.approx(stats.foldnorm.ppf(p, t), rel=1e-13)
            step = 1e-6
            lo = max(t - step, 0.0)
            numeric = (folded_normal_quantile(p, t + step) - folded_normal_quantile(p, lo)) / (
                t + step - lo)
            assert _quantile_slope(c, t) == pytest.approx(numeric, abs=5e-6)
    assert _quantile_slope(folded_normal_quantile(0.95, 0.0), 0.0) == 0.0
