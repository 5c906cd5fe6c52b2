"""Shared test set-up: a non-interactive matplotlib backend and the embedded panels."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

import evalmodel as em


@pytest.fixture(scope="session")
def municipalities() -> em.Panel:
    """The embedded simulated municipality panel."""
    return em.datasets.simulated()


@pytest.fixture(scope="session")
def districts() -> em.Panel:
    """The embedded simulated district panel of Malmö."""
    return em.datasets.simulated_districts()
