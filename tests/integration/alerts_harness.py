"""Real receivers for the alerts tests: an HTTP server (webhook, Telegram, Zalo) and aiosmtpd."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage as Mail
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from contract import topics
from contract.models import DeviceKind, DeviceResult, Presence, PresenceState, Report, Status
from devstack.processes import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers 500 to the first ``fail_first`` of them."""

    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    refused: int = 0

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if receiver.refused < receiver.fail_first:
                    receiver.refused += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                answer = b'{"ok": true, "error": 0}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="http-receiver")
        self._thread.start()

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


class _Mailbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = message_from_bytes(content, policy=default_policy)
        assert isinstance(mail, Mail)
        self.mails.append(mail)
        return "250 OK"


class SmtpReceiver:
    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def mails(self) -> list[Mail]:
        return self.mailbox.mails

    def close(self) -> None:
        self.controller.stop()


def result(
    device: str, kind: DeviceKind, status: Status, reason: str | None = None
) -> DeviceResult:
    return DeviceResult(device_id=device, kind=kind, status=status, reason=reason, duration_ms=5.0)


def report(
    area: str,
    agent: str,
    seq: int,
    at: datetime,
    results: list[DeviceResult],
    interval_s: float = 60,
) -> tuple[str, bytes]:
    body = Report(
        area_id=area,
        agent_id=agent,
        seq=seq,
        observed_at=at,
        interval_s=interval_s,
        results=results,
    )
    return topics.report_topic(area, agent), body.to_json()


def presence(area: str, agent: str, state: PresenceState, at: datetime | None) -> tuple[str, bytes]:
    body = Presence(area_id=area, agent_id=agent, state=state, at=at)
    return topics.status_topic(area, agent), body.to_json()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
