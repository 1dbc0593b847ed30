"""Both writers against a small real HTTP server that speaks InfluxDB's write endpoints.

There is no InfluxDB 2.x here: this server is the seam. It records each request (path, query,
headers, body) and answers with the statuses a test scripts (204, 429 with Retry-After, 500,
413, 400, 401). The v1 writer is also tested against the real InfluxDB 1.6.7 (integration).
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tsdb.writer import (
    InfluxV1Writer,
    Misconfigured,
    Rejected,
    Retryable,
    TooLarge,
    Writer,
    classify,
    retry_after,
)
from tsdb.writer_v2 import InfluxV2Writer

LINES = ["camera,area=son-vi-khu-6,device=Cổng\\ chính status_code=2i 1", "uplink,area=a v=1 2"]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeInflux:
    """Answers write requests with the scripted (status, headers, body), then 204."""

    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    connections: set[int] = field(default_factory=set)
    url: str = ""


@pytest.fixture
def fake() -> Iterator[FakeInflux]:
    state = FakeInflux()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as InfluxDB

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            parsed = urllib.parse.urlsplit(self.path)
            state.requests.append(
                Recorded(
                    "POST",
                    parsed.path,
                    urllib.parse.parse_qs(parsed.query),
                    dict(self.headers.items()),
                    body,
                )
            )
            state.connections.add(self.client_address[1])
            status, headers, text = state.answers.pop(0) if state.answers else (204, {}, b"")
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-influx")
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _writers(fake: FakeInflux) -> dict[str, Writer]:
    return {
        "v1": InfluxV1Writer(fake.url, "smartarea", "raw", token="t0ken"),
        "v2": InfluxV2Writer(fake.url, "phu-tho", "smartarea", "t0ken", timeout_s=5),
    }


@pytest.fixture(params=["v1", "v2"])
def writer(request: pytest.FixtureRequest, fake: FakeInflux) -> Iterator[Writer]:
    chosen = _writers(fake)[request.param]
    try:
        yield chosen
    finally:
        chosen.close()


def test_v2_writes_line_protocol_to_the_bucket_of_the_org_with_the_token(
    fake: FakeInflux,
) -> None:
    writer = InfluxV2Writer(fake.url, "phu-tho", "smartarea", "t0ken")
    try:
        writer.write(LINES)
        writer.write(LINES)
    finally:
        writer.close()
    first = fake.requests[0]
    assert first.path == "/api/v2/write"
    assert first.query == {"org": ["phu-tho"], "bucket": ["smartarea"], "precision": ["ns"]}
    assert first.headers["Authorization"] == "Token t0ken"
    assert first.body.decode() == "\n".join(LINES)  # Vietnamese intact, one request per batch
    assert len(fake.requests) == 2
    assert len(fake.connections) == 1  # keep-alive: one connection for both


def test_v1_writes_to_database_and_retention_policy(fake: FakeInflux) -> None:
    writer = InfluxV1Writer(fake.url, "smartarea", "raw", token="t0ken")
    try:
        writer.write(LINES)
        writer.write(LINES)
    finally:
        writer.close()
    first = fake.requests[0]
    assert first.path == "/write"
    assert first.query == {"db": ["smartarea"], "rp": ["raw"], "precision": ["ns"]}
    assert first.body.decode() == "\n".join(LINES)
    assert len(fake.connections) == 1


@pytest.mark.parametrize(
    ("status", "headers", "error", "after"),
    [
        (429, {"Retry-After": "7"}, Retryable, 7.0),
        (503, {"Retry-After": "2"}, Retryable, 2.0),
        (500, {}, Retryable, None),
        (413, {}, TooLarge, None),
        (400, {}, Rejected, None),
        (422, {}, Rejected, None),
        (401, {}, Misconfigured, None),
        (404, {}, Misconfigured, None),
    ],
)
def test_each_answer_is_classified_the_same_by_both_writers(
    writer: Writer,
    fake: FakeInflux,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
    after: float | None,
) -> None:
    fake.answers.append((status, headers, b'{"code":"x","message":"partial write: bad point"}'))
    with pytest.raises(error) as caught:
        writer.write(LINES)
    assert type(caught.value) is error
    if isinstance(caught.value, Retryable):
        assert caught.value.retry_after_s == after
    assert "t0ken" not in str(caught.value)
    writer.write(LINES)  # the next write goes through on the same writer


def test_unreachable_server_is_retryable_for_both() -> None:
    for writer in (
        InfluxV1Writer("http://127.0.0.1:9", "db", timeout_s=1),
        InfluxV2Writer("http://127.0.0.1:9", "org", "bucket", "secret-token", timeout_s=1),
    ):
        with pytest.raises(Retryable) as caught:
            writer.write(LINES)
        assert "secret-token" not in str(caught.value)
        writer.close()


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after("12") == 12.0
    assert retry_after("-3") == 0.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    now = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
    assert retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now=now) == 30.0


def test_success_is_not_an_error() -> None:
    assert classify(204, {}, "") is None
    assert classify(200, None, "") is None
