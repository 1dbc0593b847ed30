"""A long run: healthy cameras probed every 60 s over a whole day and night, time simulated.

Real frames (Debian's ``vtest.avi``, people walking, a new frame at every probe; a still street
photograph for a camera over a quieter, colourful place) are lit by a day/night cycle: the sun's
curve, passing clouds, a camera switching to IR night mode at dusk and back at dawn (monochrome,
dim, grainy), headlight flashes and a truck now and then, pole shake, sensor noise that grows in
the dark, and JPEG at a sub-stream's quality. Nothing in it is a fault, so every confirmed fault
is a false alarm. The figure the issue asks for, false alarms per camera-day at the default
confirmation count, is printed; the target is below one per camera-week.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from devstack.camfaults import FaultParams, ImageFault, apply, decode_jpeg, encode_jpeg
from devstack.camsim import find_footage
from edge.camera.daynight import daylight_at
from edge.camera.health import to_gray
from edge.camera.monitor import ImageMonitor
from edge.camera.quality import colour_of

Image = npt.NDArray[np.uint8]
INTERVAL_S = 60
HOURS = 24
WIDTH = 352  # a CIF sub-stream, what agents mostly probe
DUSK, DAWN = 17.9, 5.9  # the camera's own light sensor switches to IR night mode at dusk


@dataclass(frozen=True)
class Light:
    gain: float
    night_mode: bool
    noise: float


def _fit(image: Image) -> Image:
    size = (WIDTH, round(image.shape[0] * WIDTH / image.shape[1]))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def _street() -> list[Image]:
    capture = cv2.VideoCapture(str(find_footage()))
    frames: list[Image] = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(_fit(np.asarray(frame, np.uint8)))
    capture.release()
    return frames


def _photo() -> list[Image]:
    path = Path("/usr/share/doc/opencv-doc/examples/data/leuvenA.jpg")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} missing (Debian's opencv-doc)"
    return [_fit(np.asarray(image, np.uint8))]


def light_at(hour: float, cloud: float) -> Light:
    """The sun's curve (noon brightest), clouds dimming by day, IR night mode between dusk and
    dawn (an IR lamp lights the scene: dim, grainy, grey)."""
    sun = max(0.0, math.sin(math.pi * (hour - 5.5) / 13.0))  # up 5:30, down 18:30
    if hour >= DUSK or hour < DAWN:
        return Light(gain=0.45 + 0.1 * cloud, night_mode=True, noise=4.0)
    gain = 0.3 + 0.85 * sun * (1.0 - 0.35 * cloud)
    return Light(gain=gain, night_mode=False, noise=1.0 + 3.0 * (1.0 - sun))


def _frame(source: Image, light: Light, rng: np.random.Generator, event: str) -> Image:
    shake = (int(rng.integers(-5, 6)), int(rng.integers(-3, 4)))
    params = FaultParams(shift=shake, noise=light.noise)
    if light.night_mode:
        image = apply(source, ImageFault.MOVED, replace(params, noise=0.0), rng)
        night = FaultParams(dark_gain=light.gain, dark_noise=light.noise)
        image = apply(image, ImageFault.NIGHT, night, rng, crop=False)
    else:
        image = apply(source, ImageFault.MOVED, replace(params, gain=light.gain), rng)
    if event == "headlights":
        image = np.asarray(np.clip(image.astype(np.float32) * 1.8 + 30, 0, 255), np.uint8)
    elif event == "truck":
        truck = FaultParams(cover_fraction=0.5, cover_side="bottom", noise=0.0)
        image = apply(image, ImageFault.COVERED, truck, rng, crop=False)
    return image


def run_camera_day(frames: list[Image], seed: int) -> tuple[int, Counter[str]]:
    """(confirmed false alarms, faulty single frames by class) over a simulated day of probes."""
    rng = np.random.default_rng(seed)
    noon = _frame(frames[0], light_at(12.0, 0.0), rng, "")
    ref = decode_jpeg(encode_jpeg(noon, 70))
    monitor = ImageMonitor(to_gray(ref), ref_colour=colour_of(ref))  # default confirm count
    alarms = 0
    faulty_frames: Counter[str] = Counter()
    cloud = 0.0
    was_fault = False
    for n in range(HOURS * 3600 // INTERVAL_S):
        hour = 6.5 + n * INTERVAL_S / 3600 % 24  # from a morning commissioning onwards
        hour %= 24
        cloud = float(np.clip(cloud + rng.normal(0, 0.08), 0.0, 1.0))
        event = ""
        if rng.random() < 0.01:
            event = "truck" if rng.random() < 0.5 else "headlights"
        image = _frame(frames[n % len(frames)], light_at(hour, cloud), rng, event)
        data = encode_jpeg(image, int(rng.integers(40, 85)))
        seen = monitor.observe(
            decode_jpeg(data), data, at=float(n * INTERVAL_S), daylight=daylight_at(hour)
        )
        if seen.verdict.health.is_fault:
            faulty_frames[seen.verdict.health.value] += 1
        fault = seen.confirmed.health.is_fault
        alarms += fault and not was_fault
        was_fault = fault
    return alarms, faulty_frames


def test_a_day_and_night_of_healthy_cameras_raises_no_alarm() -> None:
    cameras = {"street-video": _street(), "street-photo": _photo()}
    results = {
        name: run_camera_day(frames, seed) for seed, (name, frames) in enumerate(cameras.items())
    }
    probes = HOURS * 3600 // INTERVAL_S
    alarms = sum(a for a, _ in results.values())
    per_camera_day = alarms / (len(cameras) * HOURS / 24)
    print(
        f"\n{len(cameras)} cameras x {HOURS} h at {INTERVAL_S} s: {alarms} false alarms "
        f"({per_camera_day:.2f} per camera-day; target < {1 / 7:.3f}); faulty single frames: "
        + "; ".join(f"{name} {dict(f)} of {probes}" for name, (_, f) in results.items())
    )
    assert alarms == 0, results
