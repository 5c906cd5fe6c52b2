"""A local Kolada v3 server for the data tests (and the lead's end-to-end test).

Fixtures
--------
kolada_server
    A :class:`FakeKolada` on 127.0.0.1 serving the case KPIs (``CASE_KPIS``) for 36
    municipalities (the four case municipalities, their 2023 "similar municipalities" groups
    and four of Trelleborg's neighbours), the country (0000) and Region Skåne (0012),
    1998-2024, in the documented v3 shapes, with paging, a 25-id limit and injectable faults.
    Its API root is ``kolada_server.base_url``.
kolada_cache
    A cache folder filled from ``kolada_server`` with every case KPI for 1998-2024, ready for
    ``evalmodel run --data kolada --offline --cache-dir <path>`` or
    ``em.data.kolada_panel(offline=True, cache_dir=path)``.

Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from evalmodel.data.kolada_panel import CASE_KPIS, fetch_kolada

FIXTURES = Path(__file__).parent / "fixtures"

#: Municipalities served by the fake (id, title).
MUNICIPALITIES: tuple[tuple[str, str], ...] = (
    ("0580", "Linköping"),
    ("1280", "Malmö"),
    ("1287", "Trelleborg"),
    ("1490", "Borås"),
    # Malmö's group
    ("0484", "Eskilstuna"),
    ("0761", "Lessebo"),
    ("1256", "Östra Göinge"),
    ("1277", "Åstorp"),
    ("1282", "Landskrona"),
    ("1782", "Filipstad"),
    ("1982", "Fagersta"),
    # Trelleborg's group
    ("0192", "Nynäshamn"),
    ("0562", "Finspång"),
    ("0662", "Gislaved"),
    ("0687", "Tranås"),
    ("1270", "Tomelilla"),
    ("1981", "Sala"),
    ("2281", "Sundsvall"),
    # Borås's group
    ("0684", "Sävsjö"),
    ("0780", "Växjö"),
    ("1472", "Tibro"),
    ("1485", "Uddevalla"),
    ("1499", "Falköping"),
    ("1984", "Arboga"),
    ("2083", "Hedemora"),
    # Linköping's group
    ("0583", "Motala"),
    ("0617", "Gnosjö"),
    ("0881", "Nybro"),
    ("1465", "Svenljunga"),
    ("1730", "Eda"),
    ("1760", "Storfors"),
    ("1861", "Hallsberg"),
    # Trelleborg's neighbours and Lund
    ("1233", "Vellinge"),
    ("1263", "Svedala"),
    ("1264", "Skurup"),
    ("1281", "Lund"),
)
REGIONS: tuple[tuple[str, str], ...] = (("0000", "Riket"), ("0012", "Region Skåne"))

#: (level, yearly trend, divided by gender, decimals) of each served KPI.
KPI_SHAPES: dict[str, tuple[float, float, bool, int]] = {
    "N31807": (4.5, -0.01, False, 1),
    "N31825": (4.0, -0.01, True, 1),
    "U31804": (7.0, -0.01, True, 1),
    "U31803": (7.5, -0.01, False, 1),
    "N31814": (40.0, 0.005, True, 1),
    "N31816": (1.5, -0.005, True, 2),
    "U31801": (20.0, 0.01, False, 1),
    "U31001": (1200.0, 0.01, False, 0),
    "N31004": (1100.0, 0.01, False, 0),
    "N31910": (900.0, 0.0, False, 0),
    "N31848": (2000.0, 0.0, False, 0),
    "N01951": (40000.0, 0.005, True, 0),
    "N03937": (5.0, -0.005, True, 1),
    "N03939": (6.0, -0.01, True, 1),
    "N03935": (10.0, -0.01, True, 1),
    "N02267": (78.0, 0.002, True, 1),
}
#: Planted falls (share of the level) after adoption in the fake data: unit -> (year, share).
PLANTED = {"1287": (2010, 0.10), "1490": (2012, 0.05), "0580": (2021, 0.10)}
PLANTED_KPIS = ("N31807", "N31825", "N31814", "N31816", "N31910", "N31848", "U31001")


@functools.cache
def _generate(kpi: str) -> list[dict[str, Any]]:
    level, trend, by_gender, dec = KPI_SHAPES[kpi]
    rng = np.random.default_rng(int(kpi[1:]))
    ids = [i for i, _ in (*MUNICIPALITIES, *REGIONS)]
    years = np.arange(1998, 2025)
    unit_mult = np.exp(rng.normal(0.0, 0.3, len(ids)))
    noise = rng.normal(0.0, 0.02, (len(ids), len(years)))
    base = level * unit_mult[:, None] * (1 + trend * (years - 2010))[None, :] * (1 + noise)
    for j, u in enumerate(ids):
        if kpi in PLANTED_KPIS and u in PLANTED:
            start, share = PLANTED[u]
            base[j, years >= start] *= 1 - share
    rows = []
    for j, u in enumerate(ids):
        for t, y in enumerate(years):
            v = round(float(base[j, t]), dec)
            vals = [{"gender": "T", "count": 1, "status": "", "value": v}]
            if by_gender:
                vals = [
                    {"gender": "K", "count": 1, "status": "", "value": round(v * 0.95, dec)},
                    {"gender": "M", "count": 1, "status": "", "value": round(v * 1.05, dec)},
                    *vals,
                ]
            rows.append({"kpi": kpi, "municipality": u, "period": int(y), "values": vals})
    return rows


@dataclass
class Fault:
    """A fault the fake injects into the next ``times`` requests whose URL matches ``match``.

    kind: ``"status"`` (answer ``status`` with an error body), ``"truncate"`` (HTTP 200 with
    half the JSON body), ``"sleep"`` (wait ``seconds`` then answer normally).
    """

    match: str
    kind: str
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


class FakeKolada:
    """A Kolada v3 look-alike: the same paths, JSON shapes, paging and 25-id limit."""

    max_ids = 25

    def __init__(self, server: HTTPServer, *, max_per_page: int = 5000) -> None:
        self.server = server
        self.base_url = server.url_for("/v3")
        self.max_per_page = max_per_page
        self.municipalities = [{"id": i, "title": t, "type": "K"} for i, t in MUNICIPALITIES] + [
            {"id": i, "title": t, "type": "L"} for i, t in REGIONS
        ]
        self.kpis = [
            {"id": k, "title": k, "municipality_type": "K", "is_divided_by_gender": int(s[2])}
            for k, s in KPI_SHAPES.items()
        ]
        self.groups: list[dict[str, Any]] = []
        self.rows: dict[str, list[dict[str, Any]]] = {k: _generate(k) for k in KPI_SHAPES}
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server.expect_request(re.compile(r"^/v3/.*"), method="GET").respond_with_handler(
            self.handle
        )

    def inject(self, match: str, kind: str, **kw: Any) -> Fault:
        """Add a :class:`Fault` for URLs containing ``match`` and return it."""
        fault = Fault(match, kind, **kw)
        self.faults.append(fault)
        return fault

    def set_values(self, kpi: str, rows: list[dict[str, Any]]) -> None:
        """Replace what the fake serves for ``kpi``."""
        self.rows[kpi] = rows

    # -- serving ------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        url = request.full_path
        with self._lock:
            self.requests.append(url)
            fault = next((f for f in self.faults if f.times > 0 and f.match in url), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return Response(
                json.dumps({"error": "injected"}),
                status=fault.status,
                headers=headers,
                content_type="application/json",
            )
        if fault is not None and fault.kind == "sleep":
            time.sleep(fault.seconds)
        resp = self._answer(request)
        if fault is not None and fault.kind == "truncate" and resp.status_code == 200:
            body = resp.get_data()
            return Response(body[: len(body) // 2], content_type="application/json")
        return resp

    def _answer(self, request: Request) -> Response:
        parts = request.path.removeprefix("/v3/").strip("/").split("/")
        for seg in parts[1:]:
            if seg.count(",") >= self.max_ids:
                return Response(json.dumps({"error": "too many ids"}), status=400)
        head = parts[0]
        if head == "data":
            items = self._data(parts[1:])
        elif head in ("kpi", "municipality", "municipality_groups"):
            pool = {
                "kpi": self.kpis,
                "municipality": self.municipalities,
                "municipality_groups": self.groups,
            }[head]
            ids = set(parts[1].split(",")) if len(parts) > 1 else None
            items = [r for r in pool if ids is None or r["id"] in ids]
        else:
            return Response(json.dumps({"error": "not found"}), status=404)
        if items is None:
            return Response(json.dumps({"error": "bad path"}), status=404)
        page = int(request.args.get("page", 1))
        per_page = min(int(request.args.get("per_page", 5000)), self.max_per_page)
        chunk = items[(page - 1) * per_page : page * per_page]
        nxt = None
        if page * per_page < len(items):
            query = urlencode({"page": page + 1, "per_page": per_page})
            nxt = f"{request.host_url.rstrip('/')}{request.path}?{query}"
        body = {"count": len(chunk), "next_url": nxt, "previous_url": None, "values": chunk}
        return Response(json.dumps(body), content_type="application/json")

    def _data(self, parts: list[str]) -> list[dict[str, Any]] | None:
        spec = dict(zip(parts[::2], parts[1::2], strict=False))
        if "kpi" not in spec:
            return None
        munis = set(spec["municipality"].split(",")) if "municipality" in spec else None
        years = {int(y) for y in spec["year"].split(",")} if "year" in spec else None
        return [
            r
            for k in spec["kpi"].split(",")
            for r in self.rows.get(k, [])
            if (munis is None or r["municipality"] in munis)
            and (years is None or r["period"] in years)
        ]


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """Bind pytest-httpserver's ``httpserver`` fixture to 127.0.0.1 only."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def _kolada_http() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def kolada_server(_kolada_http: HTTPServer) -> Iterator[FakeKolada]:
    """A fresh fake Kolada v3 API on a threaded server on 127.0.0.1 (see the module docstring)."""
    _kolada_http.clear()
    _kolada_http.clear_all_handlers()
    yield FakeKolada(_kolada_http)
    _kolada_http.clear_all_handlers()


@pytest.fixture
def kolada_cache(kolada_server: FakeKolada, tmp_path: Path) -> Path:
    """A cache folder filled from ``kolada_server`` with every case KPI, 1998-2024."""
    cache_dir = tmp_path / "kolada-cache"
    fetch_kolada(CASE_KPIS, range(1998, 2025), base_url=kolada_server.base_url, cache_dir=cache_dir)
    return cache_dir


@pytest.fixture
def fixture_text() -> Any:
    """``fixture_text(name, base_url="")``: a fixture file's text with ``{base_url}`` filled in."""

    def read(name: str, base_url: str = "") -> str:
        return (FIXTURES / name).read_text(encoding="utf-8").replace("{base_url}", base_url)

    return read
