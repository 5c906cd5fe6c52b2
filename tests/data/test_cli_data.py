"""``evalmodel data fetch`` and ``evalmodel data list``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from evalmodel.cli_data import add_data_commands, main, parse_years
from evalmodel.data.cache import Cache


def test_parse_years(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_years("1998-2001") == [1998, 1999, 2000, 2001]
    assert parse_years("2012, 2010,2011-2012") == [2010, 2011, 2012]
    # a bad range is a usage error of the command: exit status 2 and the message on stderr
    for bad, message in (("20x0", "--years '20x0' is not a year range; write e.g. 1998-2025"),
                         ("2012-2010", "--years '2012-2010' is not a year range"),
                         ("", "--years is empty; write e.g. 1998-2025")):
        try:
            main(["fetch", "--years", bad, "--offline"])
            status: object = 0
        except SystemExit as stop:  # argparse ends a usage error by exiting
            status = stop.code
        assert status == 2, bad
        assert message in capsys.readouterr().err, bad


def test_commands_mount_on_a_parser() -> None:
    parser = argparse.ArgumentParser(prog="evalmodel")
    add_data_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", "fetch", "--years", "2010-2011", "--offline"])
    assert args.years == [2010, 2011] and args.offline and len(args.kpis) == 16
    assert args.func.__name__ == "cmd_fetch"
    assert parser.parse_args(["data", "list"]).func.__name__ == "cmd_list"


def test_fetch_then_list(
    kolada_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_dir = str(tmp_path / "c")
    code = main(
        [
            "fetch",
            "--kpis",
            "N31807",
            "N31814",
            "--years",
            "2010-2012",
            "--base-url",
            kolada_server.base_url,
            "--cache-dir",
            cache_dir,
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("2 KPIs x 3 years (2010-2012): ") and cache_dir in out
    assert main(["list", "--cache-dir", cache_dir]) == 0
    listing = capsys.readouterr().out
    assert "kolada/values/N31807" in listing and "2010-2012" in listing
    assert listing.count(" ok") == 3
    assert main(["list", "--cache-dir", cache_dir, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == [
        "kolada/municipality",
        "kolada/values/N31807",
        "kolada/values/N31814",
    ]
    assert (
        main(
            [
                "fetch",
                "--kpis",
                "N31807",
                "--years",
                "2010-2012",
                "--offline",
                "--cache-dir",
                cache_dir,
                "--no-progress",
            ]
        )
        == 0
    )


def test_offline_fetch_reports_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["fetch", "--kpis", "N31807", "--offline", "--cache-dir", str(tmp_path), "--no-progress"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "evalmodel data fetch: kolada (offline): the cache at" in err
    assert "kolada/values/N31807 (missing)" in err


def test_offline_scb_fetch_reports_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same error path as Kolada's: the message on stderr, exit status 1, nothing on stdout
    code = main(
        ["fetch", "--source", "scb", "--offline", "--cache-dir", str(tmp_path), "--no-progress"]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("evalmodel data fetch: ")
    assert "evalmodel data fetch --source scb" in captured.err
    assert captured.out == ""


def test_list_flags_a_corrupt_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--cache-dir", str(tmp_path)]) == 0
    assert "is empty" in capsys.readouterr().out
    import pandas as pd

    cache = Cache(tmp_path)
    cache.write_table("kolada/values/N1", pd.DataFrame({"a": [1]}), source="kolada")
    path = cache.table_path("kolada/values/N1")
    assert path is not None
    path.write_bytes(b"garbage")
    assert main(["list", "--cache-dir", str(tmp_path)]) == 1
    assert "corrupt" in capsys.readouterr().out
