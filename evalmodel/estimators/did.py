"""The canonical difference-in-differences estimators: the 2x2 comparison and two-way FE.

``did2x2`` compares the change from ``pre`` to ``post`` periods in treated units with the change
in comparison units, in means form (the four cell means) and regression form (the interaction
coefficient, which equals the means form exactly; statsmodels computes the cluster-robust
standard error). ``twfe`` is the static two-way fixed-effects regression on a treatment
indicator, fitted by linearmodels' ``PanelOLS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from linearmodels.panel import PanelOLS

from evalmodel.errors import EstimationError
from evalmodel.estimators._common import (
    check_conf_level,
    check_periods,
    drop_missing,
    treated_indicator,
    warn_few_clusters,
)
from evalmodel.panel import NEVER, Panel
from evalmodel.results import EstimateResult, Sample, inference_table

__all__ = ["did2x2", "twfe"]

Cluster = Literal["unit"] | str | None


def _cluster_codes(fn: str, df: pd.DataFrame, panel: Panel, cluster: Cluster) -> np.ndarray:
    col = panel.unit if cluster == "unit" else cluster
    if col is None or col not in df.columns:
        raise EstimationError(
            f"{fn}: cluster={cluster!r} is not 'unit', None or a column of the panel "
            f"({[panel.unit, *panel.outcomes][:8]})."
        )
    return pd.factorize(df[col])[0]


def _units(fn: str, arg: str, units: Iterable[str] | None, panel: Panel) -> list[str] | None:
    if units is None:
        return None
    if isinstance(units, str):
        units = [units]
    out = [str(u) for u in units]
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
    conf_level: float = 0.95,
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
    conf_level : float
        Coverage of the interval (t with clusters - 1 degrees of freedom when clustered).

    Returns
    -------
    EstimateResult
        One row, term ``"att"``; ``details["cell_means"]`` holds the 2x2 means and
        ``details["fit"]`` the statsmodels regression.

    Examples
    --------
    >>> import evalmodel as em
    >>> from evalmodel.data.simulate import simple_panel
    >>> df, truth = simple_panel(seed=1)
    >>> p = em.Panel(df, unit="unit", time="time", cohort="cohort")
    >>> r = em.did2x2(p, "y", pre=[3, 4, 5], post=[6, 7, 8])
    >>> round(r.estimate, 2)
    1.13
    """
    fn = "did2x2"
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    pre_p = check_periods(fn, "pre", pre, panel)
    post_p = check_periods(fn, "post", post, panel)
    if set(pre_p) & set(post_p):
        raise EstimationError(
            f"{fn}: pre and post share periods {sorted(set(pre_p) & set(post_p))}; "
            "they must be disjoint."
        )
    cohorts = panel.cohorts()
    t_units = _units(fn, "treated", treated, panel)
    if t_units is None:
        t_units = sorted(cohorts.index[cohorts != NEVER])
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
    model = sm.WLS(df[outcome].to_numpy(), X, weights=w) if w is not None else sm.OLS(
        df[outcome].to_numpy(), X)
    n_treated_clusters: int | None = None
    if cluster is None:
        fit = model.fit(cov_type="HC1")
        dof: float | None = None
        inference = "heteroskedasticity-robust (HC1)"
        n_clusters = None
    else:
        groups = _cluster_codes(fn, df, panel, cluster)
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        n_clusters = int(groups.max()) + 1
        n_treated_clusters = len(np.unique(groups[treat == 1]))
        dof = n_clusters - 1
        inference = f"cluster-robust by {cluster} ({n_clusters} clusters), t({dof})"
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
    table = inference_table({"term": ["att"]}, [fit.params[3]], [fit.bse[3]],
                            conf_level=conf_level, df=dof)
    sample = Sample(
        n_obs=len(df), n_units=int(df[panel.unit].nunique()),
        n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
        periods=tuple(sorted(pre_p + post_p)), n_clusters=n_clusters,
    )
    notes.insert(0, f"pre periods {pre_p}, post periods {post_p}; {len(c_units)} comparison units")
    return EstimateResult(
        method="did2x2", outcome=outcome, table=table, inference=inference, sample=sample,
        conf_level=conf_level, overall_term="att", notes=tuple(notes),
        details={"cell_means": means, "fit": fit, "n_treated_clusters": n_treated_clusters},
    )


def twfe(
    panel: Panel,
    outcome: str,
    *,
    covariates: Sequence[str] | None = None,
    treatment: str | None = None,
    cluster: Cluster = "unit",
    conf_level: float = 0.95,
) -> EstimateResult:
    """Static two-way fixed effects: ``y_it = a_i + g_t + b D_it + x_it'c + e_it``.

    ``D_it`` is 1 from a unit's cohort on (or the 0/1 column ``treatment``). Fitted by
    linearmodels ``PanelOLS`` with unit and time effects and the panel's weights.

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
    conf_level : float
        Coverage of the intervals (normal, as linearmodels reports).

    Returns
    -------
    EstimateResult
        Rows for ``"treated"`` (the headline) and each covariate; ``details["fit"]`` holds the
        linearmodels result.

    Notes
    -----
    With staggered adoption and effects that change over time this regression is a weighted
    average of 2x2 comparisons, some with negative weights (Goodman-Bacon 2021); use the
    heterogeneity-robust estimators then.
    """
    fn = "twfe"
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    covariates = list(covariates or [])
    for c in covariates:
        if c not in panel.outcomes:
            raise EstimationError(f"{fn}: covariate {c!r} is not a variable of the panel "
                                  f"({panel.outcomes[:8]}).")
    df = panel.data
    if treatment is not None:
        panel.check_outcome(treatment)
        d = df[treatment].to_numpy(float)
        if not np.isin(d[~np.isnan(d)], [0.0, 1.0]).all():
            raise EstimationError(f"{fn}: treatment column {treatment!r} must hold only 0 and 1.")
    else:
        d = treated_indicator(df, panel)
    df = df.assign(_treated=d)
    df, notes = drop_missing(fn, df, [outcome, "_treated", *covariates])
    for c in covariates:
        if df[c].nunique() <= 1:
            raise EstimationError(f"{fn}: covariate {c!r} is constant ({df[c].iloc[0]!r}); "
                                  "leave it out: the fixed effects absorb constants.")
    if df["_treated"].nunique() < 2:
        raise EstimationError(f"{fn}: the treatment indicator does not vary; check the cohorts.")
    idx = pd.MultiIndex.from_arrays([df[panel.unit], df[panel.time]])
    y = pd.Series(df[outcome].to_numpy(), index=idx, name=outcome)
    X = pd.DataFrame(df[["_treated", *covariates]].to_numpy(), index=idx,
                     columns=["treated", *covariates])
    weights = pd.Series(df[panel.weight].to_numpy(), index=idx) if panel.weight else None
    model = PanelOLS(y, X, entity_effects=True, time_effects=True, weights=weights,
                     drop_absorbed=False, check_rank=True)
    treated_units = sorted(df.loc[df["_treated"] == 1, panel.unit].unique())
    n_clusters = None
    if cluster is None:
        fit = model.fit(cov_type="robust")
        inference = "heteroskedasticity-robust"
    else:
        codes = _cluster_codes(fn, df, panel, cluster)
        clusters = pd.DataFrame({"c": codes}, index=idx)
        fit = model.fit(cov_type="clustered", clusters=clusters)
        n_clusters = int(codes.max()) + 1
        inference = f"cluster-robust by {cluster} ({n_clusters} clusters)"
        notes += warn_few_clusters(
            fn, len(np.unique(codes[df[panel.unit].isin(treated_units).to_numpy()])))
    terms = ["treated", *covariates]
    table = inference_table({"term": terms}, fit.params[terms].to_numpy(),
                            fit.std_errors[terms].to_numpy(), conf_level=conf_level)
    sample = Sample(
        n_obs=int(fit.nobs), n_units=int(df[panel.unit].nunique()),
        n_periods=int(df[panel.time].nunique()), treated_units=tuple(treated_units),
        periods=tuple(int(p) for p in sorted(df[panel.time].unique())), n_clusters=n_clusters,
    )
    return EstimateResult(
        method="twfe", outcome=outcome, table=table, inference=inference, sample=sample,
        conf_level=conf_level, overall_term="treated", notes=tuple(notes),
        details={"fit": fit},
    )
