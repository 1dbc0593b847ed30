"""The faults of issue 16 on real footage: a turned camera, defocus, a leaking lens cap, and the
video-quality-diagnosis faults (noise, stripes, glare, colour cast, a stuck IR-cut switch)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from alerts.messages import reason_text
from api.ui.strings import STRINGS
from contract.models import FLAG_METRICS, TEXT_METRICS
from devstack.camfaults import FaultParams, ImageFault, apply, decode_jpeg, encode_jpeg
from devstack.camsim import find_footage
from edge.camera.daynight import daylight_at
from edge.camera.health import DEFAULT_THRESHOLDS, Health, Verdict, analyze, to_gray
from edge.camera.quality import colour_of
from edge.camera.reference import load_reference, load_reference_colour, save_reference

Image = npt.NDArray[np.uint8]
DATA = Path("/usr/share/doc/opencv-doc/examples/data")


@pytest.fixture(scope="module")
def street() -> Image:
    capture = cv2.VideoCapture(str(find_footage()))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return np.asarray(frame, np.uint8)


@pytest.fixture(scope="module")
def fruits() -> Image:
    """A colourful still scene (the street video is nearly grey)."""
    image = cv2.imread(str(DATA / "fruits.jpg"), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, np.uint8)


def _judge(
    source: Image,
    fault: ImageFault,
    params: FaultParams,
    daylight: bool | None = True,
    seed: int = 0,
) -> Verdict:
    """``source`` with ``fault`` against a clean reference, both through JPEG like a camera."""
    rng = np.random.default_rng(seed)
    ref = decode_jpeg(encode_jpeg(apply(source, ImageFault.NONE, FaultParams(), rng), 70))
    frame = decode_jpeg(encode_jpeg(apply(source, fault, params, rng), 70))
    return analyze(
        to_gray(frame),
        to_gray(ref),
        colour=colour_of(frame),
        ref_colour=colour_of(ref),
        daylight=daylight,
    )


@pytest.mark.parametrize("degrees", [-8.0, -4.5, 4.5, 6.0])
def test_a_rotated_camera_is_moved_and_the_rotation_measured(street: Image, degrees: float) -> None:
    verdict = _judge(street, ImageFault.MOVED, FaultParams(shift=(0, 0), rotation_deg=degrees))
    assert verdict.health is Health.MOVED, verdict
    assert verdict.registered
    assert abs(abs(verdict.rotation_deg) - abs(degrees)) < 1.0, verdict.rotation_deg


def test_shift_with_rotation_and_zoom_are_moved(street: Image) -> None:
    turned = _judge(street, ImageFault.MOVED, FaultParams(shift=(40, 10), rotation_deg=3.0))
    assert turned.health is Health.MOVED and turned.shift_fraction > 0.04, turned
    zoomed = _judge(street, ImageFault.MOVED, FaultParams(shift=(0, 0), zoom=1.25))
    assert zoomed.health is Health.MOVED and abs(zoomed.scale - 1.25) < 0.05, zoomed


@pytest.mark.parametrize("radius", [4, 8])
def test_disk_defocus_on_a_dark_scene_is_blurred(street: Image, radius: int) -> None:
    dark = np.asarray(np.clip(street.astype(np.float32) * 0.35, 0, 255), np.uint8)
    verdict = _judge(dark, ImageFault.BLURRED, FaultParams(defocus_radius=radius))
    assert verdict.health is Health.BLURRED, verdict


@pytest.mark.parametrize("leak", [60.0, 140.0])
def test_a_lens_cap_leaking_light_is_black_not_covered(street: Image, leak: float) -> None:
    verdict = _judge(street, ImageFault.BLACK, FaultParams(leak=leak))
    assert verdict.health is Health.BLACK, verdict


@pytest.mark.parametrize(("kind", "level"), [("gaussian", 35.0), ("snow", 8.0), ("stripes", 20.0)])
def test_noise_snow_and_stripes_are_noisy(street: Image, kind: str, level: float) -> None:
    verdict = _judge(street, ImageFault.NOISY, FaultParams(noise_kind=kind, noise_level=level))
    assert verdict.health is Health.NOISY, verdict
    assert verdict.noise_sigma >= DEFAULT_THRESHOLDS.noise_sigma or (
        verdict.stripe_level >= DEFAULT_THRESHOLDS.stripe_level
    )


def test_a_light_spot_is_glare(street: Image) -> None:
    verdict = _judge(street, ImageFault.GLARE, FaultParams(glare_radius=0.15))
    assert verdict.health is Health.GLARE, verdict
    assert verdict.glare_fraction >= DEFAULT_THRESHOLDS.glare_fraction


def test_a_colour_cast_is_measured_and_reported(fruits: Image) -> None:
    verdict = _judge(fruits, ImageFault.COLOUR_CAST, FaultParams(cast=(1.0, 1.0, 1.6)))
    assert verdict.health is Health.COLOUR_CAST, verdict
    assert verdict.colour_shift is not None and verdict.colour_shift >= 0.1


def test_ir_cut_stuck_by_day_and_by_night_but_not_at_dusk(fruits: Image) -> None:
    mono = FaultParams(ir_kind="mono_day")
    assert _judge(fruits, ImageFault.IR_STUCK, mono, daylight=True).health is Health.IR_STUCK
    colour_night = FaultParams(ir_kind="colour_night", dark_gain=0.2, dark_noise=3.0)
    stuck = _judge(fruits, ImageFault.IR_STUCK, colour_night, daylight=False)
    assert stuck.health is Health.IR_STUCK, stuck
    # Healthy IR night mode at night, and a dim colour picture at dusk (unknown): no fault.
    night = FaultParams(dark_gain=0.4, dark_noise=3.0)
    assert not _judge(fruits, ImageFault.NIGHT, night, daylight=False).health.is_fault
    dusk = _judge(fruits, ImageFault.DARK, FaultParams(dark_gain=0.3), daylight=None)
    assert dusk.health is Health.DARK, dusk


def test_day_and_night_are_only_told_when_clear() -> None:
    assert daylight_at(12.0) is True and daylight_at(23.0) is False and daylight_at(2.0) is False
    assert daylight_at(6.0) is None and daylight_at(18.0) is None  # dawn, dusk


def test_new_metrics_are_numbers_or_declared_flags(street: Image) -> None:
    metrics = _judge(street, ImageFault.NONE, FaultParams()).metrics()
    assert metrics["registered"] is True and metrics["daylight"] is True
    for name, value in metrics.items():
        if name in TEXT_METRICS:
            assert isinstance(value, str), name
        elif name in FLAG_METRICS:
            assert isinstance(value, bool), name
        else:
            assert isinstance(value, float), name


@pytest.mark.parametrize("fault", [h for h in Health if h.is_fault or h is Health.DARK])
def test_every_fault_has_words_for_users(fault: Health) -> None:
    for lang in ("vi", "en"):
        assert reason_text(fault.value, lang) != reason_text("no-such-code", lang), fault
        assert f"reason_{fault.value}" in STRINGS[lang], fault


def test_reference_keeps_its_colour(tmp_path: Path, fruits: Image) -> None:
    path = tmp_path / "ref.png"
    kept = save_reference(path, fruits)
    loaded, colour = load_reference(path), load_reference_colour(path)
    assert loaded is not None and np.array_equal(loaded, kept)
    assert colour is not None and colour.saturation > 0.1
    grey = tmp_path / "grey.png"
    save_reference(grey, cv2.cvtColor(fruits, cv2.COLOR_BGR2GRAY))  # type: ignore[arg-type]
    assert load_reference_colour(grey) is None
