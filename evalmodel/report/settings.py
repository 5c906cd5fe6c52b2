"""The report's settings, in one place: confidence level, the few-treated threshold, the seed
of every random draw and the draw counts.

Every section and the triangulation read these; none hard-codes its own.
"""

from __future__ import annotations

from scipy.stats import norm

from evalmodel.estimators._common import MIN_TREATED_CLUSTERS

__all__ = ["CALIBRATION_UNITS", "CONF_LEVEL", "DID_WINDOW", "EVENT_WINDOW", "MIN_TREATED",
           "N_DRAWS", "RM_GRID", "SEED", "Z", "few_treated"]

#: Coverage of every interval the report computes itself.
CONF_LEVEL = 0.95
#: The normal quantile of :data:`CONF_LEVEL` (two-sided).
Z = float(norm.ppf(0.5 + CONF_LEVEL / 2))
#: Fewer treated units than this: analytic (cluster-robust) inference is not valid.
MIN_TREATED = MIN_TREATED_CLUSTERS
#: Seed of every random draw of the report (reports are reproducible byte for byte).
SEED = 20240601
#: Placebo draws of the synthetic DiD standard error.
N_DRAWS = 50
#: Placebo units per method of the calibration section (``--calibration-units`` changes it).
CALIBRATION_UNITS = 30
#: Periods before and from adoption compared by the report's 2x2 DiD.
DID_WINDOW = (3, 4)
#: Event times of the Sun-Abraham and imputation event studies (narrowed to the data).
EVENT_WINDOW = (-5, 5)
#: Values of Mbar of the relative-magnitude sensitivity bounds.
RM_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


def few_treated(n_treated: int) -> bool:
    """Whether ``n_treated`` treated units are too few for analytic inference."""
    return n_treated < MIN_TREATED
