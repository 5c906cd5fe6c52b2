"""Panel build on integer codes (issue 16, part 2): the fast paths give the panel the general
paths give, and the built panel neither changes its input nor changes with it."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import PanelError
from evalmodel.panel_columns import _integer_codes, _sort_keys


def _frame(ids: np.ndarray, n_t: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_u = len(ids)
    periods = np.arange(2000, 2000 + n_t)
    cohort = rng.choice(np.array([0, 2002, 2004, 2000 + n_t + 2]), n_u)  # one cohort is late
    y = rng.normal(size=n_u * n_t)
    y[::7] = np.nan
    return pd.DataFrame({"u": np.repeat(ids, n_t), "t": np.tile(periods, n_u),
                         "g": np.repeat(cohort, n_t), "y": y})


def _build(df: pd.DataFrame, **roles: str) -> tuple[em.Panel, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = em.Panel(df, unit="u", time="t", cohort="g", **roles)
    return p, [f"{w.category.__name__}: {w.message}" for w in caught]


def _assert_same(a: em.Panel, b: em.Panel) -> None:
    pd.testing.assert_frame_equal(a.data, b.data, check_exact=True)
    assert a.units == b.units and a.notes == b.notes
    assert np.array_equal(a.periods, b.periods)
    for x, y in zip(a.unit_codes(), b.unit_codes(), strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    pd.testing.assert_series_equal(a.late_cohorts, b.late_cohorts)


@pytest.mark.parametrize("ids", [
    np.arange(40),                                           # consecutive: 10 sorts before 2
    np.array([7, -3, 120, 5, 1_000_000_007, -41, 0, 99]),     # negative, and a range > 4n
    np.random.default_rng(1).choice(10**9, 30, replace=False),
], ids=["consecutive", "negative-wide", "random"])
def test_integer_ids_give_the_panel_of_the_same_ids_as_python_ints(ids: np.ndarray) -> None:
    """An int64 column takes the code path (pyarrow text, table codes); the same numbers as an
    object column take the general path (hashing, str() per id): the panels are equal."""
    df = _frame(ids)
    fast, fast_warned = _build(df)
    slow, slow_warned = _build(df.astype({"u": object}))
    _assert_same(fast, slow)
    assert fast_warned == slow_warned
    assert fast.units == sorted(str(i) for i in ids)  # text order, as before
    assert fast.data["u"].dtype == slow.data["u"].dtype
    assert any("numeric ids converted to strings" in n for n in fast.notes)


@pytest.mark.parametrize("dtype", ["int32", "uint16", "uint64"])
def test_narrow_and_unsigned_integer_ids(dtype: str) -> None:
    df = _frame(np.array([3, 11, 2, 250]))
    _assert_same(_build(df.astype({"u": dtype}))[0], _build(df.astype({"u": object}))[0])


def test_row_order_of_the_input_does_not_matter() -> None:
    """Rows already in (unit, time) order are kept without a sort; shuffled rows are sorted:
    both give one panel, for text ids and integer ids, and with a group role."""
    for ids in (np.array([f"{i:04d}" for i in range(0, 300, 7)]), np.arange(0, 300, 7)):
        df = _frame(ids)
        in_order, _ = _build(df)
        shuffled, _ = _build(df.sample(frac=1, random_state=3))
        _assert_same(in_order, shuffled)
        two = pd.concat([df.assign(k="b"), df.assign(k="a")], ignore_index=True)
        grouped, _ = _build(two, group="k")
        regrouped, _ = _build(two.sample(frac=1, random_state=4), group="k")
        _assert_same(grouped, regrouped)
        assert grouped.data["k"].tolist()[:12] == ["a"] * 6 + ["b"] * 6  # unit, group, time


def test_int_cohorts_checked_as_float_cohorts_are() -> None:
    """Integer cohorts skip the float conversion: the same panel and the same errors."""
    df = _frame(np.arange(12))
    _assert_same(_build(df)[0], _build(df.astype({"g": float}))[0])
    df.loc[df["u"] == 2, "g"] = 2002
    varying = df.assign(g=np.where(np.arange(len(df)) == 13, 2003, df["g"]))  # a row of unit 2
    between = df.assign(g=np.where(df["g"] == 2002, 1999, df["g"]))
    for bad in (varying, between):
        messages = []
        for d in (bad, bad.astype({"g": float})):
            with pytest.raises(PanelError) as e:
                _build(d)
            messages.append(str(e.value))
        assert messages[0] == messages[1]
    with pytest.raises(PanelError, match=r"changes within unit '2' \(values \[2002, 2003\]\)"):
        _build(varying)


def test_building_leaves_the_input_alone_and_does_not_follow_it() -> None:
    """The build copies no column it does not change; still, the input is not modified, and
    changing the input afterwards does not change the panel."""
    df = _frame(np.arange(20))
    before = df.copy()
    p, _ = _build(df)
    pd.testing.assert_frame_equal(df, before)
    kept = p.data
    df.loc[0, "y"] = 1e6
    df.loc[:, "g"] = 2001
    df["t"] += 1
    pd.testing.assert_frame_equal(p.data, kept)


def test_integer_codes_equal_pandas_factorize() -> None:
    """The table codes (narrow range, from 0 or shifted) and the hashing fallback (wide range)
    all equal pd.factorize(sort=True)."""
    rng = np.random.default_rng(7)
    for hi in (5, 400, 10**12):
        for n, lo in itertools.product((1, 3, 200), (-hi, 0, 2000)):
            v = rng.integers(lo, lo + 2 * hi, n)
            codes, uniq = _integer_codes(v.copy())
            ref_codes, ref_uniq = pd.factorize(v, sort=True)
            assert np.array_equal(codes, ref_codes) and np.array_equal(uniq, ref_uniq)


def test_sort_keys_keeps_rows_in_order_and_sees_duplicates() -> None:
    """Rows in strictly increasing key order come back as they are; adjacent duplicate keys
    are not taken for rows in order."""
    codes = [np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)]
    order, key = _sort_keys(codes, [4, 3])
    assert np.array_equal(order, np.arange(12)) and np.all(np.diff(key) == 1)
    dup = [np.array([0, 0, 1]), np.array([1, 1, 0])]
    order, key = _sort_keys(dup, [2, 2])
    assert np.array_equal(order, [0, 1, 2]) and key[0] == key[1]
    df = pd.DataFrame({"u": [1, 1, 2], "t": [2001, 2001, 2000], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(PanelError, match=r"2 rows share their \(u, t\) key \(e\.g\. \['1', "
                                         r"2001\]\)"):
        em.Panel(df, unit="u", time="t")


def test_cohorts_and_units_from_the_codes_equal_pandas_reading() -> None:
    """cohorts() and units read the unit codes; they equal a groupby over the unit labels on a
    built panel, a selection, a panel with a group role and one given cohorts later."""
    df = _frame(np.array([12, 3, 250, 41, 7]))
    p, _ = _build(df)
    two = pd.concat([df.assign(k="b"), df.assign(k="a")], ignore_index=True)
    text = df.drop(columns="g").astype({"u": str}).fillna({"y": 0.0})
    later = em.Panel(text, unit="u", time="t").with_cohorts({"3": 2002})
    for q in (p, p.select(units=["41", "12"]), _build(two, group="k")[0], later):
        ref = q.data.groupby(q.unit)[q.cohort].first().rename("cohort")
        pd.testing.assert_series_equal(q.cohorts(), ref)
        assert q.units == sorted(q.data[q.unit].unique().tolist())


def test_text_order_of_integers_equals_sorting_their_text() -> None:
    """``_text_order`` orders integers as their decimal text sorts without writing the text
    (padded digits, then length): equal to pyarrow's sort of the text on prefixes, powers of ten
    and their neighbours, 17-digit numbers and random sets; None (the text is sorted) for
    negative numbers or 18 digits and more."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from evalmodel.panel_columns import _text_order

    rng = np.random.default_rng(17)
    tens = 10 ** np.arange(17, dtype=np.int64)
    cases = [np.arange(1201), np.array([0, 1, 10, 100, 101, 11, 110, 2, 20, 200, 19, 190]),
             np.unique(np.concatenate([tens, tens - 1, tens + 1, 2 * tens, [10**17 - 1]])),
             rng.integers(0, 10**17, 5_000), rng.integers(0, 10**6, 5_000),
             np.array([7])]
    for uniq in cases:
        uniq = np.unique(uniq)
        want = np.asarray(pc.sort_indices(pc.cast(pa.array(uniq), pa.string())))
        got = _text_order(uniq)
        assert got is not None and np.array_equal(got, want)
    assert _text_order(np.array([-5, 3])) is None
    assert _text_order(np.array([3, 10**17])) is None


def test_codes_read_back_from_the_sorted_key_equal_the_codes_taken_in_order() -> None:
    """After a sort, each key's codes are read back from the sorted combined key by division;
    they equal the codes taken row by row, for 200 random key sets, and for keys too many to
    combine (a rank is sorted then, and the codes are taken)."""
    from evalmodel.panel_columns import _codes_in_order, _row_order

    rng = np.random.default_rng(23)
    sorted_rows = 0
    for i in range(201):
        sizes = ([2**40, 2**20, 2**10] if i == 200 else
                 [int(m) for m in rng.integers(1, 40, rng.integers(2, 4))])
        n = int(rng.integers(2, 80))
        codes = [rng.integers(0, min(m, 10**6), n) for m in sizes]
        order, key = _row_order(codes, sizes)
        if order is None:
            continue
        sorted_rows += 1
        got = _codes_in_order(codes, sizes, order, key)
        for g, c in zip(got, codes, strict=True):
            assert g.dtype == np.int64 and np.array_equal(g, c[order])
    assert sorted_rows > 150


@pytest.mark.parametrize("ids", [np.array([f"k{i:03d}" for i in range(0, 90, 7)]),
                                 np.arange(0, 130, 11)], ids=["text", "integer"])
def test_sorted_rows_with_every_role_equal_the_rows_given_in_order(ids: np.ndarray) -> None:
    """Shuffled rows are copied into the new order column by column (the periods from the
    sorted key, the cohort from each unit's first row): with a weight, a group, a late cohort,
    an integer and a boolean outcome and missing values, the panel equals the one built from
    rows already in (unit, group, time) order, column for column and dtype for dtype."""
    rng = np.random.default_rng(5)
    base = _frame(ids).assign(w=lambda d: 1.0 + d["u"].astype(str).str.len(),
                              n=lambda d: np.arange(len(d)) % 5, b=lambda d: d["y"] > 0)
    two = pd.concat([base.assign(k="b"), base.assign(k="a")], ignore_index=True)
    ordered = two.sort_values(["u", "k", "t"], key=lambda s: s.astype(str), kind="stable")
    for df in (two, two.sample(frac=1, random_state=int(rng.integers(100)))):
        got, warned = _build(df, group="k", weight="w")
        want, want_warned = _build(ordered.reset_index(drop=True), group="k", weight="w")
        _assert_same(got, want)
        assert warned == want_warned
        assert got.data.columns.tolist() == ["u", "k", "t", "g", "w", "y", "n", "b"]
        assert got.data["g"].dtype == np.int64 and got.data["n"].dtype == np.float64
        assert got.late_cohorts.size > 0


def test_text_ids_sorted_once_equal_every_other_reading_of_them() -> None:
    """Text ids are sorted as they are factorized; ids that need no change keep those codes.
    The same ids as object, as a categorical with categories in another order, and with
    surrounding spaces (removed, noted) give the same panel."""
    ids = np.array(["1287", "0580", "2480", "0114", "0180", "1280"])
    df = _frame(ids).sample(frac=1, random_state=9)
    text, _ = _build(df)
    assert text.units == sorted(ids.tolist())
    reversed_cats = pd.Categorical(df["u"], categories=sorted(ids.tolist(), reverse=True))
    for other in (df.astype({"u": object}), df.assign(u=reversed_cats)):
        got, _ = _build(other)
        pd.testing.assert_frame_equal(got.data, text.data, check_exact=True)
        assert got.units == text.units
        assert np.array_equal(got.unit_codes()[0], text.unit_codes()[0])
    spaced, _ = _build(df.assign(u=" " + df["u"]))
    pd.testing.assert_frame_equal(spaced.data, text.data, check_exact=True)
    assert any("surrounding spaces removed" in n for n in spaced.notes)


@pytest.mark.parametrize("group", [None, "k"])
def test_gap_and_missing_counts_equal_pandas_counts(group: str | None) -> None:
    """Missing values are counted in the pass that looks for infinite ones, and absent cells
    from the number of rows (keys are distinct): the notes give pandas' counts on shuffled,
    unbalanced rows, with and without a group role, and none on a complete panel."""
    rng = np.random.default_rng(31)
    df = _frame(np.arange(0, 60, 3), n_t=7).assign(z=lambda d: rng.normal(size=len(d)))
    if group:
        df = pd.concat([df.assign(k="a"), df.assign(k="b")], ignore_index=True)
    complete, _ = _build(df, **({"group": group} if group else {}))
    assert not any("absent" in n for n in complete.notes)
    assert not any("'z'" in n for n in complete.notes)
    df = df.drop(index=rng.choice(len(df), 9, replace=False)).sample(frac=1, random_state=2)
    df.loc[df.index[:4], "z"] = np.nan
    p, _ = _build(df, **({"group": group} if group else {}))
    data = p.data
    cells = data.groupby([c for c in ("u", group) if c]).size()
    want_gaps = len(cells) * data["t"].nunique() - len(data)
    lacking = int((cells < data["t"].nunique()).sum())
    assert (f"unbalanced panel: {want_gaps} (unit, period) cells are absent ({lacking} units "
            "lack some periods); kept") in p.notes
    for c in ("y", "z"):
        assert f"column {c!r}: {int(data[c].isna().sum())} missing values kept as NaN" in p.notes


def test_categories_without_rows_are_no_units() -> None:
    """A categorical unit (or group) column whose categories include some without rows (as a
    filtered categorical keeps them) gives the units that have rows: the panel of the same
    column as text, with a cohort too (was a unit without rows, and an IndexError)."""
    df = _frame(np.array(["0580", "1287", "2480"])).sample(frac=1, random_state=4)
    cats = ["0114", "0580", "1287", "1999", "2480", "9999"]
    two = pd.concat([df.assign(k="b"), df.assign(k="a")], ignore_index=True)
    for frame, roles in ((df, {}), (two, {"group": "k"})):
        text, _ = _build(frame, **roles)
        cat = frame.assign(u=pd.Categorical(frame["u"], categories=cats[::-1]))
        if roles:
            cat["k"] = pd.Categorical(cat["k"], categories=["z", "b", "a"])
        got, _ = _build(cat, **roles)
        _assert_same(got, text)
        assert got.units == ["0580", "1287", "2480"] and got.is_balanced
    missing = df.assign(u=pd.Categorical(df["u"].where(df["t"] != 2003), categories=cats))
    with pytest.raises(PanelError, match=r"column 'u' has 3 missing unit ids"):
        _build(missing)
