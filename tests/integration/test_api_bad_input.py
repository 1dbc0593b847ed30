"""Hostile or mistaken input to the real API process gets a 4xx with a reason, never a 500 or a
worker tied up: numbers JSON cannot hold, YAML alias bombs and deep nesting, oversized bodies
(declared or chunked), charts of metrics that are not numbers."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from devstack.stack import Stack
from tests.integration.conftest import api_get, phu_tho_catalog
from tsdb.writer import InfluxV1Writer

A = "son-vi-khu-6"
CATALOG = phu_tho_catalog({"devices": [{"id": "uplink", "kind": "uplink"}]})
MIB = 1024 * 1024


def _send(
    stack: Stack,
    method: str,
    path: str,
    body: bytes | Iterator[bytes],
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """One request; an iterator body goes chunked, without a Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=30)
    headers = {
        "Authorization": f"Bearer {stack.api_token}",
        "Content-Type": content_type,
        "Accept-Language": "en",
    }
    try:
        chunked = not isinstance(body, bytes)
        # The server may answer (and close) before the whole body is sent: read its answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(method, path, body=body, headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_bad_input_gets_a_reason_never_a_500(stack: Stack) -> None:
    """One stack (its start is most of the cost) for checks that each change nothing."""
    stack.load_catalog(CATALOG)
    _a_declaration_of_1e309_is_refused(stack)
    for path in ("/catalog", "/criteria-sets"):
        _yaml_alias_bombs_and_deep_nesting_are_refused_at_once(stack, path)
    _bodies_over_the_limit_are_refused_with_413(stack)
    _charting_a_metric_that_is_not_a_number_is_the_callers_error(stack)


def _a_declaration_of_1e309_is_refused(stack: Stack) -> None:
    body = (
        '{"figure": "households", "value": 1e309, "source_document": "Biên bản rà soát",'
        ' "document_date": "2025-06-30", "valid_from": "2025-01-01", "valid_to": "2027-12-31"}'
    )
    status, answer = _send(stack, "POST", f"/areas/{A}/declarations", body.encode())
    assert status == 422, answer
    (error,) = answer["detail"]
    assert error["loc"] == ["body", "value"]
    assert error["input"] == "inf"  # Python reads 1e309 as infinity; JSON cannot write it


def _yaml_alias_bombs_and_deep_nesting_are_refused_at_once(stack: Stack, path: str) -> None:
    # 9 levels of 9 aliases: 387 million strings once expanded, shaped like a catalog.
    lines = ['lol: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = "\n".join([*lines, "version: 1", "provinces: [{id: phu-tho, name: x, communes: *l9}]"])
    started = time.monotonic()
    status, answer = _send(stack, "POST", path, bomb.encode(), "application/yaml")
    assert (status, time.monotonic() - started < 5) == (422, True), answer
    assert "aliases (*name) are not accepted" in answer["detail"]

    deep = "version: 1\nprovinces: " + "[" * 5000 + "]" * 5000
    status, answer = _send(stack, "POST", path, deep.encode(), "application/yaml")
    assert status == 422, answer
    assert "nest" in answer["detail"]  # libyaml's own limit, or ours (32)
    deep_block = "version: 1\n" + "".join(f"{'  ' * i}k{i}:\n" for i in range(100))
    status, answer = _send(stack, "POST", path, deep_block.encode(), "application/yaml")
    assert status == 422, answer
    assert "nested deeper than 32 levels" in answer["detail"]


def _bodies_over_the_limit_are_refused_with_413(stack: Stack) -> None:
    path = f"/areas/{A}/declarations"
    status, answer = _send(stack, "POST", path, b" " * (2 * MIB + 1))
    assert status == 413, answer
    assert "SMARTAREA_API_MAX_BODY_BYTES" in answer["detail"]  # the setting that raises it
    # Without a Content-Length (chunked), counted as it arrives.
    chunks = iter([b" " * (256 * 1024)] * 9)
    status, answer = _send(stack, "POST", path, chunks)
    assert status == 413, answer
    assert "at most 2097152 bytes" in answer["detail"]
    # A YAML upload has its own, larger limit: 3 MiB reaches the parser (and is not a catalog).
    status, answer = _send(stack, "POST", "/catalog", b"#" * (3 * MIB) + b"\n", "application/yaml")
    assert status == 422, answer


def _charting_a_metric_that_is_not_a_number_is_the_callers_error(stack: Stack) -> None:
    now = datetime.now(UTC)
    window = {"device": "uplink", "from": (now - timedelta(hours=2)).isoformat(), "to": now}
    for metric, kind in (("status", "text"), ("image_state", "text"), ("clock_checked", "true")):
        query = urlencode({**window, "metric": metric, "to": now.isoformat()})
        status, answer = api_get(stack, f"/areas/{A}/series?{query}", language="en")
        assert status == 422, (metric, answer)
        assert f"Metric '{metric}' is not a number ({kind}" in answer["detail"]
    # A field stored as text before the contract fixed types by name: InfluxDB refuses mean().
    hour_ago = int((now - timedelta(hours=1)).timestamp()) * 10**9
    point = f'uplink,agent=nvh,area={A},device=uplink legacy_ms="n/a",status_code=2i {hour_ago}'
    InfluxV1Writer(stack.influxdb.url, stack.influxdb.database).write([point])
    query = urlencode({**window, "metric": "legacy_ms", "to": now.isoformat()})
    status, answer = api_get(stack, f"/areas/{A}/series?{query}", language="en")
    assert status == 422, answer
    assert answer["detail"].startswith("The measurement database refused this query: ")
    assert "InfluxQL error" in answer["detail"]  # InfluxDB's own reason
