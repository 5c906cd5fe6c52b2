"""The calibration section's placebo units as a setting of the report (``--calibration-units``,
``run_report(calibration_units=)``): 0 leaves the section out and nothing else changes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import evalmodel as em
from evalmodel.cli import build_parser, main
from evalmodel.errors import EvalModelError
from evalmodel.report.runner import run_report
from evalmodel.report.sec_calibration import (
    CALIBRATION_UNITS,
    calibration_units,
    check_calibration_units,
    current_calibration_units,
)

OUTPUTS = {".csv", ".md", ".tex"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The district case with the default units, with 6 and with 0."""
    panels = {"district": em.datasets.simulated_districts()}
    out = {}
    for n in (CALIBRATION_UNITS, 6, 0):
        path = tmp_path_factory.mktemp(f"units_{n}") / "results"
        run_report(panels, path, case_names=["lindangen"], calibration_units=n)
        out[n] = path
    return out


def _tables(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in (root / "lindangen").rglob("*")
            if p.suffix in OUTPUTS}


def test_zero_units_leave_out_the_section_and_nothing_else(runs: dict[int, Path]) -> None:
    full, none = _tables(runs[CALIBRATION_UNITS]), _tables(runs[0])
    calib = {p for p in full if p.name.startswith("calibration_")}
    assert calib, "the default run has a calibration section"
    assert not any(p.name.startswith("calibration_") for p in none)
    assert set(full) - calib == set(none)
    assert [p for p in none if none[p] != full[p]] == []  # every other table byte-identical
    for n in (CALIBRATION_UNITS, 0):
        manifest = json.loads((runs[n] / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["calibration_units"] == n


def test_fewer_units_give_a_smaller_study(runs: dict[int, Path]) -> None:
    (path,) = (runs[6] / "lindangen").glob("calibration_*.csv")
    table = pd.read_csv(path)
    assert set(table["n_placebo"]) == {6}
    (full,) = (runs[CALIBRATION_UNITS] / "lindangen").glob("calibration_*.csv")
    assert set(pd.read_csv(full)["n_placebo"]) == {14}  # the whole pool of 14 districts


def test_the_setting_is_scoped_and_checked() -> None:
    assert current_calibration_units() == CALIBRATION_UNITS
    with calibration_units(5):
        assert current_calibration_units() == 5
    assert current_calibration_units() == CALIBRATION_UNITS
    for bad in (-1, 2.5, True, "30"):
        with pytest.raises(EvalModelError, match=r"calibration_units=.*at least 0"):
            check_calibration_units("run_report", bad)
    with pytest.raises(EvalModelError, match="run_report: calibration_units=-3"):
        run_report({}, Path("unused"), case_names=[], calibration_units=-3)


def test_command_line_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["run"])
    assert args.calibration_units == CALIBRATION_UNITS
    assert build_parser().parse_args(["run", "--calibration-units", "0"]).calibration_units == 0
    assert main(["run", "--calibration-units", "-1", "--out", str(tmp_path / "r")]) == 2
    assert "--calibration-units -1: give a number of placebo units" in capsys.readouterr().err
