"""A small RTSP server for the camera simulator: the camera's frames as MJPEG, H.264 or H.265.

Serves ``rtsp://127.0.0.1:PORT/live`` with RTP interleaved in the RTSP TCP connection (RFC 2326
§10.12), which FFmpeg (and so OpenCV) plays. The ``codec`` picks the payload:

- ``mjpeg`` (the default): each frame's JPEG as RTP/JPEG (RFC 2435), cut up in Python.
- ``h264`` / ``h265``, what real village cameras send: each playing session runs its own ``ffmpeg``
  that encodes the camera's frames (fed at the server's fps on its stdin) with libx264 / libx265
  (ultrafast, zero latency, an IDR keyframe every second, no B-frames, access unit delimiters and
  the parameter sets repeated before every keyframe), and the Annex B output goes out as RTP, one
  access unit per RTP timestamp, sent as soon as the next one's delimiter shows: RFC 6184 (single
  NAL unit packets, FU-A for NAL units over the MTU) or RFC 7798 (single NAL unit packets, FU).
  The SDP carries no parameter sets: they come in band, since the encoder starts at PLAY with a
  keyframe. The encoder dies with its session, with the server and with this process.

Every frame comes from ``SimCamera.frame()``, so every picture fault of the simulator shows on RTSP
too, whatever the codec; ``stalled`` keeps the session open and stops sending frames; a camera with
credentials demands Digest on DESCRIBE. Many clients at once, each in its own thread. Only what a
camera probe needs: no UDP, no audio, no RTCP reports.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import socketserver
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Protocol

from devstack.processes import _die_with_parent
from devstack.servers import require_binary

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


class Codec(StrEnum):
    MJPEG = "mjpeg"
    H264 = "h264"
    H265 = "h265"

    @classmethod
    def _missing_(cls, value: object) -> Codec:
        raise ValueError(f"unknown RTSP codec {value!r}: use one of {', '.join(cls)}")


PAYLOAD_TYPE = {Codec.MJPEG: 26, Codec.H264: 96, Codec.H265: 96}
RTPMAP = {
    Codec.MJPEG: "",
    Codec.H264: "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n",
    Codec.H265: "a=rtpmap:96 H265/90000\r\n",
}
AUD_TYPE = {Codec.H264: 9, Codec.H265: 35}  # access unit delimiter
FU_TYPE = {Codec.H264: 28, Codec.H265: 49}  # FU-A (RFC 6184 §5.8), FU (RFC 7798 §4.4.3)
START_CODE = b"\x00\x00\x01"


def nal_type(codec: Codec, nal: bytes) -> int:
    """The NAL unit type: 5 bits of the 1-byte H.264 header, 6 bits of the 2-byte H.265 one."""
    return nal[0] & 0x1F if codec is Codec.H264 else (nal[0] >> 1) & 0x3F


def split_nals(data: bytes) -> tuple[list[bytes], bytes]:
    """The complete NAL units of an Annex B stream, and the rest: the last NAL unit (with its
    start code), which may go on in the next bytes. Bytes before the first start code are dropped.
    """
    starts: list[int] = []
    pos = data.find(START_CODE)
    while pos != -1:
        starts.append(pos + len(START_CODE))
        pos = data.find(START_CODE, pos + len(START_CODE))
    if not starts:
        return [], data[-(len(START_CODE) - 1) :] if data.endswith(b"\x00") else b""
    nals = []
    for begin, following in itertools.pairwise(starts):
        # The next start code may be 4 bytes long; NAL units never end in a zero byte.
        nal = data[begin : following - len(START_CODE)].rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals, data[starts[-1] - len(START_CODE) :]


class AccessUnits:
    """Groups a live Annex B stream into access units at its delimiters (dropped: RTP needs no
    delimiters)."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self._rest = b""
        self._unit: list[bytes] = []

    def feed(self, data: bytes) -> list[list[bytes]]:
        """The access units that ``data`` completes (each a list of NAL units, in order)."""
        nals, self._rest = split_nals(self._rest + data)
        units = []
        for nal in nals:
            if nal_type(self.codec, nal) == AUD_TYPE[self.codec]:
                if self._unit:
                    units.append(self._unit)
                self._unit = []
            else:
                self._unit.append(nal)
        # The next unit's delimiter has begun: this unit is whole, send it without waiting.
        header = self._rest.lstrip(b"\x00")[1:]
        if self._unit and header and nal_type(self.codec, header) == AUD_TYPE[self.codec]:
            units.append(self._unit)
            self._unit = []
        return units


def nal_payloads(codec: Codec, nal: bytes, mtu: int = 1400) -> list[bytes]:
    """One NAL unit as RTP payloads: itself if it fits, else fragments (FU-A / FU)."""
    if len(nal) <= mtu:
        return [nal]
    if codec is Codec.H264:
        header_size = 1
        prefix = bytes([(nal[0] & 0xE0) | FU_TYPE[codec]])  # F and NRI kept, type FU-A
    else:
        header_size = 2
        prefix = bytes([(nal[0] & 0x81) | (FU_TYPE[codec] << 1), nal[1]])  # F, layer, TID kept
    kind = nal_type(codec, nal)
    body = nal[header_size:]
    step = mtu - header_size - 1
    payloads = []
    for offset in range(0, len(body), step):
        start = 0x80 if offset == 0 else 0
        end = 0x40 if offset + step >= len(body) else 0
        payloads.append(prefix + bytes([start | end | kind]) + body[offset : offset + step])
    return payloads


def access_unit_packets(
    codec: Codec, nals: list[bytes], seq: int, timestamp: int, ssrc: int, mtu: int = 1400
) -> list[bytes]:
    """One access unit as RTP packets; the marker bit is set on its last packet."""
    payloads = [p for nal in nals for p in nal_payloads(codec, nal, mtu)]
    packets = []
    for index, payload in enumerate(payloads):
        marker = 0x80 if index == len(payloads) - 1 else 0
        header = struct.pack(
            ">BBHII",
            0x80,
            marker | PAYLOAD_TYPE[codec],
            (seq + index) & 0xFFFF,
            timestamp & 0xFFFFFFFF,
            ssrc,
        )
        packets.append(header + payload)
    return packets


def encoder_argv(codec: Codec, fps: float) -> list[str]:
    """``ffmpeg`` reading JPEGs on stdin, writing Annex B H.264 / H.265 to stdout frame by frame."""
    ffmpeg = require_binary("ffmpeg", "ffmpeg")
    rate = f"{fps:g}"
    gop = str(max(1, round(fps)))
    if codec is Codec.H264:
        encoder = ["-c:v", "libx264", "-x264-params", "aud=1:repeat-headers=1", "-f", "h264"]
    else:
        # IDR keyframes as cameras send; one thread (no pool): a steadier rate on a busy machine
        params = "aud=1:repeat-headers=1:open-gop=0:pools=none:frame-threads=1:log-level=error"
        encoder = ["-c:v", "libx265", "-x265-params", params, "-f", "hevc"]
    return [
        ffmpeg,
        *("-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"),
        # Read each JPEG as it comes: without a tiny probe FFmpeg buffers megabytes first.
        # (Not -fflags nobuffer: it drops the frames read while probing.)
        *("-probesize", "32", "-analyzeduration", "0"),
        *("-f", "image2pipe", "-c:v", "mjpeg", "-framerate", rate, "-i", "pipe:0"),
        *("-an", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-tune", "zerolatency"),
        *("-g", gop, "-bf", "0", *encoder, "-flush_packets", "1", "pipe:1"),
    ]


class RtspHandler(socketserver.StreamRequestHandler):
    server: RtspServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self)
        self.playing = threading.Event()
        self.closed = threading.Event()
        self.send_lock = threading.Lock()
        self.session = os.urandom(4).hex()
        self.encoder: subprocess.Popen[bytes] | None = None

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
        threads: list[threading.Thread] = []
        try:
            while (request := self._read_request()) is not None:
                method, url, headers = request
                if not self._answer(method, url, headers):
                    return
                if method == "PLAY" and not self.playing.is_set():
                    self.playing.set()
                    threads = self._play()
        except (OSError, ValueError):
            return
        finally:
            self.closed.set()
            if self.encoder is not None:
                self.encoder.kill()  # its pipes break: the feeder and the sender end
            for thread in threads:
                thread.join(timeout=5)
            if self.encoder is not None:
                reap(self.encoder)

    def _play(self) -> list[threading.Thread]:
        """Start sending frames: the threads that do it."""
        codec = self.server.codec
        jobs: list[tuple[str, Callable[..., None], tuple[object, ...]]]
        if codec is Codec.MJPEG:
            jobs = [("rtsp-send", self._stream_mjpeg, ())]
        else:
            encoder = subprocess.Popen(
                encoder_argv(codec, self.server.fps),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, no locks taken
            )
            self.encoder = encoder
            self.server.encoders_started += 1
            jobs = [
                ("rtsp-feed", self._feed_encoder, (encoder.stdin,)),
                ("rtsp-send", self._stream_encoded, (encoder, encoder.stdout)),
            ]
        threads = [
            threading.Thread(target=target, args=args, name=name, daemon=True)
            for name, target, args in jobs
        ]
        for thread in threads:
            thread.start()
        return threads

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
            codec = self.server.codec
            sdp = (
                "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=smartarea camsim\r\n"
                f"c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=video 0 RTP/AVP {PAYLOAD_TYPE[codec]}\r\n"
                f"{RTPMAP[codec]}a=control:track0\r\n"
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

    def _send(self, packets: list[bytes]) -> None:
        with self.send_lock:
            for packet in packets:
                self.wfile.write(b"$\x00" + struct.pack(">H", len(packet)) + packet)

    def _stream_mjpeg(self) -> None:
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
                self._send(packets)
            except OSError:
                return
            next_at = max(next_at + interval, time.monotonic() - interval)
            self.closed.wait(max(0.0, next_at - time.monotonic()))

    def _feed_encoder(self, sink: IO[bytes]) -> None:
        """The camera's JPEGs into the encoder at the server's fps (none while ``stalled``)."""
        camera = self.server.camera
        interval = 1.0 / self.server.fps
        next_at = time.monotonic()
        while not self.closed.is_set() and not self.server.stopping.is_set():
            if camera.stalled():
                self.closed.wait(0.05)
                continue
            try:
                sink.write(camera.frame())
                sink.flush()
            except (OSError, ValueError):  # the encoder is gone: the session is ending
                return
            next_at = max(next_at + interval, time.monotonic() - interval)
            self.closed.wait(max(0.0, next_at - time.monotonic()))

    def _stream_encoded(self, encoder: subprocess.Popen[bytes], source: IO[bytes]) -> None:
        """The encoder's access units as RTP, 1/fps apart in RTP time."""
        # The pipe stays open until this thread is joined: reading its descriptor is safe.
        codec = self.server.codec
        units = AccessUnits(codec)
        ssrc = int.from_bytes(os.urandom(4), "big")
        seq, timestamp = 0, float(int.from_bytes(os.urandom(4), "big"))
        step = RTP_CLOCK / self.server.fps
        while True:
            try:
                data = os.read(source.fileno(), 1 << 16)
            except (OSError, ValueError):
                return
            if not data:
                if not self.closed.is_set():
                    logger.warning("rtsp %s encoder ended: %s", codec, _encoder_error(encoder))
                return
            for nals in units.feed(data):
                packets = access_unit_packets(codec, nals, seq, int(timestamp), ssrc)
                seq, timestamp = seq + len(packets), timestamp + step
                try:
                    self._send(packets)
                except OSError:
                    return


def reap(encoder: subprocess.Popen[bytes]) -> None:
    """Kill an encoder (a simulator's has nothing to save), wait for it, close its pipes."""
    encoder.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        encoder.wait(timeout=5)
    pipes: list[IO[bytes] | None] = [encoder.stdin, encoder.stdout, encoder.stderr]
    for pipe in pipes:
        if pipe is not None:
            with contextlib.suppress(OSError, ValueError):
                pipe.close()


def _encoder_error(encoder: subprocess.Popen[bytes]) -> str:
    """How an encoder ended, with the start of what it printed."""
    message = ""
    with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
        encoder.wait(timeout=2)
        if encoder.stderr is not None:
            message = encoder.stderr.read(2000).decode(errors="replace").strip()
    return f"exit code {encoder.returncode} {message}".strip()


class CameraLike(Protocol):
    """What the RTSP server needs from a simulated camera (``SimCamera`` provides it)."""

    def frame(self) -> bytes: ...
    def refuses(self, header: str | None, method: str) -> bool: ...
    def challenge(self) -> str: ...
    def stalled(self) -> bool: ...


class RtspServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, camera: CameraLike, port: int = 0, fps: float = 10.0, codec: Codec | str = "mjpeg"
    ) -> None:
        self.codec = Codec(codec)
        if self.codec is not Codec.MJPEG:
            encoder_argv(self.codec, fps)  # fails now, clearly, if ffmpeg is missing
        super().__init__(("127.0.0.1", port), RtspHandler)
        self.camera = camera
        self.fps = fps
        self.encoders_started = 0  # one per playing H.264 / H.265 session
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
