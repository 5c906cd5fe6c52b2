"""The csdid peer (a port of R ``did``) for the Callaway-Sant'Anna tests: one way to fit it and
one way to compare the aggregations with it."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

CONTROLS = {"never": "nevertreated", "not_yet": "notyettreated"}


def _fit(df: pd.DataFrame, method: str, control: str,
         covariates: Sequence[str] = ("x1", "x2"), **kw: Any) -> Any:
    """csdid's ATTgt on the simulated frame (ids from the unit names, weights ``w``)."""
    from csdid.att_gt import ATTgt

    d = df.assign(id=df["unit"].str[1:].astype(int))
    base = kw.pop("base_period", "varying")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ATTgt(yname="y", gname="cohort", idname="id", tname="period", data=d,
                     xformla="y~" + "+".join(covariates) if covariates else None,
                     control_group=CONTROLS[control], weights_name="w", **kw).fit(
            est_method=method, base_period=base, bstrap=False)


def _aggregations_equal(res: Any, peer: Any, *, se_approx: dict[str, float],
                        se_allclose: dict[str, float]) -> None:
    """All four aggregations (overall and components) equal csdid's: estimates to 1e-8,
    standard errors to the given tolerances."""
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        ref = peer.aggte(typec=kind, bstrap=False).atte
        assert agg.estimate == pytest.approx(ref["overall_att"], abs=1e-8)
        assert agg.overall["std_error"] == pytest.approx(ref["overall_se"], **se_approx)
        if kind != "simple":
            np.testing.assert_allclose(agg.components["estimate"], ref["att_egt"], atol=1e-8)
            np.testing.assert_allclose(agg.components["std_error"], np.ravel(ref["se_egt"]),
                                       **se_allclose)


@pytest.fixture(scope="session")
def csdid_fit() -> Callable[..., Any]:
    """``csdid_fit(df, method, control, covariates=("x1", "x2"), **ATTgt options)``."""
    return _fit


@pytest.fixture(scope="session")
def csdid_aggregations_equal() -> Callable[..., None]:
    """``csdid_aggregations_equal(result, peer, se_approx={...}, se_allclose={...})``."""
    return _aggregations_equal
