"""The SCB client on PxWeb API v2 against a local look-alike server on 127.0.0.1.

:class:`FakePxWeb` (tests/data/pxweb_fake.py) serves ``/tables`` (paged), ``/tables/{id}``,
``/tables/{id}/metadata`` (json-stat2) and ``POST /tables/{id}/data`` (json-stat2, or csv with
``placement``) for one table shaped like SCB's TAB1386 (Region, Kon, Aldersgrupp,
ContentsCode, Tid). It answers 400 to a selection that leaves a variable out or asks for more
than ``max_cells`` cells, and injects faults: a status (429 with ``Retry-After``) or a body cut
short (a ``Content-Length`` longer than what is sent, then the connection closed). It logs
every request. Its values are a planted function of the cell (:meth:`FakePxWeb.value`), so the
expected frames are built here without the client. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import sys
from itertools import product
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.cache import Cache, CacheCorruptError, CacheMissError
from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.data.pxweb import PxWebClient
from evalmodel.data.pxweb_parse import plan_chunks
from evalmodel.data.scb import (
    BENEFITS_TABLE,
    benefits_entry,
    read_scb_benefits,
    scb_benefits,
    scb_table,
    search_tables,
)
from evalmodel.errors import DataSourceError


def _load_fake() -> ModuleType:
    """tests/data/pxweb_fake.py by path (the tests import in importlib mode, without packages)."""
    path = Path(__file__).with_name("pxweb_fake.py")
    spec = importlib.util.spec_from_file_location("evalmodel_tests_pxweb_fake", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass resolves its annotations through it
    spec.loader.exec_module(module)
    return module


_fake = _load_fake()
TABLE, REGIONS, SEXES, AGES = _fake.TABLE, _fake.REGIONS, _fake.SEXES, _fake.AGES
CONTENTS, MONTHS, LABELS, MISSING = _fake.CONTENTS, _fake.MONTHS, _fake.LABELS, _fake.MISSING
Fault, FakePxWeb = _fake.Fault, _fake.FakePxWeb


# -- fixtures and helpers -------------------------------------------------------------------
MUNIS = ["0114", "0580", "1280", "1287"]
GENDER = {"1+2": "T", "1": "M", "2": "K"}


@pytest.fixture
def fake() -> Any:
    """``fake(**kw)`` starts a :class:`FakePxWeb`; all are closed after the test."""
    servers: list[FakePxWeb] = []

    def make(**kw: Any) -> FakePxWeb:
        servers.append(FakePxWeb(**kw))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def client(server: FakePxWeb, waits: list[float] | None = None, **kw: Any) -> PxWebClient:
    """A client with short timeouts whose waits are recorded instead of slept."""
    sink = waits if waits is not None else []
    return PxWebClient(
        server.base_url,
        timeout=(2.0, 2.0),
        retries=kw.pop("retries", 2),
        backoff=0.01,
        sleep=sink.append,
        **kw,
    )


def expected(
    regions: list[str] = MUNIS, age: str = "2064", content: str = "000007AB"
) -> pd.DataFrame:
    """The tidy frame the planted values make, built without the client."""
    rows = []
    for r, sex, m in product(regions, SEXES, MONTHS):
        x = FakePxWeb.value(r, sex, age, content, m)
        rows.append(
            (
                r,
                f"{m[:4]}-{m[5:]}",
                content,
                np.nan if x is None else x,
                GENDER[sex],
                ".." if x is None else "",
            )
        )
    df = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    df = df.sort_values(["variable", "unit", "period", "gender"], kind="mergesort")
    return df.reset_index(drop=True)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )


# -- tables: search, info, metadata -----------------------------------------------------------
@pytest.mark.parametrize("links", [True, False])
def test_table_search_follows_every_page(fake: Any, links: bool) -> None:
    server = fake(page_links=links)
    got = client(server).search_tables("bistånd", page_size=3)
    assert got["id"].tolist() == [f"TAB{1380 + i}" for i in range(7)]
    pages = [r for r in server.requests if r["path"].endswith("/tables")]
    assert [r["query"].get("pageNumber") for r in pages] == ["1", "2", "3"]
    assert all(r["query"]["query"] == "bistånd" for r in pages)
    assert list(got.columns[:5]) == ["id", "label", "firstPeriod", "lastPeriod", "timeUnit"]
    assert search_tables("x", client=client(server))["id"].size == 7


def test_table_info_and_metadata(fake: Any) -> None:
    server = fake()
    c = client(server)
    assert c.table_info(BENEFITS_TABLE)["lastPeriod"] == "2021M12"
    meta = c.metadata(BENEFITS_TABLE)
    assert meta.variables == ("Region", "Kon", "Aldersgrupp", "ContentsCode", "Tid")
    assert meta.time == "Tid" and meta.metric == "ContentsCode"
    assert meta.codes["Tid"][:2] == ["2020M01", "2020M02"]
    assert meta.labels["Kon"] == "kön"
    assert meta.variable("åldersgrupp") == meta.variable("ALDERSGRUPP") == "Aldersgrupp"
    assert server.requests[-1]["query"] == {"lang": "sv", "outputFormat": "json-stat2"}


def test_contents_code_is_found_by_label_not_guessed(fake: Any, tmp_path: Any) -> None:
    server = fake()
    server.contents = {"X1": "Arbetslöshetsersättning", "X9": "EKONOMISKT BISTAND"}
    got = scb_benefits(client=client(server), cache_dir=tmp_path)
    assert set(got["variable"]) == {"X9"}
    (body,) = [r["body"] for r in server.data_requests()]
    sel = {s["variableCode"]: s["valueCodes"] for s in body["selection"]}
    assert sel["ContentsCode"] == ["X9"]


@pytest.mark.parametrize(
    ("contents", "match"),
    [
        (
            {"X1": "Arbetslöshetsersättning"},
            r"has no ContentsCode value labelled like "
            r"'ekonomiskt bistånd' \(its contents: X1: Arbetslöshetsersättning\)",
        ),
        (
            {"X1": "Ekonomiskt bistånd", "X2": "Ekonomiskt bistånd, hushåll"},
            r"has 2 ContentsCode values .*X1: Ekonomiskt bistånd; X2: Ekonomiskt bistånd, hushåll",
        ),
    ],
)
def test_no_or_several_contents_is_a_clear_error(
    fake: Any, tmp_path: Any, contents: dict[str, str], match: str
) -> None:
    server = fake()
    server.contents = contents
    with pytest.raises(DataSourceError, match=match):
        scb_benefits(client=client(server), cache_dir=tmp_path)
    assert server.data_requests() == []


# -- data: both parsers, the tidy frame ---------------------------------------------------------
def test_benefits_from_json_stat2(fake: Any, tmp_path: Any) -> None:
    server = fake()
    got = scb_benefits(client=client(server), cache_dir=tmp_path)
    assert_same(got, expected())
    assert got["period"].iloc[0] == "2020-01" and got["unit"].str.fullmatch(r"\d{4}").all()
    missing = got[got["value"].isna()]
    assert missing[["unit", "period", "gender", "status"]].values.tolist() == [
        ["1287", "2021-06", "K", ".."]
    ]
    (req,) = server.data_requests()
    assert req["method"] == "POST" and req["query"]["outputFormat"] == "json-stat2"
    sel = {s["variableCode"]: s["valueCodes"] for s in req["body"]["selection"]}
    assert sel == {
        "Region": MUNIS,
        "Kon": ["1+2", "1", "2"],
        "Aldersgrupp": ["2064"],
        "ContentsCode": ["000007AB"],
        "Tid": MONTHS,
    }


def test_csv_parser_gives_the_json_stat2_frame(fake: Any, tmp_path: Any) -> None:
    server = fake()
    by_csv = scb_benefits(client=client(server), cache_dir=tmp_path / "a", output_format="csv")
    by_json = scb_benefits(client=client(server), cache_dir=tmp_path / "b")
    assert_same(by_csv, by_json)
    assert_same(by_csv, expected())
    csv_req = server.data_requests()[0]
    assert csv_req["query"]["outputFormat"] == "csv"
    assert csv_req["body"]["placement"] == {
        "heading": ["ContentsCode"],
        "stub": ["Region", "Kon", "Aldersgrupp", "Tid"],
    }


def test_all_age_groups_are_named_in_the_variable(fake: Any, tmp_path: Any) -> None:
    server = fake()
    got = scb_table(
        contents=["000007AA"],
        regions=["0580"],
        months=["2021-01", "2021M02"],
        age=None,
        client=client(server),
        cache_dir=tmp_path,
    )
    assert sorted(got["variable"].unique()) == [
        "000007AA[Aldersgrupp=2024]",
        "000007AA[Aldersgrupp=2064]",
        "000007AA[Aldersgrupp=2564]",
    ]
    assert sorted(got["period"].unique()) == ["2021-01", "2021-02"]
    row = got[(got["variable"] == "000007AA[Aldersgrupp=2564]") & (got["gender"] == "M")]
    assert row["value"].tolist() == [
        FakePxWeb.value("0580", "1", "2564", "000007AA", m) for m in ("2021M01", "2021M02")
    ]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"regions": ["580"]}, r"regions \['580'\] are not Region codes .*4-digit text"),
        (
            {"months": ["2019-12"]},
            r"months \['2019M12'\] are not in table TAB1386 \(it has "
            r"2020M01 to 2021M12\)",
        ),
        ({"months": ["2021-13"]}, r"months contains '2021-13', which is not a month"),
        ({"age": "64"}, r"Aldersgrupp='64' matches 2 values .*2064: 20–64 år"),
        ({"contents": ["NOPE"]}, r"contents \['NOPE'\] are not ContentsCode codes"),
    ],
)
def test_bad_arguments_name_the_value_and_the_table(
    fake: Any, tmp_path: Any, kw: dict[str, Any], match: str
) -> None:
    server = fake()
    with pytest.raises(DataSourceError, match=match):
        scb_table(client=client(server), cache_dir=tmp_path, **kw)
    assert server.data_requests() == []


# -- chunking under the cell limit -------------------------------------------------------------
@pytest.mark.parametrize(("max_cells", "n_requests"), [(100, 4), (50, 8)])
def test_requests_are_chunked_under_the_cell_limit(
    fake: Any, tmp_path: Any, max_cells: int, n_requests: int
) -> None:
    big = scb_benefits(client=client(fake()), cache_dir=tmp_path / "big")
    server = fake(max_cells=max_cells)  # refuses any request over the limit with a 400
    got = scb_benefits(client=client(server), cache_dir=tmp_path / "small", max_cells=max_cells)
    reqs = server.data_requests()
    assert len(reqs) == n_requests
    cells = []
    for r in reqs:
        sel = {s["variableCode"]: s["valueCodes"] for s in r["body"]["selection"]}
        cells.append(int(np.prod([len(v) for v in sel.values()])))
    assert max(cells) <= max_cells and sum(cells) == 4 * 3 * 24
    assert_same(got, big)
    assert_same(got, expected())


def test_plan_chunks_splits_region_then_time_and_refuses_the_impossible() -> None:
    sel = {"Region": ["a", "b", "c"], "Kon": ["1", "2", "3"], "Tid": ["t1", "t2", "t3", "t4"]}
    chunks = plan_chunks(sel, 7)
    assert [(c["Region"], c["Tid"]) for c in chunks] == [
        (["a"], ["t1", "t2"]),
        (["a"], ["t3", "t4"]),
        (["b"], ["t1", "t2"]),
        (["b"], ["t3", "t4"]),
        (["c"], ["t1", "t2"]),
        (["c"], ["t3", "t4"]),
    ]
    covered = {(r, k, t) for c in chunks for r, k, t in product(*c.values())}
    assert covered == set(product(*sel.values()))
    with pytest.raises(DataSourceError, match=r"cannot be cut under max_cells=2"):
        plan_chunks(sel, 2)


# -- failures: 429, a body cut short, statuses not retried -------------------------------------
def test_429_with_retry_after_then_success(fake: Any, tmp_path: Any) -> None:
    server = fake()
    server.inject("/data", "status", status=429, retry_after="3")
    waits: list[float] = []
    got = scb_benefits(client=client(server, waits), cache_dir=tmp_path)
    assert_same(got, expected())
    assert len(server.data_requests()) == 2
    assert waits == [3.0]


def test_429_without_retry_after_backs_off_exponentially(fake: Any, tmp_path: Any) -> None:
    server = fake()
    server.inject("/metadata", "status", status=429, times=2)
    waits: list[float] = []
    scb_benefits(client=client(server, waits), cache_dir=tmp_path)
    assert waits == [0.01, 0.02]
    assert len([r for r in server.requests if r["path"].endswith("/metadata")]) == 3


@pytest.mark.parametrize("where", ["/data", "/metadata"])
def test_truncated_body_is_retried(fake: Any, tmp_path: Any, where: str) -> None:
    server = fake()
    server.inject(where, "cut")
    waits: list[float] = []
    got = scb_benefits(client=client(server, waits), cache_dir=tmp_path)
    assert_same(got, expected())
    assert len([r for r in server.requests if r["path"].endswith(where)]) == 2
    assert waits == [0.01]


def test_truncated_every_time_counts_the_attempts(fake: Any, tmp_path: Any) -> None:
    server = fake()
    server.inject("/data", "cut", times=99)
    with pytest.raises(
        DataSourceError,
        match=r"scb: POST http://127\.0\.0\.1:\d+/api/v2/tables/TAB1386/data\?lang=sv&"
        r"outputFormat=json-stat2 was cut short: ChunkedEncodingError: .*"
        r"\(after 3 attempts: retries=2\)",
    ):
        scb_benefits(client=client(server), cache_dir=tmp_path)
    assert len(server.data_requests()) == 3
    assert Cache(tmp_path).status(benefits_entry()) == "missing"


def test_a_status_not_retried_fails_at_once(fake: Any, tmp_path: Any) -> None:
    server = fake()
    with pytest.raises(DataSourceError, match=r"returned HTTP 404 .*after 1 attempt; this status"):
        scb_table("TAB9999", client=client(server), cache_dir=tmp_path)
    assert len(server.requests) == 1


def test_requests_are_paced_to_the_call_limit(fake: Any) -> None:
    server = fake()
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    c = PxWebClient(server.base_url, max_calls=2, window=10.0, sleep=sleep, clock=lambda: now[0])
    for _ in range(5):
        c.table_info(BENEFITS_TABLE)
        now[0] += 1.0
    assert waits == [8.0, 8.0]  # calls 3 and 5 wait for the window of calls 1 and 3
    assert len(server.requests) == 5


# -- the cache ------------------------------------------------------------------------------
def test_second_call_reads_the_cache_without_a_request(fake: Any, tmp_path: Any) -> None:
    server = fake()
    first = scb_benefits(client=client(server), cache_dir=tmp_path)
    n = len(server.requests)
    assert n == 2  # metadata and one data request
    again = scb_benefits(client=client(server), cache_dir=tmp_path)
    offline = read_scb_benefits(tmp_path)
    assert len(server.requests) == n
    assert_same(again, first)
    assert_same(offline, first)
    m = Cache(tmp_path).manifest(benefits_entry())
    assert m is not None and m.source == "scb" and m.rows == len(first)
    assert [u["method"] for u in m.urls] == ["GET", "POST"]
    assert m.extra["contents"] == {"000007AB": "Ekonomiskt Bistånd"}
    assert m.extra["months"] == ["2020M01", "2021M12"]


def test_offline_without_a_cache_names_the_fetch_command(tmp_path: Any) -> None:
    with pytest.raises(CacheMissError, match=r"evalmodel data fetch --source scb"):
        read_scb_benefits(tmp_path)


def test_corrupted_cache_is_refused_offline_and_refetched_online(fake: Any, tmp_path: Any) -> None:
    server = fake()
    first = scb_benefits(client=client(server), cache_dir=tmp_path)
    cache = Cache(tmp_path)
    path = cache.table_path(benefits_entry())
    assert path is not None
    path.write_bytes(path.read_bytes()[:-40] + b"x" * 40)
    with pytest.raises(CacheCorruptError, match=r"scb \(offline\).*corrupt"):
        read_scb_benefits(tmp_path)
    n = len(server.requests)
    again = scb_benefits(client=client(server), cache_dir=tmp_path)
    assert len(server.requests) == n + 2
    assert_same(again, first)
    m = cache.manifest(benefits_entry())
    assert m is not None and m.extra["replaced"] == "corrupt"
    assert cache.status(benefits_entry()) == "ok"


def test_other_queries_get_their_own_cache_entry(fake: Any, tmp_path: Any) -> None:
    server = fake()
    part = scb_benefits(client=client(server), cache_dir=tmp_path, regions=["0580"])
    assert_same(part, expected(["0580"]))
    names = Cache(tmp_path).names("scb/")
    assert len(names) == 1 and names[0].startswith("scb/TAB1386/table-")
    assert Cache(tmp_path).status(benefits_entry()) == "missing"


def test_cli_fetch_source_scb_fills_the_cache(fake: Any, tmp_path: Any) -> None:
    from evalmodel.cli_data import main

    server = fake()
    code = main(
        [
            "fetch",
            "--source",
            "scb",
            "--base-url",
            server.base_url,
            "--cache-dir",
            str(tmp_path),
            "--no-progress",
        ]
    )
    assert code == 0
    assert_same(read_scb_benefits(tmp_path), expected())
