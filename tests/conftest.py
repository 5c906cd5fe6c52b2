"""Shared test set-up: a non-interactive matplotlib backend and the embedded panels."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalmodel as em


def _awkward_outcomes(seed: int, units: int = 40, periods: int = 14) -> np.ndarray:
    """Two-factor outcomes (units x periods) with the rows a simplex fit finds awkward: unit 0
    an exact mix of units 3-5 (inside the others' hull, where the fit is not unique), units 1
    and 2 twins (a unit fitted exactly, whose errors tie over a penalty grid) and the last unit
    far above the rest."""
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.5, 1.5, (units, 2))
    y = 10 + load @ np.cumsum(rng.normal(0, 1, (periods, 2)), axis=0).T
    y += rng.normal(0, 0.3, (units, periods))
    y[0] = 0.5 * y[3] + 0.3 * y[4] + 0.2 * y[5]
    y[1] = y[2]
    y[-1] += 5.0
    return y


@pytest.fixture(scope="session")
def awkward_outcomes() -> Callable[..., np.ndarray]:
    """A generator of outcomes with awkward rows for the synthetic-control solvers' tests:
    ``awkward_outcomes(seed, units=40, periods=14)`` (see :func:`_awkward_outcomes`)."""
    return _awkward_outcomes


@pytest.fixture(scope="session")
def municipalities() -> em.Panel:
    """The embedded simulated municipality panel."""
    return em.datasets.simulated()


@pytest.fixture(scope="session")
def districts() -> em.Panel:
    """The embedded simulated district panel of Malmö."""
    return em.datasets.simulated_districts()


#: Environment variable naming the real Kolada extract (``.ci/run`` sets it).
REAL_DATA_ENV = "EVALMODEL_REAL_DATA"


@pytest.fixture(scope="session")
def real_extract() -> Path:
    """Path of the real Kolada extract (``kolada_ekbistand_ddf_dump_2024.csv``).

    Tests using it carry the ``real`` marker. Without ``$EVALMODEL_REAL_DATA`` (a user's machine)
    they are skipped with that reason; when the variable is set the file must exist (CI).
    """
    return _env_path(REAL_DATA_ENV, "the real Kolada extract", folder=False)


@pytest.fixture(scope="session")
def real_tidy(real_extract: Path) -> pd.DataFrame:
    """The real extract read as it is on disk (no evalmodel code), for pinning facts."""
    return pd.read_csv(real_extract, dtype={"municipality_id": str, "kpi": str, "gender": str})


#: Environment variable naming the folder of published reference data sets (``.ci/run`` sets it).
REFERENCE_DATA_ENV = "EVALMODEL_REFERENCE_DATA"


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """Folder of the published reference data (``basque.csv``, ``germany.csv``).

    Tests using it carry the ``reference`` marker. Without ``$EVALMODEL_REFERENCE_DATA`` (a user's
    machine) they are skipped with that reason; when the variable is set the folder must exist
    (CI).
    """
    return _env_path(REFERENCE_DATA_ENV, "the reference data", folder=True)


def _env_path(env: str, what: str, *, folder: bool) -> Path:
    """The path in ``$env``. Unset (a user's machine): the test is skipped with that reason;
    set but not an existing file (``folder``: folder), the test fails. ``.ci/run`` sets both
    variables and fails first if the data are missing, so in CI these tests always run."""
    value = os.environ.get(env)
    if not value:
        pytest.skip(f"${env} is not set: {what} is not available")
    path = Path(value)
    if not (path.is_dir() if folder else path.is_file()):
        pytest.fail(f"${env}={value!r} is not a {'folder' if folder else 'file'}")
    return path
