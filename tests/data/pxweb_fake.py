"""A local look-alike of SCB's PxWeb API v2 for the tests of the SCB client
(tests/data/test_scb_v2.py loads it by path; it is not a test module).

:class:`FakePxWeb` serves ``/tables`` (paged), ``/tables/{id}``, ``/tables/{id}/metadata``
(json-stat2) and ``POST /tables/{id}/data`` (json-stat2, or csv with ``placement``) for one table
shaped like SCB's TAB1386 (Region, Kon, Aldersgrupp, ContentsCode, Tid). It answers 400 to a
selection that leaves a variable out or asks for more than ``max_cells`` cells, and injects
faults (:class:`Fault`): a status (429 with ``Retry-After``) or a body cut short (a
``Content-Length`` longer than what is sent, then the connection closed). It logs every request.
Its values are a planted function of the cell (:meth:`FakePxWeb.value`). Nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import product
from typing import Any
from urllib.parse import parse_qs, urlparse

TABLE = "TAB1386"
REGIONS = {
    "00": "Riket",
    "01": "Stockholms län",
    "0114": "Upplands Väsby",
    "0580": "Linköping",
    "1280": "Malmö",
    "1287": "Trelleborg",
}
SEXES = {"1+2": "totalt", "1": "män", "2": "kvinnor"}
AGES = {"2064": "20\u201364 år", "2024": "20\u201324 år", "2564": "25\u201364 år"}
CONTENTS = {
    "000007AA": "Arbetslöshetsersättning",
    "000007AB": "Ekonomiskt Bistånd",
    "000007AC": "Sjuk- och aktivitetsersättning",
}
MONTHS = [f"{y}M{m:02d}" for y in (2020, 2021) for m in range(1, 13)]
LABELS = {
    "Region": "region",
    "Kon": "kön",
    "Aldersgrupp": "åldersgrupp",
    "ContentsCode": "tabellinnehåll",
    "Tid": "månad",
}
#: A cell the fake reports as missing (``..``).
MISSING = ("1287", "2", "2064", "000007AB", "2021M06")


@dataclass
class Fault:
    """The next ``times`` requests whose path contains ``match`` get ``kind``:
    ``"status"`` (``status`` with ``retry_after``) or ``"cut"`` (half the body)."""

    match: str
    kind: str
    times: int = 1
    status: int = 429
    retry_after: str | None = None


class FakePxWeb:
    """See the module docstring. ``base_url`` is the API root."""

    def __init__(self, *, max_cells: int = 150_000, page_links: bool = True) -> None:
        self.max_cells = max_cells
        self.page_links = page_links
        self.contents = dict(CONTENTS)
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.tables = [
            {
                "id": f"TAB{1380 + i}",
                "label": f"Table {i}",
                "firstPeriod": "2014M01",
                "lastPeriod": "2021M12",
                "timeUnit": "Monthly",
                "updated": "2026-01-01",
                "discontinued": None,
                "variableNames": ["region", "månad"],
            }
            for i in range(7)
        ]
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, match: str, kind: str, **kw: Any) -> None:
        self.faults.append(Fault(match, kind, **kw))

    def data_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/data")]

    @staticmethod
    def value(region: str, sex: str, age: str, content: str, month: str) -> float | None:
        """The planted value of a cell (None for :data:`MISSING`)."""
        if (region, sex, age, content, month) == MISSING:
            return None
        base = 10 * (list(REGIONS).index(region) + 1) + sum(map(ord, content)) % 7
        season = 1 + 0.1 * (int(month[-2:]) % 3)
        return round(base * season * (1 + list(SEXES).index(sex)) + list(AGES).index(age), 1)

    # -- metadata -------------------------------------------------------------------------
    def dimensions(self) -> dict[str, dict[str, str]]:
        return {
            "Region": REGIONS,
            "Kon": SEXES,
            "Aldersgrupp": AGES,
            "ContentsCode": self.contents,
            "Tid": {m: m for m in MONTHS},
        }

    def jsonstat(self, sel: dict[str, list[str]], with_values: bool) -> dict[str, Any]:
        dims = self.dimensions()
        out: dict[str, Any] = {
            "version": "2.0",
            "class": "dataset",
            "label": "Personer 20-64 år med ersättningar, efter region, kön, ålder och månad",
            "source": "SCB",
            "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
            "id": list(sel),
            "size": [len(v) for v in sel.values()],
            "dimension": {
                v: {
                    "label": LABELS[v],
                    "category": {
                        "index": {c: i for i, c in enumerate(codes)},
                        "label": {c: dims[v][c] for c in codes},
                    },
                    "extension": {"elimination": v in ("Kon", "Aldersgrupp")},
                }
                for v, codes in sel.items()
            },
            "extension": {"px": {"tableid": TABLE}},
        }
        if with_values:
            values, status = [], {}
            for i, cell in enumerate(product(*sel.values())):
                x = self.value(*cell)
                values.append(x)
                if x is None:
                    status[str(i)] = ".."
            out["value"] = values
            out["status"] = status
        return out

    # -- serving --------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length)) if length else None
        with self._lock:
            self.requests.append({"method": method, "path": url.path, "query": query, "body": body})
            fault = next((f for f in self.faults if f.times > 0 and f.match in url.path), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self.send(h, fault.status, b'{"title": "Too many requests"}', extra=extra)
            return
        status, payload, ctype = self.answer(url.path, query, body, method)
        if fault is not None and fault.kind == "cut":
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(payload) + 500))
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(payload[: len(payload) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        self.send(h, status, payload, ctype)

    @staticmethod
    def send(
        h: BaseHTTPRequestHandler,
        status: int,
        payload: bytes,
        ctype: str = "application/json; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    def answer(
        self, path: str, query: dict[str, str], body: Any, method: str
    ) -> tuple[int, bytes, str]:
        def js(obj: Any, status: int = 200) -> tuple[int, bytes, str]:
            return status, json.dumps(obj).encode(), "application/json; charset=utf-8"

        parts = path.removeprefix("/api/v2/").strip("/").split("/")
        if parts == ["tables"]:
            return js(self.search(query))
        if len(parts) >= 2 and parts[0] == "tables" and parts[1] != TABLE:
            return js({"title": "Not found", "status": 404}, 404)
        if parts == ["tables", TABLE]:
            return js(
                {
                    "id": TABLE,
                    "label": "TAB1386",
                    "firstPeriod": MONTHS[0],
                    "lastPeriod": MONTHS[-1],
                    "timeUnit": "Monthly",
                }
            )
        if parts == ["tables", TABLE, "metadata"]:
            sel = {v: list(c) for v, c in self.dimensions().items()}
            return js(self.jsonstat(sel, with_values=False))
        if parts == ["tables", TABLE, "data"] and method == "POST":
            return self.data(query, body)
        return js({"title": "Not found", "status": 404}, 404)

    def search(self, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("pageSize", 20))
        number = int(query.get("pageNumber", 1))
        total = -(-len(self.tables) // size)
        links = []
        if self.page_links and number < total:
            links.append(
                {
                    "rel": "next",
                    "href": f"{self.base_url}/tables?query={query.get('query', '')}"
                    f"&lang=sv&pageSize={size}&pageNumber={number + 1}",
                }
            )
        return {
            "language": "sv",
            "tables": self.tables[(number - 1) * size : number * size],
            "page": {
                "pageNumber": number,
                "pageSize": size,
                "totalElements": len(self.tables),
                "totalPages": total,
                "links": links,
            },
            "links": [],
        }

    def data(self, query: dict[str, str], body: Any) -> tuple[int, bytes, str]:
        dims = self.dimensions()
        chosen = {s["variableCode"]: list(s["valueCodes"]) for s in body["selection"]}
        missing = [v for v in dims if v not in chosen]
        if missing:
            msg = {"title": "Missing selection for mandantory variable", "status": 400}
            return 400, json.dumps(msg).encode(), "application/json"
        sel = {v: chosen[v] for v in dims}
        cells = 1
        for codes in sel.values():
            cells *= len(codes)
        if cells > self.max_cells:
            msg = {"title": "Too many cells selected", "status": 400}
            return 400, json.dumps(msg).encode(), "application/json"
        if query.get("outputFormat") == "csv":
            return 200, self.csv(sel, body.get("placement") or {}), "text/csv; charset=iso-8859-1"
        return 200, json.dumps(self.jsonstat(sel, with_values=True)).encode(), "application/json"

    def csv(self, sel: dict[str, list[str]], placement: dict[str, list[str]]) -> bytes:
        heading = placement.get("heading") or ["ContentsCode"]
        stub = placement.get("stub") or [v for v in sel if v not in heading]
        assert heading == ["ContentsCode"], heading
        head = [LABELS[v] for v in stub] + [self.contents[c] for c in sel["ContentsCode"]]
        lines = [",".join(f'"{h}"' for h in head)]
        for row in product(*(sel[v] for v in stub)):
            cell = dict(zip(stub, row, strict=True))
            vals = []
            for c in sel["ContentsCode"]:
                x = self.value(cell["Region"], cell["Kon"], cell["Aldersgrupp"], c, cell["Tid"])
                vals.append(".." if x is None else repr(x))
            lines.append(",".join([*(f'"{x}"' for x in row), *vals]))
        return ("\r\n".join(lines) + "\r\n").encode("iso-8859-1")
