"""One result shape (issue 13, part 4; DESIGN.md "Every result").

Every exported result type is built from the embedded simulated data and checked for the same
interface: a tidy ``.table`` with the standard columns, ``.overall`` (one row or None), one
``.summary()`` behind text, HTML, Markdown and LaTeX, and ``.plot()`` returning the Axes.
``em.compare`` sets results of different estimators side by side in the four formats.
"""

from __future__ import annotations

import inspect
import re
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

import evalmodel as em
from evalmodel import displacement as dp
from evalmodel.errors import EstimationError, EvalModelWarning
from evalmodel.results import COLUMNS, Result, format_cell

Y = "N31807"
PRE, POST = [2006, 2007, 2008, 2009], [2010, 2011, 2012, 2013]

#: The result types the issue names, each to be exported and to have the interface.
NAMED = ("PermutationResult", "WildBootstrapResult", "DisplacementTest", "ConleyTaberResult",
         "MDEResult", "PlaceboEventStudy", "PlaceboResult", "PretrendResult",
         "SensitivityResult", "SpilloverResult", "EstimateResult")


def _build() -> dict[str, Any]:
    design = em.cases.get("trelleborg").design(em.datasets.simulated())
    treated = list(design.treated)
    pool = list(design.comparison[:30])
    panel = design.panel.select(units=treated + pool)
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        # estimators warn about one treated cluster; the interface is what is tested here
        warnings.simplefilter("ignore", EvalModelWarning)
        out["did2x2"] = em.did2x2(panel, Y, pre=PRE, post=POST)
        out["twfe"] = em.twfe(panel, Y)
        att = em.att_gt(panel, Y)
        out["att_gt"] = att
        out["att_gt simple"] = att.aggregate("simple")
        out["event_study"] = em.event_study(panel, Y)
        out["bacon"] = em.bacon(panel, Y)
        out["synth"] = em.synth(panel, Y, treated=treated[0], start=2010)
        out["sdid"] = em.sdid(panel, Y, seed=1)
        out["multisynth"] = em.multisynth(panel, Y, n_draws=19, seed=1)
        out["prediction_intervals"] = em.prediction_intervals(out["synth"], n_draws=50, seed=1)
        out["permutation"] = em.permutation_inference(
            panel, Y, statistic=em.DiD2x2Statistic(Y, pre=PRE, post=POST), treated=treated,
            pool=pool, seed=1)
        out["conley_taber"] = em.conley_taber(panel, Y, treated=treated, pool=pool, pre=PRE,
                                              post=POST, seed=1)
        out["mde"] = em.minimum_detectable_effect(out["permutation"].distribution)
        es = em.placebo_event_study(panel, Y, treated=treated, pool=pool, adoption=2010)
        out["placebo_event_study"] = es
        out["pretrend"] = em.pretrend_test(es)
        out["sensitivity"] = em.sensitivity(es, restriction="smoothness", m=[0, 0.1])
        out["displacement"] = dp.outcome_displacement(panel, Y, treated=treated, pool=pool,
                                                      pre=PRE, post=POST)
        out["spillover"] = dp.spillover(panel, Y, treated=treated, exposed=pool[:2],
                                        pool=pool[2:], pre=PRE, post=POST)
        out["placebo"] = out["synth"].placebo
        out["placebo_study"] = em.placebo_study(
            panel, Y, em.calibrate.permutation_did2x2(pre=PRE, post=POST), pool=pool,
            adoption=2010, n_units=10, seed=1)
        d = panel.data.assign(post=lambda f: (f[panel.time] >= 2010).astype(float),
                              tr=lambda f: f[panel.unit].isin(treated).astype(float))
        d = d[d[panel.time].isin(PRE + POST)].dropna(subset=[Y])
        x = pd.DataFrame({"const": 1.0, "tr": d["tr"], "post": d["post"],
                          "att": d["tr"] * d["post"]})
        out["wild"] = em.wild_bootstrap(d[Y], x, d[panel.unit], coef="att", n_draws=199, seed=1)
    return out


RESULTS = _build()


def _exported_result_types() -> list[type]:
    return [obj for name in em.__all__ if inspect.isclass(obj := getattr(em, name))
            and issubclass(obj, Result) and obj is not Result]


def test_every_named_result_type_is_exported_and_has_the_interface() -> None:
    for name in NAMED:
        assert name in em.__all__, name
        assert issubclass(getattr(em, name), Result), name


def test_every_exported_result_type_is_built_here() -> None:
    built = {type(r) for r in RESULTS.values()}
    missing = [t.__name__ for t in _exported_result_types()
               if not any(issubclass(b, t) for b in built)]
    assert missing == []


@pytest.mark.parametrize("key", list(RESULTS))
def test_table_overall_summary_plot(key: str) -> None:
    r = RESULTS[key]
    t = r.table
    assert isinstance(t, pd.DataFrame) and len(t) > 0
    cols = list(t.columns)
    at = cols.index("estimate")
    assert cols[at:at + len(COLUMNS)] == list(COLUMNS), cols
    assert at >= 1, "a result table has at least one index column"
    assert t is r.table or t.equals(r.table)  # a property, not a method
    with pytest.raises(AttributeError):
        r.table = t  # results are immutable
    o = r.overall
    if o is not None:
        assert isinstance(o, pd.Series)
        assert list(o.index) == cols
        assert np.isfinite(o["estimate"])
    s = r.summary()
    text, page, md, tex = str(s), s._repr_html_(), s.to_markdown(), s.to_latex()
    assert str(r) == text and r._repr_html_() == page
    first = format_cell(float(t["estimate"].iloc[0]))
    for view in (text, page, md, tex):
        assert first in view, (key, first)
    assert page.startswith('<div class="evalmodel-summary">')
    assert md.startswith("### ") and "| estimate |" in md
    assert tex.startswith(r"\begin{table}") and r"\toprule" in tex
    ax = r.plot()
    assert isinstance(ax, Axes)
    _fig, given = plt.subplots()
    assert r.plot(ax=given) is given
    plt.close("all")


def test_overall_where_a_headline_exists() -> None:
    headline = {k for k, r in RESULTS.items() if r.overall is not None}
    assert headline == {"did2x2", "twfe", "att_gt simple", "event_study", "bacon", "synth",
                        "sdid", "permutation", "conley_taber", "displacement", "spillover",
                        "placebo", "wild", "placebo_study", "multisynth"}
    p = RESULTS["permutation"]
    assert p.overall["estimate"] == p.estimate and p.overall["p_value"] == p.p_value
    assert RESULTS["placebo"].overall["term"] == "average"
    assert RESULTS["placebo"].overall["estimate"] == pytest.approx(RESULTS["synth"].estimate)
    assert RESULTS["spillover"].overall["estimate"] == RESULTS["spillover"].exposed.estimate


def test_wild_bootstrap_table_is_a_property() -> None:
    w = RESULTS["wild"]
    assert isinstance(w.table, pd.DataFrame)
    assert w.table.loc[0, "term"] == "att" and w.table.loc[0, "p_value"] == w.p_value


def test_displacement_row_kept_beside_the_table() -> None:
    t = RESULTS["displacement"]
    row = t.row()
    assert row["estimate"] == t.table.loc[0, "estimate"] == t.overall["estimate"]
    assert set(row) >= {"outcome", "mde", "n_placebo", "detected"}


# -- compare ----------------------------------------------------------------------------------
SIX = ("did2x2", "twfe", "att_gt simple", "synth", "sdid", "permutation")


def test_compare_six_estimators_in_four_formats() -> None:
    s = em.compare({k: RESULTS[k] for k in SIX})
    assert isinstance(s, em.Summary)
    assert list(s.table.columns) == ["statistic", *SIX]
    rows = list(s.table["statistic"])
    assert rows[:4] == ["Estimate", "Std. error", "Interval", "p-value"]
    assert "Inference" in rows and "Units" in rows
    views = (str(s), s._repr_html_(), s.to_markdown(), s.to_latex())
    for k in SIX:
        o = RESULTS[k].overall
        for number in (o["estimate"], o["std_error"], o["p_value"]):
            cell = format_cell(float(number))
            for view in views:
                assert cell in view, (k, cell)
        interval = f"[{format_cell(float(o['ci_lower']))}, {format_cell(float(o['ci_upper']))}]"
        assert interval in str(s)
    # the inference used is a row, its full description a note
    inference = s.table.set_index("statistic").loc["Inference"]
    assert inference["synth"] == "placebos in space"
    assert inference["att_gt simple"] == RESULTS["att_gt simple"].inference.split(" (")[0]
    assert any(n.startswith("sdid: ") and RESULTS["sdid"].inference in n for n in s.notes)
    units = s.table.set_index("statistic").loc["Units"]
    assert units["did2x2"] == "31"


def test_compare_names_and_options() -> None:
    seq = [RESULTS[k] for k in ("did2x2", "conley_taber", "displacement", "wild")]
    s = em.compare(seq, show="ci")
    assert list(s.table.columns) == ["statistic", "did2x2", "conley_taber",
                                     "outcome_displacement", "wild bootstrap"]
    assert "Std. error" not in set(s.table["statistic"])
    s = em.compare([RESULTS["did2x2"], RESULTS["did2x2"]], show="std_error")
    assert list(s.table.columns)[1:] == ["did2x2 (1)", "did2x2 (2)"]
    assert "Interval" not in set(s.table["statistic"])
    assert list(em.compare(seq[:2], names=["a", "b"]).table.columns) == ["statistic", "a", "b"]


def test_compare_errors_name_the_problem() -> None:
    r = RESULTS["did2x2"]
    with pytest.raises(EstimationError, match=re.escape("has no headline row")):
        em.compare([r, RESULTS["placebo_event_study"]])
    with pytest.raises(EstimationError, match="2 distinct names"):
        em.compare([r, r], names=["a", "a"])
    with pytest.raises(EstimationError, match="show='se' is not one of"):
        em.compare([r], show="se")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="no results given"):
        em.compare([])
