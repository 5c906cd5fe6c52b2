"""A sensitivity analysis asks for robust intervals of one event study at many ``m`` (its grid,
then the breakdown value's bisection). The parts that do not depend on ``m`` are remembered
(issue 16): the smoothness FLCI's problem with its bias-variance frontier, and a
relative-magnitudes interval asked for twice. The results must be those computed afresh for
every ``m``, to the last bit."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import evalmodel as em
from evalmodel.inference import honest
from evalmodel.inference.placebo_event import placebo_event_study
from evalmodel.inference.sensitivity import sensitivity


class _Forgetful(OrderedDict):  # type: ignore[type-arg]
    """A memo that keeps nothing: every value is computed afresh, as before."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@pytest.fixture(scope="module")
def event_study(municipalities: em.Panel) -> Any:
    d = em.cases.get("trelleborg").design(municipalities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return placebo_event_study(d.panel, "N31814", treated=list(d.treated),
                                   pool=list(d.comparison), adoption=d.adoption)


def _both(es: Any, grid: list[float]) -> dict[str, Any]:
    out = {}
    for restriction, m in (("smoothness", grid), ("relative_magnitude", [0.0, 0.5, 1.0])):
        h = sensitivity(es, restriction=restriction, m=m, seed=1)  # type: ignore[arg-type]
        out[restriction] = (h.table[["ci_lower", "ci_upper"]].to_numpy(), h.breakdown)
    return out


def test_remembered_parts_give_the_fresh_numbers(event_study: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    scale = float(np.sqrt(event_study.vcov.to_numpy().diagonal().mean()))
    grid = [float(x) for x in np.linspace(0, 1, 5) * scale]
    calls = {"n": 0}
    build = honest.FLCIProblem.build

    def counted(cls: Any, *args: Any) -> Any:
        calls["n"] += 1
        return build(*args)

    monkeypatch.setattr(honest.FLCIProblem, "build", classmethod(counted))
    honest._problems.clear()
    honest._rm_intervals.clear()
    remembered = _both(event_study, grid)
    n_remembered = calls["n"]

    monkeypatch.setattr(honest, "_problems", _Forgetful())
    monkeypatch.setattr(honest, "_rm_intervals", _Forgetful())
    calls["n"] = 0
    fresh = _both(event_study, grid)
    for restriction, (sets, breakdown) in fresh.items():
        np.testing.assert_array_equal(remembered[restriction][0], sets)
        assert remembered[restriction][1] == breakdown
    # the memo is used (one frontier for every m of the analysis), and the intervals are not
    # all alike (the comparison above can fail)
    assert n_remembered == 1 and calls["n"] > 5
    assert len(np.unique(fresh["smoothness"][0][:, 0])) == len(grid)


def test_normal_functions_are_scipy_stats_norms() -> None:
    """The relative-magnitudes test calls scipy.special's normal functions directly: the
    values of scipy.stats.norm, bit for bit, at the ends and in the tails too."""
    from scipy import special, stats

    x = np.array([-np.inf, -40.0, -8.5, -1.0, -0.0, 0.0, 1e-300, 0.3, 6.0, 38.0, np.inf,
                  np.nan])
    q = np.array([0.0, 1e-300, 1e-17, 0.025, 0.5, 0.975, 1 - 1e-16, 1.0, np.nan])
    pairs = [(special.ndtr(x), stats.norm.cdf(x)), (special.ndtr(-x), stats.norm.sf(x)),
             (special.ndtri(q), stats.norm.ppf(q)), (-special.ndtri(q), stats.norm.isf(q))]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours, theirs)
