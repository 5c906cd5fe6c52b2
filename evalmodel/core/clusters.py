"""Sums within clusters, the building block of cluster-robust covariances and bootstraps."""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["cluster_sums"]


def cluster_sums(influence: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum influence functions within clusters (``cluster`` holds codes 0..C-1)."""
    if cluster is None:
        return influence
    n_c = int(cluster.max()) + 1
    m = sparse.csr_matrix(
        (np.ones(len(cluster)), (cluster, np.arange(len(cluster)))), shape=(n_c, len(cluster))
    )
    return np.asarray(m @ influence)
