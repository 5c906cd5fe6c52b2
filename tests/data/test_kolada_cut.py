"""The Kolada client against a server that closes the connection mid-body.

A raw socket server on 127.0.0.1 announces a ``Content-Length`` larger than the body it sends
and closes the connection: what ``requests`` reports as ``ChunkedEncodingError`` (urllib3's
``ProtocolError``/``IncompleteRead``). The client must retry it like any transient failure and
count its attempts truthfully.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalmodel.data.kolada import KoladaClient
from evalmodel.errors import DataSourceError

ROW = {
    "kpi": "N31807",
    "municipality": "1287",
    "period": 2013,
    "values": [{"gender": "T", "count": 1, "status": "", "value": 4.1}],
}
BODY = json.dumps({"count": 1, "next_url": None, "previous_url": None, "values": [ROW]}).encode()


class CuttingServer:
    """Answers the first ``cuts`` requests with half a body under a full ``Content-Length``
    (then closes the connection), and later ones with the whole body."""

    def __init__(self, cuts: int) -> None:
        self.cuts = cuts
        self.requests: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v3"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data.split(b"\r\n", 1)[0].decode())
                cut = len(self.requests) <= self.cuts
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(BODY) + 500 if cut else len(BODY)}\r\n"
                    "Connection: close\r\n\r\n"
                ).encode()
                conn.sendall(head + (BODY[: len(BODY) // 2] if cut else BODY))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def cutting() -> Iterator[type[CuttingServer]]:
    servers: list[CuttingServer] = []

    def make(cuts: int) -> CuttingServer:
        servers.append(CuttingServer(cuts))
        return servers[-1]

    yield make  # type: ignore[misc]
    for s in servers:
        s.close()


def client(base_url: str, retries: int) -> KoladaClient:
    return KoladaClient(base_url, timeout=(2.0, 2.0), retries=retries, backoff=0.01)


def test_body_cut_once_is_retried_and_the_data_arrive(cutting: type[CuttingServer]) -> None:
    server = cutting(1)
    got = client(server.base_url, retries=2).values(["N31807"], ["1287"], [2013])
    assert got[["unit", "period", "variable", "value"]].values.tolist() == [
        ["1287", 2013, "N31807", 4.1]
    ]
    assert len(server.requests) == 2
    assert server.requests[0] == server.requests[1]
    assert server.requests[0].startswith("GET /v3/data/kpi/N31807/municipality/1287/year/2013")


@pytest.mark.parametrize(("retries", "attempts"), [(2, "3 attempts"), (0, "1 attempt")])
def test_body_cut_every_time_counts_the_attempts(
    cutting: type[CuttingServer], retries: int, attempts: str
) -> None:
    server = cutting(99)
    with pytest.raises(
        DataSourceError,
        match=rf"GET http://127\.0\.0\.1:\d+/v3/data/kpi/N31807\S* was cut short: "
        rf"ChunkedEncodingError: .*IncompleteRead.*\(after {attempts}: retries={retries}\)",
    ):
        client(server.base_url, retries=retries).values(["N31807"], ["1287"], [2013])
    assert len(server.requests) == retries + 1


def test_body_cut_waits_by_the_backoff_rule(
    cutting: type[CuttingServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    import evalmodel.data.kolada as kolada

    waits: list[float] = []
    monkeypatch.setattr(kolada.time, "sleep", waits.append)
    server = cutting(3)
    c = KoladaClient(server.base_url, timeout=(2.0, 2.0), retries=3, backoff=0.25)
    assert len(c.values(["N31807"], ["1287"], [2013])) == 1
    assert waits == [0.25, 0.5, 1.0]
    assert len(server.requests) == 4


def test_scb_body_cut_every_time_is_retried_then_a_data_source_error(
    cutting: type[CuttingServer], tmp_path: Path
) -> None:
    from evalmodel.data.pxweb import PxWebClient
    from evalmodel.data.scb import scb_table

    server = cutting(99)
    waits: list[float] = []
    client = PxWebClient(
        server.base_url, timeout=(2.0, 2.0), retries=1, backoff=0.01, sleep=waits.append
    )
    with pytest.raises(
        DataSourceError,
        match=r"scb: GET http://127\.0\.0\.1:\d+/v3/tables/TAB1386/metadata\S* was cut "
        r"short: ChunkedEncodingError: .*\(after 2 attempts: retries=1\)",
    ):
        scb_table("TAB1386", client=client, cache_dir=tmp_path)
    assert len(server.requests) == 2  # retried like the Kolada client, one budget
    assert waits == [0.01]
