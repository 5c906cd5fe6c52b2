"""What the displacement designs share: the meaning of ``inference="auto"``."""

from __future__ import annotations

from evalmodel.estimators._common import MIN_TREATED_CLUSTERS
from evalmodel.vocabulary import DisplacementInference

__all__ = ["resolve_inference"]


def resolve_inference(inference: DisplacementInference, n_clusters: int
             ) -> tuple[DisplacementInference, str]:
    """The inference ``"auto"`` stands for with ``n_clusters`` treated clusters, and why."""
    if inference != "auto":
        return inference, f"inference={inference!r} as asked"
    if n_clusters < MIN_TREATED_CLUSTERS:
        return "permutation", (f"inference='auto': design-based, because {n_clusters} treated "
                               f"cluster(s) is fewer than {MIN_TREATED_CLUSTERS}")
    return "analytic", (f"inference='auto': analytic, with {n_clusters} treated clusters (at "
                        f"least {MIN_TREATED_CLUSTERS})")
