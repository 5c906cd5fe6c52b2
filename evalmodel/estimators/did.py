"""The canonical difference-in-differences estimators: the 2x2 comparison and two-way FE.

``did2x2`` compares the change from ``pre`` to ``post`` periods in treated units with the change
in comparison units, in means form (the four cell means) and regression form (the interaction
coefficient, which equals the means form exactly; :func:`evalmodel.core.ols.ols` computes it
and its cluster-robust or HC1 standard error as statsmodels' ``OLS``/``WLS`` does). ``twfe``
is the static two-way fixed-effects regression on a treatment indicator, fitted by the core's
two-way demeaning (:mod:`evalmodel.core.twfe_ols`), which reproduces linearmodels'
``PanelOLS`` to rounding (the tests compare them).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from evalmodel.core.ols import OlsFit, ols
from evalmodel.core.twfe_ols import TwfeFit, twfe_ols
from evalmodel.errors import EstimationError, EvalModelWarning
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    check_cohort_design,
    check_periods,
    check_pre_post,
    check_two_periods,
    column_frame,
    drop_missing,
    missing_cause,
    treated_indicator,
    unreachable_note,
    use_permutation,
    warn_few_clusters,
)
from evalmodel.estimators.seasonal import SeasonalStatistic, check_seasonal, seasonal_codes
from evalmodel.estimators.twfe_placebo import TwfeStatistic
from evalmodel.inference.permutation import (
    DiD2x2Statistic,
    PermutationResult,
    permutation_inference,
)
from evalmodel.months import month_labels
from evalmodel.panel import NEVER, Panel
from evalmodel.results import EstimateResult, Sample, inference_table
from evalmodel.vocabulary import (
    Cluster,
    DidInference,
    Seasonal,
    check_conf_level,
    check_names,
    check_seed,
    draws_argument,
)

__all__ = ["DidInference", "Inference", "did2x2", "twfe"]

#: The old name of :data:`~evalmodel.vocabulary.DidInference`.
Inference = DidInference

#: The columns of the 2x2 regression, in the order of ``details["fit"].params``.
TERMS_2X2 = ["const", "treated", "post", "treated:post"]


def _permute(
    fn: str,
    table: pd.DataFrame,
    panel: Panel,
    outcome: str,
    statistic: Callable[[Panel, Sequence[str]], float],
    *,
    treated: list[str],
    pool: list[str],
    n_draws: int | None,
    seed: int | None,
    conf_level: float,
    n_treated_clusters: int,
    auto: bool,
) -> tuple[pd.DataFrame, str, list[str], PermutationResult]:
    """Replace the headline row's inference by randomisation inference over ``pool``.

    With ``auto`` (``inference="auto"``) a pool too small to reach ``conf_level`` still gets
    the permutation test: its p-value is exact but cannot fall below the level, and the
    interval is the whole line, so the default keeps its size (cluster-robust errors, the
    alternative, over-reject with one treated cluster); a
    :class:`FewTreatedClustersWarning` and a note say so and name the fix. An explicit
    ``inference="permutation"`` raises instead.
    """
    with warnings.catch_warnings():  # placebo fits warn as the real fit already did
        warnings.simplefilter("ignore", EvalModelWarning)
        perm = permutation_inference(panel, outcome, statistic=statistic, treated=treated,
                                     pool=pool, n_draws=n_draws, seed=seed,
                                     conf_level=conf_level, allow_unreachable=auto)
    table = table.copy()
    row = table.index[0]
    fitted = float(table["estimate"].iloc[0])
    if abs(perm.estimate - fitted) > 1e-8 * max(1.0, abs(fitted)):
        raise EstimationError(f"{fn}: the permutation statistic ({perm.estimate!r}) does not "
                              f"reproduce the estimate ({fitted!r}).")
    table.loc[row, ["std_error", "ci_lower", "ci_upper", "p_value"]] = [
        float(np.std(perm.distribution, ddof=1)), perm.ci_lower, perm.ci_upper, perm.p_value]
    why = [(f"{n_treated_clusters} treated cluster(s), fewer than {MIN_TREATED_CLUSTERS}: "
            "cluster-robust errors are not valid (Conley and Taber 2011), so the p-value and "
            "interval of the headline row come from " + perm.describe() + "; its std_error is "
            "the standard deviation of the placebo estimates") if (
        n_treated_clusters < MIN_TREATED_CLUSTERS) else ("permutation inference asked for: "
                                                         + perm.describe())]
    if not perm.reaches_level:
        why.append(unreachable_note(fn, perm))
    kind = "exact" if perm.exact else f"{perm.n_draws} draws, seed {seed}"
    return table, f"permutation over {len(pool)} comparison units ({kind})", why, perm


def _cluster_codes(fn: str, df: pd.DataFrame, panel: Panel, cluster: Cluster) -> np.ndarray:
    col = panel.unit if cluster == "unit" else cluster
    if not isinstance(col, str) or col not in df.columns:
        raise EstimationError(
            f"{fn}: cluster={cluster!r} is not 'unit', None or a column of the panel "
            f"({[panel.unit, *panel.outcomes][:8]})."
        )
    return pd.factorize(df[col])[0]


def _units(fn: str, arg: str, units: Iterable[str] | None, panel: Panel) -> list[str] | None:
    if units is None:
        return None
    out = check_names(fn, arg, units)
    missing = [u for u in out if u not in set(panel.units)]
    if missing:
        raise EstimationError(
            f"{fn}: {arg} has units not in the panel ({missing[:5]}); unit ids are strings "
            "with leading zeros, e.g. '0580'."
        )
    return out


def did2x2(
    panel: Panel,
    outcome: str,
    *,
    pre: int | Sequence[int],
    post: int | Sequence[int],
    treated: Iterable[str] | None = None,
    control: Iterable[str] | None = None,
    cluster: Cluster = "unit",
    inference: DidInference = "auto",
    n_draws: int | None = None,
    seed: int | None = None,
    conf_level: float = 0.95,
    n_perm: int | None = None,
    seasonal: Seasonal = "none",
) -> EstimateResult:
    """The 2x2 difference-in-differences of ``outcome`` between ``pre`` and ``post`` periods.

    Parameters
    ----------
    panel : Panel
        The data. Without ``treated``, units with a cohort are treated.
    outcome : str
        The outcome variable.
    pre, post : int or sequence of int
        Periods averaged on each side of the comparison.
    treated, control : iterable of str, optional
        Treated and comparison units; by default the units with a cohort and the never-treated.
    cluster : "unit", column name or None
        Cluster of the robust standard error (None: heteroskedasticity-robust HC1).
    inference : {"auto", "analytic", "permutation"}
        ``"auto"`` (default): randomisation inference over the comparison units when there
        are fewer than 5 treated clusters (one treated municipality is one treated cluster,
        and cluster-robust errors are then not valid), else the analytic (cluster-robust or
        HC1) errors. When the comparison units are too few for the permutation test to
        reach ``conf_level`` (fewer than 19 for one treated unit at 95 %), ``"auto"`` still
        uses it: the p-value is exact, it cannot fall below the level, and the interval is
        the whole line, with a :class:`FewTreatedClustersWarning` naming the fix; so the
        default never over-rejects. ``"permutation"`` then raises :class:`EstimationError`.
        ``"analytic"`` with fewer than 5 treated clusters warns
        :class:`FewTreatedClustersWarning`.
    n_draws, seed : int, optional
        Permutation inference uses every placebo assignment when there are at most
        ``n_draws`` (default 10,000), else that many drawn with ``seed``.
    conf_level : float
        Coverage of the interval (t with clusters - 1 degrees of freedom when clustered).
    n_perm : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).
    seasonal : {"none", "unit"}
        On a monthly panel, ``"unit"`` compares each month with the same calendar month: the
        estimate is the coefficient on ``treated x post`` in the regression with
        unit-by-calendar-month and period (month) effects on the treated and comparison
        units' ``pre`` and ``post`` months, a precision-weighted average of the twelve
        calendar-month DiDs (``evalmodel.estimators.seasonal``); its analytic errors are
        those of :func:`twfe` (clustered by unit by default). ``"common"`` is refused: the
        2x2 difference already removes calendar-month effects common to both groups.

    Returns
    -------
    EstimateResult
        One row, term ``"att"``; ``details["cell_means"]`` holds the 2x2 means,
        ``details["fit"]`` the regression (an :class:`~evalmodel.core.ols.OlsFit` on the
        columns ``const, treated, post, treated:post``, with ``params``, ``std_errors``,
        ``cov`` and ``to_statsmodels()`` for statsmodels' results object; with
        ``seasonal="unit"`` a :class:`~evalmodel.core.twfe_ols.TwfeFit`) and, with
        permutation inference, ``details["permutation"]`` the placebo distribution.

    Examples
    --------
    >>> import evalmodel as em
    >>> from evalmodel.data.simulate import simple_panel
    >>> df, truth = simple_panel(seed=1)
    >>> p = em.Panel(df, unit="unit", time="time", cohort="cohort")
    >>> r = em.did2x2(p, "y", pre=[3, 4, 5], post=[6, 7, 8])
    >>> round(r.estimate, 2)
    0.93
    """
    fn = "did2x2"
    n_draws = draws_argument(fn, n_draws, default=None, n_perm=n_perm)
    check_seed(fn, seed)
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    pre_p = check_periods(fn, "pre", pre, panel)
    post_p = check_periods(fn, "post", post, panel)
    check_pre_post(fn, pre_p, post_p, panel.frequency)
    use_seasonal = check_seasonal(fn, seasonal, panel)
    if use_seasonal and not set(np.mod(pre_p, 12)) & set(np.mod(post_p, 12)):
        raise EstimationError(
            f"{fn}: seasonal='unit' compares each month with the same calendar month, and the "
            "pre and post months share no calendar month; pick windows that do (e.g. the 12 "
            "months before and after adoption)."
        )
    cohorts = panel.cohorts()
    t_units = _units(fn, "treated", treated, panel)
    if t_units is None:
        t_units = sorted(cohorts.index[cohorts != NEVER])
        early = cohorts[t_units][cohorts[t_units] <= max(pre_p)]
        if len(early):
            raise EstimationError(
                f"{fn}: pre={pre_p} reaches the first treated period of {len(early)} treated "
                f"unit(s) (e.g. {early.index[0]!r}, cohort {int(early.iloc[0])}); pre periods "
                "must come before adoption: pick earlier pre periods or pass treated=[...]."
            )
    c_units = _units(fn, "control", control, panel)
    if c_units is None:
        c_units = sorted(set(cohorts.index[cohorts == NEVER]) - set(t_units))
    if not t_units or not c_units:
        side = "treated" if not t_units else "comparison"
        raise EstimationError(
            f"{fn}: there are no {side} units; set the panel's cohort role or pass "
            "treated=[...] and control=[...]."
        )
    if set(t_units) & set(c_units):
        raise EstimationError(f"{fn}: units {sorted(set(t_units) & set(c_units))[:5]} are both "
                              "treated and control.")
    df = panel.data
    df = df[df[panel.unit].isin(t_units + c_units) & df[panel.time].isin(pre_p + post_p)]
    df, notes = drop_missing(fn, df, [outcome])
    treat = df[panel.unit].isin(t_units).to_numpy(float)
    after = df[panel.time].isin(post_p).to_numpy(float)
    for flag, name in ((treat, "treated"), (1 - treat, "comparison")):
        for a, side in ((after, "post"), (1 - after, "pre")):
            if not (flag * a).any():
                raise EstimationError(f"{fn}: no non-missing {name} observations in the {side} "
                                      "periods; check pre/post and the outcome.")
    X = np.column_stack([np.ones(len(df)), treat, after, treat * after])
    w = df[panel.weight].to_numpy() if panel.weight else None
    y = df[outcome].to_numpy()
    n_treated_clusters: int | None = None
    fit: OlsFit | TwfeFit
    if cluster is None:
        fit = (_seasonal_2x2(fn, panel, df, outcome, treat * after, None) if use_seasonal else
               ols(y, X, weights=w, names=TERMS_2X2, fn=fn))
        dof: float | None = None
        how = "heteroskedasticity-robust" + ("" if use_seasonal else " (HC1)")
        n_clusters = None
    else:
        groups = _cluster_codes(fn, df, panel, cluster)
        fit = (_seasonal_2x2(fn, panel, df, outcome, treat * after, groups) if use_seasonal
               else ols(y, X, weights=w, cluster=groups, names=TERMS_2X2, fn=fn))
        n_clusters = int(groups.max()) + 1
        n_treated_clusters = len(np.unique(groups[treat == 1]))
        dof = n_clusters - 1
        how = f"cluster-robust by {cluster} ({n_clusters} clusters), t({dof})"
        if not use_permutation(fn, inference, n_treated_clusters):
            notes += warn_few_clusters(fn, n_treated_clusters)
    cells = (
        pd.DataFrame({"group": np.where(treat == 1, "treated", "comparison"),
                      "period": np.where(after == 1, "post", "pre"),
                      "y": df[outcome].to_numpy(), "w": 1.0 if w is None else w})
        .assign(wy=lambda d: d["y"] * d["w"])
        .groupby(["group", "period"])[["wy", "w"]].sum()
    )
    means = (cells["wy"] / cells["w"]).unstack("period")[["pre", "post"]]
    means["change"] = means["post"] - means["pre"]
    est, se = ((fit.params[0], fit.std_errors[0]) if isinstance(fit, TwfeFit) else
               (fit.params[3], fit.std_errors[3]))
    table = inference_table({"term": ["att"]}, [est], [se], conf_level=conf_level, df=dof)
    details: dict[str, object] = {"cell_means": means, "fit": fit,
                                  "n_treated_clusters": n_treated_clusters}
    n_tc = n_treated_clusters if n_treated_clusters is not None else len(t_units)
    if use_permutation(fn, inference, n_tc):
        sub = panel.select(units=t_units + c_units, periods=pre_p + post_p)
        cells_full = sub.data[outcome].notna().all() and sub.is_balanced and w is None
        statistic: Callable[[Panel, Sequence[str]], float] = (
            (SeasonalStatistic(outcome, start=min(post_p)) if use_seasonal else
             DiD2x2Statistic(outcome, pre=pre_p, post=post_p)) if cells_full else
            lambda p, t: did2x2(p, outcome, pre=pre_p, post=post_p, treated=t,
                                control=[u for u in p.units if u not in set(t)],
                                cluster=None, inference="analytic",
                                seasonal=seasonal).estimate)
        table, how, why, details["permutation"] = _permute(
            fn, table, sub, outcome, statistic, treated=t_units, pool=c_units, n_draws=n_draws,
            seed=seed, conf_level=conf_level, n_treated_clusters=n_tc,
            auto=inference == "auto")
        notes += why
    sample = Sample(
        n_obs=len(df), n_units=int(df[panel.unit].nunique()),
        n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
        periods=tuple(sorted(pre_p + post_p)), n_clusters=n_clusters,
        frequency=panel.frequency,
    )
    shown = ((month_labels(pre_p), month_labels(post_p)) if panel.frequency == "month" else
             (pre_p, post_p))  # a monthly panel's periods by their labels, as outside
    notes.insert(0, f"pre periods {shown[0]}, post periods {shown[1]}; {len(c_units)} "
                    "comparison units")
    if use_seasonal:
        notes.insert(1, "seasonal='unit': unit-by-calendar-month and month effects, each month "
                        "compared with the same calendar month")
    return EstimateResult(
        method="did2x2", outcome=outcome, table=table, inference=how, sample=sample,
        conf_level=conf_level, overall_term="att", notes=tuple(notes), details=details,
    )


def _fit_twoway(fn: str, panel: Panel, df: pd.DataFrame, outcome: str, terms: list[str],
                ucode: np.ndarray, tcode: np.ndarray, cluster: np.ndarray | None,
                blocks: np.ndarray | None = None) -> TwfeFit:
    """The regression of ``outcome`` on ``terms`` (``"treated"`` read from ``_treated``) with
    unit and period effects, by the core's two-way demeaning: the estimates, covariance and
    small-sample factor of linearmodels' ``PanelOLS`` (tests/estimators/test_twfe_fast.py)."""
    if panel.group is not None:
        raise EstimationError(
            f"{fn}: the panel has a group role ({panel.group!r}), so a unit has several rows per "
            "period; the unit and period effects need one row per unit and period: build the "
            "Panel from one group's rows or aggregate the groups first."
        )
    w = None if panel.weight is None else df[panel.weight].to_numpy(float)  # positive (Panel)
    x = np.column_stack([df["_treated" if t == "treated" else t].to_numpy(float)
                         for t in terms])
    if cluster is not None and cluster.min() < 0:  # missing cluster ids: one cluster, as before
        cluster = cluster + 1
    return twfe_ols(df[outcome].to_numpy(float), x, ucode, tcode, weights=w, cluster=cluster,
                    names=terms, fn=fn, blocks=blocks)


def _seasonal_2x2(fn: str, panel: Panel, df: pd.DataFrame, outcome: str, d: np.ndarray,
                  cluster: np.ndarray | None) -> TwfeFit:
    """``did2x2(seasonal="unit")``: the coefficient on ``d`` (treated x post) with
    unit-by-calendar-month and month effects, on the rows of ``df``."""
    periods = df[panel.time].to_numpy(np.int64)
    scode, block = seasonal_codes(pd.factorize(df[panel.unit])[0], periods)
    return _fit_twoway(fn, panel, df.assign(_treated=d), outcome, ["treated"], scode,
                       pd.factorize(periods)[0], cluster, blocks=block)


def twfe(
    panel: Panel,
    outcome: str,
    *,
    covariates: Sequence[str] | None = None,
    treatment: str | None = None,
    cluster: Cluster = "unit",
    inference: DidInference = "auto",
    n_draws: int | None = None,
    seed: int | None = None,
    conf_level: float = 0.95,
    n_perm: int | None = None,
    seasonal: Seasonal = "none",
) -> EstimateResult:
    """Static two-way fixed effects: ``y_it = a_i + g_t + b D_it + x_it'c + e_it``.

    ``D_it`` is 1 from a unit's cohort on (or the 0/1 column ``treatment``). Fitted with unit
    and time effects and the panel's weights by two-way demeaning on integer codes
    (:func:`evalmodel.core.twfe_ols.twfe_ols`: closed form on a balanced panel, an exact
    solve otherwise); estimates, standard errors and their small-sample factor are those of
    linearmodels ``PanelOLS``.

    Parameters
    ----------
    panel : Panel
        The data, with a cohort role unless ``treatment`` is given.
    outcome : str
        The outcome variable.
    covariates : sequence of str, optional
        Time-varying controls.
    treatment : str, optional
        A 0/1 column to use instead of the cohort-based indicator.
    cluster : "unit", column name or None
        Cluster of the robust standard error (None: heteroskedasticity-robust).
    inference : {"auto", "analytic", "permutation"}
        As in :func:`did2x2`: with fewer than 5 treated clusters the headline row's p-value
        and interval come from randomisation inference over the never-treated units, also
        when they are too few to reach ``conf_level`` (the interval is then the whole line).
    n_draws, seed : int, optional
        Number of placebo assignments (default: all, up to 10,000) and their seed.
    conf_level : float
        Coverage of the intervals (normal, as linearmodels reports).
    n_perm : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).
    seasonal : {"none", "unit"}
        On a monthly panel, ``"unit"`` replaces the unit effects by unit-by-calendar-month
        effects ``a_{i,m(t)}`` (each unit its own seasonal profile; they nest the unit
        effects) beside the period effects, so each month is compared with the same calendar
        month (``evalmodel.estimators.seasonal``). Clustering (by unit by default) and
        the permutation inference are unchanged; the small-sample factor counts the effects
        by their rank, ``12 * n_units + n_periods - 12``. ``"common"`` is refused: the period
        effects absorb calendar-month effects common to all units.

    Returns
    -------
    EstimateResult
        Rows for ``"treated"`` (the headline) and each covariate; ``details["fit"]`` holds the
        :class:`~evalmodel.core.twfe_ols.TwfeFit` (coefficients, covariance, residuals).

    Notes
    -----
    With staggered adoption and effects that change over time this regression is a weighted
    average of 2x2 comparisons, some with negative weights (Goodman-Bacon 2021); use the
    heterogeneity-robust estimators then.
    """
    fn = "twfe"
    n_draws = draws_argument(fn, n_draws, default=None, n_perm=n_perm)
    check_seed(fn, seed)
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    check_two_periods(fn, panel)
    use_seasonal = check_seasonal(fn, seasonal, panel)
    covariates = check_names(fn, "covariates", covariates or [], what="variable",
                             allow_empty=True)
    for c in covariates:
        if c not in panel.outcomes:
            raise EstimationError(f"{fn}: covariate {c!r} is not a variable of the panel "
                                  f"({panel.outcomes[:8]}).")
    df = column_frame(panel, [panel.time, panel.cohort, panel.weight, outcome, *covariates,
                              treatment, None if cluster == "unit" else cluster])  # no copy
    if treatment is not None:
        panel.check_outcome(treatment)
        d = df[treatment].to_numpy(float)
        if not np.isin(d[~np.isnan(d)], [0.0, 1.0]).all():
            raise EstimationError(f"{fn}: treatment column {treatment!r} must hold only 0 and 1.")
    else:
        d = treated_indicator(df, panel)
    df["_treated"] = d  # df is this function's own frame: no copy of the others
    del d  # copied into df
    treated_rows = (df["_treated"] == 1).to_numpy()
    if treatment is None:
        check_cohort_design(fn, panel)
    full = df
    df, notes = drop_missing(fn, df, [outcome, "_treated", *covariates])
    if treated_rows.any() and not (df["_treated"] == 1).any():
        raise EstimationError(
            f"{fn}: every treated row has a missing value, so no treated observation is left: "
            f"{missing_cause(full, treated_rows, outcome, covariates)}; fill those values or "
            "leave that covariate out."
        )
    for c in covariates:
        if df[c].nunique() <= 1:
            raise EstimationError(f"{fn}: covariate {c!r} is constant ({df[c].iloc[0]!r}); "
                                  "leave it out: the fixed effects absorb constants.")
    if df["_treated"].nunique() < 2:
        raise EstimationError(f"{fn}: the treatment indicator does not vary; check the cohorts.")
    terms = ["treated", *covariates]
    ucode, unit_ids = panel.unit_codes()
    if len(df) < len(ucode):  # df keeps the row labels of panel.data (0..n-1)
        ucode = ucode[df.index.to_numpy()]
    tcode = np.searchsorted(panel.periods, df[panel.time].to_numpy())
    treated_unit = np.bincount(ucode[df["_treated"].to_numpy() == 1],
                               minlength=len(unit_ids)) > 0
    treated_units = sorted(unit_ids[treated_unit].tolist())
    n_clusters = None
    n_tc = len(treated_units)
    cluster_codes = None
    if cluster is not None:
        cluster_codes = (ucode if cluster == "unit" else
                         _cluster_codes(fn, df, panel, cluster))
    fit_codes, blocks = (seasonal_codes(ucode, df[panel.time].to_numpy(np.int64))
                         if use_seasonal else (ucode, None))
    fit = _fit_twoway(fn, panel, df, outcome, terms, fit_codes, tcode, cluster_codes,
                      blocks=blocks)
    if cluster is None:
        how = "heteroskedasticity-robust"
    else:
        assert cluster_codes is not None and fit.n_clusters is not None
        n_clusters = (fit.n_clusters if cluster == "unit" else  # as counted before: without
                      int(cluster_codes.max()) + 1)             # a missing-value cluster (-1)
        how = f"cluster-robust by {cluster} ({n_clusters} clusters)"
        n_tc = int((np.bincount(cluster_codes[treated_unit[ucode]] + 1) > 0).sum())
        if not use_permutation(fn, inference, n_tc):
            notes += warn_few_clusters(fn, n_tc)
    table = inference_table({"term": terms}, fit.params, fit.std_errors,
                            conf_level=conf_level)
    details: dict[str, object] = {"fit": fit}
    if use_seasonal:
        notes.insert(0, "seasonal='unit': unit-by-calendar-month effects in place of the unit "
                        "effects, with period effects")
    if use_permutation(fn, inference, n_tc):
        if treatment is not None:
            raise EstimationError(f"{fn}: permutation inference needs the cohort role, not a "
                                  "treatment column; pass inference='analytic'.")
        cohorts = panel.cohorts()
        pool = sorted(cohorts.index[cohorts == NEVER])
        starts = sorted(set(cohorts[treated_units]))
        sub = panel.select(units=treated_units + pool)
        one_start = len(starts) == 1 and panel.weight is None
        statistic: Callable[[Panel, Sequence[str]], float] = (
            SeasonalStatistic(outcome, start=starts[0]) if use_seasonal and one_start
            and not covariates and sub.is_balanced and sub.data[outcome].notna().all() else
            TwfeStatistic(outcome, start=starts[0], covariates=covariates)
            if one_start and not use_seasonal else
            lambda p, _t: twfe(p, outcome, covariates=covariates, cluster=None,
                               inference="analytic", seasonal=seasonal).estimate)
        table, how, why, details["permutation"] = _permute(
            fn, table, sub, outcome, statistic, treated=treated_units, pool=pool,
            n_draws=n_draws, seed=seed, conf_level=conf_level, n_treated_clusters=n_tc,
            auto=inference == "auto")
        notes += why
    periods = panel.periods[np.bincount(tcode, minlength=len(panel.periods)) > 0]
    sample = Sample(
        n_obs=fit.nobs, n_units=len(np.unique(ucode)) if use_seasonal else fit.n_units,
        n_periods=len(periods),
        treated_units=tuple(treated_units), periods=tuple(int(p) for p in periods),
        n_clusters=n_clusters, frequency=panel.frequency,
    )
    return EstimateResult(
        method="twfe", outcome=outcome, table=table, inference=how, sample=sample,
        conf_level=conf_level, overall_term="treated", notes=tuple(notes), details=details,
    )
