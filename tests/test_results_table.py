"""inference_table's fast path against the generic recipe (scipy's frozen distributions, one
column at a time), bit for bit: values (NaN signs included), dtypes, column order and index,
warnings, and the errors of inputs the fast path hands on."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evalmodel.results import inference_table
from evalmodel.results_table import (
    critical_value,
    fast_inference_table,
    generic_inference_table,
    two_sided_p,
)

ESTIMATES = [0.0, -0.0, 1.5, -2.25, np.nan, np.inf, -np.inf, 1e-300, 1e300, 5e-324, 3.7]
STD_ERRORS = [0.0, -0.0, 1.0, 0.5, -1.0, np.nan, np.inf, -np.inf, 1e-300, 1e300, 0.013]
DFS: list[Any] = [None, 1, 2, 3, 5, 29, 30, 1e3, 1e10, 1e300, np.inf, 0, -1, np.nan, 0.5,
                  -0.0, np.int64(7), np.float64(12.5), 2**62]
CONF_LEVELS: list[Any] = [0.95, 0.9, 0.99, 0.5, 0.0, -0.0, 1.0, 1e-12, 1 - 1e-16, 0.999999999,
                          1.5, -0.5, -1.0, np.nan, np.float64(0.8), 1, 0]


def _calls(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[tuple[type, str]]]:
    """What ``fn`` returns (or raises, as (type, message)) and the warnings it gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out: Any = fn(*args, **kwargs)
        except Exception as exc:  # the exception itself is compared
            out = (type(exc), str(exc))
    return out, [(w.category, str(w.message)) for w in caught]


def assert_identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns (names, order, Index dtype and name), index, dtypes and bits of every cell."""
    assert type(a) is type(b)
    assert type(a.columns) is type(b.columns)
    assert a.columns.tolist() == b.columns.tolist()
    assert a.columns.dtype == b.columns.dtype and a.columns.name == b.columns.name
    assert type(a.index) is type(b.index) and a.index.equals(b.index)
    assert a.index.dtype == b.index.dtype and a.index.name == b.index.name
    assert a.attrs == b.attrs and a.flags == b.flags
    for j, c in enumerate(a.columns):
        x, y = a.iloc[:, j], b.iloc[:, j]
        assert x.dtype == y.dtype, c
        if x.dtype == np.float64:
            np.testing.assert_array_equal(x.to_numpy().view(np.int64),
                                          y.to_numpy().view(np.int64), err_msg=c)
        else:
            assert x.equals(y), c
            assert [type(v) for v in x] == [type(v) for v in y], c


def _same_call(index: Any, est: Any, se: Any, **kwargs: Any) -> None:
    new, new_warn = _calls(inference_table, index, est, se, **kwargs)
    old, old_warn = _calls(generic_inference_table, index, est, se, **kwargs)
    assert new_warn == old_warn
    if isinstance(old, pd.DataFrame):
        assert isinstance(new, pd.DataFrame)
        assert_identical(new, old)
    else:
        assert new == old


def test_grid_of_values_df_and_conf_level_bit_for_bit() -> None:
    """Every pair of estimate and SE edge values, under every df and conf_level."""
    pairs = list(itertools.product(ESTIMATES, STD_ERRORS))
    est = [e for e, _ in pairs]
    se = [s for _, s in pairs]
    index = {"term": [f"t{i}" for i in range(len(pairs))]}
    fast_taken = 0
    for df, level in itertools.product(DFS, CONF_LEVELS):
        _same_call(index, est, se, conf_level=level, df=df)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fast = fast_inference_table(index, est, se, conf_level=level, df=df)
        fast_taken += fast is not None
    assert fast_taken == len(DFS) * len(CONF_LEVELS)  # the grid tests the fast path itself


def test_critical_values_and_p_values_bit_for_bit() -> None:
    """The two distribution pieces against the frozen distributions, over wide grids."""
    from scipy import stats

    x = np.abs(np.concatenate([np.linspace(-40, 40, 2001), np.logspace(-320, 308, 400),
                               [0.0, np.nan, np.inf, 1.959963984540054]]))
    for df in DFS:
        dist = stats.norm() if df is None else stats.t(df)
        np.testing.assert_array_equal(two_sided_p(x, df).view(np.int64),
                                      (2 * dist.sf(x)).view(np.int64))
        for level in [*CONF_LEVELS, *np.linspace(0, 1, 101)]:
            want = float(dist.ppf(0.5 + level / 2))
            assert np.float64(critical_value(level, df)).view(np.int64) == \
                np.float64(want).view(np.int64), (df, level)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_index_kinds_and_dtypes(n: int) -> None:
    """Index mappings of lists, arrays and extension arrays, and DataFrames with a non-range
    index, give the same frames (dtypes inferred the same way), empty ones included."""
    rng = np.random.default_rng(n)
    est, se = rng.normal(size=n), np.abs(rng.normal(size=n))
    kinds: list[Any] = [
        {"term": [f"e={i}" for i in range(n)]},
        {"event_time": list(range(-1, n - 1))},
        {"event_time": np.arange(n)},
        {"cohort": pd.array([2010 + i if i % 2 else None for i in range(n)], dtype="Int64"),
         "time": list(range(n))},
        {"a": np.arange(n, dtype=np.int32), "b": np.arange(n) * 0.5,
         "c": np.array([f"x{i}" for i in range(n)], dtype=object), "d": [True] * n},
        {"mixed": [1, "a", None][:n]},
        {"none": [None] * n},
        {"cat": pd.Categorical(["x", "y", "x"][:n])},
        pd.DataFrame({"term": [f"g={i}" for i in range(n)],
                      "cohort": pd.array(list(range(n)), dtype="Int64")},
                     index=np.arange(n) * 3 + 5),
        pd.DataFrame({"x": np.arange(n)}, index=pd.Index([f"r{i}" for i in range(n)],
                                                         name="row")),
    ]
    for index in kinds:
        for df in (None, 4):
            _same_call(index, est, se, df=df)
            _same_call(index, list(est), tuple(se), df=df)
            assert fast_inference_table(index, est, se, df=df) is not None


def test_inputs_handed_to_the_generic_path() -> None:
    """Inputs of other kinds give what the generic recipe gives: its table, or its error."""
    est, se = [1.0, 2.0], [0.5, 0.0]
    odd: list[tuple[Any, Any, Any, dict[str, Any]]] = [
        ({"term": ["a", "b", "c"]}, est, se, {}),                  # index longer
        ({"term": ["a"]}, est, se, {}),                            # index shorter
        ({"term": "a"}, est, se, {}),                              # a scalar
        ({}, est, se, {}),                                         # no index column
        ({"estimate": ["a", "b"]}, est, se, {}),                   # a value column's name
        ({1: ["a", "b"]}, est, se, {}),                            # a non-text name
        ({"term": ("a", "b")}, est, se, {}),                       # a tuple
        ({"term": pd.Series(["a", "b"], index=[3, 4])}, est, se, {}),
        ({"term": np.array([["a", "b"]])}, est, se, {}),
        ({"term": ["a", "b"]}, [1.0, 2.0, 3.0], se, {}),           # unequal lengths
        ({"term": ["a", "b"]}, est, [0.5], {}),
        ({"term": ["a"]}, 1.0, 0.5, {}),                           # scalars
        ({"term": ["a", "b"]}, est, se, {"df": True}),             # a bool df
        ({"term": ["a", "b"]}, est, se, {"df": np.float32(3.5)}),
        ({"term": ["a", "b"]}, est, se, {"df": 2**70}),
        ({"term": ["a", "b"]}, est, se, {"df": np.array(4.0)}),
        ({"term": ["a", "b"]}, est, se, {"conf_level": np.float32(0.95)}),
        ({"term": ["a", "b"]}, est, se, {"conf_level": True}),
        (pd.DataFrame({"p_value": [1, 2]}), est, se, {}),
        (pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]), est, se, {}),
        (pd.DataFrame({"a": [1, 2]}, columns=pd.Index(["a"], dtype=object)), est, se, {}),
        (pd.DataFrame({"a": [1, 2]}).rename_axis(columns="cols"), est, se, {}),
        (pd.DataFrame({"a": [1, 2, 3]}), est, se, {}),
        (pd.DataFrame(index=[0, 1]), est, se, {}),
    ]
    for index, e, s, kwargs in odd:
        _same_call(index, e, s, **kwargs)
    assert fast_inference_table({"term": ["a"]}, 1.0, 0.5) is None
    assert fast_inference_table({"term": ["a", "b"]}, est, se, df=True) is None
    assert fast_inference_table({}, est, se) is None


def test_table_owns_its_data() -> None:
    """As with the generic recipe, changing the arrays passed in leaves the table as it was."""
    est, se, ids = np.array([1.0, 2.0]), np.array([1.0, 1.0]), np.array([5, 6])
    table = inference_table({"x": ids}, est, se)
    est[0] = se[0] = ids[0] = 99
    assert table["x"].tolist() == [5, 6]
    assert table["estimate"].tolist() == [1.0, 2.0]
    assert table["std_error"].tolist() == [1.0, 1.0]


def _overall_by_mask(table: pd.DataFrame, term: Any) -> pd.Series | None:
    """The headline row as EstimateResult.overall read it before: a boolean mask, first row."""
    rows = table[table["term"] == term]
    return rows.iloc[0] if len(rows) else None


@pytest.mark.parametrize("terms, overall_term", [
    (["2001", "2002", "average"], "average"),
    (["att"], "att"),
    (["x", None, "ATT", "ATT"], "ATT"),                 # missing text; the first of two
    (["a", "b"], "c"),                                   # no headline row
    (["a", "b"], "A"),
    ([], "att"),
    ([1, 2, 3], 2),                                      # numbers: pandas' comparison
    (pd.array(["a", "att"], dtype="string"), "att"),     # the NA-backed string dtype
    (np.array(["att", 1], dtype=object), "att"),
])
def test_overall_row_equals_the_mask_reading(terms: Any, overall_term: Any) -> None:
    from evalmodel.results import EstimateResult, Sample

    n = len(terms)
    table = inference_table({"term": terms}, np.arange(n, dtype=float), np.ones(n))
    table.index = table.index * 2 + 1  # a row's name is its label
    result = EstimateResult(method="m", outcome="y", table=table, inference="analytic",
                            sample=Sample(n, 1, 1, (), ()), overall_term=overall_term)
    got, want = result.overall, _overall_by_mask(table, overall_term)
    if want is None:
        assert got is None
    else:
        assert got is not None
        pd.testing.assert_series_equal(got, want, check_exact=True)
        assert [type(v) for v in got] == [type(v) for v in want]
