"""A client for the Kolada v3 API (municipal key performance indicators, run by RKA).

The URL layout of the API sits in one place, :class:`KoladaEndpoints`; everything else builds
URLs through it. :class:`KoladaClient` sends at most 25 ids or years in one request, follows
``next_url`` paging, sets connect and read timeouts, and retries with exponential backoff on
429 (honouring ``Retry-After``), on 5xx answers, on timeouts, on refused or dropped
connections, on bodies cut short (the connection closed before ``Content-Length`` bytes
arrived: ``requests``' ``ChunkedEncodingError``, urllib3's ``ProtocolError``/``IncompleteRead``)
and on bodies that are not valid JSON. One loop, :meth:`KoladaClient.get_json` (through
:func:`~evalmodel.data.retry.request_with_retries`), does every retry (urllib3 itself
retries nothing), so all these failures share one budget of ``retries``
and one backoff rule. Whatever still fails raises :class:`~evalmodel.errors.DataSourceError`
naming the URL, the HTTP status or the network error, and the number of requests made
("after 3 attempts").

Data rows come back as a tidy long frame with the columns of :data:`TIDY_COLUMNS`: ``unit``
(municipality id as a string with its leading zero), ``period`` (int), ``variable`` (KPI id),
``value`` (float, NaN where Kolada has null), ``gender`` (``"T"`` total, ``"K"`` women, ``"M"``
men) and ``status`` (Kolada's flag, ``""`` when none). Rows marked ``isdeleted`` are dropped.

Notes
-----
The facts used here (JSON shapes, ``next_url``, ``per_page`` up to 5000, 25 ids a request)
are those documented for Kolada v3. The exact v3 path layout could not be checked against the
live service when this was written; if Kolada changes it, only :class:`KoladaEndpoints` needs
editing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

import pandas as pd

from evalmodel.errors import DataSourceError

if TYPE_CHECKING:  # requests and the retry loop on it (evalmodel.data.retry) load when a
    import requests  # client is used, not on `import evalmodel`: about 30 ms of every start

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_IDS_PER_REQUEST",
    "TIDY_COLUMNS",
    "KoladaClient",
    "KoladaEndpoints",
    "chunks",
    "tidy_values",
]

#: The public Kolada v3 service.
DEFAULT_BASE_URL = "https://api.kolada.se/v3"
#: Kolada asks clients to send at most this many ids (or years) in one request.
MAX_IDS_PER_REQUEST = 25
#: Largest page Kolada serves.
MAX_PER_PAGE = 5000
#: Columns of the tidy long frame, in order.
TIDY_COLUMNS = ("unit", "period", "variable", "value", "gender", "status")


@dataclass(frozen=True)
class KoladaEndpoints:
    """The URL layout of the Kolada v3 API, in one place.

    Parameters
    ----------
    base_url : str
        Root of the API, e.g. ``"https://api.kolada.se/v3"`` or a local test server.

    Examples
    --------
    >>> e = KoladaEndpoints("https://api.kolada.se/v3")
    >>> e.data(["N31807"], ["1287", "0580"], [2012, 2013])
    'https://api.kolada.se/v3/data/kpi/N31807/municipality/1287,0580/year/2012,2013?per_page=5000'
    >>> e.municipality()
    'https://api.kolada.se/v3/municipality?per_page=5000'
    """

    base_url: str = DEFAULT_BASE_URL
    per_page: int = MAX_PER_PAGE

    #: Keys of a response that may hold the URL of the next page (first one present wins).
    next_keys: tuple[str, ...] = ("next_url", "next_page")

    def _url(self, path: str, params: dict[str, str] | None = None) -> str:
        query = {"per_page": str(self.per_page), **(params or {})}
        return f"{self.base_url.rstrip('/')}/{path}?{urlencode(query, safe=',')}"

    def data(
        self,
        kpis: Sequence[str],
        municipalities: Sequence[str] | None,
        years: Sequence[int] | None,
    ) -> str:
        """URL of KPI values; ``None`` municipalities or years means all of them."""
        path = "data/kpi/" + ",".join(kpis)
        if municipalities is not None:
            path += "/municipality/" + ",".join(municipalities)
        if years is not None:
            path += "/year/" + ",".join(str(int(y)) for y in years)
        return self._url(path)

    def kpi(self, ids: Sequence[str] | None = None) -> str:
        """URL of KPI metadata (all KPIs, or the given ids)."""
        return self._url("kpi" + ("/" + ",".join(ids) if ids else ""))

    def municipality(self, ids: Sequence[str] | None = None) -> str:
        """URL of municipality metadata (id, title, type K/L)."""
        return self._url("municipality" + ("/" + ",".join(ids) if ids else ""))

    def municipality_groups(self, ids: Sequence[str] | None = None) -> str:
        """URL of municipality groups (id, title, members)."""
        return self._url("municipality_groups" + ("/" + ",".join(ids) if ids else ""))

    def next_url(self, payload: dict[str, Any], current: str) -> str | None:
        """The next page's absolute URL from a response, or None on the last page."""
        for key in self.next_keys:
            nxt = payload.get(key)
            if nxt:
                return urljoin(current, str(nxt))
        return None


def chunks(items: Sequence[Any], size: int = MAX_IDS_PER_REQUEST) -> list[list[Any]]:
    """Split ``items`` into consecutive lists of at most ``size`` elements."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _is_deleted(row: dict[str, Any]) -> bool:
    flag = row.get("isdeleted", row.get("is_deleted", False))
    return bool(flag) and str(flag).lower() not in ("0", "false")


def tidy_values(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Flatten Kolada data rows into the tidy long frame.

    Parameters
    ----------
    rows : iterable of dict
        Data rows as Kolada returns them: ``{"kpi", "municipality", "period", "values":
        [{"gender", "count", "status", "value"}, ...]}``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`, sorted by variable, unit, period and gender, with a
        fresh RangeIndex. Null values become NaN, null statuses ``""``; rows (or gender rows)
        flagged ``isdeleted`` are dropped.

    Raises
    ------
    DataSourceError
        If a row lacks one of the keys ``kpi``, ``municipality``, ``period`` or ``values``.
    """
    recs: list[tuple[str, Any, str, Any, str, str]] = []
    for row in rows:
        if _is_deleted(row):
            continue
        try:
            kpi, muni, period, vals = row["kpi"], row["municipality"], row["period"], row["values"]
        except (KeyError, TypeError) as exc:
            raise DataSourceError(
                f"Kolada: a data row lacks the key {exc} (row {str(row)[:120]}); expected "
                "{'kpi', 'municipality', 'period', 'values': [...]}: check base_url points at "
                "the Kolada v3 API."
            ) from None
        for v in vals or ():
            if _is_deleted(v):
                continue
            status = v.get("status")
            recs.append(
                (
                    str(muni),
                    period,
                    str(kpi),
                    v.get("value"),
                    str(v.get("gender") or "T"),
                    "" if status is None else str(status),
                )
            )
    df = pd.DataFrame.from_records(recs, columns=list(TIDY_COLUMNS))
    df["unit"] = df["unit"].astype(str)
    df["period"] = pd.to_numeric(df["period"]).astype("int64")
    df["variable"] = df["variable"].astype(str)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    df["gender"] = df["gender"].astype(str)
    df["status"] = df["status"].astype(str)
    return df.sort_values(["variable", "unit", "period", "gender"], kind="mergesort").reset_index(
        drop=True
    )


def _json_object(content: bytes) -> dict[str, Any]:
    """The JSON object of a body; ``ValueError`` saying why when it is not one."""
    payload = json.loads(content)
    if not isinstance(payload, dict):
        raise ValueError("not a JSON object")
    return payload


class KoladaClient:
    """Read KPI values and metadata from the Kolada v3 API.

    Parameters
    ----------
    base_url : str, optional
        Root of the API (default :data:`DEFAULT_BASE_URL`); a local server in tests.
    timeout : float or (float, float)
        Connect and read timeouts in seconds.
    retries : int
        Retries of one request after a 429, a 5xx, a timeout, a dropped connection or an
        unreadable body.
    backoff : float
        Backoff factor: waits grow as ``backoff * 2**(n-1)`` seconds (urllib3's rule), unless
        the server sends ``Retry-After``, which is honoured up to ``retry_after_max`` seconds.
    retry_after_max : float
        Longest wait accepted from a ``Retry-After`` header.
    per_page : int
        Rows per page asked for (Kolada serves at most 5000).
    session : requests.Session, optional
        A session to use instead of a new one (its adapters are replaced).

    Examples
    --------
    Online (the tests use a local server instead)::

        client = KoladaClient()
        client.values(["N31807"], ["1287"], range(2005, 2015))
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        retries: int = 5,
        backoff: float = 0.5,
        retry_after_max: float = 120.0,
        per_page: int = MAX_PER_PAGE,
        session: requests.Session | None = None,
    ) -> None:
        if not 1 <= int(per_page) <= MAX_PER_PAGE:
            raise DataSourceError(
                f"KoladaClient: per_page={per_page!r} is out of range; Kolada serves 1 to "
                f"{MAX_PER_PAGE} rows a page: pass per_page={MAX_PER_PAGE}."
            )
        if int(retries) < 0:
            raise DataSourceError(f"KoladaClient: retries={retries!r} is negative; pass 0 or more.")
        self.endpoints = KoladaEndpoints(base_url or DEFAULT_BASE_URL, int(per_page))
        self.timeout = timeout
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.retry_after_max = float(retry_after_max)
        import requests
        from requests.adapters import HTTPAdapter

        self.session = session or requests.Session()
        adapter = HTTPAdapter(max_retries=0)  # get_json retries; urllib3 sends each request once
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.setdefault("Accept", "application/json")
        #: Every URL fetched with the sha256 of its body, for the cache manifest.
        self.log: list[dict[str, Any]] = []

    # -- transport ------------------------------------------------------------------------
    def get_json(self, url: str) -> dict[str, Any]:
        """GET one URL and parse its JSON body, retrying as described in the class.

        Each attempt is one request. A 429, a 5xx, a timeout, a refused or dropped connection,
        a body cut short and a body that is not a JSON object are retried, at most
        ``retries`` times, after waiting as :meth:`wait` says; any other HTTP status is not.

        Raises
        ------
        DataSourceError
            Naming the URL, the last failure (HTTP status or network error) and the number of
            attempts made, once retries are spent (or at once for a status not retried).
        """

        def accept(resp: requests.Response) -> dict[str, Any]:
            payload = _json_object(resp.content)
            self.log.append(
                {
                    "url": url,
                    "status": resp.status_code,
                    "sha256": hashlib.sha256(resp.content).hexdigest(),
                }
            )
            return payload

        from evalmodel.data.retry import request_with_retries

        return request_with_retries(
            lambda: self.session.get(url, timeout=self.timeout),
            accept,
            describe=f"Kolada: GET {url}",
            retries=self.retries,
            wait=self.wait,
            sleep=time.sleep,
            status_hint="check the KPI and municipality ids and base_url.",
            offline_hint="use the cache with offline=True",
        )

    def wait(self, attempt: int, resp: requests.Response | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...).

        The server's ``Retry-After`` (seconds or an HTTP date) when it sends one, at most
        ``retry_after_max``; otherwise ``backoff * 2**(attempt - 1)``, at most
        :data:`~evalmodel.data.retry.BACKOFF_MAX` (the rule of :mod:`evalmodel.data.retry`).

        Examples
        --------
        >>> c = KoladaClient("http://127.0.0.1:9/v3", backoff=0.5)
        >>> [c.wait(n) for n in (1, 2, 3)]
        [0.5, 1.0, 2.0]
        """
        from evalmodel.data.retry import retry_wait

        return retry_wait(attempt, resp, backoff=self.backoff, retry_after_max=self.retry_after_max)

    def pages(self, url: str) -> Iterator[list[dict[str, Any]]]:
        """Yield the ``values`` list of each page, following ``next_url``."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen:
                raise DataSourceError(
                    f"Kolada: paging loops back to {next_url}; the server's next_url repeats."
                )
            seen.add(next_url)
            payload = self.get_json(next_url)
            values = payload.get("values")
            if not isinstance(values, list):
                raise DataSourceError(
                    f"Kolada: GET {next_url} returned JSON without a 'values' list (keys "
                    f"{sorted(payload)[:8]}); check base_url points at the Kolada v3 API."
                )
            yield values
            next_url = self.endpoints.next_url(payload, next_url)

    def _all(self, url: str) -> list[dict[str, Any]]:
        return [row for page in self.pages(url) for row in page]

    # -- data -----------------------------------------------------------------------------
    def value_urls(
        self,
        kpis: Sequence[str],
        municipalities: Sequence[str] | None = None,
        years: Iterable[int] | None = None,
    ) -> list[str]:
        """The first-page URLs that :meth:`values` requests, at most 25 ids or years each."""
        kpi_list = _ids("kpis", kpis)
        muni_list = None if municipalities is None else _ids("municipalities", municipalities)
        year_list = None if years is None else sorted({int(y) for y in years})
        return [
            self.endpoints.data(k, m, y)
            for k, m, y in product(
                chunks(kpi_list),
                [None] if muni_list is None else chunks(muni_list),
                [None] if year_list is None else chunks(year_list),
            )
        ]

    def values(
        self,
        kpis: Sequence[str],
        municipalities: Sequence[str] | None = None,
        years: Iterable[int] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> pd.DataFrame:
        """KPI values for KPIs x municipalities x years as a tidy long frame.

        Parameters
        ----------
        kpis : sequence of str
            KPI ids such as ``"N31807"``.
        municipalities : sequence of str, optional
            Municipality ids as strings (``"0580"``); None asks for every municipality and
            region Kolada has.
        years : iterable of int, optional
            Years; None asks for all.
        progress : callable, optional
            Called with 1 after each request batch (a progress bar's ``update``).

        Returns
        -------
        pandas.DataFrame
            The tidy frame of :func:`tidy_values`.
        """
        rows: list[dict[str, Any]] = []
        for url in self.value_urls(kpis, municipalities, years):
            rows.extend(self._all(url))
            if progress is not None:
                progress(1)
        return tidy_values(rows)

    # -- metadata -------------------------------------------------------------------------
    def kpis(self, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """KPI metadata: one row per KPI (id, title, municipality_type, ...)."""
        rows = self._meta(self.endpoints.kpi, ids)
        df = pd.DataFrame(rows)
        return df.reset_index(drop=True) if "id" in df else pd.DataFrame(columns=["id", "title"])

    def municipalities(self, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Municipality metadata: columns id (str), title, type (``K`` municipality, ``L``)."""
        rows = self._meta(self.endpoints.municipality, ids)
        df = pd.DataFrame(rows, columns=["id", "title", "type"])
        df["id"] = df["id"].astype(str)
        return df.sort_values("id", kind="mergesort").reset_index(drop=True)

    def municipality_groups(self, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Municipality groups flattened to one row a member.

        Returns
        -------
        pandas.DataFrame
            Columns group_id, group_title, member_id, member_title.
        """
        recs = [
            (str(g["id"]), str(g.get("title", "")), str(m["id"]), str(m.get("title", "")))
            for g in self._meta(self.endpoints.municipality_groups, ids)
            for m in g.get("members", ())
            if not _is_deleted(m)
        ]
        return pd.DataFrame.from_records(
            recs, columns=["group_id", "group_title", "member_id", "member_title"]
        )

    def _meta(
        self, endpoint: Callable[[Sequence[str] | None], str], ids: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        urls = [endpoint(None)] if ids is None else [endpoint(c) for c in chunks(_ids("ids", ids))]
        return [r for u in urls for r in self._all(u) if not _is_deleted(r)]


def _ids(name: str, ids: Sequence[str] | str) -> list[str]:
    """Validate a list of ids (strings, unique, order kept)."""
    if isinstance(ids, str):
        ids = [ids]
    out = [str(i).strip() for i in ids]
    bad = [i for i, raw in zip(out, ids, strict=True) if not i or not isinstance(raw, str)]
    if bad or not out:
        example = bad[0] if bad else "an empty list"
        raise DataSourceError(
            f"Kolada: {name} must be a non-empty list of id strings (e.g. ['N31807'] or "
            f"['0580']); got {example!r}: pass ids as text so leading zeros survive."
        )
    return list(dict.fromkeys(out))


def empty_tidy() -> pd.DataFrame:
    """An empty tidy frame with the columns and dtypes of :func:`tidy_values`."""
    return tidy_values([])
