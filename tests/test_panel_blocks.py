"""Panel build per block of rows (issue 16, build item 2): integer ids in runs, a balanced panel
in blocks of one unit each, and the unit column made when first read. Each gives the panel,
the notes, the warnings and the error messages of the general path (row by row), which the
tests force by turning the runs off."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
import evalmodel.panel as panel_module
from evalmodel.errors import PanelError
from evalmodel.panel_blocks import balanced_blocks, unit_runs
from evalmodel.panel_columns import _to_unit_ids


def _frame(ids: np.ndarray, n_t: int = 5, seed: int = 0) -> pd.DataFrame:
    """Rows in blocks, one per unit, each with the periods 2000 .. 2000 + n_t - 1."""
    rng = np.random.default_rng(seed)
    n_u = len(ids)
    y = rng.normal(size=n_u * n_t)
    y[::9] = np.nan
    cohort = rng.choice(np.array([0, 2001, 2003, 2000 + n_t + 1]), n_u)
    cohort[1] = 2000 + n_t + 1  # late: never treated within the sample
    return pd.DataFrame({"u": np.repeat(ids, n_t), "t": np.tile(np.arange(2000, 2000 + n_t), n_u),
                         "g": np.repeat(cohort, n_t), "w": np.repeat(rng.uniform(1, 2, n_u), n_t),
                         "y": y, "b": rng.normal(size=n_u * n_t) > 0})


def _outcome(build: Callable[[], em.Panel]) -> tuple[em.Panel | str, list[str]]:
    """The panel (or the error's message) and the warnings a build gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got: em.Panel | str = build()
        except PanelError as e:
            got = str(e)
    return got, [f"{w.category.__name__}: {w.message}" for w in caught]


def _both(df: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, **roles: str
          ) -> tuple[tuple[em.Panel | str, list[str]], tuple[em.Panel | str, list[str]]]:
    """The build by blocks and the build row by row (the runs turned off)."""
    roles = {"unit": "u", "time": "t", **roles}
    fast = _outcome(lambda: em.Panel(df, **roles))  # type: ignore[arg-type]
    with monkeypatch.context() as m:
        m.setattr(panel_module, "unit_runs", lambda s: None)
        slow = _outcome(lambda: em.Panel(df, **roles))  # type: ignore[arg-type]
    return fast, slow


def _assert_same(a: em.Panel | str, b: em.Panel | str) -> None:
    assert isinstance(a, em.Panel) == isinstance(b, em.Panel), (a, b)
    if not isinstance(a, em.Panel) or not isinstance(b, em.Panel):
        assert a == b
        return
    pd.testing.assert_frame_equal(a.data, b.data, check_exact=True)
    assert a.units == b.units and a.notes == b.notes
    assert np.array_equal(a.periods, b.periods) and a.periods.dtype == b.periods.dtype
    for x, y in zip(a.unit_codes(), b.unit_codes(), strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    pd.testing.assert_series_equal(a.late_cohorts, b.late_cohorts)
    pd.testing.assert_series_equal(a.cohorts(), b.cohorts())
    assert repr(a) == repr(b)


IDS = {
    "text order differs": np.arange(0, 230, 7),  # 105 sorts before 14: blocks are moved
    "text order the same": np.arange(1000, 1040),  # four digits each: blocks stay
    "shuffled ids": np.random.default_rng(3).permutation(60) * 13 + 5,
    "negative and wide": np.array([7, -3, 120, 5, 1_000_000_007, -41, 0, 99]),
    "text in order": np.array([f"{i:04d}" for i in range(0, 300, 9)]),
    "text out of order": np.array(["1287", "0580", "2480", "0114", "0180", "1280", "Malmö"]),
}


@pytest.mark.parametrize("name", sorted(IDS))
@pytest.mark.parametrize("cohort_dtype", ["int64", "float64"])
def test_blocks_give_the_panel_of_the_general_path(
        name: str, cohort_dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every role, a late cohort, missing values and a boolean outcome: the same panel, notes
    and warnings; the blocks are really taken."""
    df = _frame(IDS[name]).astype({"g": cohort_dtype})
    if cohort_dtype == "float64":
        df.loc[df["g"] == 0, "g"] = np.nan
    runs = unit_runs(df["u"])
    assert runs is not None
    labels = _to_unit_ids(runs.values, "u", None, [], rows=len(df))
    assert balanced_blocks(runs, labels.codes, labels.size, df["t"].to_numpy()) is not None
    fast, slow = _both(df, monkeypatch, cohort="g", weight="w")
    _assert_same(fast[0], slow[0])
    assert fast[1] == slow[1]
    assert isinstance(fast[0], em.Panel) and len(fast[0].late_cohorts) > 0


@pytest.mark.parametrize("dtype", ["int32", "uint16", "uint64"])
def test_narrow_and_unsigned_ids_in_blocks(dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(_frame(np.array([3, 11, 2, 250, 40])).astype({"u": dtype}), monkeypatch,
                       cohort="g")
    _assert_same(fast[0], slow[0])
    assert fast[1] == slow[1]


def _variants() -> dict[str, pd.DataFrame]:
    """Frames in runs that are not a balanced panel in blocks, or that hold an error."""
    df = _frame(np.arange(0, 150, 11))
    unit_3 = np.flatnonzero(df["u"].to_numpy() == 33)
    return {
        "a row missing": df.drop(index=7).reset_index(drop=True),
        "a unit in two runs": pd.concat([df.iloc[:12], df.iloc[30:], df.iloc[12:30]],
                                        ignore_index=True),
        "periods in another order": df.assign(t=np.where(df.index % 5 == 0, df["t"] + 1,
                                                         np.where(df.index % 5 == 1,
                                                                  df["t"] - 1, df["t"]))),
        "one block with other periods": df.assign(t=np.where(df["u"] == 22, df["t"] + 10,
                                                             df["t"])),
        "a period twice in a block": df.assign(t=np.where(df.index == 16, df["t"] - 1,
                                                          df["t"])),
        "a cohort changing within a unit": df.assign(
            g=np.where(np.arange(len(df)) == unit_3[2], 2004, df["g"])),
        "a cohort changing in a block's last row": df.assign(
            g=np.where(np.arange(len(df)) == unit_3[-1], 2004, df["g"])),
        "a cohort changing in a block's first row": df.assign(
            g=np.where(np.arange(len(df)) == unit_3[0], 2004, df["g"])),
        "a cohort that is no period": df.assign(g=np.where(df["u"] == 55, 1990, df["g"])),
        "an infinite outcome": df.assign(y=np.where(df.index == 23, np.inf, df["y"])),
        "a zero weight": df.assign(w=np.where(df.index == 31, 0.0, df["w"])),
    }


@pytest.mark.parametrize("name", sorted(_variants()))
def test_runs_that_are_not_blocks_and_errors_give_the_general_answer(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unbalanced runs, a unit in two runs, periods out of order or differing between blocks,
    duplicate keys, bad cohorts, weights and outcomes: the same panel or the same message."""
    fast, slow = _both(_variants()[name], monkeypatch, cohort="g", weight="w")
    _assert_same(fast[0], slow[0])
    assert fast[1] == slow[1]
    if name.startswith(("a cohort", "an inf", "a zero", "a period twice")):
        assert isinstance(fast[0], str)


@pytest.mark.parametrize("name", ["spaces", "unicode", "missing", "object"])
def test_text_runs_needing_a_note_or_refused_are_read_row_by_row(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Text ids with surrounding spaces or in two Unicode forms (noted, with row counts), a
    missing id (refused, naming a row), and ids of object dtype: the general path's panel,
    notes and message."""
    ids = np.array(["0580", "1287", "Malmo\u0308", "Malmö", "2480"], dtype=object)
    df = _frame(ids)
    if name == "spaces":
        df["u"] = np.where(df["u"] == "1287", " 1287", df["u"])
    if name == "missing":
        df.loc[12, "u"] = None
    df = df.astype({"u": object if name == "object" else "str"})
    fast, slow = _both(df, monkeypatch, cohort="g")
    _assert_same(fast[0], slow[0])
    assert fast[1] == slow[1]
    if name == "missing":
        assert "row 12" in str(fast[0])


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
def test_known_ids_that_lost_their_zeros_are_found_in_runs() -> None:
    df = _frame(np.array([114, 180, 580, 1287]))
    with pytest.raises(PanelError, match=r"lost their leading zeros \(e\.g\. '114', known as "
                                         r"'0114'; 3 ids in all\)"):
        em.Panel(df, unit="u", time="t", ids=["0114", "0180", "0580", "1287"])


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
def test_the_unit_column_is_made_when_first_read() -> None:
    """Integer ids: the built panel holds codes; the text column and the ids' text are made
    when read, equal to pandas' own conversion, and derived panels and a pickled copy read the
    same."""
    df = _frame(np.arange(0, 230, 7))
    p = em.Panel(df.drop(columns="g"), unit="u", time="t")
    assert p._lazy_unit is not None  # nothing made yet
    assert len(p.cohorts()) == 33 and p._lazy_unit is not None
    assert repr(p).startswith("<Panel: 33 units x 5 periods")
    twin = pickle.loads(pickle.dumps(p))
    column = p.column("u")
    assert p._lazy_unit is None
    order = np.argsort(df["u"].astype(str).to_numpy(), kind="stable")
    assert column.tolist() == df["u"].astype(str).to_numpy()[order].tolist()
    assert p.data["u"].dtype == pd.Series(["a"], dtype="str").dtype
    pd.testing.assert_frame_equal(twin.data, p.data, check_exact=True)
    assert twin.units == p.units == sorted(str(i) for i in range(0, 230, 7))
    fresh = em.Panel(df.drop(columns="g"), unit="u", time="t")
    pd.testing.assert_frame_equal(fresh.select(units=["105", "14"]).data,
                                  p.select(units=["105", "14"]).data, check_exact=True)
    pd.testing.assert_frame_equal(fresh.wide("y"), p.wide("y"), check_exact=True)
    pd.testing.assert_frame_equal(em.Panel(df.drop(columns="g"), unit="u", time="t")
                                  .with_cohorts({"14": 2002}).data,
                                  p.with_cohorts({"14": 2002}).data, check_exact=True)


def test_rows_holding_every_key_once_are_ordered_without_dividing_the_key() -> None:
    """Shuffled rows holding every (unit, period) key once: the table gives the order and
    the codes are the digits of 0, 1, ...; equal to a stable argsort and the codes taken row by
    row. With as many rows as keys but one key twice, the general reading is used."""
    from evalmodel.panel_blocks import _codes_in_order, _row_order

    rng = np.random.default_rng(41)
    for sizes in ([7, 5], [3, 4, 6], [1, 9]):
        grid = np.indices(sizes).reshape(len(sizes), -1)
        rows = rng.permutation(grid.shape[1])
        codes = [g[rows].astype(np.int64) for g in grid]
        order, key = _row_order(codes, sizes)
        assert order is not None
        want = np.lexsort(codes[::-1])
        assert np.array_equal(order, want) and np.array_equal(key, np.arange(len(rows)))
        for got, code in zip(_codes_in_order(codes, sizes, order, key), codes, strict=True):
            assert got.dtype == np.int64 and np.array_equal(got, code[order])
    twice = [np.array([0, 1, 1, 0]), np.array([1, 0, 0, 0])]  # (1, 0) twice, (1, 1) absent
    order, key = _row_order(twice, [2, 2])
    assert order is not None and key.tolist() == [0, 1, 2, 2]
    got = _codes_in_order(twice, [2, 2], order, key)
    assert [g.tolist() for g in got] == [[0, 0, 1, 1], [0, 1, 0, 0]]


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
def test_a_shallow_copy_reads_the_unit_column_once() -> None:
    import copy

    p = em.Panel(_frame(np.arange(0, 40, 3)), unit="u", time="t")
    twin = copy.copy(p)
    assert p.column("u").tolist() == twin.column("u").tolist() == p.data["u"].tolist()
    assert twin.data.columns.tolist() == p.data.columns.tolist()


def test_spread_equals_tile_of_repeat_and_is_a_new_array() -> None:
    from evalmodel.panel_blocks import _spread

    for values, inner, outer in ((np.arange(5), 3, 2), (np.arange(1), 1, 1),
                                 (np.array([7, -2]), 1, 4), (np.arange(0), 3, 2)):
        got = _spread(values, inner, outer)
        assert np.array_equal(got, np.tile(np.repeat(values, inner), outer))
        assert got.dtype == values.dtype and got.flags.writeable and got.flags.c_contiguous
        assert not np.shares_memory(got, values)
