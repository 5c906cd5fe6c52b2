"""The Kolada v3 client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from evalmodel.data.kolada import KoladaClient, KoladaEndpoints, chunks, tidy_values
from evalmodel.errors import DataSourceError

FIXTURES = Path(__file__).parent / "fixtures"
DATA_PATH = "/v3/data/kpi/N31807,N31814/municipality/0580,1287/year/2012,2013"


def fast_client(base_url: str, **kw: Any) -> KoladaClient:
    opts: dict[str, Any] = {"timeout": (2.0, 2.0), "retries": 3, "backoff": 0.01}
    return KoladaClient(base_url, **(opts | kw))


def expected_fixture_frame() -> pd.DataFrame:
    df = pd.read_csv(
        FIXTURES / "expected_tidy.csv",
        dtype={"unit": str, "variable": str, "gender": str, "status": str},
        keep_default_na=False,
        na_values={"value": [""]},
    )
    df["period"] = df["period"].astype("int64")
    df["value"] = df["value"].astype("float64")
    return df


def serve_fixtures(httpserver: HTTPServer, text: Any) -> str:
    base = httpserver.url_for("/v3")
    for page in (1, 2, 3):
        query = {"per_page": "3"} if page == 1 else {"page": str(page), "per_page": "3"}
        httpserver.expect_request(DATA_PATH, query_string=query).respond_with_data(
            text(f"data_page{page}.json", base), content_type="application/json"
        )
    for name in ("kpi", "municipality", "municipality_groups"):
        httpserver.expect_request(f"/v3/{name}").respond_with_data(
            text(f"{name}.json", base), content_type="application/json"
        )
    return base


def test_endpoint_layout_is_in_one_place() -> None:
    e = KoladaEndpoints("http://h/v3/", per_page=10)
    assert e.data(["N1", "N2"], None, [2012]) == "http://h/v3/data/kpi/N1,N2/year/2012?per_page=10"
    assert e.data(["N1"], ["0580"], None) == "http://h/v3/data/kpi/N1/municipality/0580?per_page=10"
    assert e.kpi(["N1"]) == "http://h/v3/kpi/N1?per_page=10"
    assert e.municipality_groups() == "http://h/v3/municipality_groups?per_page=10"
    assert e.next_url({"next_url": "/v3/kpi?page=2"}, "http://h/v3/kpi") == "http://h/v3/kpi?page=2"
    assert e.next_url({"next_url": None, "next_page": None}, "http://h/v3/kpi") is None


def test_chunks_keep_order_and_size() -> None:
    assert chunks(list(range(60))) == [list(range(25)), list(range(25, 50)), list(range(50, 60))]


def test_paging_over_three_fixture_pages_gives_the_expected_frame_exactly(
    httpserver: HTTPServer, fixture_text: Any
) -> None:
    base = serve_fixtures(httpserver, fixture_text)
    client = fast_client(base, per_page=3)
    got = client.values(["N31807", "N31814"], ["0580", "1287"], [2012, 2013])
    pd.testing.assert_frame_equal(got, expected_fixture_frame(), check_dtype=False)
    assert got.dtypes["period"] == np.int64 and got.dtypes["value"] == np.float64
    assert len(client.log) == 3 and all(len(e["sha256"]) == 64 for e in client.log)
    # the isdeleted row (N31814, 0580, 2013, value 99.9) is gone
    gone = (got["variable"] == "N31814") & (got["period"] == 2013) & (got["unit"] == "0580")
    assert not gone.any()


def test_metadata_endpoints(httpserver: HTTPServer, fixture_text: Any) -> None:
    client = fast_client(serve_fixtures(httpserver, fixture_text))
    munis = client.municipalities()
    assert munis["id"].tolist() == ["0000", "0012", "0580", "1280", "1287", "1490"]
    assert munis.set_index("id")["type"].to_dict()["0580"] == "K"
    kpis = client.kpis()
    assert kpis["id"].tolist() == ["N31807", "N31814", "N31004"]
    groups = client.municipality_groups()
    assert groups.columns.tolist() == ["group_id", "group_title", "member_id", "member_title"]
    assert groups["member_id"].tolist() == ["0192", "0562", "1270", "0583", "0617"]
    assert groups["group_id"].value_counts().to_dict() == {"G176135": 3, "G176029": 2}


def sixty_rows() -> tuple[list[str], list[dict[str, Any]]]:
    ids = [f"{i:04d}" for i in range(100, 160)]
    rows = [
        {
            "kpi": "N31807",
            "municipality": u,
            "period": y,
            "values": [{"gender": "T", "count": 1, "status": "", "value": int(u) / 10 + y - 2000}],
        }
        for u in ids
        for y in (2012, 2013)
    ]
    return ids, rows


def test_sixty_municipalities_are_sent_in_batches_of_at_most_25(kolada_server: Any) -> None:
    ids, rows = sixty_rows()
    kolada_server.set_values("N31807", rows)
    got = fast_client(kolada_server.base_url).values(["N31807"], ids, [2012, 2013])
    data_requests = [r for r in kolada_server.requests if r.startswith("/v3/data/")]
    sizes = [r.split("/municipality/")[1].split("/")[0].count(",") + 1 for r in data_requests]
    assert sizes == [25, 25, 10]
    expected = pd.DataFrame(
        {
            "unit": [u for u in ids for _ in (0, 1)],
            "period": [2012, 2013] * 60,
            "variable": "N31807",
            "value": [int(u) / 10 + y - 2000 for u in ids for y in (2012, 2013)],
            "gender": "T",
            "status": "",
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_years_are_batched_too(kolada_server: Any) -> None:
    client = fast_client(kolada_server.base_url)
    urls = client.value_urls(["N31807"], None, range(1998, 2025))
    assert [u.split("/year/")[1].split("?")[0].count(",") + 1 for u in urls] == [25, 2]
    got = client.values(["N31807"], ["1287"], range(1998, 2025))
    assert got["period"].tolist() == list(range(1998, 2025))


def test_many_pages_from_the_fake_equal_its_rows(kolada_server: Any) -> None:
    kolada_server.max_per_page = 100
    got = fast_client(kolada_server.base_url).values(["N31814"], None, range(2000, 2010))
    src = [
        (r["municipality"], r["period"], v["gender"], v["value"])
        for r in kolada_server.rows["N31814"]
        if 2000 <= r["period"] < 2010
        for v in r["values"]
    ]
    expected = pd.DataFrame(src, columns=["unit", "period", "gender", "value"])
    expected = expected.sort_values(["unit", "period", "gender"]).reset_index(drop=True)
    n_pages = sum(r.startswith("/v3/data/") for r in kolada_server.requests)
    assert n_pages == int(np.ceil(38 * 10 / 100))
    pd.testing.assert_frame_equal(
        got[["unit", "period", "gender", "value"]], expected, check_dtype=False
    )


def test_503_then_success(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "status", times=2, status=503)
    got = fast_client(kolada_server.base_url).values(["N31807"], ["1287"], [2013])
    assert got["value"].notna().all() and len(got) == 1
    assert len(kolada_server.requests) == 3


def test_429_honours_retry_after(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "status", status=429, retry_after="1")
    t0 = time.monotonic()
    got = fast_client(kolada_server.base_url).values(["N31807"], ["1287"], [2013])
    assert time.monotonic() - t0 >= 0.95
    assert len(got) == 1 and len(kolada_server.requests) == 2


def test_persistent_5xx_names_url_and_status(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "status", times=99, status=502)
    with pytest.raises(
        DataSourceError,
        match=r"GET http://127\.0\.0\.1:\d+/v3/data/kpi/N31807"
        r"/municipality/1287/year/2013\?per_page=5000 returned HTTP 502 .*"
        r"\(after 3 attempts: retries=2\)",
    ):
        fast_client(kolada_server.base_url, retries=2).values(["N31807"], ["1287"], [2013])
    assert len(kolada_server.requests) == 3


def test_404_is_not_retried(kolada_server: Any) -> None:
    with pytest.raises(DataSourceError, match=r"returned HTTP 404 .*after 1 attempt; this status"):
        fast_client(kolada_server.base_url + "/nope").values(["N31807"], ["1287"], [2013])
    assert len(kolada_server.requests) == 1


def test_truncated_json_is_retried(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "truncate")
    got = fast_client(kolada_server.base_url).values(["N31807"], ["1287"], [2012, 2013])
    assert got["period"].tolist() == [2012, 2013]
    assert len(kolada_server.requests) == 2


def test_truncated_json_every_time_raises(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "truncate", times=99)
    with pytest.raises(
        DataSourceError, match=r"/v3/data/kpi/N31807.* not valid JSON.*\(after 2 attempts"
    ):
        fast_client(kolada_server.base_url, retries=1).values(["N31807"], ["1287"], [2013])
    assert len(kolada_server.requests) == 2


def test_timeout_is_retried(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "sleep", seconds=0.6)
    client = fast_client(kolada_server.base_url, timeout=(1.0, 0.3))
    got = client.values(["N31807"], ["1287"], [2013])
    assert len(got) == 1 and len(kolada_server.requests) == 2


def test_timeout_without_retries_raises_naming_the_url(kolada_server: Any) -> None:
    kolada_server.inject("/data/", "sleep", seconds=0.6)
    client = fast_client(kolada_server.base_url, timeout=(1.0, 0.2), retries=0)
    with pytest.raises(
        DataSourceError,
        match=r"GET http://127\.0\.0\.1:\d+/v3/data/kpi/N31807.*"
        r"failed: (ReadTimeout|ConnectionError): .*\(after 1 attempt: retries=0\)",
    ):
        client.values(["N31807"], ["1287"], [2013])


def test_dropped_connection_raises_data_source_error() -> None:
    # nothing listens on this port of 127.0.0.1: a refused connection, retried then reported
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = fast_client(f"http://127.0.0.1:{port}/v3", retries=1)
    with pytest.raises(
        DataSourceError, match=r"failed: ConnectionError: .*\(after 2 attempts: retries=1\)"
    ):
        client.municipalities()


def test_tidy_values_handles_nulls_flags_and_string_periods() -> None:
    got = tidy_values(
        [
            {
                "kpi": "N31807",
                "municipality": "0580",
                "period": "2013",
                "values": [
                    {"gender": "T", "value": None, "status": None},
                    {"gender": "K", "value": "3.5", "status": "Missing", "isdeleted": False},
                    {"gender": "M", "value": 1.0, "isdeleted": True},
                ],
            }
        ]
    )
    expected = pd.DataFrame(
        {
            "unit": ["0580", "0580"],
            "period": [2013, 2013],
            "variable": ["N31807", "N31807"],
            "value": [3.5, np.nan],
            "gender": ["K", "T"],
            "status": ["Missing", ""],
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_malformed_row_is_named() -> None:
    with pytest.raises(DataSourceError, match="lacks the key 'values'"):
        tidy_values([{"kpi": "N1", "municipality": "0580", "period": 2013}])


def test_payload_without_values_list(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v3/municipality").respond_with_json({"data": []})
    with pytest.raises(DataSourceError, match=r"without a 'values' list \(keys \['data'\]\)"):
        fast_client(httpserver.url_for("/v3")).municipalities()


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"per_page": 0}, r"per_page=0 is out of range"), ({"retries": -1}, r"retries=-1")],
)
def test_bad_client_options(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(DataSourceError, match=match):
        KoladaClient("http://127.0.0.1:1/v3", **kw)


def test_ids_must_be_strings() -> None:
    client = fast_client("http://127.0.0.1:1/v3")
    with pytest.raises(
        DataSourceError,
        match=r"municipalities must be a non-empty list of id "
        r"strings .* got '580'",
    ):
        client.value_urls(["N31807"], [580], [2013])  # type: ignore[list-item]
    with pytest.raises(DataSourceError, match="kpis must be a non-empty list"):
        client.value_urls([], None, [2013])
