"""Design-based inference for event studies with few treated clusters.

Every event-time coefficient of :func:`~evalmodel.estimators.event_study.event_study` (and the
average of the post-adoption ones) is re-estimated with the treatment re-assigned to other
units: each comparison (never-treated) unit in turn as the fake treated unit, given the real
treated unit's cohort, when one unit is treated; sets of units (all of them, or ``n_draws``
drawn with ``seed``, as :func:`~evalmodel.inference.permutation.permutation_inference` draws
them) when there are several, the placebo units in id order taking the treated units'
cohorts in the treated units' id order (so the actual assignment is one of the labellings the
placebo sets follow; the sets are uniform given that pattern). The real treated units are
comparison units in the placebo fits. A row's p-value is
``(1 + #{|placebo| >= |estimate|}) / (1 + n_draws)``; its interval inverts the same test for a
constant additive effect at that event time (the outcome of the treated units minus ``tau`` at
that event time, or from adoption on for the average), in closed form
(:func:`~evalmodel.core.inversion.invert_linear_permutation`), so the interval excludes 0
exactly when the p-value is at most ``1 - conf_level``.

How the placebo fits are computed without a loop over assignments. For one assignment each
estimator is least squares on unit and period effects and dummies ``X`` on the assigned units'
observations (TWFE: binned event times; Sun-Abraham: cohort x event time cells; imputation:
one dummy per treated observation, which removes it from the fit of the effects, plus, for the
leads, lead dummies). By Frisch-Waugh-Lovell ``b = (X'MX)^{-1} X'MY`` with ``M`` the residual
maker of the two-way effects, which does not depend on the assignment. ``X'MY`` is a sum of
per-unit blocks of ``X'(MY)``; ``X'MX`` is the sum of the per-unit within blocks
``diag(n) - n n' / T_u`` minus ``F'WF``, with ``F`` the sum of the per-unit blocks of
``P'X`` (``P`` the unit-demeaned period dummies) and ``W = (P'P)^{-1}``. The blocks are computed
once for every unit and every cohort it may be given; an assignment then costs a gather, a
``(T x K)`` product and a ``K x K`` solve, batched over all assignments (exact for unbalanced
panels). The outcome and the effect patterns of the interval are solved as extra right-hand
sides of the same systems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from evalmodel.core.inversion import invert_linear_permutation, rank_p_value, rank_p_values
from evalmodel.errors import EstimationError
from evalmodel.inference.permutation import PermutationResult, placebo_assignments

__all__ = ["EventPlacebo", "event_study_placebo"]

#: Entries of the stacked K x K systems solved per batch (bounds the memory: about 16 MB).
CHUNK_ENTRIES = 2_000_000


@dataclass(frozen=True)
class EventPlacebo:
    """The permutation test of every event-time row and of the post-period average.

    Attributes
    ----------
    std_error, ci_lower, ci_upper, p_value : ndarray
        One value per coefficient (in the order of the ``events`` given); ``std_error`` is the
        standard deviation of the placebo estimates.
    placebo : ndarray
        Placebo coefficient vectors, one row per valid assignment.
    overall : PermutationResult
        The test of the average of the post-adoption coefficients.
    labels : list of str
        The placebo unit (one treated unit) or assignment number of each row of ``placebo``.
    n_invalid : int
        Assignments whose placebo fit is not identified (left out of every test).
    """

    std_error: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    p_value: np.ndarray
    placebo: np.ndarray
    overall: PermutationResult
    labels: list[str]
    n_invalid: int


@dataclass(frozen=True)
class _Spec:
    """One least-squares problem: its dummy columns and how they give the coefficients."""

    n_cols: int
    #: (cohort, slot) -> the column of each period (-1: no dummy)
    colmap: Callable[[int, int], np.ndarray]
    #: (b: assignments x columns x rhs, count: assignments x columns) -> (coef, valid)
    combine: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    by_slot: bool = False


class _Layout:
    """The observations in codes, with the two-way residual maker applied to the outcomes."""

    def __init__(self, ucode: np.ndarray, tcode: np.ndarray, n_units: int, n_t: int,
                 ystack: np.ndarray) -> None:
        self.ucode, self.tcode, self.n_units, self.n_t = ucode, tcode, n_units, n_t
        self.t_count = np.bincount(ucode, minlength=n_units).astype(float)
        member = sparse.csr_matrix((np.ones(len(ucode)), (ucode, np.arange(len(ucode)))),
                                   shape=(n_units, len(ucode)))
        self.means = sparse.diags(1 / self.t_count) @ member       # unit means
        dummies = np.zeros((len(ucode), n_t - 1))
        rows = np.flatnonzero(tcode > 0)
        dummies[rows, tcode[rows] - 1] = 1.0
        self.pd = self.demean(dummies)
        try:
            self.w = np.linalg.inv(self.pd.T @ self.pd)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - the analytic fit fails first
            raise EstimationError("event_study: the period effects are not identified.") from exc
        yd = self.demean(ystack)
        self.ytil = yd - self.pd @ (self.w @ (self.pd.T @ yd))

    def demean(self, a: np.ndarray) -> np.ndarray:
        """``a`` minus its unit means (rows are observations)."""
        return a - np.asarray(self.means @ a)[self.ucode]


def _blocks(lay: _Layout, spec: _Spec, cohort: int, slot: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-unit blocks if each unit had ``cohort`` in ``slot``: counts (n x K), ``P'X``
    (n x K x T-1) and ``X'MY`` (n x K x m)."""
    n, k = lay.n_units, spec.n_cols
    col = spec.colmap(cohort, slot)[lay.tcode]
    ok = col >= 0
    rows = np.flatnonzero(ok)
    key = lay.ucode[ok] * k + col[ok]
    pick = sparse.csr_matrix((np.ones(rows.size), (key, rows)), shape=(n * k, len(col)))
    count = np.bincount(key, minlength=n * k).reshape(n, k).astype(float)
    f = np.asarray(pick @ lay.pd).reshape(n, k, -1)
    s = np.asarray(pick @ lay.ytil).reshape(n, k, -1)
    return count, f, s


def _identified(xmx: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Whether each ``X'MX`` (stacked) is non-singular: the smallest Cholesky pivot of the
    matrix scaled to a unit diagonal exceeds ``tol`` (a dummy in the span of the effects, or
    a unit whose every observation has a dummy, gives a zero pivot)."""
    diag = np.einsum("akk->ak", xmx)
    ok = (diag > tol).all(axis=1)
    d = np.sqrt(np.where(diag > tol, diag, 1.0))
    scaled = xmx / d[:, :, None] / d[:, None, :]
    try:
        pivots = np.einsum("akk->ak", np.linalg.cholesky(scaled)) ** 2
        return ok & (pivots > tol).all(axis=1)
    except np.linalg.LinAlgError:  # some matrix not positive definite: one at a time
        for a in np.flatnonzero(ok):
            try:
                ok[a] = bool((np.diag(np.linalg.cholesky(scaled[a])) ** 2 > tol).all())
            except np.linalg.LinAlgError:
                ok[a] = False
        return ok


def _normal(lay: _Layout, cnt: np.ndarray, tot: np.ndarray, fa: np.ndarray, u: np.ndarray,
            diag: np.ndarray) -> np.ndarray:
    """The stacked ``X'MX`` of assignments treating ``u`` (a x slots) with the per-unit
    counts ``cnt`` (a x slots x K), their totals ``tot`` and the summed ``P'X`` blocks
    ``fa`` (a x K x T-1); absent columns get a 1 on the diagonal (coefficient 0)."""
    xmx = np.einsum("amk,aml,am->akl", cnt, cnt, -1.0 / lay.t_count[u])
    xmx[:, diag, diag] += tot
    xmx -= fa @ lay.w @ fa.transpose(0, 2, 1)
    empty = np.nonzero(tot == 0)
    xmx[empty[0], empty[1], empty[1]] = 1.0              # absent columns: coefficient 0
    return xmx


def _fit(lay: _Layout, spec: _Spec, units: np.ndarray, cohorts: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (assignments x rows x rhs) and validity for assignments of ``cohorts`` to
    ``units`` (both assignments x slots)."""
    slots = np.broadcast_to(np.arange(units.shape[1]), units.shape) if spec.by_slot else (
        np.zeros(units.shape, dtype=int))
    combos = sorted(set(zip(cohorts.ravel().tolist(), slots.ravel().tolist(), strict=True)))
    index = {c: i for i, c in enumerate(combos)}
    parts = [_blocks(lay, spec, g, m) for g, m in combos]
    count, f, s = (np.stack([p[i] for p in parts]) for i in range(3))
    which = np.vectorize(lambda g, m: index[(g, m)], otypes=[int])(cohorts, slots)
    out: list[np.ndarray] = []
    valid: list[np.ndarray] = []
    diag = np.arange(spec.n_cols)
    chunk = max(1, CHUNK_ENTRIES // spec.n_cols**2)
    for lo in range(0, units.shape[0], chunk):
        u, c = units[lo:lo + chunk], which[lo:lo + chunk]
        cnt = count[c, u]                                    # a x k x K
        tot = cnt.sum(axis=1)
        fa = f[c, u].sum(axis=1)                             # a x K x T-1
        xmx = _normal(lay, cnt, tot, fa, u, diag)
        ok = _identified(xmx)
        b = np.full((len(u), spec.n_cols, s.shape[-1]), np.nan)
        b[ok] = np.linalg.solve(xmx[ok], s[c, u].sum(axis=1)[ok])
        coef, good = spec.combine(b, tot)
        out.append(coef)
        valid.append(ok & good)
    return np.concatenate(out), np.concatenate(valid)


def _specs(estimator: str, periods: np.ndarray, cohorts: np.ndarray, events: np.ndarray,
           reference: int, lo: int, hi: int, anticipation: int, k: int
           ) -> list[tuple[_Spec, np.ndarray]]:
    """The least-squares problems of ``estimator`` and the coefficient rows each gives."""
    ev = [int(e) for e in events]
    if estimator == "twfe":
        pos = {e: j for j, e in enumerate(ev)}

        def twfe_cols(g: int, _m: int) -> np.ndarray:
            e = np.clip(periods - g, lo, hi)
            return np.array([pos.get(int(x), -1) for x in e])

        def direct(b: np.ndarray, tot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return b, np.asarray((tot > 0).all(axis=1))

        return [(_Spec(len(ev), twfe_cols, direct), np.arange(len(ev)))]
    if estimator == "sun_abraham":
        cells = [(int(g), int(t - g)) for g in np.unique(cohorts) for t in periods
                 if t - g != reference]
        cell_pos = {c: j for j, c in enumerate(cells)}
        cell_e = np.array([e for _, e in cells])
        member = (cell_e[None, :] == np.array(ev)[:, None]).astype(float)  # events x cells

        def sa_cols(g: int, _m: int) -> np.ndarray:
            return np.array([cell_pos.get((g, int(t - g)), -1) for t in periods])

        def weighted(b: np.ndarray, tot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            w = member[None, :, :] * tot[:, None, :]
            total = w.sum(axis=2)
            good = (total > 0).all(axis=1)
            w = w / np.where(total > 0, total, 1.0)[:, :, None]
            return np.einsum("ajc,acr->ajr", w, b), good

        return [(_Spec(len(cells), sa_cols, weighted), np.arange(len(ev)))]
    # imputation: one dummy per treated observation (slot m, event time e >= -anticipation)
    first = -anticipation
    n_e = int(periods[-1] - cohorts.min()) - first + 1
    leads = [e for e in ev if e < first]
    horizons = np.array([e for e in ev if e >= first])
    post_cols = k * n_e

    def obs_cols(g: int, m: int) -> np.ndarray:
        e = periods - g
        return np.where(e >= first, m * n_e + e - first, -1)

    def average(b: np.ndarray, tot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(k)[:, None] * n_e + (horizons - first)[None, :]   # slots x horizons
        has = tot[:, idx] > 0                                             # a x slots x h
        n_obs = has.sum(axis=1)
        coef = np.einsum("amh,amhr->ahr", has, np.nan_to_num(b[:, idx, :]))
        return coef / np.where(n_obs > 0, n_obs, 1)[:, :, None], (n_obs > 0).all(axis=1)

    out = [(_Spec(post_cols, obs_cols, average, by_slot=True),
            np.arange(len(leads), len(ev)))]
    if leads:
        lead_pos = {e: j for j, e in enumerate(leads)}

        def lead_cols(g: int, m: int) -> np.ndarray:
            cols = obs_cols(g, m)
            extra = np.array([lead_pos.get(int(t - g), -1) for t in periods])
            return np.where(extra >= 0, post_cols + extra, cols)

        def lead_coef(b: np.ndarray, tot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return b[:, post_cols:, :], np.asarray((tot[:, post_cols:] > 0).all(axis=1))

        out.insert(0, (_Spec(post_cols + len(leads), lead_cols, lead_coef, by_slot=True),
                       np.arange(len(leads))))
    return out


def _tests(coef: np.ndarray, b_act: np.ndarray, b_plac: np.ndarray, post_rows: np.ndarray,
           alpha: float, unreachable: bool
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float, np.ndarray]:
    """Each row's p-value and interval, and the estimate, interval and placebo distribution of
    the post-period average, from the estimates ``coef`` and the solutions of the actual and
    the valid placebo assignments (right-hand sides: outcome, each row's effect pattern, the
    post pattern)."""
    n_rows = len(coef)
    # each row against its own effect pattern (right-hand side 1 + r); exact inversion
    a = b_plac[:, :, 0]
    own = np.arange(n_rows)
    p = rank_p_values(coef, a)
    lo_ci, hi_ci = invert_linear_permutation(coef, b_act[0, own, 1 + own], a,
                                             b_plac[:, own, 1 + own], alpha)
    a_over = a[:, post_rows].mean(axis=1)
    est = float(np.mean(coef[post_rows]))
    o_lo, o_hi = (float(v[0]) for v in invert_linear_permutation(
        np.array([est]), np.array([b_act[0, post_rows, -1].mean()]), a_over[:, None],
        b_plac[:, post_rows, -1].mean(axis=1)[:, None], alpha))
    if unreachable:  # no effect can be rejected at this level: the whole line
        lo_ci, hi_ci = np.full(n_rows, -np.inf), np.full(n_rows, np.inf)
        o_lo, o_hi = -np.inf, np.inf
    return p, lo_ci, hi_ci, est, o_lo, o_hi, a_over


def event_study_placebo(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    estimator: str,
    events: np.ndarray,
    coef: np.ndarray,
    reference: int,
    window: tuple[int, int],
    anticipation: int,
    n_draws: int | None,
    seed: int | None,
    conf_level: float,
    allow_unreachable: bool = False,
) -> EventPlacebo:
    """The permutation test of every event-time coefficient (see the module docstring).

    ``df`` holds the estimation sample (one row per observation, no missing outcome); the units
    with a cohort are the treated units, the others the comparison pool; ``coef`` are the
    estimates at ``events``, which the actual assignment must reproduce. With
    ``allow_unreachable``, assignments too few to reach ``conf_level`` still give the exact
    p-values, and every interval is the whole line (the test never rejects at that level).

    Raises
    ------
    EstimationError
        Without comparison units, when the assignments cannot reach ``conf_level`` (unless
        ``allow_unreachable``), or when the actual assignment does not reproduce ``coef``.
    """
    fn = "event_study"
    ucode, ids = pd.factorize(df[unit])
    periods = np.unique(df[time].to_numpy())
    tval = df[time].to_numpy()
    tcode = np.searchsorted(periods, tval)
    n = len(ids)
    g_obs = df[cohort].to_numpy()
    g_unit = np.zeros(n, dtype=np.int64)
    g_unit[ucode] = g_obs.astype(np.int64)
    order = np.argsort(np.asarray(ids, dtype=str), kind="stable")   # units in id order
    treated_pos = np.flatnonzero(g_unit[order] > 0)
    k, n_pool = len(treated_pos), n - len(treated_pos)
    if n_pool == 0:
        raise EstimationError(f"{fn}: design-based inference needs never-treated comparison "
                              "units and the panel has none.")
    actual = np.zeros(n, dtype=bool)
    actual[treated_pos] = True
    z, exact = placebo_assignments(n, k, actual, n_draws, seed)
    alpha = 1 - conf_level
    if 1 / (1 + len(z)) > alpha + 1e-12 and not allow_unreachable:
        raise EstimationError(
            f"{fn}: with {k} treated unit(s) and {n_pool} comparison units there are "
            f"{len(z) + 1} assignments, so the smallest attainable p-value is "
            f"{1 / (1 + len(z)):.4f}, above 1 - conf_level = {alpha:.4f}; add comparison units "
            "or lower conf_level.")
    # the treated units' cohorts in id order go in that order to each placebo set's units (in
    # id order), so the actual assignment is one of the sets' labellings (not sorted by cohort)
    t_cohorts = g_unit[order][treated_pos]
    placebo_units = order[np.nonzero(z)[1].reshape(len(z), k)]
    placebo_cohorts = np.broadcast_to(t_cohorts, placebo_units.shape)
    actual_units = order[treated_pos][None, :]
    actual_cohorts = g_unit[actual_units]

    # outcome, then each row's effect pattern on the treated units, then the post pattern
    lo, hi = window
    e_obs = tval - g_obs
    treated_obs = g_obs > 0
    binned = np.clip(e_obs, lo, hi) if estimator == "twfe" else e_obs
    patterns = [(treated_obs & (binned == e)).astype(float) for e in events]
    post_rows = np.flatnonzero(np.asarray(events) >= 0)
    ystack = np.column_stack([df[outcome].to_numpy(float), *patterns,
                              (treated_obs & (e_obs >= 0)).astype(float)])
    lay = _Layout(ucode, tcode, n, len(periods), ystack)
    n_rows = len(events)
    b_plac = np.full((len(z), n_rows, ystack.shape[1]), np.nan)
    b_act = np.full((1, n_rows, ystack.shape[1]), np.nan)
    valid = np.ones(len(z), dtype=bool)
    for spec, rows in _specs(estimator, periods, t_cohorts, np.asarray(events), reference,
                             lo, hi, anticipation, k):
        b, ok = _fit(lay, spec, placebo_units, placebo_cohorts)
        b_plac[:, rows], valid = b, valid & ok
        b_act[:, rows] = _fit(lay, spec, actual_units, actual_cohorts)[0]
    scale = max(1.0, float(np.max(np.abs(coef))))
    if not np.allclose(b_act[0, :, 0], coef, rtol=0, atol=1e-7 * scale):
        raise EstimationError(f"{fn}: the placebo fit of the actual assignment "
                              f"({b_act[0, :, 0]!r}) does not reproduce the estimates "
                              f"({coef!r}); please report this.")
    n_invalid = int((~valid).sum())
    b_plac = b_plac[valid]
    unreachable = 1 / (1 + len(b_plac)) > alpha + 1e-12
    if unreachable and (not allow_unreachable or not len(b_plac)):
        raise EstimationError(f"{fn}: only {len(b_plac)} placebo assignments give an "
                              "identified fit; design-based inference cannot reach "
                              f"conf_level={conf_level}.")
    a = b_plac[:, :, 0]
    p, lo_ci, hi_ci, est, o_lo, o_hi, a_over = _tests(coef, b_act, b_plac, post_rows, alpha,
                                                      unreachable)
    se = np.std(a, axis=0, ddof=1)
    ids_sorted = np.asarray(ids, dtype=str)
    treated_ids = tuple(ids_sorted[order[treated_pos]].tolist())
    pool_ids = tuple(ids_sorted[order[np.flatnonzero(g_unit[order] == 0)]].tolist())
    overall = PermutationResult(
        estimate=est, p_value=rank_p_value(est, a_over),
        ci_lower=o_lo, ci_upper=o_hi, distribution=a_over, n_draws=len(a_over), exact=exact,
        min_p_value=1 / (1 + len(a_over)), conf_level=conf_level, treated=treated_ids,
        pool=pool_ids, seed=seed)
    names = ids_sorted[placebo_units[valid]]
    labels = ([str(x) for x in names[:, 0]] if k == 1 else
              ["+".join(row) for row in names.tolist()])
    return EventPlacebo(std_error=se, ci_lower=lo_ci, ci_upper=hi_ci, p_value=p, placebo=a,
                        overall=overall, labels=labels, n_invalid=n_invalid)


# -- every single treated unit at once: the placebo study's batch ------------------------------
# A placebo study makes each of several units in turn the one treated unit (all with the same
# cohort) of a panel whose other units form the pool. The systems ``X'MX`` of every unit given
# that cohort, the outcome's right-hand sides and ``P'X`` do not depend on which unit is the
# fake treated one: they are solved once, for the outcome and for ``F = P'X``. The effect
# patterns of treated unit ``u`` are zero outside its observations, so on another unit ``j``
# their two-way residuals are ``-P_j v_u`` with ``v_u = W P_u' (D_u - unit mean)``, and the
# placebo solutions of the patterns are ``-(X_j'MX_j)^{-1} F_j v_u``; the event-time
# coefficients being linear in the solutions, the solutions of ``F`` are combined into them
# once and each unit costs one product with ``v_u``. Only the actual assignment of ``u`` is
# solved with its own right-hand side. The estimates the
# test is centred on are the outcome's solution of ``u``'s own system, the estimator's
# regression solved by this route: no fit of the estimator per unit (the Sun-Abraham fit of
# one unit took about 8 ms, its system here a share of one batched solve). They equal the
# estimator's own fit to about 1e-12 relative (1.6e-12 at most over the simulated report's
# Sun-Abraham studies, whose direct fit is itself that far from the closed form of a single
# treated unit; 1e-13 for imputation); the placebo and pattern solutions are those of
# :func:`event_study_placebo` up to the order of the sums (about 1e-14 relative).


def single_unit_placebos(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    *,
    treated: list[str],
    adoption: int,
    estimator: str,
    window: tuple[int, int],
    reference: int,
    anticipation: int,
    conf_level: float,
) -> list[tuple[float, float, float, float]] | None:
    """``(post average, ci_lower, ci_upper, p_value)`` of the design-based event study of
    each of ``treated`` in turn made the only treated unit, first treated in ``adoption``,
    every other unit of ``df`` in its pool (see above), or None where the fit of a unit
    or all its placebo fits are not identified (then each unit is fitted on its own). A pool
    too small to reach ``conf_level`` keeps the test, as the estimator's default inference
    does: exact p-values, the whole line as interval.

    ``df`` holds one row per observation, no missing ``outcome``; ``reference`` and the event
    times are those :func:`~evalmodel.estimators.event_study.event_study` uses. Each unit's
    estimates are the solution of its own system (see above); the placebo study checks the
    first unit against the estimator's own fit.
    """
    ucode, ids = pd.factorize(df[unit])
    names = np.asarray(ids, dtype=str)
    periods = np.unique(df[time].to_numpy())
    tval = df[time].to_numpy()
    tcode = np.searchsorted(periods, tval)
    n = len(ids)
    alpha = 1 - conf_level
    lo, hi = window
    if estimator == "imputation":
        events = np.concatenate([np.arange(lo, -anticipation), np.arange(-anticipation, hi + 1)])
    else:
        events = np.array([e for e in range(lo, hi + 1) if e != reference])
    post_rows = np.flatnonzero(events >= 0)
    weight = (events >= 0) / (events >= 0).sum()
    lay = _Layout(ucode, tcode, n, len(periods), df[outcome].to_numpy(float)[:, None])
    parts = []
    for spec, rows in _specs(estimator, periods, np.array([adoption]), events, reference,
                             lo, hi, anticipation, 1):
        count, f, s = _blocks(lay, spec, adoption, 0)
        every = np.arange(n)
        xmx = _normal(lay, count[:, None, :], count, f, every[:, None], np.arange(spec.n_cols))
        ok = _identified(xmx)
        sol = np.full((n, spec.n_cols, 1 + f.shape[-1]), np.nan)
        sol[ok] = np.linalg.solve(xmx[ok], np.concatenate([s, f], axis=2)[ok])
        # the coefficients are linear in the right-hand sides, so the outcome's and F's are
        # combined once; a unit's pattern coefficients are then -(combined F) v_u
        combined, good = spec.combine(sol, count)
        parts.append((spec, rows, count, xmx, sol, ok & good, combined,
                      spec.colmap(adoption, 0)))
    order = np.argsort(names, kind="stable")
    position = {u: int(i) for i, u in enumerate(names.tolist())}
    out: list[tuple[float, float, float, float]] = []
    for u in treated:
        i = position[u]
        mine = ucode == i
        e_obs = tval[mine] - adoption
        binned = np.clip(e_obs, lo, hi) if estimator == "twfe" else e_obs
        pattern = np.column_stack([*(binned == e for e in events), e_obs >= 0]).astype(float)
        demeaned = pattern - pattern.mean(axis=0)
        v = lay.w @ (lay.pd[mine].T @ demeaned)
        resid = demeaned - lay.pd[mine] @ v          # the patterns' residuals on unit u
        coef_all = np.full((n, len(events), 1 + pattern.shape[1]), np.nan)
        valid = np.ones(n, dtype=bool)
        for spec, rows, count, xmx, sol, fine, combined, colmap in parts:
            coef_all[:, rows, :1] = combined[:, :, :1]
            coef_all[:, rows, 1:] = -(combined[:, :, 1:] @ v)
            valid &= fine
            if not fine[i]:
                continue
            # unit u's own assignment: its patterns' right-hand side solved directly
            col = colmap[tcode[mine]]
            rhs = np.zeros((spec.n_cols, pattern.shape[1]))
            np.add.at(rhs, col[col >= 0], resid[col >= 0])
            own = np.concatenate([sol[i, :, :1], np.linalg.solve(xmx[i], rhs)], axis=1)
            coef_all[i, rows] = spec.combine(own[None], count[i][None])[0][0]
        if not valid[i]:
            return None
        placebo = order[order != i]
        b_plac = coef_all[placebo][valid[placebo]]
        if not len(b_plac):
            return None
        b_act = coef_all[i][None]
        coef = b_act[0, :, 0]
        unreachable = 1 / (1 + len(b_plac)) > alpha + 1e-12  # kept: whole-line intervals
        _, _, _, est, o_lo, o_hi, a_over = _tests(coef, b_act, b_plac, post_rows, alpha,
                                                  unreachable)
        p = rank_p_value(est, a_over)
        out.append((float(weight @ coef), o_lo, o_hi, p))
    return out
