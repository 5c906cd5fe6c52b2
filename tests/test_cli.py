"""The main job: `evalmodel run` writes the report, identically twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evalmodel.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Every case once, then a municipality and the district case again."""
    a = tmp_path_factory.mktemp("run_a") / "results"
    b = tmp_path_factory.mktemp("run_b") / "results"
    assert main(["run", "--out", str(a), "--quiet"]) == 0
    assert main(["run", "--out", str(b), "--quiet", "--cases", "lindangen", "trelleborg"]) == 0
    return a, b


def test_report_has_every_case(two_runs: tuple[Path, Path]) -> None:
    a, _ = two_runs
    index = (a / "index.html").read_text(encoding="utf-8")
    for name in ("lindangen", "malmo", "trelleborg", "boras", "linkoping"):
        assert f'id="{name}"' in index
        assert (a / name / "index.html").is_file()
        assert list((a / name).glob("*.png")) and list((a / name).glob("*.tex"))
    assert "simulated data" in index
    manifest = json.loads((a / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["simulated"] is True and len(manifest["data"]["sha256"]) == 64
    assert manifest["cases"] == ["boras", "lindangen", "linkoping", "malmo", "trelleborg"]
    for key in ("evalmodel_version", "seed", "command", "time"):
        assert manifest[key] not in (None, "")
    md = (a / "trelleborg" / "did_N31814_estimates.md").read_text(encoding="utf-8")
    assert md.startswith("> **simulated data**") and "planted" in md


def test_two_runs_identical(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    outputs = {".csv", ".md", ".tex", ".png"}
    again = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.suffix in outputs)
    assert len(again) > 100
    assert {f.parts[0] for f in again} == {"lindangen", "trelleborg"}
    first = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.suffix in outputs
             and p.relative_to(a).parts[0] in {"lindangen", "trelleborg"}}
    assert set(again) == first
    differ = [str(f) for f in again if (a / f).read_bytes() != (b / f).read_bytes()]
    assert differ == []


def test_script_runs_alone(tmp_path: Path) -> None:
    out = tmp_path / "res"
    proc = subprocess.run([sys.executable, str(ROOT / "analyses" / "boras.py"), "--out",
                           str(out), "--quiet"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (out / "boras" / "index.html").is_file() and not (out / "malmo").exists()


def test_bad_arguments_give_clear_errors(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--cases", "lund", "--out", str(tmp_path)]) == 2
    assert "--cases: unknown ['lund']" in capsys.readouterr().err
    assert main(["run", "--data", str(tmp_path / "none.csv"), "--out", str(tmp_path)]) == 2
    assert "no file" in capsys.readouterr().err


def test_districts_file_from_excel_on_swedish_windows_is_read(tmp_path: Path) -> None:
    """``--districts`` goes through read_district_panel: a cp1252, semicolon-separated file
    (what Excel writes on Swedish Windows) is read, and its encoding and separator recorded."""
    from evalmodel.cli import load_panels

    f = tmp_path / "stadsomraden.csv"
    f.write_bytes("district;year;households\nLindängen;2010;1200\nLindängen;2011;1150\n"
                  "Hyllie;2010;800\nHyllie;2011;790\n".encode("cp1252"))
    panel = load_panels("simulated", str(f))["district"]
    assert sorted(panel.units) == ["Hyllie", "Lindängen"]
    assert panel.source["encoding"] == "cp1252"
    assert panel.source["separator"] == ";"


def test_command_start_up_defers_heavy_libraries() -> None:
    """``import evalmodel.cli`` loads neither statsmodels (and the polars it pulls in) nor
    matplotlib, seaborn, numba or requests: the estimators, figures and data clients import
    them on first use."""
    heavy = ("statsmodels", "polars", "matplotlib", "seaborn", "numba", "requests", "urllib3")
    code = ("import sys, evalmodel.cli, evalmodel.report.runner; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
