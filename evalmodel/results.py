"""Result types shared by every estimator.

An estimator returns a frozen :class:`EstimateResult`: a tidy :attr:`~EstimateResult.table`
with the fixed columns ``estimate, std_error, ci_lower, ci_upper, p_value`` beside its index
columns, the headline :attr:`~EstimateResult.overall` row, a :class:`Summary` with text, HTML,
Markdown and LaTeX forms, and ``plot(ax=None)``. Results never change after they are made.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError
from evalmodel.months import period_label, period_span
from evalmodel.results_table import fast_inference_table, generic_inference_table
from evalmodel.vocabulary import CompareShow, check_option

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "COLUMNS",
    "CompareShow",
    "EstimateResult",
    "Result",
    "Sample",
    "Summary",
    "compare",
    "format_cell",
    "format_rows",
    "inference_table",
    "label_periods",
    "single_row_table",
]

#: The fixed value columns of every result table, in order.
COLUMNS = ("estimate", "std_error", "ci_lower", "ci_upper", "p_value")

#: Index columns of result tables that hold periods (years, or month codes on a monthly panel).
PERIOD_COLUMNS = ("time", "cohort", "base_period", "period", "start")


#: A ``term`` that names a period: ``"2021"`` (a synthetic control's gap), ``"g=2021"``,
#: ``"t=2021"`` (aggregations by cohort and by period).
_PERIOD_TERM = re.compile(r"^(g=|t=)?(-?\d+)$")


def _label_term(term: Any, periods: tuple[Any, ...], frequency: str) -> Any:
    """``term`` with its period written as a label, when it names one of its row's periods."""
    m = _PERIOD_TERM.match(str(term))
    if m is None or not any(period_label(p) == m.group(2) for p in periods):
        return term
    return f"{m.group(1) or ''}{period_label(int(m.group(2)), frequency)}"


def label_periods(table: pd.DataFrame, frequency: str = "year") -> pd.DataFrame:
    """``table`` as shown to a reader: on a monthly panel (``frequency="month"``) its period
    columns (:data:`PERIOD_COLUMNS`), and a ``term`` that names one of its row's periods (a
    synthetic control's gap ``"24252"``, an aggregation's ``"g=24252"``), hold labels
    ``"2021-01"`` instead of month codes; any other table is returned as it is.

    Result tables keep the integer codes (one month apart, so they can be subtracted, compared
    and joined with the panel's periods); only the summary's text, HTML, Markdown and LaTeX
    show labels.
    """
    cols = [c for c in PERIOD_COLUMNS if c in table.columns]
    if frequency != "month" or not cols:
        return table
    out = table.copy()
    if "term" in out.columns:
        out["term"] = [_label_term(t, row, frequency) for t, row in
                       zip(out["term"], out[cols].itertuples(index=False), strict=True)]
    for c in cols:
        out[c] = [period_label(v, frequency) for v in out[c]]
    return out


def inference_table(
    index: pd.DataFrame | Mapping[str, Sequence[Any]],
    estimate: Sequence[float] | np.ndarray,
    std_error: Sequence[float] | np.ndarray,
    *,
    conf_level: float = 0.95,
    df: float | None = None,
) -> pd.DataFrame:
    """Build a result table from estimates and standard errors.

    Intervals and two-sided p-values use the normal distribution, or Student's t with ``df``
    degrees of freedom when given.

    Parameters
    ----------
    index : DataFrame or mapping
        The index columns (``term``, ``cohort``, ``time``, ``event_time``, ...).
    estimate, std_error : array-like
        One value per row.
    conf_level : float
        Coverage of the intervals.
    df : float, optional
        Degrees of freedom of a t reference distribution.

    Returns
    -------
    pandas.DataFrame
        The index columns followed by :data:`COLUMNS`.

    Notes
    -----
    Computed by ``evalmodel.results_table`` without scipy's frozen distributions and in one
    frame construction (a report makes hundreds of these tables); the numbers are those of
    ``scipy.stats.norm``/``scipy.stats.t``, bit for bit.
    """
    out = fast_inference_table(index, estimate, std_error, conf_level=conf_level, df=df)
    if out is None:  # an input of a kind the fast path does not read
        out = generic_inference_table(index, estimate, std_error, conf_level=conf_level,
                                      df=df)
    return out


@dataclass(frozen=True)
class Sample:
    """What an estimate was computed from."""

    n_obs: int
    n_units: int
    n_periods: int
    treated_units: tuple[str, ...]
    periods: tuple[int, ...]
    n_clusters: int | None = None
    frequency: str = "year"

    def describe(self) -> list[tuple[str, str]]:
        """Rows for a summary header."""
        treated = ", ".join(self.treated_units[:6]) + (
            f" (+{len(self.treated_units) - 6})" if len(self.treated_units) > 6 else ""
        )
        rows = [
            ("Observations", f"{self.n_obs:,}"),
            ("Units", f"{self.n_units:,}"),
            ("Periods", f"{self.n_periods} "
                        f"({period_span(self.periods[0], self.periods[-1], self.frequency)})"
             if self.periods else "0"),
            ("Treated units", f"{len(self.treated_units)}: {treated}"),
        ]
        if self.n_clusters is not None:
            rows.append(("Clusters", f"{self.n_clusters:,}"))
        return rows


def single_row_table(result: Any, term: str = "effect") -> pd.DataFrame:
    """The one-row table of the result of one test: ``term`` and :data:`COLUMNS`, read from the
    result's attributes of those names.

    Parameters
    ----------
    result : object
        Has ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper`` and ``p_value``.
    term : str
        The row's ``term``.
    """
    return pd.DataFrame([{"term": term, **{c: getattr(result, c) for c in COLUMNS}}])


def format_cell(x: Any) -> str:
    """A table cell as text: numbers to four decimals (large ones with separators), NaN empty."""
    if isinstance(x, float | np.floating):
        v = float(x)
        if np.isnan(v):
            return ""
        return f"{v:.4f}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(x)


def format_rows(df: pd.DataFrame) -> list[list[str]]:
    """Every cell of ``df`` as text by :func:`format_cell`, row by row.

    The same strings as ``format_cell`` over ``df.itertuples(index=False)``, whatever the
    dtypes, at a fraction of the cost: one conversion of the frame to Python objects instead
    of one pandas indexing call per column and one tuple per row.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.

    Returns
    -------
    list of list of str
        One list per row (empty lists when ``df`` has no columns, as ``itertuples`` gives).
    """
    return [[format_cell(v) for v in row] for row in df.to_numpy(dtype=object).tolist()]


def _latex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("$", r"\$")):
        s = s.replace(a, b)
    return s


@dataclass(frozen=True)
class Summary:
    """One summary behind the text, HTML, Markdown and LaTeX views of a result."""

    title: str
    header: tuple[tuple[str, str], ...]
    table: pd.DataFrame
    notes: tuple[str, ...] = ()

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        cols = [str(c) for c in self.table.columns]
        return cols, format_rows(self.table)

    def __str__(self) -> str:
        cols, rows = self._cells()
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
                  for i, c in enumerate(cols)]
        line = "  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))
        rule = "=" * max(len(line), len(self.title))
        out = [self.title, rule]
        kw = max((len(k) for k, _ in self.header), default=0)
        out += [f"{k.ljust(kw)}  {v}" for k, v in self.header]
        out += ["-" * len(rule), line, "-" * len(rule)]
        out += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        out.append(rule)
        out += [f"Note: {n}" for n in self.notes]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        cols, rows = self._cells()
        e = html.escape
        head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in self.header)
        th = "".join(f"<th>{e(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in rows)
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            f'<div class="evalmodel-summary"><h4>{e(self.title)}</h4>'
            f'<table class="meta">{head}</table>'
            f'<table class="estimates"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'
            + (f"<ul class='notes'>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def to_markdown(self) -> str:
        """The summary as a Markdown section with a pipe table."""
        cols, rows = self._cells()
        out = [f"### {self.title}", ""]
        out += [f"- **{k}**: {v}" for k, v in self.header]
        out += ["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        out += [""] + [f"*Note:* {n}  " for n in self.notes]
        return "\n".join(out).rstrip() + "\n"

    def to_latex(self) -> str:
        """The estimates as a booktabs LaTeX table, the header and notes as its caption."""
        cols, rows = self._cells()
        spec = "l" * 1 + "r" * (len(cols) - 1)
        out = [r"\begin{table}[htbp]", r"\centering",
               r"\caption{" + _latex_escape(self.title) + "}",
               r"\begin{tabular}{" + spec + "}", r"\toprule",
               " & ".join(_latex_escape(c) for c in cols) + r" \\", r"\midrule"]
        out += [" & ".join(_latex_escape(v) for v in r) + r" \\" for r in rows]
        out += [r"\bottomrule", r"\end{tabular}"]
        meta = "; ".join(f"{k}: {v}" for k, v in self.header)
        foot = " ".join([meta, *self.notes])
        out += [r"\par\footnotesize " + _latex_escape(foot), r"\end{table}"]
        return "\n".join(out) + "\n"


class Result:
    """The interface every result type shares (DESIGN.md, "Every result").

    A result type subclasses this and provides ``table`` (a field or a property) with the
    index columns followed by :data:`COLUMNS`. It then has :attr:`overall` (the headline row,
    where one exists), :meth:`summary` (one :class:`Summary` behind text, HTML, Markdown and
    LaTeX), :meth:`plot` and the text and notebook views. Subclasses refine the summary's title,
    header and notes, the headline row, the plot, and what :func:`compare` shows about them.
    """

    #: Position in ``table`` of the headline row, or None without a headline.
    _headline: ClassVar[int | None] = 0

    if TYPE_CHECKING:  # pragma: no cover - a field or a property of each result type
        @property
        def table(self) -> pd.DataFrame:
            """Index columns and :data:`COLUMNS`, one row per estimate."""

        @property
        def conf_level(self) -> float:
            """Coverage of the intervals."""

    @property
    def overall(self) -> pd.Series | None:
        """The headline effect as one row of ``table`` (columns as there), or None."""
        t = self.table
        if self._headline is None or not len(t):
            return None
        return t.iloc[self._headline]

    def _title(self) -> str:
        return type(self).__name__

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Confidence level", f"{self.conf_level:.0%}"),)

    def _notes(self) -> tuple[str, ...]:
        return ()

    def _frequency(self) -> str:
        """``"month"`` when the result's periods are month codes, else ``"year"``."""
        return "year"

    def _shown_table(self) -> pd.DataFrame:
        """``table`` as the summary shows it: periods by their labels on a monthly panel."""
        return label_periods(self.table, self._frequency())

    def describe_sample(self) -> dict[str, str]:
        """What :func:`compare` shows about the result besides its numbers.

        Keys among ``Method``, ``Outcome``, ``Inference``, ``Units``, ``Treated units``,
        ``Periods``; a key is absent where the result does not know it.
        """
        return {"Method": type(self).__name__}

    def summary(self) -> Summary:
        """The summary: ``str()`` text, HTML in notebooks, ``.to_latex()``, ``.to_markdown()``."""
        return Summary(title=self._title(), header=self._header(), table=self._shown_table(),
                       notes=self._notes())

    def plot(self, ax: Axes | None = None) -> Axes:
        """Estimates with their intervals, one row per line of ``table``; returns the Axes."""
        from evalmodel.plotting.core import table_plot

        return table_plot(self.table, conf_level=self.conf_level, title=self._title(), ax=ax)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


@dataclass(frozen=True)
class EstimateResult(Result):
    """The result of an estimator: a tidy table of estimates with its inference and sample.

    Attributes
    ----------
    method : str
        What was estimated, e.g. ``"did2x2"`` or ``"twfe"``.
    outcome : str
        The outcome variable.
    table : pandas.DataFrame
        Index columns and :data:`COLUMNS`, one row per estimate.
    inference : str
        How the standard errors, intervals and p-values were obtained.
    sample : Sample
        Units, periods and treated units used.
    conf_level : float
        Coverage of the intervals.
    overall_term : str or None
        The ``term`` of the headline row, if the result has one.
    notes : tuple of str
        What was dropped, assumed or flagged.
    details : mapping
        Estimator-specific extras (cell means, the fitted peer model, ...).
    """

    method: str
    outcome: str
    table: pd.DataFrame
    inference: str
    sample: Sample
    conf_level: float = 0.95
    overall_term: str | None = None
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def overall(self) -> pd.Series | None:
        """The headline effect as one row of :attr:`table`, where one exists."""
        if self.overall_term is None:
            return None
        terms = self.table["term"]
        if type(self.overall_term) is str and terms.dtype == "str":  # the text of a str column
            hits = np.flatnonzero(terms.to_numpy() == self.overall_term)  # (NaN where missing)
            return self.table.iloc[hits[0]] if len(hits) else None
        rows = self.table[terms == self.overall_term]
        return rows.iloc[0] if len(rows) else None

    @property
    def estimate(self) -> float:
        """The headline estimate (NaN without a headline row)."""
        row = self.overall
        return float(row["estimate"]) if row is not None else float("nan")

    def _title(self) -> str:
        return f"{self.method}: {self.outcome}"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (
            ("Method", self.method),
            ("Outcome", self.outcome),
            ("Inference", self.inference),
            ("Confidence level", f"{self.conf_level:.0%}"),
            *self.sample.describe(),
        )

    def _notes(self) -> tuple[str, ...]:
        return self.notes

    def _frequency(self) -> str:
        return self.sample.frequency

    def describe_sample(self) -> dict[str, str]:
        """Method, outcome, inference, units, treated units and periods, for :func:`compare`."""
        s = self.sample
        return {"Method": self.method, "Outcome": self.outcome, "Inference": self.inference,
                "Units": f"{s.n_units:,}", "Treated units": f"{len(s.treated_units):,}",
                "Periods": f"{s.n_periods}"}

    def plot(self, ax: Axes | None = None) -> Axes:
        """Estimates with their intervals, one row per term; returns the Axes."""
        from evalmodel.plotting.core import coefficient_plot

        return coefficient_plot(self, ax=ax)


#: Rows of :func:`compare` after the numbers, in order, taken from ``describe_sample()``.
_COMPARE_META = ("Outcome", "Inference", "Units", "Treated units", "Periods", "Clusters")


def _short(text: str) -> str:
    """The first clause of an inference description (up to a bracket, colon, semicolon or
    comma)."""
    cut = min((i for i in (text.find(c) for c in "(:;,") if i > 0), default=len(text))
    return text[:cut].strip()


def compare(
    results: Sequence[Result] | Mapping[str, Result],
    *,
    names: Sequence[str] | None = None,
    show: CompareShow = "both",
    title: str = "Comparison of estimates",
) -> Summary:
    """Several results side by side: one column per result, like linearmodels' ``compare`` or
    fixest's ``etable``.

    Each column holds the result's headline row (:attr:`Result.overall`): the estimate, its
    standard error and/or interval, the p-value, then the outcome, the inference used (its first
    clause; the full description is in the notes), and the numbers of units, treated units,
    periods and clusters where the result knows them.

    Parameters
    ----------
    results : sequence of results, or mapping of name to result
        Results with a headline row (a sensitivity analysis has none).
    names : sequence of str, optional
        Column names; by default the mapping's keys, else each result's method (numbered when
        two share one).
    show : {"both", "std_error", "ci"}
        Whether the standard error, the interval or both follow the estimate.
    title : str
        Title of the summary.

    Returns
    -------
    Summary
        ``str()`` for text, HTML in notebooks, ``.to_latex()`` and ``.to_markdown()``. Its
        ``table`` has a ``statistic`` column and one column per result.

    Raises
    ------
    EstimationError
        With no results, names that do not match them one to one, an unknown ``show``, or a
        result without a headline row.

    Examples
    --------
    >>> import evalmodel as em
    >>> design = em.cases.get("trelleborg").design(em.datasets.simulated())
    >>> panel = design.panel.select(units=[*design.treated, *design.comparison[:30]])
    >>> synth = em.synth(panel, "N31807", treated="1287", start=2010)
    >>> sdid = em.sdid(panel, "N31807", seed=1)
    >>> table = em.compare({"synth": synth, "sdid": sdid})
    >>> list(table.table.columns)
    ['statistic', 'synth', 'sdid']
    >>> print(table.to_markdown())  # doctest: +ELLIPSIS
    ### Comparison of estimates
    ...
    | Estimate | -0.9995 | -1.1925 |
    ...
    """
    check_option("compare", "show", show, CompareShow)
    if isinstance(results, Mapping):
        items = list(results.values())
        names = list(results) if names is None else names
    else:
        items = list(results)
    if not items:
        raise EstimationError("compare: no results given; pass a list of at least one result.")
    meta = [r.describe_sample() for r in items]
    if names is None:
        methods = [m.get("Method", type(r).__name__) for m, r in zip(meta, items, strict=True)]
        names = [m if methods.count(m) == 1 else f"{m} ({methods[:i + 1].count(m)})"
                 for i, m in enumerate(methods)]
    names = [str(n) for n in names]
    if len(names) != len(items) or len(set(names)) != len(names):
        raise EstimationError(f"compare: names={names!r} must be {len(items)} distinct names, "
                              "one per result.")
    rows: dict[str, list[Any]] = {"Estimate": []}
    if show in ("std_error", "both"):
        rows["Std. error"] = []
    if show in ("ci", "both"):
        rows["Interval"] = []
    rows["p-value"] = []
    rows["Confidence level"] = []
    notes = []
    for name, r, m in zip(names, items, meta, strict=True):
        row = r.overall
        if row is None:
            raise EstimationError(
                f"compare: result {name!r} ({type(r).__name__}) has no headline row "
                "(its .overall is None); compare results with one headline effect each.")
        rows["Estimate"].append(float(row["estimate"]))
        if "Std. error" in rows:
            rows["Std. error"].append(float(row["std_error"]))
        if "Interval" in rows:
            lo, hi = float(row["ci_lower"]), float(row["ci_upper"])
            rows["Interval"].append("" if np.isnan(lo) and np.isnan(hi)
                                    else f"[{format_cell(lo)}, {format_cell(hi)}]")
        rows["p-value"].append(float(row["p_value"]))
        rows["Confidence level"].append(f"{r.conf_level:.0%}")
        if "Inference" in m:
            notes.append(f"{name}: {m['Inference']}")
    for key in _COMPARE_META:
        if any(key in m for m in meta):
            rows[key] = [(_short(m[key]) if key == "Inference" else m[key]) if key in m else ""
                         for m in meta]
    table = pd.DataFrame([[k, *v] for k, v in rows.items()], columns=["statistic", *names])
    header = (("Results", str(len(items))),
              ("Intervals", "as each result reports them (see its inference)"))
    return Summary(title=title, header=header, table=table, notes=tuple(notes))
