"""Camera snapshot probe: fetch one JPEG over HTTP and decode it with OpenCV.

Up when a frame decodes (with its size and timings). Each network step has a timeout, the body size
is capped, and the camera's password is never put in a result, a log line or an error text.
"""

from __future__ import annotations

import base64
import http.client
import time
import urllib.parse
from typing import Literal

import cv2
import numpy as np
from pydantic import Field, field_validator

from contract.models import DeviceKind, DeviceResult, Status
from edge.probes.base import Credentials, Probe, ProbeConfig
from edge.probes.netfail import reason_for

MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024


class CameraSnapshotConfig(ProbeConfig):
    type: Literal["camera_snapshot"] = "camera_snapshot"
    kind: Literal[DeviceKind.CAMERA] = DeviceKind.CAMERA
    url: str = Field(
        description="HTTP snapshot URL, e.g. http://192.168.1.64/ISAPI/Streaming/channels/102/picture"
    )
    auth: Credentials | None = Field(default=None, description="HTTP Basic credentials")

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

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "smartarea-edge", "Accept": "image/jpeg"}
        if self.auth is not None:
            token = f"{self.auth.username}:{self.auth.password()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        return headers

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        conn_cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = conn_cls(self.host, self.port, timeout=self.timeout_s)
        try:
            try:
                headers = self._headers()
            except (LookupError, OSError) as exc:
                return self.result(
                    started, Status.DOWN, "config", f"camera password unavailable: {exc}"
                )
            conn.connect()
            connect_ms = (time.perf_counter() - started) * 1000
            conn.request("GET", self.path, headers=headers)
            response = conn.getresponse()
            ttfb_ms = (time.perf_counter() - started) * 1000
            body = response.read(MAX_SNAPSHOT_BYTES + 1)
        except (OSError, http.client.HTTPException) as exc:
            reason, detail = (
                reason_for(exc) if isinstance(exc, OSError) else ("protocol", type(exc).__name__)
            )
            return self.result(started, Status.DOWN, reason, detail)
        finally:
            conn.close()
        timings = {"connect_ms": round(connect_ms, 3), "ttfb_ms": round(ttfb_ms, 3)}
        if response.status in {401, 403}:
            return self.result(
                started, Status.DOWN, "auth_refused", f"HTTP {response.status}", metrics=timings
            )
        if response.status != 200:
            return self.result(
                started,
                Status.DOWN,
                f"http_{response.status}",
                response.reason[:80],
                metrics=timings,
            )
        if len(body) > MAX_SNAPSHOT_BYTES:
            return self.result(
                started, Status.DOWN, "too_large", "snapshot over 8 MiB", metrics=timings
            )
        frame = cv2.imdecode(np.frombuffer(body, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
        if frame is None:
            return self.result(
                started, Status.DOWN, "not_an_image", "the body does not decode", metrics=timings
            )
        height, width = frame.shape[:2]
        image = {
            "width_px": int(width),
            "height_px": int(height),
            "bytes": len(body),
            "mean_luma": round(float(frame.mean()), 2),
        }
        return self.result(started, Status.UP, metrics=timings | image)
