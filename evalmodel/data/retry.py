"""The retry policy shared by the HTTP clients (Kolada, PxWeb/SCB).

What is retried and how long to wait, in one place: a 429 or a 5xx answer
(:data:`RETRY_STATUSES`), a timeout, a refused or dropped connection, and a body cut short
(:data:`TRANSIENT_ERRORS`). The wait after failed attempt ``n`` is the server's
``Retry-After`` (seconds or an HTTP date) when it sends one, at most ``retry_after_max``;
otherwise ``backoff * 2**(n - 1)`` seconds (urllib3's rule), at most :data:`BACKOFF_MAX`
(:func:`retry_wait`). One loop, :func:`request_with_retries`, applies it for both clients
(their error messages name their source), with one budget of retries for all failures.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any, TypeVar

import requests
import urllib3
from urllib3.util import Retry

from evalmodel.errors import DataSourceError

__all__ = [
    "BACKOFF_MAX",
    "CUT_BODY_ERRORS",
    "RETRY_STATUSES",
    "TRANSIENT_ERRORS",
    "attempts_text",
    "request_with_retries",
    "retry_wait",
]

T = TypeVar("T")

#: HTTP statuses worth retrying.
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: Longest wait between two attempts from the backoff rule (urllib3's default cap).
BACKOFF_MAX = 120.0
#: A body cut short: ``requests`` raises ``ChunkedEncodingError`` for urllib3's
#: ``ProtocolError``/``IncompleteRead`` (the raw ones are listed in case they surface).
CUT_BODY_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
    http.client.IncompleteRead,
)
#: Failures of one request that are retried: timeouts, refused or dropped connections, and
#: bodies cut short or undecodable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ContentDecodingError,
    *CUT_BODY_ERRORS,
)


def attempts_text(n: int) -> str:
    """``"1 attempt"``, ``"3 attempts"``."""
    return f"{n} attempt" + ("" if n == 1 else "s")


def retry_wait(
    attempt: int,
    resp: requests.Response | None = None,
    *,
    backoff: float,
    retry_after_max: float,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...).

    Parameters
    ----------
    attempt : int
        The number of the attempt that failed.
    resp : requests.Response, optional
        Its answer, if one came; its ``Retry-After`` header wins when readable.
    backoff : float
        Backoff factor of the exponential rule.
    retry_after_max : float
        Longest wait accepted from ``Retry-After``.

    Examples
    --------
    >>> [retry_wait(n, backoff=0.5, retry_after_max=120.0) for n in (1, 2, 3)]
    [0.5, 1.0, 2.0]
    """
    header = None if resp is None else resp.headers.get("Retry-After")
    if header:
        try:
            seconds = Retry().parse_retry_after(header)
        except urllib3.exceptions.InvalidHeader:
            seconds = None
        if seconds is not None:
            return min(float(seconds), float(retry_after_max))
    return float(min(backoff * 2 ** (attempt - 1), BACKOFF_MAX))


def request_with_retries(
    send: Callable[[], requests.Response],
    accept: Callable[[requests.Response], T],
    *,
    describe: str,
    retries: int,
    wait: Callable[[int, requests.Response | None], float],
    sleep: Callable[[float], Any],
    status_hint: str,
    offline_hint: str,
    shown_chars: int = 200,
) -> T:
    """Send one request until it succeeds or ``retries`` retries are spent.

    Each attempt calls ``send`` once. A failure of :data:`TRANSIENT_ERRORS`, an HTTP status of
    :data:`RETRY_STATUSES` and an HTTP 200 whose body ``accept`` refuses are retried, after
    ``sleep(wait(attempt, response))``; any other ``requests`` failure and any other status
    raise at once.

    Parameters
    ----------
    send : callable
        Performs one request (pacing included) and returns its answer with the body read.
    accept : callable
        Takes an HTTP 200 answer and returns what the caller wants (logging it); raises
        ``ValueError``, whose text says what is wrong, for a body that is not the JSON
        expected (reported as "not valid JSON" and retried).
    describe : str
        Source, method and URL that start every message, e.g. ``"Kolada: GET <url>"``.
    retries : int
        Retries after the first attempt.
    wait : callable
        Seconds to wait after failed attempt ``n`` given its answer (or None).
    sleep : callable
        Waits that many seconds (``time.sleep``; tests inject fakes).
    status_hint : str
        The fix named when a status that is not retried comes back.
    offline_hint : str
        The way to the cached data named when the retries are spent.
    shown_chars : int
        Characters of an error body quoted for a status that is not retried.

    Returns
    -------
    object
        What ``accept`` returned for the first good answer.

    Raises
    ------
    DataSourceError
        Naming ``describe``, the last failure (HTTP status or network error) and the number of
        attempts made, once retries are spent (or at once for a failure not retried).
    """
    failure = ""
    attempt = 0
    for attempt in range(1, retries + 2):
        resp: requests.Response | None = None
        try:
            resp = send()
        except TRANSIENT_ERRORS as exc:
            what = "was cut short" if isinstance(exc, CUT_BODY_ERRORS) else "failed"
            failure = f"{what}: {type(exc).__name__}: {exc}"
        except requests.RequestException as exc:  # a bad URL, an SSL failure: not retried
            raise DataSourceError(
                f"{describe} failed: {type(exc).__name__}: {exc} (after "
                f"{attempts_text(attempt)}; not retried); check base_url."
            ) from exc
        else:
            if resp.status_code == 200:
                try:
                    return accept(resp)
                except ValueError as exc:
                    failure = (
                        f"returned HTTP 200 with a body that is not valid JSON "
                        f"({len(resp.content)} bytes, {exc}; truncated?)"
                    )
            elif resp.status_code in RETRY_STATUSES:
                failure = f"returned HTTP {resp.status_code} {resp.reason}: {resp.text[:200]!r}"
            else:
                raise DataSourceError(
                    f"{describe} returned HTTP {resp.status_code} {resp.reason} "
                    f"(after {attempts_text(attempt)}; this status is not retried): "
                    f"{resp.text[:shown_chars]!r}; {status_hint}"
                )
        if attempt <= retries:
            sleep(wait(attempt, resp))
    raise DataSourceError(
        f"{describe} {failure} (after {attempts_text(attempt)}: retries={retries}); "
        "check the network or base_url and try again later, pass a larger retries=, or "
        f"{offline_hint}."
    )
