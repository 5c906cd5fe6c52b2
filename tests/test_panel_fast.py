"""Panel.wide, select and with_cohorts by the unit codes equal pandas' label-based answers.

The three are read in every placebo fit (issue 16: the calibration section builds thousands of
placebo panels), so they place rows by the integer unit codes instead of hashing labels. The
references here are the pandas operations they replaced: ``pivot``, ``isin`` on the labels and
``map`` of a dict, with ``pd.factorize(..., sort=True)`` for the unit codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.panel import NEVER


def _frame(seed: int, *, n_units: int = 12, n_periods: int = 6, gaps: int = 0,
           missing: int = 0) -> pd.DataFrame:
    """Shuffled rows of units whose order in the frame differs from their ids."""
    rng = np.random.default_rng(seed)
    ids = [f"{u:04d}" for u in rng.choice(9000, size=n_units, replace=False)]
    df = pd.DataFrame([(u, 2000 + t) for u in ids for t in range(n_periods)],
                      columns=["kommun", "year"])
    df["y"] = rng.normal(size=len(df))
    df["x"] = rng.normal(size=len(df))
    if gaps:
        df = df.drop(index=rng.choice(len(df), size=gaps, replace=False))
    if missing:
        df.loc[df.index[rng.choice(len(df), size=missing, replace=False)], "y"] = np.nan
    return df.sample(frac=1, random_state=seed)


PANELS = {
    "balanced": lambda: em.Panel(_frame(1), unit="kommun", time="year"),
    "unbalanced with NaN": lambda: em.Panel(_frame(2, gaps=9, missing=4), unit="kommun",
                                            time="year"),
    "with a cohort": lambda: em.Panel(
        _frame(3, gaps=3).assign(first=lambda d: np.where(d["kommun"] < "5000", 2003, 0)),
        unit="kommun", time="year", cohort="first"),
    "monthly": lambda: em.Panel(_frame(4, n_periods=15).assign(
        year=lambda d: (d["year"] - 2000) + 12 * 2021), unit="kommun", time="year",
        frequency="month"),
}


def _reference_codes(panel: em.Panel) -> tuple[np.ndarray, np.ndarray]:
    codes, ids = pd.factorize(panel.data[panel.unit], sort=True)
    return codes, np.asarray(ids)


def _same_codes(panel: em.Panel) -> None:
    codes, ids = panel.unit_codes()
    ref_codes, ref_ids = _reference_codes(panel)
    np.testing.assert_array_equal(codes, ref_codes)
    assert ids.tolist() == ref_ids.tolist()


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
@pytest.mark.parametrize("kind", sorted(PANELS))
def test_wide_equals_pivot(kind: str) -> None:
    p = PANELS[kind]()
    for outcome in ("y", "x"):
        fast = p.wide(outcome)
        ref = p.data.pivot(index=p.unit, columns=p.time, values=outcome)
        pd.testing.assert_frame_equal(fast, ref, check_exact=True, check_index_type=True,
                                      check_column_type=True)
        assert fast.index.dtype == ref.index.dtype and fast.columns.dtype == ref.columns.dtype
        # the same memory layout, so that reductions over it add in the same order
        assert (fast._mgr.blocks[0].values.flags["F_CONTIGUOUS"]  # type: ignore[attr-defined]
                == ref._mgr.blocks[0].values.flags["F_CONTIGUOUS"])  # type: ignore[attr-defined]


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
@pytest.mark.parametrize("kind", sorted(PANELS))
def test_select_equals_label_masks(kind: str) -> None:
    p = PANELS[kind]()
    units = p.units
    periods = p.periods.tolist()
    chosen = [units[5], units[1], units[8], units[1]]  # out of order, one twice
    for kwargs in ({"units": chosen}, {"periods": periods[2:4]},
                   {"units": chosen, "periods": periods[-2:]}):
        fast = p.select(**kwargs)
        data = p.data
        mask = pd.Series(True, index=data.index)
        if "units" in kwargs:
            mask &= data[p.unit].isin(kwargs["units"])
        if "periods" in kwargs:
            mask &= data[p.time].isin(kwargs["periods"])
        pd.testing.assert_frame_equal(fast.data, data[mask].reset_index(drop=True),
                                      check_exact=True)
        _same_codes(fast)
        assert fast.units == sorted(set(data[mask][p.unit]))
        np.testing.assert_array_equal(fast.periods, np.sort(data[mask][p.time].unique()))
        pd.testing.assert_series_equal(fast.cohorts(), fast.data.groupby(p.unit)[
            fast.cohort].first().rename("cohort") if fast.cohort else fast.cohorts())


@pytest.mark.filterwarnings("ignore::evalmodel.errors.GapWarning")
def test_select_drops_units_without_rows_in_the_periods() -> None:
    df = _frame(5, gaps=0)
    lone = df["kommun"].iloc[0]
    df = df[(df["kommun"] != lone) | (df["year"] == 2000)]  # one unit seen only in 2000
    p = em.Panel(df, unit="kommun", time="year")
    later = p.select(periods=[2003, 2004])
    assert lone not in later.units
    _same_codes(later)
    _same_codes(later.select(units=later.units[::2]))


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
@pytest.mark.parametrize("kind", sorted(PANELS))
def test_with_cohorts_equals_label_map(kind: str) -> None:
    p = PANELS[kind]()
    units = p.units
    start = int(p.periods[3])
    given = {units[4]: start, units[0]: int(p.periods[1]), "9999x": start, units[7]: 0}
    fast = p.with_cohorts(given)
    data = p.data
    col = p.cohort or "cohort"
    expected = data[p.unit].map({u: c for u, c in given.items() if c}).fillna(NEVER)
    np.testing.assert_array_equal(fast.data[col].to_numpy(), expected.to_numpy(np.int64))
    assert fast.data[col].dtype == np.int64
    others = [c for c in data.columns if c != col]
    pd.testing.assert_frame_equal(fast.data[others], data[others], check_exact=True)
    _same_codes(fast)
    assert p.data[col].tolist() == data[col].tolist() if col in data else True  # p unchanged
    cohorts = fast.cohorts()
    assert cohorts[units[4]] == start and cohorts[units[7]] == NEVER
    assert int((cohorts != NEVER).sum()) == 2


def test_select_units_given_as_any_iterable_in_any_form() -> None:
    """Units given as a generator, repeated, as numbers or in decomposed Unicode select what
    pandas' isin of their NFC text selects."""
    import unicodedata

    df = _frame(6, n_units=9)
    names = {u: n for u, n in zip(sorted(df["kommun"].unique()),
                                  ["Malmö", "Borås", "Linköping", "0114", "114", "Åre", "Umeå",
                                   "Gävle", "Örebro"], strict=True)}
    df["kommun"] = df["kommun"].map(names)
    p = em.Panel(df, unit="kommun", time="year")
    nfd = unicodedata.normalize("NFD", "Linköping")
    assert nfd != "Linköping"
    for given, want in [((u for u in ["Åre", "Malmö", "Åre"]), ["Åre", "Malmö"]),
                        ([nfd, 114], ["Linköping", "114"]),
                        (p.units, p.units), (["0114"], ["0114"])]:
        data = p.data
        ref = data[data[p.unit].isin(want)].reset_index(drop=True)
        got = p.select(units=given)
        pd.testing.assert_frame_equal(got.data, ref, check_exact=True)
        _same_codes(got)
    with pytest.raises(em.PanelError, match=r"units \['Lund'\] are not in the panel"):
        p.select(units=["Malmö", "Lund"])


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
@pytest.mark.parametrize("kind", sorted(PANELS))
def test_wide_and_cohorts_on_repeated_calls_and_derived_panels(kind: str) -> None:
    """wide() and cohorts() answer every later call as pandas does, after a caller renamed what
    it got, and answer for derived panels as pandas does."""
    p = PANELS[kind]()
    first = p.wide("y")
    first.index.name, first.columns.name = "renamed", "renamed"
    if p.cohort:
        p.cohorts().index.name = "renamed"
    for panel in (p, p.select(units=p.units[::2]), p.select(periods=p.periods[1:4].tolist()),
                  p.with_cohorts({p.units[1]: int(p.periods[2])})):
        for _ in range(2):  # made, then kept
            ref = panel.data.pivot(index=p.unit, columns=p.time, values="y")
            pd.testing.assert_frame_equal(panel.wide("y"), ref, check_exact=True)
            if panel.cohort:
                want = panel.data.groupby(p.unit)[panel.cohort].first().rename("cohort")
                pd.testing.assert_series_equal(panel.cohorts(), want, check_exact=True)


@pytest.mark.filterwarnings("ignore::evalmodel.errors.EvalModelWarning")
def test_wide_and_cohorts_of_integer_ids_read_before_their_text() -> None:
    """Integer unit ids keep their numbers until their text is read: cohorts() read first (the
    unit column not yet made), then wide(), give pandas' answers on the text ids."""
    df = _frame(7).assign(kommun=lambda d: d["kommun"].astype(int),
                          first=lambda d: np.where(d["kommun"] < 5000, 2002, 0))
    p = em.Panel(df, unit="kommun", time="year", cohort="first")
    got = p.cohorts()
    data = p.data
    pd.testing.assert_series_equal(got, data.groupby(p.unit)["first"].first().rename("cohort"),
                                   check_exact=True)
    pd.testing.assert_frame_equal(p.wide("y"), data.pivot(index=p.unit, columns=p.time,
                                                          values="y"), check_exact=True)
