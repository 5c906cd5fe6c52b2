"""The retry policy shared by the HTTP clients (Kolada, PxWeb/SCB).

What is retried and how long to wait, in one place: a 429 or a 5xx answer
(:data:`RETRY_STATUSES`), a timeout, a refused or dropped connection, and a body cut short
(:data:`TRANSIENT_ERRORS`). The wait after failed attempt ``n`` is the server's
``Retry-After`` (seconds or an HTTP date) when it sends one, at most ``retry_after_max``;
otherwise ``backoff * 2**(n - 1)`` seconds (urllib3's rule), at most :data:`BACKOFF_MAX`
(:func:`retry_wait`). Each client runs its own loop over these (its error messages name its
source), with one budget of retries for all failures.
"""

from __future__ import annotations

import http.client

import requests
import urllib3
from urllib3.util import Retry

__all__ = [
    "BACKOFF_MAX",
    "CUT_BODY_ERRORS",
    "RETRY_STATUSES",
    "TRANSIENT_ERRORS",
    "attempts_text",
    "retry_wait",
]

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
