"""Camera RTSP probe: tell apart unreachable, refused, login refused, no frames and frames.

First an RTSP ``DESCRIBE`` of our own over a plain socket (timeouts on every step, Digest or Basic
answered), which names network and login faults precisely; then a short sample of the stream with
OpenCV's FFmpeg backend in a worker process (``rtspcapture``): frames per second, stalls, and the
last frame judged for image health like a snapshot.
"""

from __future__ import annotations

import socket
import time
import urllib.parse
from typing import Literal

from pydantic import Field, field_validator, model_validator

from contract.models import DeviceKind, DeviceResult, Status
from edge.camera.daynight import SITE_ZONE, ZoneName
from edge.camera.health import Health
from edge.camera.imaging import CameraImaging
from edge.probes import httpauth
from edge.probes.base import ConfigPath, Credentials, Probe, ProbeConfig
from edge.probes.camera import FAULT_STATUS
from edge.probes.netfail import reason_for
from edge.probes.rtspcapture import sample_stream

MAX_REPLY = 64 * 1024


class CameraRtspConfig(ProbeConfig):
    type: Literal["camera_rtsp"] = "camera_rtsp"
    kind: Literal[DeviceKind.CAMERA] = DeviceKind.CAMERA
    url: str = Field(description="RTSP URL, e.g. rtsp://192.168.1.64:554/Streaming/Channels/102")
    auth: Credentials | None = Field(default=None, description="camera login (Digest or Basic)")
    sample_s: float = Field(
        default=2.0, gt=0, le=30, description="seconds of stream read to measure fps and stalls"
    )

    @model_validator(mode="after")
    def _sample_fits(self) -> CameraRtspConfig:
        if self.sample_s > self.timeout_s:
            raise ValueError("sample_s must not exceed timeout_s (the probe's budget is 3x it)")
        return self

    min_fps: float = Field(default=1.0, ge=0, description="below this the stream is degraded")
    image_health: bool = Field(default=True, description="judge the last frame's picture")
    reference_dir: ConfigPath | None = Field(
        default=None, description="folder for the reference frame (see camera_snapshot)"
    )
    timezone: ZoneName = Field(
        default=SITE_ZONE, description="time zone of the site (see camera_snapshot)"
    )
    confirm_after: int = Field(default=3, ge=1, le=20, description="probes to confirm a fault")
    clear_after: int = Field(default=2, ge=1, le=20, description="probes to clear a fault")

    @field_validator("url")
    @classmethod
    def _plain_rtsp_url(cls, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "rtsp" or not parts.hostname:
            raise ValueError("must be an rtsp:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials: put them in [devices.auth]")
        return url

    def build(self) -> CameraRtspProbe:
        return CameraRtspProbe(self)


class RtspError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _read_reply(sock: socket.socket) -> tuple[int, dict[str, list[str]]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RtspError("protocol", "the camera closed the connection")
        data += chunk
        if len(data) > MAX_REPLY:
            raise RtspError("protocol", "reply too long")
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = head[0].split()
    if len(status) < 2 or not status[0].startswith("RTSP/") or not status[1].isdigit():
        raise RtspError("protocol", "not an RTSP reply")
    headers: dict[str, list[str]] = {}
    for line in head[1:]:
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), []).append(value.strip())
    return int(status[1]), headers


class CameraRtspProbe(Probe):
    kind = DeviceKind.CAMERA

    def __init__(self, config: CameraRtspConfig) -> None:
        super().__init__(config)
        self.config = config
        parts = urllib.parse.urlsplit(config.url)
        self.host = parts.hostname or ""
        self.port = parts.port or 554
        self.imaging = CameraImaging.of(config)

    def _describe(self, password: str) -> float:
        """The camera answers DESCRIBE (with our login if it asks); returns the connect time."""
        started = time.perf_counter()
        with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as sock:
            connect_ms = (time.perf_counter() - started) * 1000
            authorization = None
            for cseq in (1, 2):
                lines = [f"DESCRIBE {self.config.url} RTSP/1.0", f"CSeq: {cseq}"]
                lines += ["Accept: application/sdp", "User-Agent: smartarea-edge"]
                if authorization:
                    lines.append(f"Authorization: {authorization}")
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
                status, headers = _read_reply(sock)
                if status == 200:
                    return connect_ms
                if status in {401, 403} and cseq == 1 and self.config.auth is not None:
                    authorization = self._answer(headers.get("www-authenticate", []), password)
                    if authorization is not None:
                        continue
                if status in {401, 403}:
                    raise RtspError("auth_refused", f"RTSP {status}")
                raise RtspError(f"rtsp_{status}", f"RTSP {status}")
        raise RtspError("auth_refused", "RTSP 401")  # pragma: no cover - loop returns or raises

    def _answer(self, challenges: list[str], password: str) -> str | None:
        auth = self.config.auth
        if auth is None:
            return None
        for header in challenges:
            scheme, params = httpauth.parse_challenge(header)
            if scheme == "digest":
                return httpauth.digest(auth.username, password, "DESCRIBE", self.config.url, params)
        for header in challenges:
            if httpauth.parse_challenge(header)[0] == "basic":
                return httpauth.basic(auth.username, password)
        return None

    def _url_with_login(self, password: str) -> str:
        auth = self.config.auth
        if auth is None:
            return self.config.url
        parts = urllib.parse.urlsplit(self.config.url)
        login = (
            f"{urllib.parse.quote(auth.username, safe='')}:{urllib.parse.quote(password, safe='')}"
        )
        netloc = f"{login}@{parts.netloc}"
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        try:
            password = "" if self.config.auth is None else self.config.auth.password()
        except (LookupError, OSError) as exc:
            return self.result(
                started, Status.DOWN, "config", f"camera password unavailable: {exc}"
            )
        try:
            connect_ms = self._describe(password)
        except RtspError as exc:
            return self._down(started, exc.reason, str(exc), {})
        except httpauth.ChallengeError as exc:
            return self._down(started, "config", str(exc), {})
        except OSError as exc:
            return self._down(started, *reason_for(exc), {})
        metrics: dict[str, float | int | bool | str] = {"connect_ms": round(connect_ms, 3)}
        # The whole probe fits the agent's hard limit (3x the timeout + 1 s): the worker gets
        # what the DESCRIBE left of it, and is killed when that runs out.
        budget = 3 * self.timeout_s + 0.8 - (time.perf_counter() - started)
        url = self._url_with_login(password)
        sample = sample_stream(url, self.timeout_s, self.config.sample_s, budget)
        metrics["open_ms"] = round(sample.open_ms, 1)
        if sample.worker_died:
            return self._down(started, "stalled", "the stream did not answer in time", metrics)
        if not sample.opened:
            return self._down(started, "no_stream", "the stream does not open", metrics)
        metrics |= {"frames": sample.frames, "fps": round(sample.fps, 2), "stalls": sample.stalls}
        if sample.first_frame_ms is not None:
            metrics["first_frame_ms"] = round(sample.first_frame_ms, 1)
        if sample.frames == 0 or sample.last_gray is None:
            return self._down(
                started, "no_frames", "the stream opens but no frame arrives", metrics
            )
        metrics |= {"width_px": sample.width, "height_px": sample.height}
        status, reason, detail = Status.UP, None, None
        if sample.stalls or sample.fps < self.config.min_fps:
            status, reason = Status.DEGRADED, "stalled" if sample.stalls else "low_fps"
            detail = f"{sample.frames} frames in {sample.elapsed_s:.1f} s, {sample.stalls} stalls"
        if self.imaging is not None:
            frame = sample.last_gray
            judged = self.imaging.judge(frame, frame.tobytes(), impaired=status is not Status.UP)
            metrics |= judged.metrics
            if judged.state.is_fault:
                detail = f"picture {judged.state.value}, seen on {judged.streak} probes in a row"
                return self.result(
                    started, FAULT_STATUS[judged.state], judged.state.value, detail, metrics
                )
            if judged.state is Health.DARK and status is Status.UP:
                reason, detail = "dark", "low light or night"
        return self.result(started, status, reason, detail, metrics)

    def _down(
        self,
        started: float,
        reason: str,
        detail: str,
        metrics: dict[str, float | int | bool | str],
    ) -> DeviceResult:
        if self.imaging is not None:
            metrics |= self.imaging.unreachable()
        return self.result(started, Status.DOWN, reason, detail, metrics)
