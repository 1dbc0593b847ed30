"""The demo's notification inbox: a local webhook receiver and a page that shows what arrived.

``make run`` routes every alert to ``POST /hook`` here (HMAC-signed like any webhook), so a
technician trying the demo sees the messages a real phone would get, at ``GET /``. The page also
offers the demo's fault switch: turn a simulated camera off, black or frozen, and watch the
incident reach the board and this inbox. Loopback only; nothing is kept on disk.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from alerts.senders import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
KEEP = 200  # messages shown; older ones fall off (a demo, not an archive)
MAX_BODY = 256 * 1024
FAULTS = {
    "none": "Bình thường (gỡ sự cố)",
    "offline": "Mất điện / mất mạng",
    "black": "Hình ảnh bị đen",
    "frozen": "Hình ảnh bị đứng",
    "covered": "Ống kính bị che",
}
_LINK = re.compile(r"(https?://[^\s<]+)")

PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5">
<title>Hộp thư cảnh báo (demo)</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #1a1a1a; }}
header {{ background: #0b3d6e; color: #fff; padding: .6rem 1rem; }}
main {{ padding: 1rem; max-width: 48rem; margin: 0 auto; }}
.msg, form {{ background: #fff; border: 1px solid #d1d5db; border-radius: .5rem;
  padding: .7rem 1rem; margin: 0 0 .8rem; }}
.msg h2 {{ font-size: 1.05rem; margin: 0 0 .3rem; }}
.msg pre {{ white-space: pre-wrap; font: inherit; margin: 0; }}
.muted {{ color: #4b5563; font-size: .9rem; }}
select, button {{ font: inherit; padding: .4rem; margin: .2rem 0; }}
</style></head>
<body><header><strong>Hộp thư cảnh báo của bản demo</strong> · Demo alert inbox</header>
<main>
<p class="muted">Mỗi tin dưới đây là một thông báo mà dịch vụ cảnh báo đã gửi tới webhook
của kỹ thuật viên (trang tự tải lại mỗi 5 giây). {count} tin.</p>
{controls}
{messages}
</main></body></html>
"""


class Inbox:
    """Start with ``start()``; ``url`` is the page, ``hook_url`` the webhook address."""

    def __init__(self, secret: str, port: int = 0) -> None:
        self.secret = secret.encode()
        self.messages: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.refused = 0  # bodies with a wrong or missing signature
        self.cameras: dict[str, str] = {}  # "area/camera" -> label
        self.set_fault: Callable[[str, str], None] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages)

    def start(self) -> Inbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-inbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _accept(self, body: bytes, signature: str | None) -> bool:
        if not signature or not hmac.compare_digest(signature, sign(self.secret, body)):
            self.refused += 1
            return False
        try:
            message = json.loads(body)
        except ValueError:
            return False
        if not isinstance(message, dict):
            return False
        message["received_at"] = datetime.now(UTC).isoformat()
        with self._lock:
            self.messages.append(message)
        return True

    def page(self) -> str:
        with self._lock:
            shown = list(reversed(self.messages))
        items = []
        for m in shown:
            text = html.escape(str(m.get("text", "")))
            text = _LINK.sub(r'<a href="\1">\1</a>', text)
            items.append(
                f'<article class="msg"><h2>{html.escape(str(m.get("subject", "")))}</h2>'
                f'<p class="muted">nhận lúc {html.escape(_local(m["received_at"]))}</p>'
                f"<pre>{text}</pre></article>"
            )
        if not items:
            items.append('<p class="muted">Chưa có tin nào. Hãy thử giả lập một sự cố.</p>')
        return PAGE.format(count=len(shown), controls=self._controls(), messages="\n".join(items))

    def _controls(self) -> str:
        if self.set_fault is None or not self.cameras:
            return ""
        cameras = "".join(
            f'<option value="{html.escape(k)}">{html.escape(v)}</option>'
            for k, v in self.cameras.items()
        )
        faults = "".join(
            f'<option value="{k}">{html.escape(v)}</option>' for k, v in FAULTS.items()
        )
        return (
            '<form method="post" action="/fault"><strong>Giả lập sự cố</strong> '
            '<span class="muted">(chỉ có trong bản demo)</span><br>'
            f'<label>Camera <select name="camera">{cameras}</select></label><br>'
            f'<label>Tình trạng <select name="fault">{faults}</select></label><br>'
            '<button type="submit">Áp dụng</button></form>'
        )

    def _fault(self, body: bytes) -> bool:
        form = parse_qs(body.decode("utf-8", "replace"))
        camera = form.get("camera", [""])[0]
        fault = form.get("fault", [""])[0]
        if self.set_fault is None or camera not in self.cameras or fault not in FAULTS:
            return False
        self.set_fault(camera, fault)
        logger.info("demo fault %s on %s", fault, camera)
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, code: int, body: bytes, media: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes | None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._send(413, b"too large", "text/plain")
                    return None
                return self.rfile.read(length)

            def do_GET(self) -> None:
                if self.path == "/messages.json":
                    body = json.dumps(inbox.received(), ensure_ascii=False).encode()
                    self._send(200, body, "application/json")
                elif self.path in ("/", "/index.html"):
                    self._send(200, inbox.page().encode(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                body = self._body()
                if body is None:
                    return
                if self.path == "/hook":
                    ok = inbox._accept(body, self.headers.get(SIGNATURE_HEADER))
                    self._send(204 if ok else 401, b"", "text/plain")
                elif self.path == "/fault":
                    ok = inbox._fault(body)
                    self.send_response(303 if ok else 400)
                    self.send_header("Location", "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, b"not found", "text/plain")

            def log_message(self, format: str, *args: object) -> None:
                pass  # the demo's console stays readable

        return Handler


def _local(iso: str) -> str:
    at = datetime.fromisoformat(iso).astimezone(VN)
    return f"{at:%H:%M:%S} ngày {at:%d/%m/%Y}"
