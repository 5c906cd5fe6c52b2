"""End to end: `evalmodel run --data kolada --offline` on a cache filled from the local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalmodel.cli import main
from evalmodel.errors import SeriesBreakWarning, UnitsSetAsideWarning


def test_offline_run_on_cached_kolada_data(kolada_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    with (pytest.warns(SeriesBreakWarning),
          pytest.warns(UnitsSetAsideWarning, match=r"^kolada_panel: 2 ids .* \(0000, 0012\)")):
        code = main(["run", "--data", "kolada", "--offline", "--cache-dir", str(kolada_cache),
                     "--out", str(out), "--quiet"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["simulated"] is False
    assert manifest["data"]["name"] == "kolada"
    entries = manifest["data"]["entries"]
    assert entries and all(len(e["sha256"]) == 64 for e in entries.values())
    assert manifest["cases"] == ["boras", "linkoping", "malmo", "trelleborg"]
    assert manifest["cases_not_run"]["lindangen"].startswith("needs a district file")
    assert "--districts" in manifest["cases_not_run"]["lindangen"]
    assert "first_treated" in manifest["cases_not_run"]["lindangen"]  # the file format
    assert any("2021" in n for n in manifest["data_notes"]["municipality"])  # series break
    # the country and the region are set aside, as read_panel does: 16 KPIs x 27 years each
    assert manifest["set_aside"] == {"municipality": ["0000", "0012"]}
    assert any(n.startswith("2 ids outside the municipalities set aside (864 rows)")
               for n in manifest["data_notes"]["municipality"])
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "simulated data" not in index and 'id="trelleborg"' in index
    for case in ("boras", "linkoping", "malmo", "trelleborg"):
        assert list((out / case).glob("*.png")) and list((out / case).glob("*.csv"))


def test_offline_run_with_empty_cache_names_what_is_missing(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    code = main(["run", "--data", "kolada", "--offline", "--cache-dir", str(tmp_path / "c"),
                 "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "N31807" in err and "offline" in err
