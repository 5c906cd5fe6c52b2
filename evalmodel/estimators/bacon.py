"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD estimate.

With a balanced panel and an absorbing binary treatment, the TWFE coefficient on ``D_it`` is
a weighted average of every 2x2 DiD between timing groups (Goodman-Bacon 2021, Theorem 1):

* treated vs never treated (``k`` vs ``U``), over all periods;
* earlier vs later treated (``k`` treated, ``l`` not yet), before ``l`` adopts;
* later vs earlier treated (``l`` treated, ``k`` already treated), after ``k`` adopts; the
  "forbidden" comparisons that bias TWFE when effects change over time;
* treated vs always treated (units treated in the first period), over all periods.

With group shares ``n_k`` and treated-period shares ``D_k``, the weights are proportional to
``(n_k + n_U)^2 n_kU (1 - n_kU) D_k (1 - D_k)``,
``((n_k + n_l)(1 - D_l))^2 n_kl (1 - n_kl) (D_k - D_l)/(1 - D_l) (1 - D_k)/(1 - D_l)`` and
``((n_k + n_l) D_k)^2 n_kl (1 - n_kl) D_l/D_k (D_k - D_l)/D_k`` and sum to one; the weighted
sum of the 2x2 estimates equals the TWFE estimate exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Sample, inference_table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["BaconResult", "bacon"]

TYPES = ("Treated vs Never Treated", "Earlier vs Later Treated", "Later vs Earlier Treated",
         "Treated vs Always Treated")


@dataclass(frozen=True)
class BaconResult(EstimateResult):
    """The 2x2 comparisons (rows: ``type``, ``treated``, ``control``, ``estimate``, ``weight``)
    and, last, the ``"twfe"`` row holding their weighted sum."""

    @property
    def comparisons(self) -> pd.DataFrame:
        """The 2x2 comparisons without the TWFE row."""
        return self.table[self.table["term"] != "twfe"].reset_index(drop=True)

    @property
    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted mean estimate of each comparison type."""
        c = self.comparisons
        out = c.assign(we=c["weight"] * c["estimate"]).groupby("type", sort=False)[
            ["weight", "we"]].sum()
        out["estimate"] = out["we"] / out["weight"]
        return out[["weight", "estimate"]].reset_index()

    def plot(self, ax: Axes | None = None) -> Axes:
        """Scatter of 2x2 estimates against their weights, by type; returns the Axes."""
        from evalmodel.plotting.staggered import bacon_plot

        return bacon_plot(self, ax=ax)


def _did(m: np.ndarray, a: int, b: int, pre: np.ndarray, post: np.ndarray) -> float:
    """2x2 DiD of group ``a`` against ``b`` from group-by-period means ``m``."""
    return float((m[a, post].mean() - m[a, pre].mean()) - (m[b, post].mean() - m[b, pre].mean()))


def bacon(panel: Panel, outcome: str) -> BaconResult:
    """Decompose the TWFE DiD estimate into its 2x2 comparisons.

    Parameters
    ----------
    panel : Panel
        A balanced panel with a cohort role (0 = never treated).
    outcome : str
        The outcome; it must have no missing values.

    Returns
    -------
    BaconResult

    Raises
    ------
    EstimationError
        For an unbalanced panel or missing outcome values, no cohort role, or fewer than two
        timing groups.
    """
    fn = "bacon"
    panel.check_outcome(outcome)
    if panel.cohort is None:
        raise EstimationError(
            f"{fn}: the panel has no cohort role; build it with Panel(..., cohort=...)."
        )
    y = panel.wide(outcome)
    periods = np.asarray(y.columns, dtype=np.int64)
    holes = y.isna().any(axis=1)
    if holes.any():
        raise EstimationError(
            f"{fn}: the panel is unbalanced: {int(holes.sum())} units lack some periods or "
            f"values of {outcome!r} (e.g. {holes.index[holes.to_numpy()][0]!r}); the "
            "decomposition needs a balanced panel: keep complete units with "
            "panel.select(units=...) or use att_gt, which handles this."
        )
    cohort = panel.cohorts().reindex(y.index).to_numpy()
    timing = np.where((cohort > 0) & (cohort <= periods[0]), periods[0], cohort)
    groups, code = np.unique(timing, return_inverse=True)
    if len(groups) < 2 or not (groups > 0).any():
        raise EstimationError(
            f"{fn}: the decomposition needs treated units and at least two timing groups; "
            f"the panel has cohorts {groups.tolist()}."
        )
    yv = y.to_numpy(float)
    means = np.zeros((len(groups), len(periods)))
    np.add.at(means, code, yv)
    share = np.bincount(code) / len(code)
    means /= np.bincount(code)[:, None]
    dbar = np.array([0.0 if g == 0 else float(np.mean(periods >= g)) for g in groups])
    rows: list[tuple[str, int, int, float, float]] = []
    always = groups == periods[0]
    treated = [i for i, g in enumerate(groups) if g > 0 and not always[i]]
    for k in treated:
        post_k = periods >= groups[k]
        for u in range(len(groups)):
            if groups[u] == 0 or always[u]:
                nk = share[k] / (share[k] + share[u])
                if groups[u] == 0:
                    w = (share[k] + share[u]) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k])
                    rows.append((TYPES[0], k, u, _did(means, k, u, ~post_k, post_k), w))
                else:
                    w = (share[k] + share[u]) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k])
                    rows.append((TYPES[3], k, u, _did(means, k, u, ~post_k, post_k), w))
        for j in treated:
            if groups[j] <= groups[k]:
                continue
            post_l = periods >= groups[j]
            nkl = share[k] / (share[k] + share[j])
            dk, dl = dbar[k], dbar[j]
            w_early = (((share[k] + share[j]) * (1 - dl)) ** 2 * nkl * (1 - nkl)
                       * (dk - dl) / (1 - dl) * (1 - dk) / (1 - dl))
            win = ~post_l
            rows.append((TYPES[1], k, j, _did(means, k, j, win & ~post_k, win & post_k),
                         w_early))
            w_late = ((share[k] + share[j]) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * (
                (dk - dl) / dk)
            win = post_k
            rows.append((TYPES[2], j, k, _did(means, j, k, win & ~post_l, win & post_l),
                         w_late))
    tab = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    tab["weight"] /= tab["weight"].sum()
    total = float(tab["weight"].to_numpy(float) @ tab["estimate"].to_numpy(float))
    label = {i: int(g) for i, g in enumerate(groups)}
    index: dict[str, Any] = {
        "term": [*(f"{t}: {label[a]} vs {label[b]}" for t, a, b in
                   tab[["type", "treated", "control"]].itertuples(index=False)), "twfe"],
        "type": [*tab["type"], "TWFE (weighted sum)"],
        "treated": pd.array([*(label[a] for a in tab["treated"]), None], dtype="Int64"),
        "control": pd.array([*(label[b] for b in tab["control"]), None], dtype="Int64"),
    }
    table = inference_table(index, [*tab["estimate"], total], np.full(len(tab) + 1, np.nan))
    table["weight"] = [*tab["weight"], 1.0]
    sample = Sample(n_obs=int(yv.size), n_units=len(y), n_periods=len(periods),
                    treated_units=tuple(str(u) for u in y.index[cohort > 0]),
                    periods=tuple(int(p) for p in periods), frequency=panel.frequency)
    notes: tuple[str, ...] = (
        "2x2 estimates have no standard errors: the decomposition is descriptive",)
    if always.any():
        notes += (f"{int((code == np.flatnonzero(always)[0]).sum())} units treated from the "
                  "first period form the always-treated group",)
    return BaconResult(method="Goodman-Bacon decomposition", outcome=outcome, table=table,
                       inference="none (descriptive)", sample=sample, overall_term="twfe",
                       notes=notes)
