"""SCB through pxwebpy against a local PxWeb v2 server on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from evalmodel.data.scb import scb_table, tidy_pxweb
from evalmodel.errors import DataSourceError

TABLE = "HE0000T02"


def serve_scb(httpserver: HTTPServer, text: Any) -> str:
    base = httpserver.url_for("/api/v2")
    httpserver.expect_request("/api/v2/config").respond_with_data(
        text("scb_config.json"), content_type="application/json"
    )
    httpserver.expect_request("/api/v2/tables").respond_with_data(
        text("scb_tables.json"), content_type="application/json"
    )
    httpserver.expect_request(f"/api/v2/tables/{TABLE}/metadata").respond_with_data(
        text("scb_metadata.json"), content_type="application/json"
    )
    httpserver.expect_request(f"/api/v2/tables/{TABLE}/data", method="POST").respond_with_data(
        text("scb_data.json"), content_type="application/json"
    )
    return base


def test_scb_table_from_the_local_server(httpserver: HTTPServer, fixture_text: Any) -> None:
    base = serve_scb(httpserver, fixture_text)
    got = scb_table(base_url=base)
    expected = pd.DataFrame(
        {
            "unit": ["0580"] * 6 + ["1287"] * 6,
            "period": [2012, 2012, 2012, 2013, 2013, 2013] * 2,
            "variable": "HE0000AE",
            "value": [1300, 1500, 2800, 1250, 1400, 2650, 650, 700, 1350, 600, np.nan, np.nan],
            "gender": ["K", "M", "T"] * 4,
            "status": [""] * 10 + ["..", ".."],
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    posted = [r for r, _ in httpserver.log if r.path.endswith("/data")]
    assert len(posted) == 1
    selection = {
        s["variableCode"]: s["valueCodes"] for s in json.loads(posted[0].data)["selection"]
    }
    assert selection == {
        "Region": ["00", "0580", "1287"],
        "Kon": ["1", "2", "1+2"],
        "ContentsCode": ["HE0000AE"],
        "Tid": ["2012", "2013"],
    }
    with_country = scb_table(base_url=base, municipalities_only=False)
    assert sorted(with_country["unit"].unique()) == ["00", "0580", "1287"]


def test_scb_failure_is_a_data_source_error(httpserver: HTTPServer, fixture_text: Any) -> None:
    base = serve_scb(httpserver, fixture_text)
    with pytest.raises(
        DataSourceError,
        match=r"scb: reading table 'NOPE' from http://127\.0\.0"
        r"\.1:\d+/api/v2 failed: HTTPError",
    ):
        scb_table("NOPE", base_url=base)


def test_monthly_periods_are_averaged_to_years() -> None:
    rows = [
        {"region": "1287", "månad": f"2014M{m:02d}", "tabellinnehåll": "EB", "value": float(m)}
        for m in range(1, 13)
    ]
    rows += [{"region": "1287", "månad": "2015M01", "tabellinnehåll": "EB", "value": 5.0}]
    got = tidy_pxweb(rows, {"region": "Region", "månad": "Tid", "tabellinnehåll": "ContentsCode"})
    assert got.values.tolist() == [
        ["1287", 2014, "EB", 6.5, "T", ""],
        ["1287", 2015, "EB", 5.0, "T", "1 months"],
    ]


def test_tidy_pxweb_errors() -> None:
    with pytest.raises(DataSourceError, match=r"no 'Tid' variable"):
        tidy_pxweb([{"region": "1287", "value": 1}], {"region": "Region"})
    with pytest.raises(DataSourceError, match=r"time code '2014K1' is neither a year nor"):
        tidy_pxweb(
            [{"region": "1287", "tid": "2014K1", "value": 1}], {"region": "Region", "tid": "Tid"}
        )
