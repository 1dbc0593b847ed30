"""Camera snapshot probe: fetch one JPEG over HTTP (Basic or Digest auth), judge the picture.

Down when no frame comes (with the network reason and timings); when a frame decodes, its
image health against the camera's reference frame decides: a confirmed ``black``, ``frozen`` or
``covered`` picture is down, a confirmed ``blurred``, ``moved``, ``noisy``, ``glare``,
``colour_cast`` or ``ir_stuck`` one is degraded, ``dark``
(night) stays up with a warning reason. Each network step has a timeout, the body size is
capped, and the camera's password is never put in a result, a log line or an error text.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from contract.models import DeviceKind, DeviceResult, Status
from edge.camera.daynight import SITE_ZONE, ZoneName
from edge.camera.health import Health
from edge.camera.imaging import CameraImaging
from edge.probes import httpauth
from edge.probes.base import ConfigPath, Credentials, Probe, ProbeConfig
from edge.probes.netfail import reason_for

logger = logging.getLogger(__name__)

MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024


class CameraSnapshotConfig(ProbeConfig):
    type: Literal["camera_snapshot"] = "camera_snapshot"
    kind: Literal[DeviceKind.CAMERA] = DeviceKind.CAMERA
    url: str = Field(
        description="HTTP snapshot URL, e.g. http://192.168.1.64/ISAPI/Streaming/channels/102/"
        "picture, or a Motion-JPEG stream URL (its first frame is taken)"
    )
    auth: Credentials | None = Field(default=None, description="camera login (Basic or Digest)")
    auth_scheme: Literal["auto", "basic", "digest"] = Field(
        default="auto",
        description="auto: answer the camera's challenge (Digest or Basic); basic: send up front",
    )
    image_health: bool = Field(
        default=True,
        description="judge the picture (black, frozen, covered, moved, blurred, noisy, glare, "
        "colour_cast, ir_stuck, dark)",
    )
    reference_dir: ConfigPath | None = Field(
        default=None,
        description="folder for the camera's reference frame (relative paths: beside the config "
        "file); the agent defaults it to STATE_DIR/camera-reference",
    )
    timezone: ZoneName = Field(
        default=SITE_ZONE,
        description="IANA time zone of the site, for the day/night check; the agent's by default",
    )
    confirm_after: int = Field(
        default=3, ge=1, le=20, description="consecutive faulty probes before a fault is reported"
    )
    clear_after: int = Field(
        default=2, ge=1, le=20, description="consecutive good probes before a fault is cleared"
    )

    @field_validator("url")
    @classmethod
    def _plain_http_url(cls, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials: put them in [devices.auth]")
        return url

    def build(self) -> CameraSnapshotProbe:
        return CameraSnapshotProbe(self)


@dataclass(frozen=True)
class Snapshot:
    body: bytes
    frame: npt.NDArray[np.uint8]  # BGR, full size
    timings: dict[str, float]


@dataclass(frozen=True)
class Failure:
    reason: str
    detail: str
    timings: dict[str, float]


def _first_mjpeg_frame(response: http.client.HTTPResponse) -> bytes:
    """The first whole JPEG of a Motion-JPEG stream (SOI to EOI), never more than the cap.

    Each read waits at most the socket timeout, so a stream that stalls ends as a timeout.
    """
    data = b""
    while len(data) <= MAX_SNAPSHOT_BYTES:
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        data += chunk
        start = data.find(b"\xff\xd8")
        end = data.find(b"\xff\xd9", start + 2) if start >= 0 else -1
        if end >= 0:
            return data[start : end + 2]
    return data  # the stream ended (or went over the cap) without a whole frame


FAULT_STATUS = {
    Health.BLACK: Status.DOWN,
    Health.FROZEN: Status.DOWN,
    Health.COVERED: Status.DOWN,
    Health.MOVED: Status.DEGRADED,
    Health.BLURRED: Status.DEGRADED,
    Health.NOISY: Status.DEGRADED,
    Health.GLARE: Status.DEGRADED,
    Health.COLOUR_CAST: Status.DEGRADED,
    Health.IR_STUCK: Status.DEGRADED,
}


class CameraSnapshotProbe(Probe):
    kind = DeviceKind.CAMERA

    def __init__(self, config: CameraSnapshotConfig) -> None:
        super().__init__(config)
        parts = urllib.parse.urlsplit(config.url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        self.auth = config.auth
        self.auth_scheme = config.auth_scheme
        self.imaging = CameraImaging.of(config)

    def _request(
        self, conn: http.client.HTTPConnection, authorization: str | None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        headers = {
            "User-Agent": "smartarea-edge",
            "Accept": "image/jpeg, multipart/x-mixed-replace",
        }
        if authorization is not None:
            headers["Authorization"] = authorization
        conn.request("GET", self.path, headers=headers)
        response = conn.getresponse()
        content_type = (response.getheader("Content-Type") or "").lower()
        if response.status == 200 and content_type.startswith("multipart/x-mixed-replace"):
            return response, _first_mjpeg_frame(response)
        return response, response.read(MAX_SNAPSHOT_BYTES + 1)

    def _answer(self, response: http.client.HTTPResponse, password: str) -> str | None:
        """The Authorization header answering the camera's challenge, or None if we cannot."""
        if self.auth is None:
            return None
        for header in response.headers.get_all("WWW-Authenticate") or []:
            scheme, params = httpauth.parse_challenge(header)
            if scheme == "digest" and self.auth_scheme in {"auto", "digest"}:
                return httpauth.digest(self.auth.username, password, "GET", self.path, params)
            if scheme == "basic" and self.auth_scheme in {"auto", "basic"}:
                return httpauth.basic(self.auth.username, password)
        return None

    def fetch(self) -> Snapshot | Failure:
        """One snapshot, or why there is none. Never raises for camera or network faults."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        conn_cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = conn_cls(self.host, self.port, timeout=self.timeout_s)
        try:
            try:
                # Read up front: a missing secret is a configuration fault even if the camera
                # happens not to ask for it today.
                password = "" if self.auth is None else self.auth.password()
                first = None
                if self.auth is not None and self.auth_scheme == "basic":
                    first = httpauth.basic(self.auth.username, password)
                conn.connect()
                timings["connect_ms"] = round((time.perf_counter() - started) * 1000, 3)
                response, body = self._request(conn, first)
                if response.status == 401 and first is None:
                    answer = self._answer(response, password)
                    if answer is not None:
                        response, body = self._request(conn, answer)
                timings["ttfb_ms"] = round((time.perf_counter() - started) * 1000, 3)
            except (LookupError, OSError, httpauth.ChallengeError) as exc:
                if isinstance(exc, LookupError | httpauth.ChallengeError):
                    return Failure("config", f"camera login unusable: {exc}", timings)
                return Failure(*reason_for(exc), timings)
            except http.client.HTTPException as exc:
                return Failure("protocol", type(exc).__name__, timings)
        finally:
            conn.close()
        if response.status in {401, 403}:
            return Failure("auth_refused", f"HTTP {response.status}", timings)
        if response.status != 200:
            return Failure(f"http_{response.status}", response.reason[:80], timings)
        if len(body) > MAX_SNAPSHOT_BYTES:
            return Failure("too_large", "snapshot over 8 MiB", timings)
        # In colour: the colour-cast and IR-cut checks need it (a grey camera decodes as grey).
        frame = cv2.imdecode(np.frombuffer(body, dtype=np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            return Failure("not_an_image", "the body does not decode", timings)
        return Snapshot(body, np.asarray(frame, np.uint8), timings)

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        snapshot = self.fetch()
        if isinstance(snapshot, Failure):
            failed: dict[str, float | int | bool | str] = dict(snapshot.timings)
            if self.imaging is not None:
                failed |= self.imaging.unreachable()
            return self.result(started, Status.DOWN, snapshot.reason, snapshot.detail, failed)
        height, width = snapshot.frame.shape[:2]
        metrics: dict[str, float | int | bool | str] = dict(snapshot.timings)
        metrics |= {"width_px": int(width), "height_px": int(height), "bytes": len(snapshot.body)}
        if self.imaging is None:
            metrics["mean_luma"] = round(float(snapshot.frame.mean()), 2)
            return self.result(started, Status.UP, metrics=metrics)
        judged = self.imaging.judge(snapshot.frame, snapshot.body)
        metrics |= judged.metrics
        state = judged.state
        if state.is_fault:
            detail = f"picture {state.value}, seen on {judged.streak} probes in a row"
            return self.result(started, FAULT_STATUS[state], state.value, detail, metrics)
        if state is Health.DARK:
            return self.result(started, Status.UP, "dark", "low light or night", metrics)
        return self.result(started, Status.UP, metrics=metrics)
