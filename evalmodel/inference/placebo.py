"""Placebo inference for the synthetic control method.

- **Placebo in space** (Abadie, Diamond and Hainmueller 2010, section 3.4): each donor in turn is
  treated as if it had adopted, with the other donors (never the real treated unit) as its pool
  and the same predictors. Its gaps form the reference distribution of the treated unit's gaps.
  Two p-values follow: the rank of the treated unit's post/pre RMSPE ratio among all units (their
  Figure 8; every placebo counts, since the ratio already discounts a poor pre-fit), and, per
  post-period and for the average effect, the rank of the treated unit's absolute effect among
  the placebos whose pre-period MSPE is at most ``max_pre_mspe_ratio`` times the treated unit's
  (their Figures 5-7 use 20, 5 and 2; we default to 5). With ``n`` such placebos a p-value is
  ``(1 + #{|placebo| >= |treated|}) / (1 + n)``; the interval inverts that same test for a
  constant additive effect (the placebos' effects do not depend on the treated unit's post-period
  outcomes, so the effects ``tau`` accepted are ``|est - tau| <= e_K``, with ``e_K`` the
  ``K``-th largest absolute placebo effect, :func:`~evalmodel.core.inversion.accept_count`),
  so the interval excludes 0 exactly when ``p_value <= 1 - conf_level``; ``std_error`` is the
  placebo effects' standard deviation. The two p-values test different things and carry
  different names: ``p_value`` (the effect-rank test, with the interval) and
  :attr:`PlaceboResult.p_value_rmspe_ratio` (the joint RMSPE-ratio test).
- **Placebo in time** (Abadie, Diamond and Hainmueller 2015): fake adoption dates inside the
  pre-period, using only pre-adoption data.
- **Leave-one-out** over the donors with positive weight (Abadie 2021).

Each placebo fit starts the V optimisation at the treated unit's V (a warm start: one
Nelder-Mead run instead of two), since the placebos share its predictors.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from evalmodel.core.inversion import invert_linear_permutation, rank_p_values
from evalmodel.core.parallel import check_n_jobs, run_tasks
from evalmodel.core.synth_solver import SynthProblem, VFit
from evalmodel.errors import ConvexHullWarning, EstimationError
from evalmodel.inference.placebo_starts import PlaceboStarts, active_starts
from evalmodel.months import period_label, period_span
from evalmodel.results import Result
from evalmodel.vocabulary import check_conf_level, check_number, check_period

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "PlaceboResult",
    "SynthFit",
    "leave_one_out",
    "leave_one_out_effects",
    "placebo_in_space",
    "placebo_in_time",
]


def rank_effect_table(index: Mapping[str, Sequence[Any]], estimate: np.ndarray,
                      statistics: np.ndarray, *, scale: float = 1.0,
                      conf_level: float) -> pd.DataFrame:
    """Rank p-values of ``estimate / scale`` among the placebos' ``statistics`` and the
    intervals inverting the same test.

    The treated statistic is ``(estimate - tau) / scale``; the placebos' do not move with the
    shift ``tau``. With ``scale = 1`` this is the raw effect-rank test; the augmented synthetic
    control's studentized test passes the treated unit's forecast scale and the placebos'
    studentized effects. ``std_error`` is ``scale`` times the placebo statistics' standard
    deviation.

    Parameters
    ----------
    index : mapping
        Index columns of the table (``index["term"]`` names the rows).
    estimate : ndarray
        The treated unit's effects, one per row.
    statistics : ndarray, shape (n_placebos, n_rows)
        The placebos' statistics in the same row order.
    scale : float
        The treated unit's scale (1: effects are not studentized).
    conf_level : float
        Coverage of the intervals.
    """
    n = statistics.shape[0]
    sd = (scale * statistics.std(axis=0, ddof=1) if n >= 2
          else np.full(estimate.size, np.nan))
    t = estimate / scale
    p = rank_p_values(t, statistics)
    lo, hi = invert_linear_permutation(t, np.full(estimate.size, 1 / scale), statistics,
                                       np.zeros_like(statistics), 1 - conf_level)
    columns = {"estimate": estimate, "std_error": sd, "ci_lower": lo, "ci_upper": hi,
               "p_value": p}
    if all(isinstance(v, list | tuple) for v in index.values()):  # one frame, at once
        return pd.DataFrame({**index, **columns})
    out = pd.DataFrame(index).reset_index(drop=True)
    for name, values in columns.items():
        out[name] = values
    return out


@dataclass(frozen=True)
class PlaceboResult(Result):
    """Placebos in space around a synthetic control fit.

    Attributes
    ----------
    gaps : pandas.DataFrame
        Units x periods: each unit's gap to its own synthetic control; the treated unit is the
        row named by ``treated``.
    treated : str
        The real treated unit.
    start : int
        First treated period.
    pre_mspe, post_mspe, ratio : pandas.Series
        By unit: pre- and post-period MSPE of the gaps and the post/pre RMSPE ratio.
    kept : pandas.Series
        By placebo unit: whether its pre-MSPE is within ``max_pre_mspe_ratio`` times the
        treated unit's.
    max_pre_mspe_ratio : float
        The exclusion threshold.
    conf_level : float
        Coverage of the intervals in :attr:`table`.
    frequency : str
        The panel's frequency; on a monthly panel (``"month"``) the summary names the periods
        (``start`` and the terms, month codes in the data) by their labels ``"2021-01"``.
    """

    gaps: pd.DataFrame
    treated: str
    start: int
    pre_mspe: pd.Series
    post_mspe: pd.Series
    ratio: pd.Series
    kept: pd.Series
    max_pre_mspe_ratio: float
    conf_level: float = 0.95
    frequency: str = "year"

    #: The headline is the last row of :attr:`table`, the average post-period effect.
    _headline = -1

    @cached_property
    def table(self) -> pd.DataFrame:
        """The treated unit's gap in each post-period and on average (``term``), with the
        placebo p-values and placebo-quantile intervals of :meth:`effect_table`."""
        post = [c for c in self.gaps.columns if int(c) >= self.start]
        g = self.gaps.loc[self.treated, post].to_numpy(dtype=float)
        terms = [*(str(int(c)) for c in post), "average"]
        return self.effect_table({"term": terms}, np.append(g, g.mean()),
                                 conf_level=self.conf_level)

    def _title(self) -> str:
        return f"Placebos in space: {self.treated}"

    @property
    def inference(self) -> str:
        """How the p-values and intervals were obtained."""
        return (f"placebo in space: {self.n_kept} of {len(self.kept)} donors kept (pre-MSPE at "
                f"most {self.max_pre_mspe_ratio:g} times the treated's); p_value and interval "
                "from the effect-rank test; RMSPE-ratio p-value (a separate joint test, "
                f"Abadie et al. 2010) {self.p_value_rmspe_ratio:.4f}")

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Inference", self.inference),
                ("First treated period", period_label(self.start, self.frequency)),
                ("Confidence level", f"{self.conf_level:.0%}"))

    def _frequency(self) -> str:
        return self.frequency

    def _shown_table(self) -> pd.DataFrame:
        if self.frequency != "month":
            return self.table
        shown = self.table.copy()  # every term but "average" is a period's code as text
        shown["term"] = [t if t == "average" else period_label(int(t), "month")
                         for t in shown["term"]]
        return shown

    def describe_sample(self) -> dict[str, str]:
        """Method, treated unit, inference and the numbers of units and periods."""
        return {"Method": "placebo_in_space", "Inference": self.inference,
                "Units": f"{len(self.gaps):,}", "Treated units": "1",
                "Periods": f"{self.gaps.shape[1]}"}

    def plot(self, ax: Axes | None = None) -> Axes:
        """Histogram of the RMSPE ratios with the treated unit's; returns the Axes."""
        from evalmodel.plotting.synth import ratio_histogram

        return ratio_histogram(self, ax=ax)

    @property
    def n_kept(self) -> int:
        """Number of placebos kept for the effect-based inference."""
        return int(self.kept.sum())

    @property
    def p_value_rmspe_ratio(self) -> float:
        """The RMSPE-ratio rank p-value (Abadie, Diamond and Hainmueller 2010, Figure 8).

        The share of all units (treated included) whose post/pre RMSPE ratio is at least the
        treated unit's: a joint test over every post-period, with every placebo counted. It is
        not the ``p_value`` of :attr:`table`, which belongs to the effect-rank test that also
        gives the interval.
        """
        r = self.ratio
        return float((r >= r[self.treated]).sum() / len(r))

    @property
    def p_value_ratio(self) -> float:
        """Deprecated name of :attr:`p_value_rmspe_ratio`."""
        warnings.warn("PlaceboResult.p_value_ratio is deprecated; use p_value_rmspe_ratio (the "
                      "RMSPE-ratio rank p-value), which it equals.", DeprecationWarning,
                      stacklevel=2)
        return self.p_value_rmspe_ratio

    def placebo_effects(self) -> pd.DataFrame:
        """Kept placebos' effects: gaps in each post-period and their average (``average``)."""
        post = [c for c in self.gaps.columns if int(c) >= self.start]
        g = self.gaps.loc[self.kept.index[self.kept], post]
        out = g.copy()
        out.columns = [str(int(c)) for c in post]
        out["average"] = g.mean(axis=1)
        return out

    def _kept_rows(self) -> np.ndarray:
        """Positions in :attr:`gaps` of the kept placebos, in :attr:`kept`'s order."""
        return np.asarray(self.gaps.index.get_indexer(
            self.kept.index[self.kept.to_numpy(dtype=bool)]))

    def _effect_matrix(self, terms: Sequence[str]) -> np.ndarray:
        """``placebo_effects()[terms].to_numpy(dtype=float)`` without the frame: the kept
        placebos' gaps in the post-periods named by ``terms`` and, for ``"average"``, their
        sum over the post-periods taken period by period in order and divided by their
        number, as pandas' row mean of :meth:`placebo_effects` takes it; in column-major
        order, as ``to_numpy`` gives the frame (the same numbers and layout, bit for bit;
        tests/inference/test_placebo_gaps.py)."""
        cols = self.gaps.columns
        post = np.flatnonzero([int(c) >= self.start for c in cols])
        rows = self._kept_rows()
        if (rows < 0).any():  # a kept label missing from the gaps: the frame's KeyError
            return self.placebo_effects()[list(terms)].to_numpy(dtype=float)
        g = self.gaps.to_numpy(dtype=float)[np.ix_(rows, post)]
        at = {str(int(cols[int(c)])): i for i, c in enumerate(post)}
        out = np.empty((rows.size, len(terms)), order="F")  # the frame's layout, which
        for q, term in enumerate(terms):  # decides the order of the std's sums
            if term == "average":
                avg = g[:, 0].copy() if post.size else np.full(rows.size, np.nan)
                for i in range(1, post.size):
                    avg += g[:, i]
                out[:, q] = avg / post.size if post.size else avg
            else:
                out[:, q] = g[:, at[term]]
        return out

    def effect_table(self, index: Mapping[str, Sequence[Any]], estimate: np.ndarray, *,
                     conf_level: float) -> pd.DataFrame:
        """Effect-rank p-values and the intervals that invert the same test.

        Columns ``p_value``, ``ci_lower`` and ``ci_upper`` come from one test: the interval
        holds the effects ``tau`` with ``|est - tau| <= e_K`` (``e_K`` the ``K``-th largest
        absolute kept placebo effect), so it excludes 0 exactly when ``p_value <= 1 -
        conf_level``. ``std_error`` is the kept placebo effects' standard deviation.

        Parameters
        ----------
        index : mapping
            Index columns; ``index["term"]`` names post-periods and ``"average"``.
        estimate : ndarray
            The treated unit's effects in the same order.
        conf_level : float
            Coverage of the intervals.
        """
        eff = self._effect_matrix(list(index["term"]))
        return rank_effect_table(index, np.asarray(estimate, dtype=float), eff,
                                 conf_level=conf_level)

    def ratio_table(self) -> pd.DataFrame:
        """Units sorted by RMSPE ratio, with their MSPEs and whether they are the treated."""
        out = pd.DataFrame({"pre_mspe": self.pre_mspe, "post_mspe": self.post_mspe,
                            "ratio": self.ratio})
        out["treated"] = out.index == self.treated
        return out.sort_values("ratio", ascending=False)


def placebo_in_space(
    problem: SynthProblem,
    n_donors: int,
    fit: VFit,
    *,
    periods: np.ndarray,
    start: int,
    units: Sequence[str],
    max_pre_mspe_ratio: float = 5.0,
    conf_level: float = 0.95,
    n_jobs: int = 1,
) -> PlaceboResult:
    """Fit every donor as a placebo treated unit against the other donors.

    Parameters
    ----------
    problem : SynthProblem
        The fitted problem: donors are units ``0 .. n_donors - 1``, the treated unit is
        ``n_donors``.
    n_donors : int
        Number of donors.
    fit : VFit
        The treated unit's fit (its V starts each placebo's V optimisation).
    periods : ndarray
        Periods (columns of ``problem.y``).
    start : int
        First treated period.
    units : sequence of str
        Unit ids in the problem's order.
    max_pre_mspe_ratio : float
        Exclusion threshold for the effect-based inference.
    conf_level : float
        Coverage of the intervals of :attr:`PlaceboResult.table`.
    n_jobs : int
        Workers over which the placebo fits are spread (1, the default: this process; -1:
        every core), on joblib's current backend (``evalmodel.core.parallel``). Each fit
        is deterministic, so the result does not depend on it. Inside
        :func:`~evalmodel.inference.placebo_starts.placebo_starts` (the placebo study's
        synthetic control) the fits run in this process, each started from the unit's weights
        of the previous run (the same numbers, fewer solver steps).

    Returns
    -------
    PlaceboResult

    Raises
    ------
    EstimationError
        For a ``conf_level`` outside (0, 1) or an ``n_jobs`` that is not a non-zero integer.
    """
    check_conf_level("placebo_in_space", conf_level)
    n_jobs = check_n_jobs("placebo_in_space", n_jobs, EstimationError)
    donors = np.arange(n_donors)
    gaps = np.empty((n_donors + 1, problem.y.shape[1]))
    gaps[n_donors] = problem.gaps(n_donors, donors, fit.w)
    starts = active_starts()
    if starts is None and n_jobs == 1 and _fixed_v(problem):
        # V is not searched: every placebo's weights from one compiled call, each equal to
        # its own fit's bit for bit (the same cold start)
        gaps[:n_donors] = _gaps_of(problem, donors, _fixed_v_weights(problem, donors, None))
    elif starts is None:  # each placebo is its own nested optimisation
        gaps[:n_donors] = run_tasks(_placebo_gaps, [(problem, int(j), donors, fit.v)
                                                    for j in donors], n_jobs=n_jobs)
    else:
        gaps[:n_donors] = _shared_start_gaps(problem, donors, fit.v, units, starts)
    return PlaceboResult(**placebo_fields(gaps, periods=periods, start=start, units=units,
                                          max_pre_mspe_ratio=max_pre_mspe_ratio,
                                          conf_level=conf_level))


def placebo_fields(gaps: np.ndarray, *, periods: np.ndarray, start: int, units: Sequence[str],
                   max_pre_mspe_ratio: float, conf_level: float) -> dict[str, Any]:
    """The fields of a :class:`PlaceboResult` from every unit's gaps (donors' rows first, the
    treated unit's last): pre- and post-period MSPE, their ratio, and which placebos are kept
    (pre-MSPE within ``max_pre_mspe_ratio`` times the treated unit's).

    Parameters
    ----------
    gaps : ndarray, shape (J + 1, T)
        Each unit's outcome minus its own synthetic control.
    periods : ndarray
        The periods (columns).
    start : int
        First treated period.
    units : sequence of str
        Unit ids in the rows' order.
    max_pre_mspe_ratio : float
        The exclusion rule's multiple.
    conf_level : float
        Coverage of the intervals.
    """
    n_donors = gaps.shape[0] - 1
    pre = np.asarray(periods) < start
    pre_mspe = (gaps[:, pre] ** 2).mean(axis=1)
    post_mspe = (gaps[:, ~pre] ** 2).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sqrt(post_mspe / pre_mspe)
    idx = pd.Index(list(units), name="unit")
    kept = pre_mspe[:n_donors] <= max_pre_mspe_ratio * pre_mspe[n_donors]
    return dict(
        gaps=pd.DataFrame(gaps, index=idx, columns=periods),
        treated=str(units[n_donors]), start=int(start),
        pre_mspe=pd.Series(pre_mspe, index=idx, name="pre_mspe"),
        post_mspe=pd.Series(post_mspe, index=idx, name="post_mspe"),
        ratio=pd.Series(ratio, index=idx, name="ratio"),
        kept=pd.Series(kept, index=idx[:n_donors], name="kept"),
        max_pre_mspe_ratio=float(max_pre_mspe_ratio), conf_level=conf_level,
    )


def _shared_start_gaps(problem: SynthProblem, donors: np.ndarray, warm_v: np.ndarray,
                       units: Sequence[str], starts: PlaceboStarts) -> np.ndarray:
    """The placebo gaps of every donor, each fit started from the weights ``starts`` kept for
    it (:mod:`evalmodel.inference.placebo_starts`; the same numbers), keeping the new ones.
    With V fixed and unscaled predictors (the default outcome-path fit) every donor's weights
    come from one compiled call (:func:`~evalmodel.core.simplex_kernel.placebo_weights`)."""
    ids = [str(u) for u in units[:donors.size]]
    w0 = starts.starts(ids, problem.y[donors])
    if _fixed_v(problem):
        w = _fixed_v_weights(problem, donors, w0)
    else:
        w = np.zeros((donors.size, donors.size))
        for j in donors:
            pool = donors[donors != j]
            w[j, pool] = problem.fit(int(j), pool, warm_v=warm_v, warm_w=w0[j, pool]).w
    starts.keep(ids, problem.y[donors], w)
    return _gaps_of(problem, donors, w)


def _fixed_v(problem: SynthProblem) -> bool:
    """Whether a fit of ``problem`` takes V as given (a custom V or one predictor) on
    unscaled predictors, so that a placebo's weights are one inner solve."""
    return problem.x_train is None and not problem.scale and (
        problem.custom_v is not None or problem.x.shape[0] == 1)


def _fixed_v_weights(problem: SynthProblem, donors: np.ndarray, w0: np.ndarray | None
                     ) -> np.ndarray:
    """Every donor's weights on the other donors (row ``j``, zero at ``j``) at the fixed V of
    a :func:`_fixed_v` problem, in one compiled call
    (:func:`~evalmodel.core.simplex_kernel.placebo_weights`): row ``j`` equals
    ``problem.fit(j, others).w`` bit for bit, started from row ``j`` of ``w0`` (cold without
    it, as ``fit``)."""
    from evalmodel.core.simplex_kernel import placebo_weights

    v = np.ones(1) if problem.custom_v is None else np.asarray(problem.custom_v, dtype=float)
    return placebo_weights(problem.x[:, donors], problem.y[donors][:, problem.fit_cols].T,
                           v / v.sum(), w0)


def _gaps_of(problem: SynthProblem, donors: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each donor's gaps under its weights on the others (row ``j`` of ``w``): for donor
    ``j`` of ``donors = 0 .. J - 1``, ``problem.gaps(j, pool, w[j, pool])`` with ``pool``
    the other donors, the same product on the same numbers, so bit for bit. The pool's
    outcome rows are one array kept from donor to donor (donor ``j - 1`` takes the place
    of donor ``j``) instead of a copy of 285 rows per donor."""
    y = problem.y
    n = donors.size
    out = np.empty((n, y.shape[1]))
    pool_y = y[1:n].copy()  # donor 0's pool: donors 1 .. J - 1
    wrow = np.empty(n - 1)
    for j in range(n):
        if j:
            pool_y[j - 1] = y[j - 1]
        wrow[:j] = w[j, :j]
        wrow[j:] = w[j, j + 1:n]
        out[j] = y[j] - wrow @ pool_y
    return out


def _placebo_gaps(problem: SynthProblem, j: int, donors: np.ndarray, warm_v: np.ndarray
                  ) -> np.ndarray:
    """The gaps of donor ``j`` fitted against the other ``donors`` (V started at ``warm_v``)."""
    pool = donors[donors != j]
    pf = problem.fit(j, pool, warm_v=warm_v)
    return np.asarray(problem.gaps(j, pool, pf.w))


class SynthFit(Protocol):
    """What the re-fitting checks need of a synthetic control fit (:class:`evalmodel.SynthResult`).

    The estimator supplies :meth:`refit`, so this module never imports it (DESIGN.md, layers).
    """

    @property
    def details(self) -> Mapping[str, Any]: ...  # "call", "panel", "start"

    @property
    def weights(self) -> pd.Series: ...

    @property
    def paths(self) -> pd.DataFrame: ...

    @property
    def estimate(self) -> float: ...

    @property
    def pre_rmspe(self) -> float: ...

    @property
    def post_rmspe(self) -> float: ...

    def refit(self, **changes: Any) -> SynthFit:
        """The same synthetic control with some arguments changed, without inference."""
        ...


def _rerun(result: SynthFit, **changes: Any) -> tuple[SynthFit, str]:
    """Re-run the synthetic control of ``result`` with some arguments changed, quietly."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvexHullWarning)
        r = result.refit(**changes)
    hull = "; ".join(str(w.message) for w in caught if issubclass(w.category, ConvexHullWarning))
    return r, hull


def placebo_in_time(result: SynthFit, starts: Sequence[int] | None = None) -> pd.DataFrame:
    """Fake adoption dates inside the pre-period, using only pre-adoption data.

    Predictor triples are cut to the periods before each fake start (a triple with none left is
    dropped); ``fit_periods`` and ``training_predictors`` are reset to their defaults.

    Parameters
    ----------
    result : SynthResult
        A fitted synthetic control.
    starts : sequence of int, optional
        Fake first treated periods; by default every pre-period from the middle of the
        pre-window on (each fake fit keeps at least half the pre-periods).

    Returns
    -------
    pandas.DataFrame
        By fake start: ``estimate`` (average gap from the fake start to the real one),
        ``pre_rmspe``, ``post_rmspe``, ``ratio`` and ``note`` (hull warnings, dropped
        predictors).
    """
    panel = result.details["panel"]
    start = int(result.details["start"])
    pre = np.array([int(t) for t in panel.periods if t < start])
    if starts is None:
        starts = [int(t) for t in pre[max(2, pre.size // 2):]]
    elif isinstance(starts, str) or not isinstance(starts, Iterable):
        starts = [starts]
    starts = [check_period("placebo_in_time", "starts", s, panel.periods,
                           frequency=panel.frequency) for s in starts]
    rows = []
    sub = panel.select(periods=pre.tolist())
    for s in starts:
        if s not in set(pre.tolist()) or (pre < s).sum() < 2:
            raise EstimationError(
                f"placebo_in_time: fake start {period_label(s, panel.frequency)} must be a "
                f"pre-period with at least 2 periods before it "
                f"({period_span(int(pre[0]) + 2, int(pre[-1]), panel.frequency)})."
            )
        preds: list[Any] = []
        dropped: list[str] = []
        if result.details["call"]["predictors"] is not None:
            for p in result.details["call"]["predictors"]:
                if isinstance(p, str):
                    preds.append(p)
                    continue
                keep = [t for t in p[1] if t < s]
                if keep:
                    preds.append((p[0], keep, p[2]))
                else:
                    dropped.append(str(p[0]))
        r, hull = _rerun(result, panel=sub, start=int(s), predictors=preds or None,
                         fit_periods=None, training_predictors=None, custom_v=None)
        note = "; ".join(filter(None, [hull, f"dropped {dropped}" if dropped else ""]))
        rows.append({"start": int(s), "estimate": r.estimate, "pre_rmspe": r.pre_rmspe,
                     "post_rmspe": r.post_rmspe, "ratio": r.post_rmspe / r.pre_rmspe,
                     "note": note})
    return pd.DataFrame(rows).set_index("start")


def leave_one_out(result: SynthFit, *, min_weight: float = 1e-6) -> pd.DataFrame:
    """Re-fit without each donor whose weight exceeds ``min_weight``.

    Returns
    -------
    pandas.DataFrame
        Periods x left-out donors: the synthetic path without that donor (the average
        effects follow from :func:`leave_one_out_effects`).
    """
    donors = list(result.details["call"]["donors"])
    out = {}
    min_weight = check_number("leave_one_out", "min_weight", min_weight, minimum=0,
                              example=", e.g. min_weight=1e-6")
    for d in result.weights.index[result.weights > min_weight]:
        r, _ = _rerun(result, donors=[u for u in donors if u != d])
        out[str(d)] = r.paths["synthetic"]
    frame = pd.DataFrame(out)
    frame.columns.name = "left_out"
    return frame


def leave_one_out_effects(result: SynthFit, paths: pd.DataFrame) -> pd.Series:
    """Average post-period effect without each donor, from :func:`leave_one_out`'s paths."""
    post = paths.index >= int(result.details["start"])
    treated = result.paths["treated"].to_numpy()[post]
    effects = (treated[:, None] - paths.to_numpy()[post]).mean(axis=0)
    return pd.Series(effects, index=paths.columns, name="estimate")
