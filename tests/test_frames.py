"""Panel from polars, pyarrow and duckdb frames (issue 16, part 3): the same Panel as from
pandas, reading only the roles' and outcomes' columns."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import evalmodel as em
from evalmodel.errors import PanelError
from evalmodel.frames import as_pandas


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n_units, n_t = 12, 5
    y = rng.normal(size=n_units * n_t)
    y[[3, 17]] = np.nan  # missing outcomes travel as nulls and come back as NaN
    return pd.DataFrame({
        "kommun": np.repeat([f"{1200 + i:04d}" for i in range(n_units)], n_t),
        "year": np.tile(np.arange(2015, 2015 + n_t), n_units),
        "first_treated": np.repeat(np.where(np.arange(n_units) < 6, 2018, 0), n_t),
        "w": np.repeat(rng.uniform(0.5, 2, n_units), n_t),
        "y": y,
        "x": rng.normal(size=n_units * n_t),
    })


def _duckdb(df: pd.DataFrame) -> duckdb.DuckDBPyRelation:
    con = duckdb.connect()
    con.register("input_frame", pa.Table.from_pandas(df, preserve_index=False))
    return con.sql("select * from input_frame")


CONVERTERS: dict[str, Callable[[pd.DataFrame], object]] = {
    "polars": pl.from_pandas,
    "polars lazy": lambda df: pl.from_pandas(df).lazy(),
    "pyarrow": lambda df: pa.Table.from_pandas(df, preserve_index=False),
    "duckdb": _duckdb,
}

ROLES = dict(unit="kommun", time="year", cohort="first_treated", weight="w")


def _panel(data: object, **kwargs: object) -> em.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.MissingValueWarning)
        return em.Panel(data, **ROLES, **kwargs)  # type: ignore[arg-type]


def _twfe(panel: em.Panel) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.MissingValueWarning)
        return em.twfe(panel, "y", inference="analytic").estimate


@pytest.mark.parametrize("kind", list(CONVERTERS))
@pytest.mark.parametrize("outcomes", [None, ["y"]])
def test_same_panel_from_every_frame(frame: pd.DataFrame, kind: str,
                                     outcomes: list[str] | None) -> None:
    want = _panel(frame, outcomes=outcomes)
    got = _panel(CONVERTERS[kind](frame), outcomes=outcomes)
    pd.testing.assert_frame_equal(got.data, want.data)
    assert got.outcomes == want.outcomes and got.units == want.units
    assert got.notes == want.notes
    assert _twfe(got) == _twfe(want)


def test_long_input_from_polars(frame: pd.DataFrame) -> None:
    long = frame.melt(id_vars=["kommun", "year", "first_treated", "w"], value_vars=["y", "x"],
                      var_name="variable", value_name="value")
    want = _panel(long, variable="variable", value="value")
    got = _panel(pl.from_pandas(long.assign(extra="ignored")), variable="variable",
                 value="value")
    pd.testing.assert_frame_equal(got.data, want.data)


def test_only_the_named_columns_are_converted(frame: pd.DataFrame) -> None:
    # A union column has no pandas equivalent in arrow, so reading every column fails (the
    # last check); the Panel never reads it. Columns of lists and records stay in duckdb too.
    con = duckdb.connect()
    con.register("input_frame", pa.Table.from_pandas(frame, preserve_index=False))
    extra = con.sql("select *, union_value(num := 2) as tagged, [1, 2] as nested, "
                    "{'a': 1} as record from input_frame")
    got = _panel(extra, outcomes=["y", "x"])
    pd.testing.assert_frame_equal(got.data, _panel(frame, outcomes=["y", "x"]).data)
    with pytest.raises(PanelError, match=r"the duckdb frame could not be converted to pandas "
                                         r".*sparse_union.*pass outcomes=\[\.\.\.\]"):
        _panel(extra)


def test_pandas_input_passes_through_uncopied(frame: pd.DataFrame) -> None:
    assert as_pandas(frame, roles=["kommun"], outcomes=["y"]) is frame
    arrow = CONVERTERS["pyarrow"](frame)
    assert as_pandas(arrow, roles=["kommun", "year"], outcomes=["y"]).columns.tolist() == [
        "kommun", "year", "y"]


def test_missing_role_column_and_unknown_input_named(frame: pd.DataFrame) -> None:
    with pytest.raises(PanelError, match=r"the weight column 'w' is not in the data"):
        _panel(pl.from_pandas(frame.drop(columns="w")), outcomes=["y"])
    with pytest.raises(PanelError, match=r"data must be a pandas DataFrame, got list"):
        _panel([1, 2, 3])
