"""The report computes each estimate once and builds the triangulation from the results
(issue 13, part 6).

One build of every case on the simulated world, with every estimator and inference entry point
that a report module looks up wrapped by a call counter, serves two tests:

- no estimator runs twice on the same outcome and design in one case (``make run``);
- the triangulation table equals the one the report wrote before the refactor
  (``tests/fixtures/triangulation_simulated.csv``, written by
  ``tests/fixtures/make_triangulation_baseline.py`` at commit f4a2d31), but for the rows of
  :data:`HULL_OUTSIDE`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import pkgutil
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import evalmodel as em
import evalmodel.report
from evalmodel.estimators.staggered import AttGtResult
from evalmodel.inference.permutation import DiD2x2Statistic
from evalmodel.report.standard import standard_sections

FIXTURE = Path(__file__).parent / "fixtures" / "triangulation_simulated.csv"

#: The public estimator and inference entry points the report may call.
ENTRY_POINTS = ("did2x2", "twfe", "event_study", "att_gt", "synth", "sdid", "bacon",
                "permutation_inference", "conley_taber", "placebo_event_study",
                "pretrend_test", "sensitivity", "minimum_detectable_effect",
                "outcome_displacement", "spillover")

#: Triangulation rows whose interval (and p-value) changed, with the reason; their estimates
#: are unchanged.
#:
#: - synthetic DiD: the placebo standard error now draws its pseudo-treated donors with the
#:   report's one seed (:data:`evalmodel.report.settings.SEED`) instead of a seed of its own:
#:   the same method on other draws, so the interval and p-value differ.
#: - synthetic control: its interval is the estimator's own; the synthetic-control inference
#:   work of issue 13 (``inference="auto"`` for synth) changes how it is formed, not the report.
#:   Its p-value (placebos in space) is unchanged.
CHANGED_INTERVAL = {"synthetic DiD": ("estimate",),
                    "synthetic control": ("estimate", "p_value")}
#: Rows whose estimate moved by rounding only: the synthetic control's unit weights come from an
#: exact active-set solver over the simplex (``core.simplex_kernel``, issue 14) instead of
#: non-negative least squares with a penalty row for the adding-up constraint; the estimates
#: agree to 2.1e-9 relative (largest move: Linkoping N31910, -377.0553624 to -377.0553626).
SOLVER_RTOL = {"synthetic control": 1e-8}
#: Synthetic-control rows where the treated unit lies outside the donors' convex hull by the
#: noise-relative rule (hull RMSPE above twice the donors' median held-out hull RMSPE; issue
#: 14): the triangulation shows the augmented synthetic control with its studentized placebo
#: test there, and the fixture's rows were replaced by its numbers. Before (plain SC, placebo
#: in space): Linkoping N31910 -377.06 [-449.03, -274.59] p 0.0035, Malmo N31807 +2.544
#: [2.067, 3.183] p 0.0035 (the planted effect -0.678 outside the interval, the sign wrong);
#: after: -258.40 [-645.53, 128.74] p 0.171 and -0.030 [-0.893, 0.833] p 0.914, each interval
#: covering the planted effect (-312.26 and -0.678). Their hull RMSPEs are 6.6 and 12.1 noise
#: scales; every other simulated case is inside, at 0.2 to 1.2.
HULL_OUTSIDE = {("linkoping", "N31910"), ("malmo", "N31807"), ("lindangen", "N31807")}
#: Event-study rows with analytic inference (too small a pool for permutation): the interval
#: is now estimate +/- norm.ppf(0.975) * se instead of +/- 1.96 * se.
EVENT_ROWS = ("Sun-Abraham event study, mean post effect",
              "imputation (BJS), mean post effect")


def _digest(frame: pd.DataFrame | pd.Series) -> str:
    try:
        values = pd.util.hash_pandas_object(frame, index=True).to_numpy()
        return hashlib.sha1(values.tobytes()).hexdigest()[:16]
    except TypeError:
        return hashlib.sha1(repr(frame).encode()).hexdigest()[:16]


def fingerprint(value: object) -> object:
    """A hashable stand-in for an argument: a panel by its units, periods and cohorts, a
    statistic by its periods, a result by its table, arrays by their bytes."""
    if isinstance(value, em.Panel):
        return ("Panel", tuple(value.units), tuple(int(p) for p in value.periods),
                _digest(value.cohorts()))
    if isinstance(value, DiD2x2Statistic):
        return ("DiD2x2Statistic", value.outcome, tuple(value.pre), tuple(value.post))
    if isinstance(value, np.ndarray):
        return ("array", value.shape, hashlib.sha1(np.ascontiguousarray(value).tobytes())
                .hexdigest()[:16])
    if isinstance(value, pd.DataFrame | pd.Series):
        return ("frame", _digest(value))
    if isinstance(value, list | tuple):
        return tuple(fingerprint(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), fingerprint(v)) for k, v in value.items()))
    if isinstance(value, str | int | float | bool | type(None)) or np.isscalar(value):
        return value
    table = getattr(value, "table", None)
    if isinstance(table, pd.DataFrame):
        return (type(value).__name__, getattr(value, "outcome", None), _digest(table))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, fingerprint(dataclasses.asdict(value)))
    return (type(value).__name__, repr(value))


def _report_modules() -> Iterator[Any]:
    yield evalmodel.report
    for info in pkgutil.iter_modules(evalmodel.report.__path__):
        yield importlib.import_module(f"evalmodel.report.{info.name}")


def _counted(name: str, fn: Callable[..., Any], calls: Counter[object]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[(name, fingerprint(args), fingerprint(kwargs))] += 1
        return fn(*args, **kwargs)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


@pytest.fixture(scope="module")
def built() -> dict[str, tuple[pd.DataFrame, Counter[object]]]:
    """Every case built as ``evalmodel run`` builds it, each with its call counts."""
    panels = {"municipality": em.datasets.simulated(),
              "district": em.datasets.simulated_districts()}
    out: dict[str, tuple[pd.DataFrame, Counter[object]]] = {}
    with pytest.MonkeyPatch.context() as mp:
        calls: Counter[object] = Counter()
        for module in _report_modules():
            for name in ENTRY_POINTS:
                fn = getattr(module, name, None)
                if callable(fn):
                    mp.setattr(module, name, _counted(name, fn, calls))
        aggregate = AttGtResult.aggregate

        def counted_aggregate(self: AttGtResult, *args: Any, **kwargs: Any) -> Any:
            calls[("AttGtResult.aggregate", fingerprint(self), fingerprint(args),
                   fingerprint(kwargs))] += 1
            return aggregate(self, *args, **kwargs)

        mp.setattr(AttGtResult, "aggregate", counted_aggregate)
        for name in em.cases.names():
            case = em.cases.get(name)
            calls.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sections = standard_sections(case.design(panels[case.level]))
            plt.close("all")
            table = dict(next(s for s in sections if s.key == "triangulation").tables)["table"]
            assert isinstance(table, pd.DataFrame)
            out[name] = (table, Counter(calls))
    return out


def test_no_estimate_is_computed_twice(
        built: dict[str, tuple[pd.DataFrame, Counter[object]]]) -> None:
    twice = {name: [(k[0], n) for k, n in calls.items() if n > 1]
             for name, (_, calls) in built.items()}
    assert all(calls for _, calls in built.values())  # the counters saw the report's calls
    assert {k: v for k, v in twice.items() if v} == {}


def test_triangulation_equals_the_table_before_the_refactor(
        built: dict[str, tuple[pd.DataFrame, Counter[object]]]) -> None:
    before = pd.read_csv(FIXTURE, keep_default_na=False, na_values=[""])
    now = pd.concat([t.assign(case=name) for name, (t, _) in built.items()],
                    ignore_index=True)
    assert now["case"].tolist() == before["case"].tolist()
    assert now["outcome"].tolist() == before["outcome"].tolist()
    assert now["method"].tolist() == before["method"].tolist()
    assert now["inference"].fillna("").tolist() == before["inference"].fillna("").tolist()
    numbers = ["estimate", "ci_lower", "ci_upper", "p_value"]
    analytic = now["method"].isin(EVENT_ROWS) & now["inference"].str.startswith("analytic")
    changed = now["method"].isin(list(CHANGED_INTERVAL)) | analytic

    def close(rows: pd.Series, cols: list[str] | tuple[str, ...], rtol: float = 1e-10) -> None:
        np.testing.assert_allclose(now.loc[rows, list(cols)].to_numpy(float),
                                   before.loc[rows, list(cols)].to_numpy(float),
                                   rtol=rtol, atol=0, equal_nan=True)

    close(~changed, numbers)
    for method, cols in CHANGED_INTERVAL.items():
        close(now["method"] == method, cols, SOLVER_RTOL.get(method, 1e-10))
    close(analytic, ["estimate", "p_value"])
    # The analytic event-study interval: the same standard error, the exact normal quantile.
    scale = norm.ppf(0.975) / 1.96
    for side in ("ci_lower", "ci_upper"):
        want = before["estimate"] + scale * (before[side] - before["estimate"])
        np.testing.assert_allclose(now.loc[analytic, side], want[analytic], rtol=1e-10)
    # Where the draws changed, the interval still holds the estimate and p is a probability.
    part = now[now["method"].isin(list(CHANGED_INTERVAL))]
    assert ((part["ci_lower"] <= part["estimate"]) & (part["estimate"] <= part["ci_upper"])).all()
    assert part["p_value"].between(0, 1).all()


def test_the_synth_row_is_the_one_the_hull_diagnostic_chooses(
        built: dict[str, tuple[pd.DataFrame, Counter[object]]]) -> None:
    """Outside the donors' hull the row is the augmented synthetic control, whose studentized
    interval covers the planted effect; inside it the plain one."""
    from evalmodel.report.triangulation import SYNTH_AUGMENTED

    for name, (table, _) in built.items():
        rows = table[table["method"].str.startswith("synthetic control")]
        for _, r in rows.iterrows():
            outside = (name, r["outcome"]) in HULL_OUTSIDE
            assert (r["method"] == SYNTH_AUGMENTED) == outside, (name, r["outcome"])
            if outside:
                assert r["inference"] == ("placebo in space, studentized (augmented "
                                          "synthetic control)")
                assert r["ci_lower"] < r["planted"] < r["ci_upper"]
            else:
                assert r["method"] == "synthetic control"
    assert {k for k, _ in HULL_OUTSIDE} <= set(built)
