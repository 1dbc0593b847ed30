"""Camera simulator: HTTP JPEG snapshots cut from real street footage, with injectable faults.

Each simulated camera listens on its own port, like a real camera on its own address. Faults are
switched at run time: ``offline`` closes the camera's socket (connection refused), ``auth`` answers
401, ``none`` serves frames again. The footage is Debian's OpenCV sample ``vtest.avi`` (a real
pedestrian street scene, package ``opencv-doc``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

logger = logging.getLogger(__name__)

FOOTAGE_CANDIDATES = [
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/opencv4/samples/data/vtest.avi"),
]


class Fault(StrEnum):
    NONE = "none"
    OFFLINE = "offline"
    AUTH = "auth"


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

    def frame(self, offset: int = 0) -> bytes:
        return self.jpegs[(int(time.monotonic() * self.fps) + offset) % len(self.jpegs)]


@dataclass
class SimCamera:
    camera_id: str
    footage: Footage
    port: int = 0
    offset: int = 0
    fault: Fault = Fault.NONE
    snapshots_served: int = 0
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def snapshot_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/snapshot.jpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/snapshot.jpg":
                    self.send_error(404)
                    return
                if camera.fault is Fault.AUTH:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = camera.footage.frame(camera.offset)
                camera.snapshots_served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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

    def stop(self) -> None:
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
        if self.fault is Fault.OFFLINE:
            self.stop()
        else:
            self.start()


class CameraFleet:
    """Many simulated cameras sharing one decoded footage."""

    def __init__(self, camera_ids: list[str], footage: Footage | None = None) -> None:
        self.footage = footage or Footage(find_footage())
        step = max(1, len(self.footage.jpegs) // max(1, len(camera_ids)))
        self.cameras = {
            cid: SimCamera(cid, self.footage, offset=i * step) for i, cid in enumerate(camera_ids)
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
