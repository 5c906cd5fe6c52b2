"""The retry loop shared by the Kolada and SCB clients, on scripted answers (no network).

Each test scripts what one attempt after another returns or raises, and checks the value
returned, the attempts made, the waits slept and the exact error text. The clients' own tests
(tests/data/test_kolada_*.py, tests/data/test_scb_v2.py) run the same loop against local
servers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests

from evalmodel.data.retry import request_with_retries, retry_wait
from evalmodel.errors import DataSourceError

TAIL = (
    "check the network or base_url and try again later, pass a larger retries=, or use the "
    "cache with offline=True."
)


def answer(status: int, body: bytes = b"{}", reason: str = "", **headers: str) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.reason = reason
    resp.headers.update(headers)
    return resp


def accept_object(resp: requests.Response) -> dict[str, Any]:
    payload = json.loads(resp.content)
    if not isinstance(payload, dict):
        raise ValueError("not a JSON object")
    return payload


class Script:
    """``send`` for the loop: each call takes the next scripted answer or exception."""

    def __init__(self, *steps: requests.Response | BaseException) -> None:
        self.steps = list(steps)
        self.sent = 0

    def __call__(self) -> requests.Response:
        step = self.steps[self.sent]
        self.sent += 1
        if isinstance(step, BaseException):
            raise step
        return step


def run(
    script: Script,
    *,
    retries: int,
    accept: Callable[[requests.Response], Any] = accept_object,
    waits: list[float] | None = None,
) -> tuple[Any, list[float]]:
    waits = [] if waits is None else waits
    out = request_with_retries(
        script,
        accept,
        describe="Src: GET http://h/x",
        retries=retries,
        wait=lambda n, r: retry_wait(n, r, backoff=0.5, retry_after_max=10.0),
        sleep=waits.append,
        status_hint="check the ids.",
        offline_hint="use the cache with offline=True",
        shown_chars=5,
    )
    return out, waits


def test_each_transient_failure_is_retried_with_its_wait_then_the_good_body_returned() -> None:
    script = Script(
        answer(503, b"busy", "Service Unavailable", **{"Retry-After": "3"}),
        requests.ConnectionError("refused"),
        answer(200, b"[1, 2]"),  # JSON but not an object: refused by accept
        requests.exceptions.ChunkedEncodingError("cut"),
        answer(200, b'{"values": []}'),
    )
    out, waits = run(script, retries=5)
    assert out == {"values": []}
    assert script.sent == 5
    # Retry-After wins (3 s); otherwise 0.5 * 2**(n-1) after attempt n
    assert waits == [3.0, 1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("step", "failure"),
    [
        (
            answer(503, b"busy", "Service Unavailable"),
            "returned HTTP 503 Service Unavailable: 'busy'",
        ),
        (answer(429, b"x" * 300, "Too Many"), f"returned HTTP 429 Too Many: {'x' * 200!r}"),
        (requests.Timeout("slow"), "failed: Timeout: slow"),
        (
            requests.exceptions.ChunkedEncodingError("cut"),
            "was cut short: ChunkedEncodingError: cut",
        ),
        (
            answer(200, b"[1]"),
            "returned HTTP 200 with a body that is not valid JSON (3 bytes, not a JSON object; "
            "truncated?)",
        ),
        (
            answer(200, b'{"a"'),
            "returned HTTP 200 with a body that is not valid JSON (4 bytes, Expecting ':' "
            "delimiter: line 1 column 5 (char 4); truncated?)",
        ),
    ],
)
@pytest.mark.parametrize(("retries", "attempts"), [(2, "3 attempts"), (0, "1 attempt")])
def test_retries_spent_name_the_last_failure_and_the_attempts(
    step: Any, failure: str, retries: int, attempts: str
) -> None:
    script = Script(*[step] * (retries + 1))
    with pytest.raises(DataSourceError) as info:
        run(script, retries=retries)
    assert str(info.value) == (
        f"Src: GET http://h/x {failure} (after {attempts}: retries={retries}); {TAIL}"
    )
    assert script.sent == retries + 1


def test_retries_spent_sleep_only_between_attempts() -> None:
    script = Script(*[requests.ConnectionError("down")] * 4)
    waits: list[float] = []
    with pytest.raises(DataSourceError, match=re.escape("(after 4 attempts: retries=3)")):
        run(script, retries=3, waits=waits)
    assert script.sent == 4
    assert waits == [0.5, 1.0, 2.0]  # none after the last attempt


def test_a_status_not_retried_raises_at_once_quoting_the_body_and_the_hint() -> None:
    script = Script(answer(503, b"", "Busy"), answer(404, b"no such table", "Not Found"))
    with pytest.raises(DataSourceError) as info:
        run(script, retries=5)
    assert str(info.value) == (
        "Src: GET http://h/x returned HTTP 404 Not Found (after 2 attempts; this status is not "
        "retried): 'no su'; check the ids."
    )
    assert script.sent == 2


def test_a_request_error_that_is_not_transient_raises_at_once_with_its_cause() -> None:
    bad = requests.exceptions.InvalidURL("no host")
    script = Script(bad, answer(200))
    with pytest.raises(DataSourceError) as info:
        run(script, retries=5)
    assert str(info.value) == (
        "Src: GET http://h/x failed: InvalidURL: no host (after 1 attempt; not retried); "
        "check base_url."
    )
    assert info.value.__cause__ is bad
    assert script.sent == 1


def test_accept_sees_only_good_answers_and_its_value_is_returned() -> None:
    seen: list[int] = []

    def accept(resp: requests.Response) -> str:
        seen.append(resp.status_code)
        return resp.text

    out, waits = run(
        Script(answer(502, b"", "Bad Gateway"), answer(200, b"a;b\n1;2")), retries=1, accept=accept
    )
    assert out == "a;b\n1;2"  # a csv body: this accept takes anything
    assert seen == [200]
    assert waits == [0.5]
