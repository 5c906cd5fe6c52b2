"""Checks of a panel's columns before it is built: the frame's column names and the roles, unit
ids and other labels (as integer codes, their text made once), numeric values, the order of
rows, long input made wide, cohort values that are not periods, and the note on cohorts after the
last period. (The period column is :mod:`evalmodel.panel_periods`.)

Used by :class:`evalmodel.panel.Panel`; each check raises :class:`~evalmodel.errors.PanelError`
naming the column, the bad value and the fix, or records what it converted in ``notes``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import PanelError
from evalmodel.months import period_label, period_span
from evalmodel.panel_blocks import Runs, _codes_in_order, _row_order, _sort_keys  # noqa: F401
from evalmodel.vocabulary import did_you_mean

__all__ = ["late_cohort_note"]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _show(value: Any) -> str:
    return repr(_plain(value))


def _not_a_period(value: float, periods: np.ndarray, frequency: str = "year") -> str:
    """Why a cohort value that is not after the last period cannot be one (for a message;
    periods written as :func:`~evalmodel.months.period_label` writes them)."""
    span = period_span(periods[0], periods[-1], frequency)
    if value != np.floor(value):
        return f"is not a period of the panel ({span}): a first treated period is a whole period"
    if value < periods[0]:
        return (f"is before the first period of the panel ({span}): a unit treated before the "
                "panel starts has no untreated period; drop the unit, or start the panel earlier")
    return (f"is not a period of the panel ({span}): no row has period "
            f"{period_label(value, frequency)}; add that "
            "period's rows, or use the first period the unit is observed treated")


def late_cohort_note(late: Mapping[str, int], last: int, after: str = "",
                     frequency: str = "year") -> str:
    """The sentence counting the units first treated after ``last`` (``after`` qualifies it,
    e.g. ``" plus anticipation 1"``): their cohorts, how many units each, and the first units;
    periods written for ``frequency`` (``"2021-01"`` for months)."""
    counts = pd.Series(late, dtype="int64").value_counts().sort_index()
    cohorts = ", ".join(f"{period_label(g, frequency)} ({n} unit{'s' * (n != 1)})"
                        for g, n in counts.items())
    units = sorted(str(u) for u in late)
    shown = ", ".join(repr(u) for u in units[:5]) + (", ..." if len(units) > 5 else "")
    return (f"{len(late)} unit{'s' * (len(late) != 1)} first treated after the last period "
            f"({period_label(last, frequency)}){after} {'are' if len(late) != 1 else 'is'} "
            "never treated within the "
            f"sample: cohort{'s' * (len(counts) != 1)} {cohorts}, unit{'s' * (len(units) != 1)} "
            f"{shown}; set to cohort 0, as R did does")


def _strictly_increasing(ids: np.ndarray) -> bool:
    """Whether unit ids are in sorted order without repeats (as pandas sorts labels)."""
    return len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1]))


def _kept_codes(codes: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The unit codes of a subset of rows (``codes``: their codes in the whole panel) renumbered
    over the units that keep a row, as ``pd.factorize(..., sort=True)`` numbers them; None
    (factorize later) when ``ids`` are not sorted."""
    if not _strictly_increasing(ids):
        return None
    present = np.bincount(codes, minlength=len(ids)) > 0
    renumber = np.cumsum(present) - 1
    return renumber[codes], ids[present]


def _wide_by_codes(data: pd.DataFrame, unit: str, time: str, outcome: str, codes: np.ndarray,
                   ids: np.ndarray, periods: np.ndarray) -> pd.DataFrame:
    """What ``data.pivot(index=unit, columns=time, values=outcome)`` returns for rows with
    distinct keys and sorted ``ids`` (index and columns sorted and named, NaN where absent, the
    same memory layout), placed by the integer codes instead of hashing the labels."""
    values = np.full((len(ids), len(periods)), np.nan)
    values[codes, np.searchsorted(periods, data[time].to_numpy())] = (
        data[outcome].to_numpy(dtype=float))
    index = pd.Index(ids, name=unit, dtype=data[unit].dtype)
    return pd.DataFrame(values, index=index, columns=pd.Index(periods, name=time), copy=False)


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _column_names(data: pd.DataFrame) -> list[str]:
    """The frame's column names as NFC text; raises for a MultiIndex or duplicate names."""
    if isinstance(data.columns, pd.MultiIndex):
        raise PanelError(
            f"Panel: the columns are a MultiIndex of {data.columns.nlevels} levels (e.g. "
            f"{data.columns[0]!r}); flatten them first, e.g. df.columns = "
            "['_'.join(map(str, c)) for c in df.columns]."
        )
    names = [_nfc(str(c)) for c in data.columns]
    if len(set(names)) < len(names):
        dup = pd.Index(names)
        shown = list(dict.fromkeys(dup[dup.duplicated()]))
        odd = ("" if data.columns.duplicated().any() else
               " (they differ only in type or Unicode normalisation)")
        raise PanelError(
            f"Panel: {len(shown)} column name{'s are' if len(shown) > 1 else ' is'} used more "
            f"than once: {shown[:5]}{odd}; give each column its own name (df.columns = [...]) "
            "or drop the copies (df = df.loc[:, ~df.columns.duplicated()])."
        )
    return names


def _check_roles(
    data: pd.DataFrame, names: list[str], roles: Mapping[str, Any], outcomes: Any,
) -> dict[str, str]:
    """Check the role arguments against the frame's column names; return them as NFC text."""
    out: dict[str, str] = {}
    for role, col in roles.items():
        if col is None and role not in ("unit", "time"):
            continue
        if not isinstance(col, str):
            raise PanelError(
                f"Panel: {role} must be the name of a column (a string), got "
                f"{type(col).__name__} {col!r}; pass {role}='<column name>' (with non-text "
                "column names, first make them text: df.columns = df.columns.astype(str))."
            )
        out[role] = _nfc(col)
    for role, col in out.items():
        if col not in names:
            index = [str(n) for n in data.index.names if n is not None]
            where = (f"; {col!r} is an index level: call df.reset_index() first"
                     if col in index else did_you_mean(col, names))
            raise PanelError(
                f"Panel: the {role} column {col!r} is not in the data; columns are "
                f"{names[:12]}{where}; pass {role}='<column name>'."
            )
    seen: dict[str, str] = {}
    for role, col in out.items():
        if col in seen:
            raise PanelError(
                f"Panel: column {col!r} is given two roles ({seen[col]} and {role}); each role "
                "needs its own column."
            )
        seen[col] = role
    if outcomes is not None:
        if isinstance(outcomes, str) or not isinstance(outcomes, Iterable):
            raise PanelError(
                f"Panel: outcomes must be a list of column names, got {outcomes!r}; pass "
                f"outcomes=[{outcomes!r}]."
            )
        given = list(outcomes)
        wrong = [c for c in given if not isinstance(c, str)]
        if wrong:
            raise PanelError(f"Panel: outcomes must be column names (strings), got {wrong[0]!r}.")
        dup = sorted({c for c in given if given.count(c) > 1})
        if dup:
            raise PanelError(f"Panel: outcomes name {dup[:5]} more than once; name each once.")
        if "variable" not in out:  # wide input: the outcomes are columns of the frame
            for c in given:
                if _nfc(c) not in names:
                    raise _missing_outcome(c, names)
        taken = [c for c in given if _nfc(c) in seen]
        if taken:
            raise PanelError(
                f"Panel: outcome {taken[0]!r} is the {seen[_nfc(taken[0])]} column; an outcome "
                "is a variable measured for each unit and period, not a role."
            )
    return out


def _missing_outcome(col: str, columns: Sequence[str]) -> PanelError:
    return PanelError(
        f"Panel: outcome column {col!r} is not in the data; columns are "
        f"{list(columns)[:12]}{did_you_mean(col, columns)}."
    )


def _examples(values: Iterable[Any], k: int = 2) -> str:
    return ", ".join(_show(v) for v in list(values)[:k])


def _refuse_mixed(uniq: pd.Index, col: str, role: str) -> PanelError:
    """The error for a label column whose values are of several types."""
    by_type: dict[str, list[Any]] = {}
    for v in uniq:
        by_type.setdefault(type(_plain(v)).__name__, []).append(v)
    types = " and ".join(f"{t} (e.g. {_examples(vs)})" for t, vs in by_type.items())
    if len(by_type) == 1:
        return PanelError(
            f"Panel: {role} column {col!r} holds {types}; {role} ids must be text (or whole "
            f"numbers): convert the column, e.g. df[{col!r}] = df[{col!r}].astype(str)."
        )
    digits = [v for v in by_type.get("str", []) if v.strip().isdigit()]
    width = max((len(v.strip()) for v in digits), default=4)
    numbers = {int(v) for v in uniq if isinstance(_plain(v), int | float) and
               not isinstance(_plain(v), bool) and np.isfinite(v) and v == int(v)}
    same = [v for v in digits if int(v) in numbers]
    if role != "unit":
        return PanelError(
            f"Panel: {role} column {col!r} mixes value types: {types}, so one {role} can "
            f"appear under two labels; make the column text first: "
            f"df[{col!r}] = df[{col!r}].astype(str)."
        )
    clash = (f"; {int(same[0])!r} and {same[0]!r} would be the same unit once padded, "
             f"{len(same)} such pairs" if same else "")
    return PanelError(
        f"Panel: unit column {col!r} mixes value types: {types}, so one unit can appear "
        f"under two ids{clash}; make the column text of one width first: "
        f"df[{col!r}] = df[{col!r}].astype(str).str.zfill({width})."
    )


def _as_text(uniq: pd.Index, col: str, role: str) -> tuple[pd.Series, bool]:
    """The distinct labels as text, and whether they were numbers; raises for other types."""
    kind = pd.api.types.infer_dtype(uniq, skipna=True)
    if kind in ("string", "empty"):
        return pd.Series(uniq, dtype="str"), False
    if kind in ("integer", "floating", "mixed-integer-float"):
        numbers = uniq.to_numpy(dtype=float) if kind != "integer" else None
        if numbers is not None:
            bad = ~np.isfinite(numbers) | (np.round(numbers) != numbers)
            if bad.any():
                raise PanelError(
                    f"Panel: {role} column {col!r} holds numbers that are not whole "
                    f"(e.g. {_show(uniq[int(np.flatnonzero(bad)[0])])}); {role} ids must be "
                    "strings such as '0580': pass the ids as text."
                )
            return pd.Series([str(int(v)) for v in numbers], dtype="str"), True
        return pd.Series([str(int(v)) for v in uniq], dtype="str"), True
    if kind in ("mixed-integer", "mixed"):
        raise _refuse_mixed(uniq, col, role)
    raise PanelError(
        f"Panel: {role} column {col!r} holds {kind} values (e.g. {_examples(uniq)}); {role} "
        "ids must be text (or whole numbers): convert the column with .astype(str)."
    )


class Labels:
    """A label column (unit ids, groups, variable names) as codes: each row's position in the
    sorted distinct labels, which are kept once; the text column is made only when needed.

    Integer ids are kept as numbers (``numbers``: the distinct ids in the order of their text)
    until their text is first read (:attr:`text`, :attr:`ids`).
    """

    def __init__(self, codes: np.ndarray, ids: np.ndarray | None = None, text: Any = None,
                 given: pd.Series | None = None, numbers: np.ndarray | None = None) -> None:
        self.codes = codes  #: int64, one per row of the column read
        self.given = given  #: the column read, when it already is this text, row for row
        self._numbers = numbers
        if text is not None:
            self.__dict__["text"] = text
        if ids is not None:
            self.__dict__["ids"] = ids

    @cached_property
    def text(self) -> Any:
        """The sorted distinct labels as a pandas "str" array."""
        import pyarrow as pa
        import pyarrow.compute as pc

        return pd.array(pc.cast(pa.array(self._numbers), pa.string()), dtype="str")

    @cached_property
    def ids(self) -> np.ndarray:
        """The sorted distinct labels (Python str, object array)."""
        # pandas makes the Python strings faster than pyarrow's to_numpy (the same values)
        return np.asarray(self.text.to_numpy(), dtype=object)

    @property
    def size(self) -> int:
        """The number of distinct labels (without making their text)."""
        return len(self._numbers) if self._numbers is not None else len(self.ids)

    def with_codes(self, codes: np.ndarray, given: pd.Series | None = None) -> Labels:
        """The same labels for other rows (``codes``; ``given``: their column as read, when it
        is this text)."""
        new = Labels(codes, given=given, numbers=self._numbers)
        new.__dict__.update((k, v) for k, v in self.__dict__.items() if k in ("text", "ids"))
        return new

    def column(self, codes: np.ndarray, index: pd.Index) -> pd.Series:
        """The labels of ``codes`` as a text column with ``index``."""
        return pd.Series(self.text.take(codes), index=index)

    def as_read(self) -> pd.Series:
        """The text column, in the rows of the column read."""
        return self.given if self.given is not None else self.column(
            self.codes, pd.RangeIndex(len(self.codes)))


def _to_labels(s: pd.Series, col: str, role: str, notes: list[str],
               rows: int | None = None) -> Labels:
    """Return a column of labels (unit ids, groups, variable names) as NFC text, each row's
    code and the sorted distinct labels the codes index (as ``pd.factorize(..., sort=True)``),
    as :class:`Labels`.

    Missing labels and labels of several types (``1`` beside ``'0001'``) are refused. Surrounding
    spaces are removed and labels are normalised to Unicode NFC; when that changes or merges
    labels, the count goes to ``notes``. Numeric unit ids become text, with a note. The work is
    done once per distinct label, not per row. ``rows``: the rows an integer column stands for
    when it holds one id per run of rows (:func:`~evalmodel.panel_blocks.unit_runs`).
    """
    if _is_integer(s):
        return _integer_labels(s, col, role, notes, rows)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniq = s.cat.codes.to_numpy(), s.cat.categories
        used = np.zeros(len(uniq) + 1, dtype=bool)
        used[codes] = True  # a missing label (-1) marks the last place
        if not used[:-1].all():  # a category without rows is no label of the panel
            codes = np.where(codes >= 0, (np.cumsum(used[:-1]) - 1)[codes], -1)
            uniq = uniq[used[:-1]]
    else:  # text is sorted once here, so that labels needing no change keep their codes
        codes, uniq = pd.factorize(s, sort=isinstance(s.dtype, pd.StringDtype))
    if (codes < 0).any():
        missing = codes < 0
        what = "unit ids" if role == "unit" else f"{role} labels"
        raise PanelError(
            f"Panel: column {col!r} has {int(missing.sum())} missing {what} (e.g. row "
            f"{int(np.flatnonzero(missing)[0])}); every row needs a {role}: drop those rows or "
            f"fill the {'ids' if role == 'unit' else 'labels'}."
        )
    text, numeric = _as_text(uniq, col, role)
    stripped = text.str.strip()
    canon = stripped if _is_ascii(stripped) else stripped.str.normalize("NFC")
    if numeric and role == "unit":
        notes.append(f"unit column {col!r}: {len(s)} numeric ids converted to strings")
    spaced = np.flatnonzero((text.str.len() != stripped.str.len()).to_numpy())
    if len(spaced):
        rows = int(np.isin(codes, spaced).sum())
        notes.append(f"{role} column {col!r}: surrounding spaces removed from {rows} values "
                     f"({len(spaced)} labels, e.g. {text.iloc[spaced[0]]!r})")
    if not len(spaced) and bool((canon == text).all()) and canon.is_monotonic_increasing:
        final, labels = np.arange(len(canon)), pd.Index(canon)  # distinct, sorted: as they are
    else:
        final, labels = pd.factorize(canon, sort=True)
    if len(labels) < len(canon):  # merged by spaces (noted above) or by normalisation
        forms = stripped.groupby(final).nunique()
        unicode = forms[forms > 1]
        if len(unicode):
            notes.append(
                f"{role} column {col!r}: {int(unicode.sum())} labels that differ only in "
                f"Unicode normalisation merged into {len(unicode)} (e.g. "
                f"{labels[unicode.index[0]]!r}; labels are kept in NFC form)")
    if len(final) and not bool((final[1:] > final[:-1]).all()):  # not first seen, first sorted
        codes = final[codes]
    label_text = (labels.array if labels.dtype == _TEXT else
                  pd.array(labels.to_numpy(dtype=object), dtype="str"))
    as_given = (s.dtype == label_text.dtype and not numeric and not len(spaced)
                and len(labels) == len(canon) and bool((canon == stripped).all()))
    return Labels(np.asarray(codes, dtype=np.int64), np.asarray(labels, dtype=object),
                  label_text, s if as_given else None)


#: pandas' text dtype, which label columns have
_TEXT = pd.array([], dtype="str").dtype


def _is_ascii(text: pd.Series) -> bool:
    """Whether every label is ASCII text (then NFC leaves it as it is), checked by pyarrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return bool(pc.all(pc.string_is_ascii(pa.array(text, type=pa.large_string()))).as_py())


def _labels_of(s: pd.Series) -> Labels:
    """:class:`Labels` of a column that already holds valid labels (a pivoted frame's keys)."""
    codes, uniq = pd.factorize(s, sort=True)
    ids = np.asarray(uniq, dtype=object)
    return Labels(np.asarray(codes, dtype=np.int64), ids, pd.array(ids, dtype="str"), s)


def _is_integer(s: pd.Series) -> bool:
    """Whether ``s`` is a numpy integer column whose values all fit in int64."""
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else ""
    return kind == "i" or (kind == "u" and (len(s) == 0 or int(s.max()) < 2**63))


def _integer_codes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position among the sorted distinct values, and those values, as
    ``pd.factorize(v, sort=True)`` gives them (int64 ``v``, at least one value).

    When the values span a range of at most a few times their number (years, consecutive
    ids), a table over that range replaces the hashing and the sort: linear time, no hash.
    """
    lo, hi = int(v.min()), int(v.max())
    if hi - lo > 4 * len(v) + 1024:
        codes, uniq = pd.factorize(v, sort=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=np.int64)
    if 0 <= lo and hi <= 4 * len(v) + 1024:  # years, ids from 0: a table from 0, no shift
        seen = np.zeros(hi + 1, dtype=bool)
        seen[v] = True
        at = np.cumsum(seen, dtype=np.int64) - 1
        return np.take(at, v, mode="clip"), np.flatnonzero(seen)
    shifted = np.subtract(v, lo, dtype=np.int64)
    present = np.zeros(hi - lo + 1, dtype=bool)
    present[shifted] = True
    position = np.cumsum(present, dtype=np.int64) - 1
    return np.take(position, shifted, out=shifted, mode="clip"), np.flatnonzero(present) + lo


#: 10 .. 10**18: a non-negative int64 has one decimal digit more than the powers it reaches.
_TENS = 10 ** np.arange(1, 19, dtype=np.int64)


def _text_order(uniq: np.ndarray) -> np.ndarray | None:
    """The order in which sorted distinct integers sort as decimal text (code point order),
    without writing the text; None (sort the text instead) for negative numbers or numbers of
    more than 17 digits.

    A number of ``d`` digits sorts as its digits padded with zeros on the right to the longest
    number's ``D`` digits, ``v * 10**(D - d)``, and before the longer numbers it is a prefix
    of: the key is that padded value, then ``d``.
    """
    if uniq[0] < 0 or uniq[-1] >= 10**17:
        return None
    digits = np.searchsorted(_TENS, uniq, side="right") + 1
    padded = uniq * 10 ** (int(digits.max()) - digits)  # below 10**17
    # the numbers of each length come in increasing order (uniq is sorted): at most 18 runs,
    # which the stable sort merges in linear time
    return np.argsort(padded * 32 + digits, kind="stable")


def _integer_labels(s: pd.Series, col: str, role: str, notes: list[str],
                    rows: int | None = None) -> Labels:
    """:func:`_to_labels` of an integer column: the distinct numbers are written as text once
    (by pyarrow) and sorted as text; the rows get their codes without a string per row until
    the column is made. Integers have no spaces and no Unicode forms to normalise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(s) == 0:
        return _to_labels(s.astype(object), col, role, notes)
    codes, uniq = _integer_codes(s.to_numpy().astype(np.int64, copy=False))
    by_text = _text_order(uniq)  # code point order, as str, without the text
    text = None
    if by_text is None:
        text = pc.cast(pa.array(uniq), pa.string())
        by_text = np.asarray(pc.sort_indices(text), dtype=np.int64)
        text = pd.array(text.take(pa.array(by_text)), dtype="str")
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[by_text] = np.arange(len(uniq))
    row_codes = np.take(rank, codes, out=codes, mode="clip")
    if role == "unit":
        notes.append(f"unit column {col!r}: {rows or len(s)} numeric ids converted to strings")
    return Labels(row_codes, text=text, numbers=np.take(uniq, by_text))


def _unit_labels(s: pd.Series, runs: Runs | None, col: str, ids: Iterable[str] | None,
                 notes: list[str]) -> tuple[Labels, Runs | None]:
    """Unit ids as :func:`_to_unit_ids` reads them from ``s``, read once per run of equal ids
    where ``runs`` are given: integer ids (their note counts the rows), and text that needs no
    note and is not refused (else it is read again row by row, for the counts and the rows a
    note or a message gives). Returns the labels and the runs their codes are of (None: the
    codes are the rows')."""
    if runs is None:
        return _to_unit_ids(s, col, ids, notes), None
    if _is_integer(s):
        return _to_unit_ids(runs.values, col, ids, notes, rows=len(s)), runs
    mine: list[str] = []
    try:
        out = _to_unit_ids(runs.values, col, ids, mine)
    except PanelError:
        mine.append("refused")
    if mine:
        return _to_unit_ids(s, col, ids, notes), None
    if out.given is not None:  # the column read is the text: kept, row for row
        out.given = s
    return out, runs


def _to_unit_ids(
    s: pd.Series, col: str, ids: Iterable[str] | None, notes: list[str],
    rows: int | None = None,
) -> Labels:
    """Return unit ids as :func:`_to_labels` does, checking leading zeros against known ids."""
    if isinstance(ids, str):
        raise PanelError(f"Panel: ids must be a list of unit ids, got the string {ids!r}.")
    out = _to_labels(s, col, "unit", notes, rows)
    if ids is not None:
        known = {str(i) for i in ids}
        unknown = [u for u in out.ids if u not in known]
        lost = [u for u in unknown if u.isdigit() and any(k.lstrip("0") == u for k in known)]
        if lost:
            width = max(len(k) for k in known)
            raise PanelError(
                f"Panel: unit column {col!r} has ids that lost their leading zeros "
                f"(e.g. {lost[0]!r}, known as {lost[0].zfill(width)!r}; {len(lost)} ids in all); "
                f"read the column as text (dtype={{{col!r}: str}}) or repair it with "
                f"df[{col!r}].astype(str).str.zfill({width})."
            )
    return out


def _to_float(s: pd.Series, col: str, notes: list[str]) -> pd.Series:
    """A numeric column as float64: booleans become 0/1 and numbers in text are read (noted);
    text that is not a number, complex numbers, dates and durations are refused."""
    if pd.api.types.is_bool_dtype(s):
        notes.append(f"column {col!r}: booleans converted to 0/1")
        return pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
    kind = None if pd.api.types.is_numeric_dtype(s) else pd.api.types.infer_dtype(s, skipna=True)
    if pd.api.types.is_complex_dtype(s) or kind in ("complex", "datetime", "datetime64", "date",
                                                     "timedelta", "timedelta64", "period"):
        what = "complex numbers" if kind in (None, "complex") else f"{kind} values"
        raise PanelError(
            f"Panel: column {col!r} holds {what} (e.g. {_show(s.dropna().iloc[0])}), not real "
            "numbers; convert it, or leave the column out with outcomes=[...]."
        )
    if kind is None:
        if s.dtype == np.float64:
            return s  # already what the panel holds: no copy
        return pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        value = s.iloc[pos]
        comma = (" (a decimal comma? then s.str.replace(',', '.') first)"
                 if isinstance(value, str) and value.replace(",", "", 1).strip().lstrip("-")
                 .isdigit() and "," in value else "")
        raise PanelError(
            f"Panel: column {col!r} is not numeric: {int(bad.sum())} values are not numbers "
            f"(e.g. {_show(value)} in row {pos}){comma}; convert it with pd.to_numeric(..., "
            "errors='coerce') if those are missing values, or leave the column out "
            "with outcomes=[...]."
        )
    if kind == "boolean":
        notes.append(f"column {col!r}: booleans converted to 0/1")
    elif kind not in ("integer", "floating", "mixed-integer-float", "empty", "decimal"):
        notes.append(f"column {col!r}: {int(s.notna().sum())} numbers converted from text")
    return pd.Series(num.to_numpy(dtype=float, na_value=np.nan), index=s.index)


def _refuse_infinite(values: np.ndarray, col: str, df: pd.DataFrame, keys: list[str]) -> None:
    """Raise when ``values`` (a column of ``df``, float) holds inf or -inf."""
    inf = np.isinf(values)
    if inf.any():
        rows = np.flatnonzero(inf)
        first = [tuple(_plain(v) for v in df.iloc[r][keys]) for r in rows[:3]]
        raise PanelError(
            f"Panel: column {col!r} has {len(rows)} infinite values (e.g. {_show(values[rows[0]])}"
            f" at ({', '.join(keys)}) = {', '.join(map(str, first))}); replace them with NaN if "
            f"they stand for missing values (df[{col!r}] = df[{col!r}].replace([np.inf, -np.inf], "
            "np.nan)), or correct them at the source."
        )


def _pivot_long(
    df: pd.DataFrame, keys: list[str], variable: str, value: str, extra: list[str | None]
) -> pd.DataFrame:
    """Long input (one row per key and variable) made wide by variable; the ``extra`` role
    columns (cohort, weight) keep each key's first value. Refuses a key given twice for one
    variable, and variable names that are also role columns."""
    dup = df.duplicated([*keys, variable], keep=False)
    if dup.any():
        first = [_plain(v) for v in df.loc[dup, [*keys, variable]].iloc[0]]
        raise PanelError(
            f"Panel: {int(dup.sum())} long rows share their ({', '.join(keys)}, {variable}) "
            f"key (e.g. {first}); keep one value per unit, period and variable."
        )
    roles = [*keys, *(c for c in extra if c is not None)]
    clash = sorted(set(df[variable].unique()) & set(roles))
    if clash:
        raise PanelError(
            f"Panel: variable column {variable!r} names variables that are also role "
            f"columns ({clash[:5]}); rename those variables or the role columns."
        )
    wide = df.pivot(index=keys, columns=variable, values=value)
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.reset_index()
    for col in (c for c in extra if c is not None):
        per_key = df.groupby(keys, sort=False)[col].first()
        wide = wide.merge(per_key.rename(col).reset_index(), on=keys, how="left")
    return wide
