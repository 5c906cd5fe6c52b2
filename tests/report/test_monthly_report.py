"""`evalmodel run` on a monthly file: Linköping's January-to-January comparison and estimates
(issue 17, part 6).

The simulated monthly world (its Linköping passes through the seed's 2,703 households in
January 2021 and 2,087 in January 2024, with an effect planted from January 2021) is written
to a CSV and run through the command, as a user would run a Socialstyrelsen file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.cli import main
from evalmodel.data.simulate_monthly import simulate_monthly
from evalmodel.errors import CoercedValuesWarning
from evalmodel.estimators.synth_diagnostics import choose, hull_of
from evalmodel.months import month_code
from evalmodel.report.monthly_january import january_comparison

JAN21, JAN24 = month_code(2021, 1), month_code(2024, 1)


def kolada_ids(data: pd.DataFrame) -> pd.DataFrame:
    """The world with its synthetic ids (``S001`` ...) replaced by the other municipalities'
    Kolada ids in order, so that a file reader keeps them (it sets aside what is not a
    municipality) and the case's neighbours and similar group are in the file."""
    table = pd.read_csv(Path(em.__file__).parent / "_data" / "municipalities.csv", dtype=str,
                        comment="#")
    ids = sorted(set(table.loc[table["type"] == "K", "id"]) - set(data["kommun"]))
    synthetic = sorted(u for u in data["kommun"].unique() if u.startswith("S"))
    assert len(ids) == len(synthetic) == 286
    return data.assign(kommun=data["kommun"].replace(dict(zip(synthetic, ids, strict=True))))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    data, truth = simulate_monthly()
    data = kolada_ids(data)
    path = tmp_path_factory.mktemp("monthly") / "monthly.csv"
    data.to_csv(path, index=False)
    return data, truth, path


@pytest.fixture(scope="module")
def report(world: tuple[pd.DataFrame, pd.DataFrame, Path],
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    with pytest.warns(CoercedValuesWarning, match="month labels converted"):
            code = main(["run", "--data", str(world[2]), "--cases", "linkoping", "trelleborg",
                     "--out", str(out), "--quiet", "--jobs", "1"])
    assert code == 0
    return out


def monthly_panel(data: pd.DataFrame) -> em.Panel:
    with pytest.warns(CoercedValuesWarning, match="month labels converted to month codes"):
        return em.Panel(data, unit="kommun", time="month")


def _csv(report: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(report / "linkoping" / f"{name}.csv", dtype={"group": str})


def test_linkoping_page_has_the_january_comparison_of_the_data(
        report: Path, world: tuple[pd.DataFrame, pd.DataFrame, Path]) -> None:
    data = world[0]
    page = (report / "linkoping" / "index.html").read_text(encoding="utf-8")
    assert "Monthly data: households" in page and "Verdict (monthly data)" in page
    table = _csv(report, "monthly_households_january")
    wide = data.pivot(index="kommun", columns="month", values="households")
    wide.index = wide.index.astype(str).str.zfill(4)
    a, b = wide["2021-01"], wide["2024-01"]
    t = table.iloc[0]
    assert t["group"].startswith("Linköping") and (t["start"], t["end"]) == ("2021-01",
                                                                            "2024-01")
    # the seed's numbers: 2,703 -> 2,087 households, 616 fewer
    assert (t["start_level"], t["end_level"], t["change"]) == (2703, 2087, -616)
    assert t["pct_change"] == pytest.approx(100 * -616 / 2703)
    case = em.cases.get("linkoping")
    design = case.design(monthly_panel(data))
    pool = list(design.comparison)
    assert len(pool) == 290 - 1 - 3 - len(case.exclude)  # not treated here or elsewhere
    mean = table[table["group"].str.startswith("comparison pool, mean")].iloc[0]
    assert mean["n_units"] == len(pool)
    assert mean["start_level"] == pytest.approx(a[pool].mean())
    assert mean["change"] == pytest.approx(b[pool].mean() - a[pool].mean())
    assert mean["did_change"] == pytest.approx(-616 - (b[pool].mean() - a[pool].mean()))
    median = table[table["group"].str.startswith("comparison pool, median")].iloc[0]
    assert median["change"] == pytest.approx((b[pool] - a[pool]).median())
    assert median["pct_change"] == pytest.approx((100 * (b[pool] - a[pool]) / a[pool]).median())
    similar = table[table["group"].str.startswith("similar")].iloc[0]
    assert similar["n_units"] == len(case.similar_group) == 7
    assert similar["change"] == pytest.approx(b[list(case.similar_group)].mean()
                                              - a[list(case.similar_group)].mean())
    assert "616 fewer (-22.8 %)" in page


def test_estimates_recover_the_planted_effect_with_the_mde(
        report: Path, world: tuple[pd.DataFrame, pd.DataFrame, Path]) -> None:
    truth = world[1]
    est = _csv(report, "monthly_share_estimates").set_index("method")
    planted = truth[(truth["case"] == "linkoping") & (truth["outcome"] == "share")
                    & (truth["period"] >= JAN21)]["effect"].mean()
    assert planted < -0.3
    did = est.loc["seasonal TWFE (unit x calendar month)"]
    # one draw of the world: the seasonal TWFE within its permutation interval of the truth
    assert did["ci_lower"] < planted < did["ci_upper"]
    # and within two placebo standard deviations of it (std_error: their spread)
    assert abs(did["estimate"] - planted) < 2 * did["std_error"] < abs(planted)
    assert did["p_value"] < 0.05 and "permutation" in did["inference"]
    mde = float(did["mde"])
    # the MDE is that of the seasonal TWFE's own permutation test, recomputed here
    panel = monthly_panel(world[0])
    design = em.cases.get("linkoping").design(panel)
    fit = em.twfe(design.panel, "share", seasonal="unit")
    assert fit.estimate == pytest.approx(did["estimate"], rel=1e-9)
    again = em.minimum_detectable_effect(fit.details["permutation"].distribution)
    assert mde == pytest.approx(again.mde, rel=1e-9)
    assert 0.5 * again.normal_mde < mde < 2 * again.normal_mde
    # the synthetic control the hull diagnostic calls for (recomputed here): the augmented one
    # for a treated unit outside the donors' hull, the plain one set aside then
    plain = em.synth(design.panel, "share", treated="0580", start=JAN21, inference="none")
    chosen, _ = choose(hull_of(plain))
    assert est.loc[est.index.str.startswith("synthetic control"), "estimate"].iloc[0] == \
        pytest.approx(plain.estimate, rel=1e-9)
    if chosen == "augmented synthetic control":
        assert "synthetic control (outside the hull: set aside)" in est.index
    else:
        assert "synthetic control" in est.index and "augmented synthetic control" not in \
            est.index
    for method in (chosen, "synthetic DiD"):
        row = est.loc[method]
        assert row["estimate"] < 0 and row["ci_lower"] < planted < row["ci_upper"]
    mde_table = _csv(report, "monthly_share_mde")
    assert mde_table["estimate"].iloc[0] == pytest.approx(mde)
    assert (report / "linkoping" / "monthly_share_path.png").stat().st_size > 10_000
    assert (report / "linkoping" / "monthly_households_path.png").is_file()
    page = (report / "linkoping" / "index.html").read_text(encoding="utf-8")
    assert f"minimum detectable effect {mde:.3g}" in page  # the verdict line, beside the estimate
    assert "and all 3 methods agree on the direction" in page
    index = (report / "index.html").read_text(encoding="utf-8")  # the verdict on the index
    assert "Monthly data 2014-01 to 2024-06, adoption 2021-01. households: Link" in index
    assert "Källa: Socialstyrelsen." in index  # the file is read in Socialstyrelsen's layout


def test_case_adopting_before_the_months_is_not_run_with_its_reason(report: Path) -> None:
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cases"] == ["linkoping"]
    reason = manifest["cases_not_run"]["trelleborg"]
    assert "2010-01" in reason and "2014-01" in reason
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "trelleborg" in index.lower() and "2010-01" in index


def test_january_comparison_says_why_without_a_later_january() -> None:
    data, _ = simulate_monthly(start="2019-01", end="2021-06")
    panel = monthly_panel(data)
    design = em.cases.get("linkoping").design(panel)
    why = january_comparison(design, "households")
    assert isinstance(why, str) and "no January after 2021-01" in why


def test_monthly_path_plot_labels_januaries_and_marks_adoption() -> None:
    import matplotlib.pyplot as plt

    from evalmodel.plotting.monthly import monthly_path_plot

    codes = list(range(month_code(2019, 1), month_code(2022, 7)))
    y = np.arange(len(codes), dtype=float)
    ax = monthly_path_plot(codes, y, {"synthetic control": y + 1}, adoption=JAN21,
                           treated_label="Linköping (0580)", ylabel="households")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2019-01", "2020-01", "2021-01",
                                                           "2022-01"]
    assert [line.get_label() for line in ax.get_lines()][:2] == ["synthetic control",
                                                                 "Linköping (0580)"]
    assert any(t.get_text() == "adoption 2021-01" for t in ax.texts)
    with pytest.raises(ValueError, match="at most 3 other paths"):
        monthly_path_plot(codes, y, {str(i): y for i in range(4)}, adoption=JAN21,
                          treated_label="t", ylabel="y")
    plt.close("all")


def scb_tidy(data: pd.DataFrame) -> pd.DataFrame:
    """The world's households as the tidy frame SCB's cached series reads into (a ContentsCode
    as the variable, totals and one other gender)."""
    long = pd.DataFrame({"unit": data["kommun"], "period": data["month"],
                         "variable": "000007XY", "value": data["households"], "status": ""})
    return pd.concat([long.assign(gender="T"), long.assign(gender="K", value=long["value"] / 2)],
                     ignore_index=True)


def test_data_scb_reads_the_cache_into_the_monthly_sections(
        world: tuple[pd.DataFrame, pd.DataFrame, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import evalmodel.data.scb as scb
    from evalmodel.cli import SCB_OUTCOME, load_panels

    data = world[0]
    keep = ["0580", *sorted(set(data["kommun"]) - {"0580"})[:40]]  # a smaller world: faster
    data = data[data["kommun"].isin(keep)]
    monkeypatch.setattr(scb, "read_scb_benefits", lambda cache_dir=None: scb_tidy(data))
    with pytest.warns(CoercedValuesWarning):
        women = load_panels("scb", gender="K")["municipality"]
    assert women.frequency == "month" and women.outcomes == [SCB_OUTCOME]
    assert women.source["kind"] == "scb"
    value = women.wide(SCB_OUTCOME).loc["0580", JAN21]
    assert value == 2703 / 2
    out = tmp_path / "out"
    with pytest.warns(CoercedValuesWarning):
        assert main(["run", "--data", "scb", "--cases", "linkoping", "--out", str(out),
                     "--quiet", "--jobs", "1"]) == 0
    assert "Källa: SCB." in (out / "index.html").read_text(encoding="utf-8")
    table = pd.read_csv(out / "linkoping" / f"monthly_{SCB_OUTCOME}_january.csv")
    assert table.loc[0, ["start_level", "end_level"]].tolist() == [2703, 2087]
    estimates = pd.read_csv(out / "linkoping" / f"monthly_{SCB_OUTCOME}_estimates.csv")
    used = estimates[~estimates["method"].str.contains("set aside")]
    assert {"seasonal TWFE (unit x calendar month)", "synthetic DiD"} < set(used["method"])
    assert len(used) == 3 and used["estimate"].lt(0).all()


def test_data_scb_with_an_empty_cache_says_how_to_fill_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--data", "scb", "--cache-dir", str(tmp_path), "--cases", "linkoping",
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "missing" in err and "evalmodel data fetch --source scb" in err


def test_verdict_line_reads_p_value_mde_and_agreement(
        world: tuple[pd.DataFrame, pd.DataFrame, Path]) -> None:
    from types import SimpleNamespace

    from evalmodel.report.monthly import MonthlyEstimates, verdict_line

    design = em.cases.get("linkoping").design(monthly_panel(world[0]))

    def fit(e: float, p: float) -> SimpleNamespace:
        return SimpleNamespace(inference="stated", overall=pd.Series(
            {"estimate": e, "std_error": 0.1, "ci_lower": e - 0.2, "ci_upper": e + 0.2,
             "p_value": p}))

    est = MonthlyEstimates(design=design, outcome="share", did=fit(-0.5, 0.004),
                           synth=fit(0.1, 0.5), sdid=fit(-0.4, 0.01),
                           mde=SimpleNamespace(mde=0.3))  # type: ignore[arg-type]
    line = verdict_line(est, "no January")
    assert "puts the effect at -0.5 a month over 2021-01-2024-06 (p = 0.004; minimum " \
           "detectable effect 0.3)" in line
    assert "The fall is larger" in line and "but the synthetic control points the other way" \
        in line
    est.synth = fit(-0.3, 0.01)  # type: ignore[assignment]
    assert "and all 3 methods agree on the direction" in verdict_line(est, "")
    est.mde = SimpleNamespace(mde=0.6)  # type: ignore[assignment]
    assert "smaller than the effect these data could detect" in verdict_line(est, "")
    est.mde, est.did = None, fit(-0.5, 0.2)  # type: ignore[assignment]
    assert "not distinguishable from no effect" in verdict_line(est, "")
