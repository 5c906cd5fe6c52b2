"""The inference report section and its figures on the embedded simulated panel."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.inference.placebo_event import placebo_event_study
from evalmodel.inference.sensitivity import sensitivity
from evalmodel.report.estimates import OutcomeEstimates
from evalmodel.report.sec_inference import build_inference_section


def test_inference_section_on_simulated_case() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)  # simulated-data stamp
        panel = em.datasets.simulated()
    design = em.cases.get("boras").design(panel)
    outcome = design.outcomes[0]
    s = build_inference_section(OutcomeEstimates(design, outcome))
    names = [n for n, _ in s.tables]
    assert names[:2] == ["permutation", "pretrend"]
    perm = dict(s.tables)["permutation"]
    assert isinstance(perm, pd.DataFrame)
    assert set(perm["inference"]) == {"permutation", "Conley-Taber"}
    assert (perm.loc[perm.inference == "permutation", "min_p_value"] < 0.05).all()
    assert "fewer than 5 treated clusters" in s.notes[0]
    assert [n for n, _ in s.figures] == ["permutation", "sensitivity_relative_magnitude",
                                         "sensitivity_smoothness"]
    # the 2x2 row equals the lead's did2x2 point estimate on the same periods
    pre, post = list(design.pre_periods[-3:]), list(design.post_periods[:4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        r = em.did2x2(design.panel, outcome, pre=pre, post=post)
    assert abs(perm["estimate"].iloc[0] - r.estimate) < 1e-10
    for _, fig in s.figures:
        plt.close(fig)


def test_placebo_event_study_is_a_did_by_event_time() -> None:
    rng = np.random.default_rng(1)
    n, t = 25, 9
    df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
                       "time": np.tile(np.arange(2000, 2000 + t), n)})
    df["y"] = rng.normal(size=n * t)
    p = em.Panel(df, unit="unit", time="time")
    es = placebo_event_study(p, "y", treated=["u00"], pool=p.units[1:], adoption=2005)
    w = p.wide("y")
    e = 2
    manual = (w.loc["u00", 2007] - w.loc["u00", 2004]) - (w.iloc[1:][2007] - w.iloc[1:][2004]
                                                          ).mean()
    assert abs(es.coefficients.loc[e] - manual) < 1e-12
    assert es.reference == -1 and list(es.vcov.index) == list(es.coefficients.index)
    h = sensitivity(es, restriction="smoothness", m=[0.0, 0.1])
    ax = h.plot()
    assert ax.get_xlabel().startswith("M")
    plt.close(ax.figure)
