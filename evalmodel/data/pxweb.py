"""A client for PxWeb API v2 (PxWebApi 2.x, as run by Statistics Sweden), on ``requests``.

Endpoints used (PxWebApi 2 specification): ``GET /tables?query=`` (table search, paged by
``pageNumber``/``pageSize`` with ``page.links``), ``GET /tables/{id}`` (one table's facts),
``GET /tables/{id}/metadata`` (json-stat2 metadata) and ``POST /tables/{id}/data`` with a
JSON body ``{"selection": [{"variableCode", "valueCodes"}], "placement": {...}}`` (POST, since
a GET URL with 290 municipality codes passes the ~2,100 characters the servers accept).

Politeness and failures, as in the Kolada client: at most ``max_calls`` requests in any
``window`` seconds (SCB: 30 per 10 s, :data:`SCB_MAX_CALLS`), waiting before a request that
would exceed it; a 429 or 5xx, a timeout, a dropped connection, a body cut short
(``ChunkedEncodingError``/``IncompleteRead``) and a JSON body that does not parse are retried
by the loop and policy of :mod:`evalmodel.data.retry` (``Retry-After`` honoured, else
exponential backoff), all sharing one budget of ``retries``. What still fails raises
:class:`~evalmodel.errors.DataSourceError` naming the method, URL, failure and attempts.
Every answer's sha256 is logged (:attr:`PxWebClient.log`) for the cache manifest.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import pandas as pd

from evalmodel.data.pxweb_parse import TableMetadata, table_metadata
from evalmodel.errors import DataSourceError

if TYPE_CHECKING:  # requests and the retry loop on it (evalmodel.data.retry) load when a
    import requests  # client is used, not on `import evalmodel`: about 30 ms of every start

__all__ = ["SCB_BASE_URL", "SCB_MAX_CALLS", "SCB_MAX_CELLS", "SCB_WINDOW", "PxWebClient"]

#: Statistics Sweden's PxWeb API v2.
SCB_BASE_URL = "https://statistikdatabasen.scb.se/api/v2"
#: SCB's limits (``/config``: ``maxDataCells``, ``maxCallsPerTimeWindow``, ``timeWindow``).
SCB_MAX_CELLS = 150_000
SCB_MAX_CALLS = 30
SCB_WINDOW = 10.0

#: Search hits kept as columns by :meth:`PxWebClient.search_tables`.
TABLE_COLUMNS = (
    "id",
    "label",
    "firstPeriod",
    "lastPeriod",
    "timeUnit",
    "updated",
    "discontinued",
    "variableNames",
)


class PxWebClient:
    """Search, describe and read tables of a PxWeb API v2 installation.

    Parameters
    ----------
    base_url : str, optional
        Root of the API (default :data:`SCB_BASE_URL`); a local server in tests.
    lang : str
        Language of labels (``"sv"`` or ``"en"`` at SCB).
    timeout : float or (float, float)
        Connect and read timeouts in seconds.
    retries : int
        Retries of one request (see the module docstring).
    backoff : float
        Backoff factor: waits of ``backoff * 2**(n-1)`` seconds unless ``Retry-After`` is sent.
    retry_after_max : float
        Longest wait accepted from ``Retry-After``.
    max_calls, window : int, float
        At most ``max_calls`` requests in any ``window`` seconds.
    session : requests.Session, optional
        A session to use (its adapters are replaced so that urllib3 retries nothing).
    sleep, clock : callable, optional
        ``time.sleep`` and ``time.monotonic`` by default; tests inject fakes.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        lang: str = "sv",
        timeout: float | tuple[float, float] = (10.0, 120.0),
        retries: int = 5,
        backoff: float = 0.5,
        retry_after_max: float = 120.0,
        max_calls: int = SCB_MAX_CALLS,
        window: float = SCB_WINDOW,
        session: requests.Session | None = None,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if int(retries) < 0:
            raise DataSourceError(f"PxWebClient: retries={retries!r} is negative; pass 0 or more.")
        if int(max_calls) < 1 or float(window) < 0:
            raise DataSourceError(
                f"PxWebClient: max_calls={max_calls!r}, window={window!r} must be a positive "
                "count and a non-negative number of seconds (SCB: 30 per 10 s)."
            )
        self.base_url = (base_url or SCB_BASE_URL).rstrip("/")
        self.lang = lang
        self.timeout = timeout
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.retry_after_max = float(retry_after_max)
        self.max_calls = int(max_calls)
        self.window = float(window)
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        import requests
        from requests.adapters import HTTPAdapter

        self.session = session or requests.Session()
        adapter = HTTPAdapter(max_retries=0)  # request() retries; urllib3 sends each once
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._sent: deque[float] = deque()
        #: Every request answered with HTTP 200: method, url, body, status, sha256.
        self.log: list[dict[str, Any]] = []
        #: Requests sent (every attempt), for tests and progress.
        self.calls = 0

    # -- transport ------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """Absolute URL of an API path such as ``tables/TAB1386/metadata``."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def _pace(self) -> None:
        """Wait until one more request keeps to ``max_calls`` per ``window`` seconds."""
        now = self.clock()
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) >= self.max_calls:
            self.sleep(self._sent[0] + self.window - now)
            now = self.clock()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
        self._sent.append(now)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        want_json: bool = True,
    ) -> requests.Response:
        """Send one request with pacing and retries; return the HTTP 200 answer.

        Raises
        ------
        DataSourceError
            Naming the method, URL, last failure and the attempts made, once retries are spent
            (or at once for an HTTP status that is not retried, such as 400 or 404).
        """
        import requests

        from evalmodel.data.retry import request_with_retries, retry_wait

        query = {"lang": self.lang, **dict(params or {})}
        shown = requests.Request(method, url, params=query).prepare().url or url

        def send() -> requests.Response:
            self._pace()
            self.calls += 1
            resp = self.session.request(method, url, params=query, json=body, timeout=self.timeout)
            _ = resp.content  # the body is read here, where a cut one is retried
            return resp

        def accept(resp: requests.Response) -> requests.Response:
            bad = _not_json(resp.content) if want_json else ""
            if bad:
                raise ValueError(bad)
            self.log.append(
                {
                    "method": method,
                    "url": shown,
                    "body": json.dumps(body, sort_keys=True) if body else "",
                    "status": 200,
                    "sha256": hashlib.sha256(resp.content).hexdigest(),
                }
            )
            return resp

        return request_with_retries(
            send,
            accept,
            describe=f"scb: {method} {shown}",
            retries=self.retries,
            wait=lambda attempt, resp: retry_wait(
                attempt, resp, backoff=self.backoff, retry_after_max=self.retry_after_max
            ),
            sleep=self.sleep,
            status_hint="check the table id and the selection.",
            offline_hint="read the cache with offline=True",
            shown_chars=300,
        )

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET an API path (or absolute URL) and return its JSON object."""
        url = path if "://" in path else self.url(path)
        payload = json.loads(self.request("GET", url, params=params).content)
        if not isinstance(payload, dict):
            raise DataSourceError(f"scb: GET {url} returned JSON that is not an object.")
        return payload

    # -- tables ---------------------------------------------------------------------------
    def search_tables(
        self, query: str, *, page_size: int = 100, max_pages: int = 100
    ) -> pd.DataFrame:
        """Tables whose title, variables or values match ``query``, over every page.

        Follows the ``next`` link of ``page.links`` (else asks ``pageNumber + 1``) until
        ``page.totalPages`` is reached.

        Returns
        -------
        pandas.DataFrame
            One row per table: the columns of :data:`TABLE_COLUMNS`.
        """
        rows: list[dict[str, Any]] = []
        url: str | None = self.url("tables")
        params: dict[str, Any] | None = {"query": query, "pageSize": page_size, "pageNumber": 1}
        seen: set[str] = set()
        for _ in range(max_pages):
            assert url is not None
            key = f"{url}|{sorted((params or {}).items())}"
            if key in seen:
                raise DataSourceError(f"scb: table search paging loops back to {url}.")
            seen.add(key)
            payload = self.get_json(url, params)
            tables = payload.get("tables")
            if not isinstance(tables, list):
                raise DataSourceError(
                    f"scb: GET {url} returned no 'tables' list (keys {sorted(payload)[:8]}); "
                    "check base_url points at a PxWeb API v2 root."
                )
            rows.extend(tables)
            page = payload.get("page") or {}
            nxt = next(
                (lk.get("href") for lk in page.get("links") or [] if lk.get("rel") == "next"),
                None,
            )
            number, total = int(page.get("pageNumber", 1)), int(page.get("totalPages", 1))
            if nxt:
                url, params = urljoin(url, str(nxt)), None
            elif number < total:
                params = {"query": query, "pageSize": page_size, "pageNumber": number + 1}
            else:
                break
        else:
            raise DataSourceError(
                f"scb: table search for {query!r} has more than {max_pages} pages; narrow it."
            )
        df = pd.DataFrame([{c: r.get(c) for c in TABLE_COLUMNS} for r in rows])
        return df.reindex(columns=list(TABLE_COLUMNS))

    def table_info(self, table_id: str) -> dict[str, Any]:
        """One table's facts (``GET /tables/{id}``): label, first and last period, time unit."""
        return self.get_json(f"tables/{table_id}")

    def metadata(self, table_id: str) -> TableMetadata:
        """A table's variables and values (``GET /tables/{id}/metadata``, json-stat2)."""
        payload = self.get_json(f"tables/{table_id}/metadata", {"outputFormat": "json-stat2"})
        return table_metadata(payload, table_id)

    def data(
        self,
        table_id: str,
        selection: Mapping[str, Sequence[str]],
        *,
        output_format: str = "json-stat2",
        stub: Sequence[str] = (),
        heading: Sequence[str] = (),
    ) -> requests.Response:
        """One data request (``POST /tables/{id}/data``); the caller parses the answer."""
        body: dict[str, Any] = {
            "selection": [
                {"variableCode": v, "valueCodes": list(codes)} for v, codes in selection.items()
            ]
        }
        if stub or heading:
            body["placement"] = {"heading": list(heading), "stub": list(stub)}
        return self.request(
            "POST",
            self.url(f"tables/{table_id}/data"),
            params={"outputFormat": output_format},
            body=body,
            want_json=output_format.startswith("json"),
        )


def _not_json(content: bytes) -> str:
    """Why a body is not a JSON object ("" when it is one)."""
    try:
        payload = json.loads(content)
    except ValueError as exc:
        return str(exc)
    return "" if isinstance(payload, dict) else "not a JSON object"
