"""The validated panel: one long frame with declared column roles.

A :class:`Panel` is built once from a DataFrame, validated once, and never changed afterwards.
Every row it drops and every value it coerces is counted in :attr:`Panel.notes` and raised as a
named warning (:mod:`evalmodel.errors`). Estimators take a Panel and trust it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import (
    CoercedValuesWarning,
    GapWarning,
    LateCohortWarning,
    MissingValueWarning,
    PanelError,
)
from evalmodel.frames import as_pandas
from evalmodel.months import month_label
from evalmodel.panel_blocks import balanced_blocks, unit_runs
from evalmodel.panel_checks import check_weights, refuse_duplicates
from evalmodel.panel_columns import (
    Labels,
    _check_roles,
    _codes_in_order,
    _column_names,
    _integer_codes,
    _kept_codes,
    _labels_of,
    _missing_outcome,
    _nfc,
    _pivot_long,
    _refuse_infinite,
    _row_order,
    _strictly_increasing,
    _to_float,
    _to_labels,
    _unit_labels,
    _wide_by_codes,
    late_cohort_note,
)
from evalmodel.panel_edits import with_cohorts, with_values
from evalmodel.panel_months import to_annual
from evalmodel.panel_periods import NEVER, _cohort_years, _to_periods, check_cohort
from evalmodel.vocabulary import did_you_mean

__all__ = ["NEVER", "Panel", "late_cohort_note"]


class Panel:
    """A validated panel of units observed over integer periods.

    Parameters
    ----------
    data : pandas.DataFrame
        Either *wide by variable* (one row per unit and period, one column per variable) or
        *long* (one row per unit, period and variable, with ``variable`` and ``value`` columns).
    unit, time : str
        Names of the unit-id and period columns. Unit ids become text (``'0580'``): numbers are
        converted with a note, surrounding spaces are removed and labels are normalised to
        Unicode NFC (counted in :attr:`notes` when that changes or merges labels); a column
        mixing numbers and text (``1`` beside ``'0001'``) is refused; of a categorical column,
        the categories without rows are no units. (The panel keeps integer codes and makes the
        text when it is first read.) Periods must be integer-valued; text holding whole numbers
        (``'2019'``), dates that all fall on one calendar day of their year (``2019-01-01`` or
        ``2019-12-31``) and annual pandas Periods become their year, with a
        :class:`~evalmodel.errors.CoercedValuesWarning` and a note. Months (text ``'2021-01'``
        or ``'2021M01'``, pandas ``Period[M]``, or dates on the first of the month with several
        per year) become month codes ``12 * year + month - 1`` (``evalmodel.months``), with a
        note, and the panel is monthly (:attr:`frequency`).
    cohort : str, optional
        Column with the first treated period of each unit; NaN, 0 or inf means never treated. It
        must be constant within a unit and be a period of the panel, or come after the last
        period: such a unit is never treated within the sample (cohort 0, as R ``did`` has it),
        counted in :attr:`notes` with a :class:`~evalmodel.errors.LateCohortWarning`, and its
        first treated period is kept in :attr:`late_cohorts`.
    weight : str, optional
        Column of sampling weights (constant within unit for the staggered estimators); each
        weight must be a positive finite number.
    group : str, optional
        Column splitting each unit into groups (e.g. target and non-target); the key of a row is
        then (unit, group, time). Labels are treated as unit ids are.
    outcomes : sequence of str, optional
        Variables to keep; by default every column without a role. Each must be numeric (or
        boolean, converted to 0/1 with a note); missing values are kept and counted, infinite
        values are refused.
    variable, value : str, optional
        For long input: the columns holding the variable name and its value.
    ids : iterable of str, optional
        Known unit ids (for example Kolada's municipality ids); ids that lost their leading
        zeros in an integer column are then detected.
    truth : pandas.DataFrame, optional
        Planted effects, for simulated data.
    source : mapping, optional
        Provenance of the data (name, sha256, ...), carried into reports.
    frequency : {None, "year", "month"}
        None reads it from the time column; ``"month"`` takes integers as month codes (checked)
        and one date per year as a month; ``"year"`` refuses monthly forms.

    Raises
    ------
    PanelError
        For an empty frame, duplicate or MultiIndex column names, a missing column (with the
        closest names), one column given two roles, duplicate keys, missing or non-integer
        periods, a column mixing years and months, daily or quarterly periods, unit ids of
        mixed types, a non-numeric or infinite outcome, weights that are not positive and
        finite, an inconsistent cohort or one of the other frequency, or a cohort before the
        first period or between periods that is not a period itself.

    Notes
    -----
    A panel of one unit or one period is valid (a unit's series can be plotted or selected);
    an estimator that needs several refuses it with
    :class:`~evalmodel.errors.EstimationError`.

    Examples
    --------
    >>> import pandas as pd, evalmodel as em
    >>> df = pd.DataFrame({"kommun": ["0580", "0580", "1287", "1287"],
    ...                    "year": [2020, 2021, 2020, 2021], "y": [1.0, 2.0, 1.5, 1.7]})
    >>> p = em.Panel(df, unit="kommun", time="year")
    >>> p.units, p.periods.tolist()
    (['0580', '1287'], [2020, 2021])
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        unit: str,
        time: str,
        cohort: str | None = None,
        weight: str | None = None,
        group: str | None = None,
        outcomes: Sequence[str] | None = None,
        variable: str | None = None,
        value: str | None = None,
        ids: Iterable[str] | None = None,
        truth: pd.DataFrame | None = None,
        source: Mapping[str, Any] | None = None,
        frequency: str | None = None,
    ) -> None:
        data = as_pandas(data, roles=[unit, time, cohort, weight, group, variable, value],
                         outcomes=outcomes, long=variable is not None)  # polars, arrow, duckdb
        if not isinstance(data, pd.DataFrame):
            raise PanelError(
                f"Panel: data must be a pandas DataFrame, got {type(data).__name__}; "
                "build one with pd.DataFrame(...)."
            )
        names = _column_names(data)
        if names != list(data.columns):
            data = data.set_axis(names, axis=1)
        if data.empty:
            raise PanelError(
                "Panel: the DataFrame is empty (0 rows); pass a frame with at least one row "
                "per unit and period."
            )
        if (variable is None) != (value is None):
            raise PanelError(
                "Panel: long input needs both 'variable' and 'value' column names; "
                f"got variable={variable!r}, value={value!r}."
            )
        given = {"unit": unit, "time": time, "cohort": cohort, "weight": weight, "group": group,
                 "variable": variable, "value": value}
        roles = _check_roles(data, names, given, outcomes)
        unit, time = roles["unit"], roles["time"]
        cohort, weight, group = roles.get("cohort"), roles.get("weight"), roles.get("group")
        variable, value = roles.get("variable"), roles.get("value")
        if outcomes is not None:
            outcomes = [_nfc(c) for c in outcomes]
        notes: list[str] = []
        if variable is None and outcomes is not None:  # copy only the columns kept
            wanted = [*dict.fromkeys([*(c for c in roles.values() if c), *outcomes])]
            df = data[[c for c in wanted if c in data.columns]].reset_index(drop=True)
        else:
            df = data.reset_index(drop=True)  # columns are replaced, never written into
        runs = unit_runs(df[unit]) if not (group or variable) else None  # ids read per run
        unit_labels, runs = _unit_labels(df[unit], runs, unit, ids, notes)
        labels = {unit: unit_labels}  # codes (of the runs, or the rows); text made last
        df[time], self._frequency = _to_periods(df[time], time, notes, frequency)
        blocks = None  # the rows in blocks, one per unit (balanced): read per block
        if runs is not None:
            blocks = balanced_blocks(runs, labels[unit].codes, labels[unit].size,
                                     df[time].to_numpy())
            if blocks is None:  # the rows' codes, from their runs'
                labels[unit] = unit_labels.with_codes(runs.spread(unit_labels.codes),
                                                      unit_labels.given)
        if group is not None:
            labels[group] = _to_labels(df[group], group, "group", notes)
        keys = [unit] + ([group] if group else []) + [time]
        if variable is not None and value is not None:
            df = df.assign(**{k: lab.as_read() for k, lab in labels.items()})
            df[variable] = _to_labels(df[variable], variable, "variable", notes).as_read()
            df = _pivot_long(df, keys, variable, value, [cohort, weight])
            labels = {k: _labels_of(df[k]) for k in keys[:-1]}  # the rows changed

        def shown() -> pd.DataFrame:  # the rows as read, with their labels, for messages
            return df.assign(**{k: (lab if blocks is None or k != unit else lab.with_codes(
                blocks.spread(lab.codes))).as_read() for k, lab in labels.items()})

        self._unit, self._time, self._cohort = unit, time, cohort
        self._weight, self._group = weight, group
        role_cols = [c for c in (unit, time, cohort, weight, group) if c is not None]
        if outcomes is None:
            outcomes = [str(c) for c in df.columns if c not in role_cols]
        else:
            for c in outcomes:
                if c not in df.columns:
                    raise _missing_outcome(c, [str(c) for c in df.columns])
            outcomes = list(outcomes)
        self._outcomes = tuple(outcomes)
        # Integer codes sort like the ids themselves; one stable sort of their combined key
        # orders the rows (in linear time when they already are) and puts duplicates together.
        if blocks is not None:  # distinct keys; in order unless the blocks are moved
            self._periods, order = blocks.periods, None
        else:
            time_codes, self._periods = _integer_codes(np.asarray(df[time], dtype=np.int64))
            key_codes = [*(labels[k].codes for k in keys[:-1]), time_codes]
            sizes = [*(labels[k].size for k in keys[:-1]), len(self._periods)]
            order, key = _row_order(key_codes, sizes)
            if order is not None:  # None: in order, so the keys are distinct
                refuse_duplicates(order, key, keys, shown, notes)
        n_missing = {}  # one pass each when every value is finite (no inf, no NaN to count)
        for c in [*self._outcomes, *([weight] if weight else [])]:
            df[c] = _to_float(df[c], c, notes)
            v = df[c].to_numpy()
            if not np.isfinite(v).all():
                if np.isinf(v).any():
                    _refuse_infinite(v, c, shown(), keys)
                n_missing[c] = int(np.isnan(v).sum())
        if weight is not None:
            w = df[weight].to_numpy()
            if np.isnan(w).any() or (w <= 0).any():
                check_weights(shown(), weight, keys)
        late: dict[str, int] = {}
        unit_ids = labels[unit]  # their text is made when first read
        if cohort is not None:
            df[cohort] = _cohort_years(df[cohort], cohort, notes, self._frequency)
            df[cohort], late, by_unit = check_cohort(
                df, cohort, self._periods, labels[unit].codes, unit_ids, notes, self._frequency,
                block=blocks.k if blocks is not None else 0)
        values = [c for c in (cohort, weight) if c] + list(self._outcomes)
        lazy: tuple[Labels, np.ndarray] | None = None  # the unit column, made when first read
        if blocks is not None and blocks.inverse is not None:  # whole blocks moved in order
            in_order = {unit: blocks.codes_in_order()}  # the periods: every block's the same
            df = pd.DataFrame({time: df[time], **{c: blocks.in_order(
                df[c].to_numpy(), constant=c == cohort) for c in values}}, copy=False)
            lazy = (labels[unit], in_order[unit])
        elif order is None:  # the rows as read: the frame's columns, the labels as given
            if blocks is None:
                del key, key_codes, time_codes
            df = df[[time, *values]].reset_index(drop=True)
            in_order = {k: lab.codes for k, lab in labels.items()}
            if blocks is not None:
                in_order[unit] = blocks.codes_in_order()
            for i, k in enumerate(keys[:-1]):  # the label columns, made once
                as_read = labels[k].given
                if as_read is None and k == unit:
                    lazy = (labels[k], in_order[k])
                else:
                    df.insert(i - (lazy is not None), k, as_read if as_read is not None else
                              labels[k].column(in_order[k], df.index))
        else:  # new arrays in the new order: the keys read back from the sorted combined key
            split = _codes_in_order(key_codes, sizes, order, key)
            del key, key_codes, time_codes  # a row's size each: freed before the copies
            in_order = dict(zip(keys[:-1], split, strict=False))
            columns: dict[str, Any] = {k: labels[k].text.take(in_order[k]) for k in keys[1:-1]}
            columns[time] = np.take(self._periods, split[-1], out=split[-1])  # codes: done
            columns.update((c, np.take(df[c].to_numpy(), order)) for c in values if c != cohort)
            if cohort is not None:  # constant within units: each unit's value
                columns[cohort] = np.take(by_unit, in_order[unit])
            columns = {c: columns[c] for c in [*keys[1:-1], time, *values]}  # in role order
            df = pd.DataFrame(columns, copy=False)
            lazy = (labels[unit], in_order[unit])
        self._data = df
        self._lazy_unit: tuple[Labels, np.ndarray] | None = lazy  # the setter clears it
        self._unit_codes: tuple[np.ndarray, np.ndarray | Labels] | None = (in_order[unit],
                                                                             unit_ids)
        self._notes = notes
        for note in notes:  # every coercion made above
            warnings.warn(f"Panel: {note}.", CoercedValuesWarning, stacklevel=2)
        self._late_cohorts = late
        if late:
            msg = late_cohort_note(late, int(self._periods[-1]), frequency=self._frequency)
            self._notes.append(msg)
            warnings.warn(f"Panel: {msg}.", LateCohortWarning, stacklevel=2)
        self._report_gaps_and_missing(n_missing)
        self.truth = truth
        self.source: dict[str, Any] = dict(source or {})

    # -- construction helpers -------------------------------------------------------------
    def _report_gaps_and_missing(self, n_missing: Mapping[str, int]) -> None:
        """Note absent cells and missing values (``n_missing``: by column, where not 0)."""
        n_gaps = self._n_units() * len(self._periods) - len(self._frame)  # keys distinct
        if self._group is not None or n_gaps:
            counts = self._rows_per_unit()
            n_gaps = int(len(counts) * len(self._periods) - counts.sum())
        if n_gaps:
            msg = (
                f"unbalanced panel: {n_gaps} (unit, period) cells are absent "
                f"({int((counts < len(self._periods)).sum())} units lack some periods); kept"
            )
            self._notes.append(msg)
            warnings.warn(f"Panel: {msg}.", GapWarning, stacklevel=3)
        for c in self._outcomes:
            n = n_missing.get(c, 0)
            if n:
                msg = (f"column {c!r}: {n} missing values kept as NaN" if n < len(self._frame)
                       else f"column {c!r}: all {n} values are missing (kept as NaN)")
                self._notes.append(msg)
                warnings.warn(f"Panel: {msg}.", MissingValueWarning, stacklevel=3)

    @classmethod
    def _from_validated(cls, panel: Panel, data: pd.DataFrame, **changes: Any) -> Panel:
        """Make a Panel from an already validated frame sharing ``panel``'s roles."""
        new = cls.__new__(cls)
        new.__dict__.update(panel.__dict__)
        new._data = data.reset_index(drop=True)
        new._unit_codes = None
        new._periods = np.sort(data[panel._time].unique())
        new._notes = list(panel._notes)
        new.source = dict(panel.source)
        for k, v in changes.items():
            setattr(new, k, v)
        return new

    def _rows_per_unit(self) -> np.ndarray:
        """Rows of each unit (of each unit and group, with a group role)."""
        if self._group is None:
            return np.bincount(self._codes()[0])
        return self._data.groupby(self._key_cols()[:-1], sort=False).size().to_numpy()

    def unit_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's unit as an integer code, and the unit ids the codes index.

        Returns
        -------
        codes : ndarray of int (n_rows,)
            Positions in ``ids``, aligned with the rows of :attr:`data`.
        ids : ndarray
            The unit ids in the order of :attr:`units` (sorted).
        """
        codes, ids = self._codes()
        return codes.copy(), ids.copy()

    def _codes(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`unit_codes` without the copies (read only)."""
        if self._unit_codes is None:
            codes, uniq = pd.factorize(self._data[self._unit], sort=True)
            self._unit_codes = (codes, np.asarray(uniq))
        codes, ids = self._unit_codes
        if isinstance(ids, Labels):  # integer ids: their text made now
            self._unit_codes = (codes, ids.ids)
        return self._unit_codes  # type: ignore[return-value]

    def _n_units(self) -> int:
        """The number of units (without making the text of integer ids)."""
        ids = self._unit_codes[1] if self._unit_codes is not None else self._codes()[1]
        return ids.size

    def _key_cols(self) -> list[str]:
        return [self._unit] + ([self._group] if self._group else []) + [self._time]

    @property
    def _data(self) -> pd.DataFrame:
        """The validated frame; a unit column still held as codes is made here, once."""
        if self._lazy_unit is not None:
            labels, codes = self._lazy_unit
            if self._unit not in self._frame.columns:  # else made by a copy sharing the frame
                self._frame.insert(0, self._unit, labels.column(codes, self._frame.index))
            self._lazy_unit = None
        return self._frame

    @_data.setter
    def _data(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._lazy_unit = None

    def _unit_dtype(self) -> Any:
        """The dtype of the unit column, without making it."""
        lazy = self._lazy_unit
        return lazy[0].text.dtype if lazy is not None else self._frame[self._unit].dtype

    # -- read-only views ------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """A copy of the validated long frame (one row per key), sorted by unit and time."""
        return self._data.copy()

    def column(self, name: str) -> np.ndarray:
        """One column of :attr:`data` as a read-only array, without copying the frame."""
        values = (self._frame if name != self._unit else self._data)[name].to_numpy().view()
        values.flags.writeable = False
        return values

    @property
    def unit(self) -> str:
        """Name of the unit column."""
        return self._unit

    @property
    def time(self) -> str:
        """Name of the period column."""
        return self._time

    @property
    def cohort(self) -> str | None:
        """Name of the cohort column (first treated period; 0 = never), if any."""
        return self._cohort

    @property
    def weight(self) -> str | None:
        """Name of the weight column, if any."""
        return self._weight

    @property
    def group(self) -> str | None:
        """Name of the group column, if any."""
        return self._group

    @property
    def outcomes(self) -> list[str]:
        """The numeric variables of the panel."""
        return list(self._outcomes)

    @property
    def notes(self) -> list[str]:
        """What validation dropped, coerced or flagged, one sentence each."""
        return list(self._notes)

    @property
    def units(self) -> list[str]:
        """Sorted unit ids."""
        return self._codes()[1].tolist()

    @property
    def periods(self) -> np.ndarray:
        """Sorted periods present in the panel (years, or month codes for a monthly panel)."""
        return self._periods.copy()

    @property
    def frequency(self) -> str:
        """``"year"``, or ``"month"`` when the periods are month codes (12 * year + month - 1)."""
        return str(self.__dict__.get("_frequency", "year"))

    @property
    def period_labels(self) -> list[str]:
        """The periods as text: ``"2021"`` for years, ``"2021-01"`` for months."""
        return [self._label(p) for p in self._periods]

    def _label(self, p: Any) -> str:
        return month_label(p) if self.frequency == "month" else str(int(p))

    @property
    def is_balanced(self) -> bool:
        """Whether every unit (and group) has every period."""
        return bool((self._rows_per_unit() == len(self._periods)).all())

    @property
    def late_cohorts(self) -> pd.Series:
        """First treated period, by unit (sorted ids), of the units first treated after the
        last period.

        Their cohort is 0 in the panel (never treated within the sample, as in R ``did``);
        ``att_gt`` with anticipation reads this series, since a unit first treated within
        ``anticipation`` periods after the panel's end is affected inside it.
        """
        late = self._late_cohorts
        if late:
            present = set(self._codes()[1].tolist())  # the units with rows
            late = {u: g for u, g in late.items() if u in present}
        return pd.Series(late, dtype="int64", name="late_cohort").rename_axis(self._unit)

    def cohorts(self) -> pd.Series:
        """First treated period by unit (0 = never treated); all 0 without a cohort role."""
        if self._cohort is None:
            return pd.Series(NEVER, index=pd.Index(self.units, name=self._unit), name="cohort")
        values = self._frame[self._cohort]
        if values.dtype != np.int64:  # not a panel this class built: pandas' own reading
            return self._data.groupby(self._unit)[self._cohort].first().rename("cohort")
        codes, ids = self._codes()
        first = np.empty(len(ids), dtype=np.intp)  # each unit's first row
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        index = pd.Index(ids, name=self._unit, dtype=self._unit_dtype())
        return pd.Series(values.to_numpy()[first], index=index, name="cohort")

    def wide(self, outcome: str) -> pd.DataFrame:
        """The outcome as a units x periods frame (NaN where absent)."""
        self.check_outcome(outcome)
        if self._group is not None:
            raise PanelError(
                f"Panel.wide: the panel has a group role ({self._group!r}); select one group "
                "first with panel.select(groups=[...])."
            )
        codes, ids = self._codes()  # rows placed by their codes; pandas sorts unsorted ids
        return (_wide_by_codes(self._data, self._unit, self._time, outcome, codes, ids,
                               self._periods) if _strictly_increasing(ids) else
                self._data.pivot(index=self._unit, columns=self._time, values=outcome))

    def check_outcome(self, outcome: str) -> None:
        """Raise :class:`PanelError` unless ``outcome`` is a variable of the panel."""
        if outcome not in self._outcomes:
            raise PanelError(
                f"outcome {outcome!r} is not a variable of the panel; variables are "
                f"{list(self._outcomes)[:12]}{did_you_mean(outcome, self._outcomes)}."
            )

    # -- derived panels -------------------------------------------------------------------
    def select(
        self,
        *,
        units: Iterable[str] | None = None,
        periods: Iterable[int] | None = None,
        groups: Iterable[str] | None = None,
    ) -> Panel:
        """Return the sub-panel of the given units, periods and groups."""
        mask = np.ones(len(self._data), dtype=bool)
        codes, ids = self._codes()
        if units is not None:
            wanted, present = {_nfc(str(u)) for u in units}, ids.tolist()
            missing = sorted(wanted.difference(present))
            if missing:
                raise PanelError(
                    f"Panel.select: units {missing[:5]} are not in the panel "
                    f"({len(missing)} in all); check the ids (strings with leading zeros)."
                )
            mask &= np.array([u in wanted for u in present], dtype=bool)[codes]  # rows' units
        if periods is not None:
            mask &= self._data[self._time].isin(list(periods)).to_numpy()
        if groups is not None:
            if self._group is None:
                raise PanelError("Panel.select: groups= needs a panel with a group role.")
            mask &= self._data[self._group].isin([_nfc(str(g)) for g in groups]).to_numpy()
        if not mask.any():
            raise PanelError("Panel.select: the selection is empty; widen units or periods.")
        return Panel._from_validated(self, self._data[mask],
                                     _unit_codes=_kept_codes(codes[mask], ids))

    def with_cohorts(self, cohorts: Mapping[str, int], *, name: str = "cohort") -> Panel:
        """Return a panel whose cohort role is set from ``{unit: first treated period}``.

        Units not in ``cohorts``, or given 0, NaN or inf, become never treated. A cohort after
        the last period makes its unit never treated within the sample, as in the constructor
        (counted in :attr:`notes`, with a :class:`~evalmodel.errors.LateCohortWarning`, and
        kept in :attr:`late_cohorts`); a cohort before the first period, or between periods
        without being one, raises :class:`PanelError`.
        """
        return with_cohorts(self, cohorts, name=name)

    def with_values(self, outcome: str, cells: Mapping[tuple[str, int], float],
                    *, note: str | None = None) -> Panel:
        """Return a panel with ``outcome`` set to the given values at ``{(unit, period): v}``.

        Used for stated repairs (e.g. interpolated interior gaps); rows absent from the panel
        are added with NaN in the other variables. ``note`` is appended to :attr:`notes`.
        """
        return with_values(self, outcome, cells, note=note)

    def with_notes(self, notes: Iterable[str]) -> Panel:
        """Return the same panel with ``notes`` appended to :attr:`notes` (e.g. series breaks)."""
        return Panel._from_validated(self, self._data, _notes=[*self._notes, *notes])

    def to_annual(self, how: str = "mean", *, month: int | None = None,
                  min_months: int = 12) -> Panel:
        """The monthly panel aggregated to years (``frequency == "year"``).

        Parameters
        ----------
        how : {"mean", "sum", "month"}
            Each outcome's yearly value: the mean or sum of its months, or one month's value.
        month : int, optional
            That calendar month (1-12; 1 is January), given only with ``how="month"``.
        min_months : int
            Mean or sum: a unit-year needs this many months present (else it is dropped, counted
            in a ``RowsDroppedWarning`` and :attr:`notes`), an outcome this many observed (else
            NaN). With ``how="month"``, the unit-years lacking that month are dropped.

        Returns
        -------
        Panel
            Weights averaged over each year; the cohort is the year of the first treated month
            (noted when that month is not January: the year is partly treated); ``truth`` is
            not carried over. :class:`PanelError` for an annual panel or bad arguments.
        """
        return to_annual(self, how, month=month, min_months=min_months)

    def __repr__(self) -> str:
        n_units = self._n_units()
        p = self._periods
        span = f"{self._label(p[0])}-{self._label(p[-1])}" if len(p) else "no periods"
        return (
            f"<Panel: {n_units} units x {len(p)} periods ({span}), {len(self._data)} rows, "
            f"outcomes {list(self._outcomes)[:6]}{' ...' if len(self._outcomes) > 6 else ''}>"
        )
