"""The triangulation table: every method's headline for a case, with valid inference."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.report.standard import standard_sections


def test_triangulation_rows_inference_and_truth(municipalities: em.Panel) -> None:
    design = em.cases.get("boras").design(municipalities)
    sections = standard_sections(design, ["N31807"])
    tri = next(s for s in sections if s.key == "triangulation")
    assert [s.key for s in sections[:5]] == ["verdict", "triangulation", "calibration_N31807",
                                             "data", "adoption"]
    assert tri.key == "triangulation"
    table = dict(tri.tables)["table"]
    assert isinstance(table, pd.DataFrame)
    assert table["method"].tolist() == [
        "2x2: 2009-2011 vs 2012-2015", "TWFE, all periods", "Callaway-Sant'Anna, simple ATT",
        "Sun-Abraham event study, mean post effect", "imputation (BJS), mean post effect",
        "synthetic control", "synthetic DiD"]
    # One treated municipality: no row may rest on analytic standard errors.
    assert not table["inference"].str.contains("analytic|cluster-robust").any()
    assert (table["ci_lower"] < table["estimate"]).all()
    assert (table["estimate"] < table["ci_upper"]).all()
    # The CS simple ATT is exactly the 2x2 DiD of the post mean against the year before.
    cs = table.set_index("method").loc["Callaway-Sant'Anna, simple ATT"]
    w = design.panel.wide("N31807")
    post = list(design.post_periods)
    d = w[post].mean(axis=1) - w[2011]
    assert np.isclose(cs["estimate"], d["1490"] - d.drop("1490").mean(), atol=1e-10)
    # On simulated data every row carries the planted effect, and most intervals cover it.
    covered = (table["ci_lower"] <= table["planted"]) & (table["planted"] <= table["ci_upper"])
    assert table["planted"].notna().all() and covered.sum() >= 6
    assert any("pre-trend Wald test p =" in n for n in tri.notes)
    assert any("Bacon decomposition not needed" in n for n in tri.notes)
    assert [n for n, _ in tri.figures] == ["forest_N31807"]
    plt.close("all")


def test_adoption_range_reuses_the_triangulation_for_the_registry_year(
        municipalities: em.Panel) -> None:
    from evalmodel.report.sec_adoption import adoption_rows

    design = em.cases.get("boras").design(municipalities)
    sections = standard_sections(design, ["N31807"])
    reused = dict(next(s for s in sections if s.key == "adoption").tables)["by_year"]
    assert isinstance(reused, pd.DataFrame)
    computed = adoption_rows(design, ["N31807"])  # every year re-run, nothing reused
    cols = ["adoption", "method", "estimate", "ci_lower", "ci_upper", "p_value"]
    pd.testing.assert_frame_equal(reused[cols], computed[cols], rtol=1e-12, atol=1e-12)
    # The same kind of inference (the labels of the two sections differ in wording only).
    kind = reused["inference"].str.split().str[0]
    assert kind.equals(computed["inference"].str.split().str[0])
    assert sorted(set(reused["adoption"])) == [2011, 2012]
    plt.close("all")


def test_a_pool_too_small_for_5_percent_gives_untestable_rows_and_verdict(
        districts: em.Panel) -> None:
    """Lindängen against 14 other districts: 15 assignments, smallest p-value 1/15. No row
    may fall back to analytic or cluster-robust errors (they over-reject with one treated
    unit); the design-based rows report p = 1/15 and the whole line, and the verdict says the
    data cannot settle it rather than 'no change'."""
    design = em.cases.get("lindangen").design(districts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sections = standard_sections(design, ["N31807"], adoption_range=False)
    assert any(issubclass(w.category, em.errors.FewTreatedClustersWarning)
               and "smallest attainable p-value is 0.0667" in str(w.message) for w in caught)
    table = dict(next(s for s in sections if s.key == "triangulation").tables)["table"]
    assert isinstance(table, pd.DataFrame)
    assert not table["inference"].str.contains("analytic|cluster-robust|not valid").any()
    perm = table[table["inference"].str.startswith("permutation")]
    assert len(perm) == 5
    assert np.allclose(perm["p_value"], 1 / 15)
    assert np.isneginf(perm["ci_lower"]).all() and np.isposinf(perm["ci_upper"]).all()
    verdict = next(s for s in sections if s.key == "verdict")
    text = " ".join(verdict.notes)
    assert "N31807: not testable at 5 % against 14 comparison districts" in text
    assert "p = 0.067 is the smallest attainable p-value" in text
    assert "no change detectable" not in text
    plt.close("all")
