"""Camera simulator: HTTP JPEG snapshots cut from real street footage, with injectable faults.

Each simulated camera listens on its own port, like a real camera on its own address. Faults are
switched at run time: ``offline`` closes the camera's socket (connection refused), ``auth`` answers
401, ``none`` serves frames again; the picture faults ``black``, ``frozen``, ``blurred``,
``covered``, ``moved`` and ``dark`` alter the served frames (see ``devstack.camfaults``). A camera
given ``credentials`` demands them, by HTTP Basic or Digest (``auth_scheme``), like a Hikvision or
Dahua camera. With ``rtsp`` a camera also serves RTSP (``devstack.rtspsim``), as Motion-JPEG or,
like most real cameras, as H.264 or H.265 (``rtsp_codec``). The footage is Debian's OpenCV sample
``vtest.avi`` (a real pedestrian street scene, package ``opencv-doc``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

from devstack.camfaults import FaultParams, ImageFault, apply, decode_jpeg, encode_jpeg
from devstack.rtspsim import Codec, RtspServer
from edge.probes.httpauth import parse_challenge

logger = logging.getLogger(__name__)

FOOTAGE_CANDIDATES = [
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/opencv4/samples/data/vtest.avi"),
]


class Fault(StrEnum):
    NONE = "none"
    OFFLINE = "offline"
    AUTH = "auth"
    BLACK = "black"
    FROZEN = "frozen"
    BLURRED = "blurred"
    COVERED = "covered"
    MOVED = "moved"
    DARK = "dark"
    STALLED = "stalled"  # the connection opens, then nothing comes


# A clear case of each picture fault on the full 768x576 frame.
SIM_FAULT_PARAMS = FaultParams(shift=(96, 24), cover_fraction=0.7, cover_side="right")


def find_footage() -> Path:
    for path in FOOTAGE_CANDIDATES:
        if path.exists():
            return path
    raise FileNotFoundError(
        "real footage not found: install the Debian package 'opencv-doc' (it ships vtest.avi)"
    )


class Footage:
    """JPEG frames decoded once from a video file, served in a loop at the video's frame rate."""

    def __init__(self, path: Path, max_frames: int = 120, step: int = 3, quality: int = 80) -> None:
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            raise RuntimeError(f"cannot open footage {path}")
        self.fps = (capture.get(cv2.CAP_PROP_FPS) or 10.0) / step
        self.jpegs: list[bytes] = []
        index = 0
        while len(self.jpegs) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
                if ok:
                    self.jpegs.append(buf.tobytes())
            index += 1
        capture.release()
        if not self.jpegs:
            raise RuntimeError(f"no frames decoded from {path}")

    def index(self, offset: int = 0) -> int:
        return (int(time.monotonic() * self.fps) + offset) % len(self.jpegs)

    def frame(self, offset: int = 0) -> bytes:
        return self.jpegs[self.index(offset)]


@dataclass
class SimCamera:
    camera_id: str
    footage: Footage
    port: int = 0
    offset: int = 0
    fault: Fault = Fault.NONE
    snapshots_served: int = 0
    rtsp: bool = False  # also serve rtsp://127.0.0.1:rtsp_port/live
    rtsp_port: int = 0
    # "mjpeg" (RTP/JPEG), "h264" or "h265" (an ffmpeg per RTSP session encodes the frames)
    rtsp_codec: Codec | str = Codec.MJPEG
    credentials: tuple[str, str] | None = field(default=None, repr=False)
    auth_scheme: str = "digest"  # what the camera demands when it has credentials
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _frozen: bytes | None = field(default=None, repr=False)
    _nonce: str = field(default_factory=lambda: os.urandom(12).hex(), repr=False)
    _rng: np.random.Generator = field(default_factory=np.random.default_rng, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_index: int = field(default=-1, repr=False)
    _rtsp: RtspServer | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.rtsp_codec = Codec(self.rtsp_codec)  # a wrong name fails here, naming the codecs

    @property
    def mjpeg_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpeg"

    @property
    def rtsp_url(self) -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/live"

    @property
    def rtsp_server(self) -> RtspServer | None:
        """The running RTSP server (None when the camera is stopped or serves no RTSP)."""
        return self._rtsp

    def stalled(self) -> bool:
        return self.fault is Fault.STALLED

    def refuses(self, header: str | None, method: str) -> bool:
        return self.fault is Fault.AUTH or not self.authorized(header, method)

    def frame(self) -> bytes:
        """The JPEG this camera sends right now, with its picture fault applied."""
        with self._lock:
            # A live sensor never sends the same picture twice: two snapshots within one frame
            # of the footage get consecutive frames, so only the ``frozen`` fault repeats bytes.
            index = self.footage.index(self.offset)
            if index == self._last_index:
                index = (index + 1) % len(self.footage.jpegs)
            self._last_index = index
        body = self.footage.jpegs[index]
        fault = self.fault
        if fault is Fault.FROZEN:
            with self._lock:
                if self._frozen is None:
                    self._frozen = body
                return self._frozen
        if fault.value not in {f.value for f in ImageFault} or fault is Fault.NONE:
            return body
        with self._lock:  # numpy Generators are not thread-safe
            image = apply(
                decode_jpeg(body), ImageFault(fault.value), SIM_FAULT_PARAMS, self._rng, crop=False
            )
        return encode_jpeg(image, 80)

    def authorized(self, header: str | None, method: str = "GET") -> bool:
        """Whether a request's Authorization header carries this camera's credentials."""
        if self.credentials is None:
            return True
        if not header:
            return False
        username, password = self.credentials
        scheme, params = parse_challenge(header)
        if scheme == "basic" and self.auth_scheme == "basic":
            expected = base64.b64encode(f"{username}:{password}".encode()).decode()
            return hmac.compare_digest(header.split(" ", 1)[1].strip(), expected)
        if scheme != "digest" or self.auth_scheme != "digest":
            return False
        if params.get("username") != username or params.get("nonce") != self._nonce:
            return False

        def h(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 7616 MD5 digest

        ha1 = h(f"{username}:camera:{password}")
        ha2 = h(f"{method}:{params.get('uri', '')}")
        parts = [ha1, self._nonce, params.get("nc", ""), params.get("cnonce", ""), "auth", ha2]
        return hmac.compare_digest(params.get("response", ""), h(":".join(parts)))

    def challenge(self) -> str:
        if self.auth_scheme == "basic":
            return 'Basic realm="camera"'
        return f'Digest realm="camera", qop="auth", nonce="{self._nonce}", algorithm=MD5'

    @property
    def snapshot_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/snapshot.jpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path not in {"/snapshot.jpg", "/video.mjpeg"}:
                    self.send_error(404)
                    return
                if camera.refuses(self.headers.get("Authorization"), "GET"):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", camera.challenge())
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                while camera.stalled() and camera._server is not None:
                    time.sleep(0.05)  # a hung camera: the request is read, nothing comes back
                if camera._server is None:
                    return
                if path == "/video.mjpeg":
                    self._stream()
                    return
                body = camera.frame()
                camera.snapshots_served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                """Motion-JPEG at 10 fps until the client leaves (``stalled``: nothing comes)."""
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                while camera._server is not None:
                    if not camera.stalled():
                        body = camera.frame()
                        part = (
                            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                            + str(len(body)).encode()
                            + b"\r\n\r\n"
                        )
                        try:
                            self.wfile.write(part + body + b"\r\n")
                        except OSError:
                            return
                    time.sleep(0.1)

            def log_message(self, format: str, *args: object) -> None:
                pass  # one line per snapshot would drown the demo's output

        return Handler

    def start(self) -> None:
        if self._server is not None:
            return
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"camsim-{self.camera_id}", daemon=True
        )
        self._thread.start()
        if self.rtsp and self._rtsp is None:
            self._rtsp = RtspServer(self, self.rtsp_port, codec=self.rtsp_codec).start()
            self.rtsp_port = self._rtsp.port

    def stop(self) -> None:
        if self._rtsp is not None:
            self._rtsp.stop()
            self._rtsp = None
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def set_fault(self, fault: Fault | str) -> None:
        self.fault = Fault(fault)
        self._frozen = None
        if self.fault is Fault.OFFLINE:
            self.stop()
        else:
            self.start()


class CameraFleet:
    """Many simulated cameras sharing one decoded footage (RTSP ones all in one ``rtsp_codec``)."""

    def __init__(
        self,
        camera_ids: list[str],
        footage: Footage | None = None,
        rtsp: bool = False,
        rtsp_codec: Codec | str = Codec.MJPEG,
    ) -> None:
        self.footage = footage or Footage(find_footage())
        step = max(1, len(self.footage.jpegs) // max(1, len(camera_ids)))
        self.cameras = {
            cid: SimCamera(cid, self.footage, offset=i * step, rtsp=rtsp, rtsp_codec=rtsp_codec)
            for i, cid in enumerate(camera_ids)
        }

    def __getitem__(self, camera_id: str) -> SimCamera:
        return self.cameras[camera_id]

    def start(self) -> CameraFleet:
        for camera in self.cameras.values():
            camera.start()
        return self

    def stop(self) -> None:
        for camera in self.cameras.values():
            camera.stop()

    def __enter__(self) -> CameraFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
