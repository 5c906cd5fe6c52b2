"""The displacement hypothesis: effects on people and places the model did not target.

Three designs (one module each: :mod:`~evalmodel.displacement.outcome`,
:mod:`~evalmodel.displacement.ddd`, :mod:`~evalmodel.displacement.spillover`), each with
inference that stays valid with one treated unit. Each takes ``inference="auto"`` (default):
design-based (placebo in space: the same statistic re-estimated with comparison units as the
fake treated) with fewer than ``MIN_TREATED_CLUSTERS`` treated
clusters, analytic (cluster-robust by unit) otherwise; ``"permutation"`` and ``"analytic"``
force one, and ``"analytic"`` with few treated clusters warns
:class:`~evalmodel.errors.FewTreatedClustersWarning`. Every interval inverts the test that gives
the p-value, so it excludes 0 exactly when ``p_value <= 1 - conf_level`` (design-based; the
rank test's convention) or ``p_value < 1 - conf_level`` (analytic):

* :func:`outcome_displacement`: the model's effect on an outcome of the non-targeted (youth open
  unemployment, open unemployment), by the 2x2 DiD of the treated area against the comparison
  pool, tested by permutation over the pool on a studentised statistic;
* :func:`triple_difference`: with a ``group`` role (target / non-target rows within each unit),
  the effect on each group, their difference (DDD, netting out area-wide shocks) and the net
  effect, with a joint interval;
* :func:`spillover`: exposure from a neighbour list (:func:`exposed_units`); a ring design in
  the manner of Butts (2021): the effect on exposed but untreated units, and the treated effect
  re-estimated with exposed units removed from the comparison pool.

:func:`verdict` states the result of a displacement test without ever reading "no displacement"
into a test that lacks power.

References
----------
Butts, K. (2021). Difference-in-differences estimation with spatial spillovers. arXiv:2105.03737.
Olden, A. and Møen, J. (2022). The triple difference estimator. *Econometrics Journal* 25(3).
Ferman, B. and Pinto, C. (2019). Inference in differences-in-differences with few treated
groups and heteroskedasticity. *Review of Economics and Statistics* 101(3).
"""

from __future__ import annotations

from evalmodel.displacement.ddd import triple_difference
from evalmodel.displacement.outcome import DisplacementTest, outcome_displacement, verdict
from evalmodel.displacement.spillover import SpilloverResult, exposed_units, spillover
from evalmodel.vocabulary import DisplacementInference, DisplacementTransform

# The designs' home in the documentation and in pickles stays ``evalmodel.displacement``, as
# before the package was split into one module per design.
for _obj in (DisplacementTest, SpilloverResult, exposed_units, outcome_displacement, spillover,
             triple_difference, verdict):
    _obj.__module__ = __name__
del _obj

#: The old name of :data:`~evalmodel.vocabulary.DisplacementTransform`.
Transform = DisplacementTransform

__all__ = [
    "DisplacementInference",
    "DisplacementTest",
    "DisplacementTransform",
    "SpilloverResult",
    "Transform",
    "exposed_units",
    "outcome_displacement",
    "spillover",
    "triple_difference",
    "verdict",
]
