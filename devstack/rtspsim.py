"""A small RTSP server for the camera simulator: the camera's frames as Motion-JPEG over RTP.

Serves ``rtsp://127.0.0.1:PORT/live`` with RTP interleaved in the RTSP TCP connection (RFC 2326
§10.12) and JPEG payloads (RFC 2435), which FFmpeg (and so OpenCV) plays. Every frame comes from
``SimCamera.frame()``, so every picture fault of the simulator shows on RTSP too; ``stalled`` keeps
the session open and stops sending frames; a camera with credentials demands Digest on DESCRIBE.
Many clients at once, each in its own thread. Only what a camera probe needs: no UDP, no audio.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

RTP_CLOCK = 90_000


@dataclass(frozen=True)
class JpegParts:
    width: int
    height: int
    kind: int  # RFC 2435 type: 0 = 4:2:2, 1 = 4:2:0
    tables: bytes  # the quantisation tables (64 bytes each, zig-zag order as in the file)
    scan: bytes  # entropy-coded data after the SOS header, without the EOI marker


def parse_jpeg(data: bytes) -> JpegParts:
    """Split a baseline JPEG (as OpenCV writes it) into what RFC 2435 sends."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos, tables, width, height, kind = 2, b"", 0, 0, 1
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xDB:  # DQT: one or more 8-bit tables
            offset = 0
            while offset < len(body):
                tables += body[offset + 1 : offset + 65]
                offset += 65
        elif marker == 0xC0:  # SOF0
            height, width = struct.unpack(">HH", body[1:5])
            luma_sampling = body[7]
            kind = 1 if luma_sampling == 0x22 else 0
        elif marker == 0xDA:  # SOS: the scan runs to the end
            scan = data[pos + 2 + length :]
            if scan.endswith(b"\xff\xd9"):
                scan = scan[:-2]
            return JpegParts(width, height, kind, tables, scan)
        pos += 2 + length
    raise ValueError("no scan in the JPEG")


def rtp_packets(
    parts: JpegParts, seq: int, timestamp: int, ssrc: int, mtu: int = 1400
) -> list[bytes]:
    """One frame as RTP/JPEG packets (Q=255: the tables travel in the first packet)."""
    packets: list[bytes] = []
    offset = 0
    while offset < len(parts.scan) or offset == 0:
        jpeg_header = struct.pack(
            ">B3sBBBB",
            0,
            offset.to_bytes(3, "big"),
            parts.kind,
            255,
            parts.width // 8,
            parts.height // 8,
        )
        if offset == 0:
            jpeg_header += struct.pack(">BBH", 0, 0, len(parts.tables)) + parts.tables
        chunk = parts.scan[offset : offset + mtu]
        offset += len(chunk)
        last = offset >= len(parts.scan)
        header = struct.pack(
            ">BBHII",
            0x80,
            (0x80 if last else 0) | 26,
            (seq + len(packets)) & 0xFFFF,
            timestamp,
            ssrc,
        )
        packets.append(header + jpeg_header + chunk)
        if last:
            break
    return packets


class RtspHandler(socketserver.StreamRequestHandler):
    server: RtspServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self)
        self.playing = threading.Event()
        self.closed = threading.Event()
        self.send_lock = threading.Lock()
        self.session = os.urandom(4).hex()

    def _reply(
        self, cseq: str, code: int = 200, headers: dict[str, str] | None = None, body: str = ""
    ) -> None:
        reason = {
            200: "OK",
            401: "Unauthorized",
            404: "Not Found",
            454: "Session Not Found",
            461: "Unsupported Transport",
            501: "Not Implemented",
        }.get(code, "Error")
        lines = [f"RTSP/1.0 {code} {reason}", f"CSeq: {cseq}"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        encoded = body.encode()
        if encoded:
            lines.append(f"Content-Length: {len(encoded)}")
        with self.send_lock:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + encoded)

    def _read_request(self) -> tuple[str, str, dict[str, str]] | None:
        while True:
            first = self.rfile.read(1)
            if not first:
                return None
            if first == b"$":  # interleaved RTCP from the client: skip it
                header = self.rfile.read(3)
                if len(header) < 3:
                    return None
                self.rfile.read(struct.unpack(">H", header[1:])[0])
                continue
            line = first + self.rfile.readline(4096)
            if line.strip():
                break
        method, url, *_ = line.decode("latin-1").split()
        headers: dict[str, str] = {}
        while True:
            raw = self.rfile.readline(4096).decode("latin-1").strip()
            if not raw:
                break
            key, _, value = raw.partition(":")
            headers[key.strip().lower()] = value.strip()
        if int(headers.get("content-length", "0") or 0):
            self.rfile.read(int(headers["content-length"]))
        return method.upper(), url, headers

    def handle(self) -> None:
        sender = threading.Thread(target=self._stream, name="rtsp-send", daemon=True)
        try:
            while (request := self._read_request()) is not None:
                method, url, headers = request
                if not self._answer(method, url, headers):
                    return
                if method == "PLAY" and not self.playing.is_set():
                    self.playing.set()
                    sender.start()
        except (OSError, ValueError):
            return
        finally:
            self.closed.set()
            if sender.is_alive():
                sender.join(timeout=2)

    def _answer(self, method: str, url: str, headers: dict[str, str]) -> bool:
        """Answer one request; False ends the session."""
        camera = self.server.camera
        cseq = headers.get("cseq", "0")
        session = {"Session": self.session}
        if method == "OPTIONS":
            public = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"
            self._reply(cseq, headers={"Public": public})
        elif method == "DESCRIBE":
            if camera.refuses(headers.get("authorization"), "DESCRIBE"):
                self._reply(cseq, 401, {"WWW-Authenticate": camera.challenge()})
                return True
            sdp = (
                "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=smartarea camsim\r\n"
                "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:track0\r\n"
            )
            described = {"Content-Base": url.rstrip("/") + "/", "Content-Type": "application/sdp"}
            self._reply(cseq, headers=described, body=sdp)
        elif method == "SETUP":
            if "TCP" not in headers.get("transport", "").upper():
                self._reply(cseq, 461)  # UDP is not offered: the client retries over TCP
                return True
            transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
            self._reply(
                cseq, headers={"Transport": transport, "Session": f"{self.session};timeout=60"}
            )
        elif method == "PLAY":
            self._reply(cseq, headers={**session, "Range": "npt=0.000-"})
        elif method == "GET_PARAMETER":
            self._reply(cseq, headers=session)
        elif method == "TEARDOWN":
            self._reply(cseq, headers=session)
            return False
        else:
            self._reply(cseq, 501)
        return True

    def _stream(self) -> None:
        camera = self.server.camera
        ssrc = int.from_bytes(os.urandom(4), "big")
        seq, started = 0, time.monotonic()
        interval = 1.0 / self.server.fps
        next_at = started
        while not self.closed.is_set() and not self.server.stopping.is_set():
            if camera.stalled():
                self.closed.wait(0.05)
                continue
            try:
                parts = parse_jpeg(camera.frame())
            except ValueError:
                continue
            timestamp = int((time.monotonic() - started) * RTP_CLOCK) & 0xFFFFFFFF
            packets = rtp_packets(parts, seq, timestamp, ssrc)
            seq += len(packets)
            try:
                with self.send_lock:
                    for packet in packets:
                        self.wfile.write(b"$\x00" + struct.pack(">H", len(packet)) + packet)
            except OSError:
                return
            next_at = max(next_at + interval, time.monotonic() - interval)
            self.closed.wait(max(0.0, next_at - time.monotonic()))


class CameraLike(Protocol):
    """What the RTSP server needs from a simulated camera (``SimCamera`` provides it)."""

    def frame(self) -> bytes: ...
    def refuses(self, header: str | None, method: str) -> bool: ...
    def challenge(self) -> str: ...
    def stalled(self) -> bool: ...


class RtspServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, camera: CameraLike, port: int = 0, fps: float = 10.0) -> None:
        super().__init__(("127.0.0.1", port), RtspHandler)
        self.camera = camera
        self.fps = fps
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), daemon=True, name="rtsp"
        )
        self._clients: list[tuple[socket.socket, threading.Thread]] = []
        self._clients_lock = threading.Lock()

    def track(self, handler: RtspHandler) -> None:
        with self._clients_lock:
            self._clients = [(s, t) for s, t in self._clients if t.is_alive()]
            self._clients.append((handler.request, threading.current_thread()))

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> RtspServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every client (a camera going offline)."""
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for sock, _ in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in clients:
            thread.join(timeout=5)

    def handle_error(self, request: object, client_address: object) -> None:
        with contextlib.suppress(Exception):
            logger.debug("rtsp client %s dropped", client_address)
