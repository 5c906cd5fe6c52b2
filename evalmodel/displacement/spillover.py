"""Spatial spill-over: exposure from a neighbour list, and a ring design."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from evalmodel.displacement.outcome import DisplacementTest, _displacement_test
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    warn_few_clusters,
)
from evalmodel.estimators.did import did2x2
from evalmodel.panel import Panel
from evalmodel.results import Result
from evalmodel.vocabulary import (
    DisplacementInference,
    check_names,
    check_option,
)

__all__ = ["SpilloverResult", "exposed_units", "spillover"]


def exposed_units(
    panel: Panel,
    treated: Iterable[str],
    *,
    neighbours: pd.DataFrame | None = None,
    distances: pd.DataFrame | None = None,
    radius: float | None = None,
) -> tuple[str, ...]:
    """Units exposed to spill-over from ``treated``: their neighbours, or units within ``radius``.

    Parameters
    ----------
    panel : Panel
        Every unit named must be in it.
    treated : iterable of str
        The treated units.
    neighbours : DataFrame, optional
        Two columns of unit ids, one row per neighbouring pair (either order).
    distances : DataFrame, optional
        Three columns: unit, other unit, distance; with ``radius``, pairs at most ``radius``
        apart are neighbours.
    radius : float, optional
        The exposure radius for ``distances``.

    Returns
    -------
    tuple of str
        Sorted exposed units, the treated units themselves excluded.
    """
    treated = [str(u) for u in treated]
    if (neighbours is None) == (distances is None):
        raise EstimationError("exposed_units: give exactly one of neighbours= or distances=.")
    if distances is not None:
        if radius is None or not radius > 0:
            raise EstimationError(f"exposed_units: distances= needs radius > 0, got {radius!r}.")
        if distances.shape[1] < 3:
            raise EstimationError("exposed_units: distances needs three columns: unit, other "
                                  "unit, distance.")
        close = distances[pd.to_numeric(distances.iloc[:, 2]) <= radius]
        pairs = close.iloc[:, :2].astype(str).to_numpy()
    else:
        assert neighbours is not None
        if neighbours.shape[1] < 2:
            raise EstimationError("exposed_units: neighbours needs two columns of unit ids.")
        pairs = neighbours.iloc[:, :2].astype(str).to_numpy()
    named = set(pairs.ravel()) | set(treated)
    unknown = sorted(named - set(panel.units))
    if unknown:
        raise EstimationError(
            f"exposed_units: {len(unknown)} units in the neighbour list are not in the panel: "
            f"{unknown[:10]}; check the ids (strings with leading zeros) or drop those pairs."
        )
    t = set(treated)
    exposed = {b for a, b in pairs if a in t} | {a for a, b in pairs if b in t}
    return tuple(sorted(exposed - t))



# -- spatial spill-over ----------------------------------------------------------------------
@dataclass(frozen=True)
class SpilloverResult(Result):
    """A ring design: the exposed units' effect and how the treated effect moves.

    Attributes
    ----------
    exposed : DisplacementTest
        The effect on exposed but untreated units, tested against the clean pool.
    with_exposed, without_exposed : float
        The treated units' 2x2 DiD with the exposed units in, and kept out of, the pool.
    shift : float
        ``without_exposed - with_exposed``: how far removing exposed units moves the estimate.
    table : DataFrame
        The three estimates (``term``) with the standard columns; the headline row is the
        exposed units' effect. The two treated rows carry :func:`~evalmodel.did2x2`'s
        inference of the same kind (design-based with few treated units); the shift has no
        test.
    """

    exposed: DisplacementTest
    with_exposed: float
    without_exposed: float
    shift: float
    table: pd.DataFrame

    #: The headline is the exposed units' (spill-over) effect, the last row.
    _headline = -1

    @property
    def conf_level(self) -> float:
        """Coverage of the exposed units' interval."""
        return self.exposed.conf_level

    def _title(self) -> str:
        return f"Spill-over (ring design): {self.exposed.outcome}"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Outcome", self.exposed.outcome),
                ("Inference", self.exposed.inference),
                ("Confidence level", f"{self.conf_level:.0%}"),
                ("Shift of the treated estimate", f"{self.shift:+.4g}"))

    def describe_sample(self) -> dict[str, str]:
        """Method, outcome and inference of the exposed units' test."""
        return {"Method": "spillover", "Outcome": self.exposed.outcome,
                "Inference": self.exposed.inference}


def _treated_row(panel: Panel, outcome: str, pre: Sequence[int], post: Sequence[int],
                 treated: list[str], control: list[str], inference: str, conf_level: float
                 ) -> pd.DataFrame:
    """The treated units' 2x2 DiD row; without inference (NaN) when the permutation test
    cannot reach the level with so few comparison units."""
    kw = {"pre": list(pre), "post": list(post), "treated": treated, "control": control,
          "conf_level": conf_level}
    try:
        return did2x2(panel, outcome, inference=inference, **kw).table  # type: ignore[arg-type]
    except EstimationError:
        if inference != "permutation":
            raise
    table = did2x2(panel, outcome, inference="analytic", **kw).table  # type: ignore[arg-type]
    table[["std_error", "ci_lower", "ci_upper", "p_value"]] = float("nan")
    return table


def spillover(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    exposed: Sequence[str],
    pool: Sequence[str],
    pre: Sequence[int],
    post: Sequence[int],
    conf_level: float = 0.95,
    inference: DisplacementInference = "auto",
) -> SpilloverResult:
    """Ring design: effect on ``exposed`` units, and the treated effect with and without them.

    ``pool`` holds the clean comparison units (neither treated nor exposed).

    The exposure is assigned through the treated units (an exposed unit is a neighbour of
    one), so the treated clusters are the treated units, however many neighbours they have:
    ``inference="auto"`` (default) is design-based with fewer than ``MIN_TREATED_CLUSTERS``
    (5) treated units -- the exposed set's studentised DiD against placebo sets from the pool
    (:func:`outcome_displacement`), and the treated rows by :func:`~evalmodel.did2x2`'s
    permutation test over their comparison units -- and analytic otherwise;
    ``"analytic"`` with fewer than 5 treated units warns
    :class:`~evalmodel.errors.FewTreatedClustersWarning` (once).
    """
    fn = "spillover"
    check_option(fn, "inference", inference, DisplacementInference)
    treated, exposed, pool = (check_names(fn, name, x, allow_empty=name == "exposed")
                              for name, x in (("treated", treated), ("exposed", exposed),
                                              ("pool", pool)))
    both = sorted(set(treated) & set(exposed))
    if both:
        raise EstimationError(f"{fn}: the exposure list contains treated units {both}; an "
                              "exposed unit is untreated by definition: drop them from exposed.")
    dirty = sorted(set(pool) & (set(treated) | set(exposed)))
    if dirty:
        raise EstimationError(f"{fn}: pool units {dirty[:5]} are treated or exposed; the pool "
                              "must hold only clean comparison units.")
    if not exposed:
        raise EstimationError(f"{fn}: the exposure list is empty.")
    few = len(treated) < MIN_TREATED_CLUSTERS
    if inference == "auto":
        inference = "permutation" if few else "analytic"
    elif inference == "analytic" and few:
        warn_few_clusters(fn, len(treated))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewTreatedClustersWarning)
        test = _displacement_test(fn, panel, outcome, treated=exposed, pool=pool, pre=pre,
                                  post=post, conf_level=conf_level, power=0.8,
                                  transform="level", max_exact=10_000, seed=0,
                                  inference=inference, n_clusters=len(treated))
        sub = panel.select(units=[*treated, *exposed, *pool])
        sub = sub.with_cohorts({u: min(post) for u in treated})
        rows = [_treated_row(sub, outcome, pre, post, treated, control, inference, conf_level)
                for control in ([*exposed, *pool], pool)]
    with_e, without_e = (float(r["estimate"].iloc[0]) for r in rows)
    cols = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    table = pd.DataFrame({
        "term": ["treated, exposed units in the pool", "treated, exposed units removed",
                 "exposed units (spill-over)"],
        **{col: [float(rows[0][col].iloc[0]), float(rows[1][col].iloc[0]),
                 float(test.table[col].iloc[0])] for col in cols},
    })
    return SpilloverResult(exposed=test, with_exposed=with_e, without_exposed=without_e,
                           shift=without_e - with_e, table=table)
