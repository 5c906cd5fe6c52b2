"""Errors and warnings raised by evalmodel.

Every error subclasses :class:`EvalModelError`, itself a :class:`ValueError`, so that
``except ValueError`` keeps working. A message names the argument or column, the bad value and
the fix. Every warning subclasses :class:`EvalModelWarning`: a warning means that data were
changed, dropped or flagged, and the same fact is recorded in the object's ``notes``.
"""

from __future__ import annotations

__all__ = [
    "CoercedValuesWarning",
    "ConvexHullWarning",
    "DataSourceError",
    "DesignError",
    "EstimationError",
    "EvalModelError",
    "EvalModelWarning",
    "FewTreatedClustersWarning",
    "GapWarning",
    "GapsFilledWarning",
    "LateCohortWarning",
    "MissingCellError",
    "MissingValueWarning",
    "PanelError",
    "RowsDroppedWarning",
    "SeriesBreakWarning",
    "SmallCohortWarning",
    "UnitsSetAsideWarning",
    "WindowWarning",
]


class EvalModelError(ValueError):
    """Base class of every error evalmodel raises on bad input."""


class PanelError(EvalModelError):
    """A DataFrame cannot be made into a valid :class:`~evalmodel.Panel`."""


class DesignError(EvalModelError):
    """A case design (treated units, comparison pool, periods) cannot be formed."""


class MissingCellError(DesignError):
    """A treated unit lacks a value inside a case's estimation window; the message names the
    unit, the outcome and the periods, and how to fill interior single-year gaps."""


class EstimationError(EvalModelError):
    """An estimator's arguments do not fit the panel (bad option, too few units or periods)."""


class DataSourceError(EvalModelError):
    """A data source (Kolada, SCB, a file, the cache) failed or returned something unusable."""


class EvalModelWarning(UserWarning):
    """Base class of evalmodel's warnings: data were changed, dropped or flagged."""


class RowsDroppedWarning(EvalModelWarning):
    """Rows were dropped; the count and the reason are in the message and in ``notes``."""


class CoercedValuesWarning(EvalModelWarning):
    """Values were converted (numeric unit ids to strings, text to numbers); counted in notes."""


class MissingValueWarning(EvalModelWarning):
    """Missing outcome values were found and kept (or excluded from one estimate)."""


class GapWarning(EvalModelWarning):
    """Some units lack some periods (an unbalanced panel); the gaps are kept and counted."""


class SeriesBreakWarning(EvalModelWarning):
    """A series has a known break in definition within the panel's periods."""


class FewTreatedClustersWarning(EvalModelWarning):
    """Cluster-robust inference was asked for with too few treated clusters to be valid."""


class SmallCohortWarning(EvalModelWarning):
    """A treatment cohort has too few units for its group-time effects to be reliable."""


class LateCohortWarning(EvalModelWarning):
    """Units first treated after the panel's last period (plus anticipation, in ``att_gt``)
    are never treated within the sample, as R ``did``'s preprocessing has them: their cohort
    is set to 0, and the count, the cohorts and the units are in ``notes``. In ``att_gt``,
    units first treated within ``anticipation`` periods after the end keep their cohort
    instead (affected inside the sample; pre-treatment cells only), also with this warning."""


class ConvexHullWarning(EvalModelWarning):
    """A treated unit lies outside its donors' convex hull, so its synthetic control fits
    the pre-period poorly; the message shows the pre-period RMSPE."""


class UnitsSetAsideWarning(EvalModelWarning):
    """Units outside the study's scope (Kolada's country and regions, group ids) were set
    aside when the panel was read; counted and listed in ``notes``."""


class WindowWarning(EvalModelWarning):
    """A case's estimation window left out comparison units (incomplete over the window) or
    shortened the periods; counted and listed in the design's ``notes``."""


class GapsFilledWarning(EvalModelWarning):
    """Interior single-period gaps of a unit were filled by linear interpolation, as asked;
    each filled cell is listed in ``notes``."""
