"""Image health on real street footage (Debian's OpenCV samples) with faults applied to it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from devstack.camfaults import FaultParams, ImageFault, apply, decode_jpeg, encode_jpeg
from devstack.camsim import find_footage
from edge.camera.confirm import Confirmation
from edge.camera.grade import LABELS, Grade, GradeTracker
from edge.camera.health import DEFAULT_THRESHOLDS, Gray, Health, analyze, to_gray
from edge.camera.monitor import ImageMonitor
from edge.camera.reference import load_reference, reference_path, save_reference

Image = npt.NDArray[np.uint8]
MEGAMIND = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")


def _read(path: Path, indices: list[int]) -> dict[int, Image]:
    capture = cv2.VideoCapture(str(path))
    frames: dict[int, Image] = {}
    index = 0
    while index <= max(indices):
        ok, frame = capture.read()
        if not ok:
            break
        if index in indices:
            frames[index] = np.asarray(frame, np.uint8)
        index += 1
    capture.release()
    return frames


@pytest.fixture(scope="module")
def street() -> dict[int, Image]:
    return _read(find_footage(), [0, 150, 300, 450, 600, 780])


def _seen(image: Image, quality: int = 80) -> Gray:
    """What the agent sees: the camera's JPEG, decoded and reduced."""
    return to_gray(decode_jpeg(encode_jpeg(image, quality)))


def _frame(
    street: dict[int, Image], index: int, fault: ImageFault, seed: int = 0, **params: object
) -> Gray:
    rng = np.random.default_rng(seed)
    return _seen(apply(street[index], fault, FaultParams(**params), rng))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def reference(street: dict[int, Image]) -> Gray:
    return _frame(street, 0, ImageFault.NONE)


@pytest.mark.parametrize("index", [150, 300, 450, 600, 780])
@pytest.mark.parametrize("gain", [0.75, 1.0, 1.25])
def test_people_walking_and_light_changes_are_ok(
    street: dict[int, Image], reference: Gray, index: int, gain: float
) -> None:
    previous = _frame(street, 0, ImageFault.NONE, seed=9)
    verdict = analyze(_frame(street, index, ImageFault.NONE, gain=gain), reference, previous)
    assert verdict.health is Health.OK, verdict
    assert verdict.frame_diff is not None and verdict.frame_diff > 1


def test_black_frame(street: dict[int, Image], reference: Gray) -> None:
    verdict = analyze(_frame(street, 300, ImageFault.BLACK), reference)
    assert verdict.health is Health.BLACK
    assert verdict.mean_luma < 10 and verdict.luma_spread < 10


def test_identical_frames_are_frozen_and_a_static_scene_is_not(
    street: dict[int, Image], reference: Gray
) -> None:
    frame = _frame(street, 300, ImageFault.NONE)
    assert analyze(frame, reference, frame.copy()).health is Health.FROZEN
    # The same scene a moment later: the picture barely changed, but the sensor noise did.
    again = _frame(street, 300, ImageFault.NONE, seed=1)
    verdict = analyze(again, reference, frame)
    assert verdict.health is Health.OK
    assert verdict.frame_diff is not None and 0.05 < verdict.frame_diff < 3


@pytest.mark.parametrize("sigma", [2.0, 4.0, 8.0])
def test_blur(street: dict[int, Image], reference: Gray, sigma: float) -> None:
    verdict = analyze(_frame(street, 450, ImageFault.BLURRED, blur_sigma=sigma), reference)
    assert verdict.health is Health.BLURRED, verdict
    assert verdict.sharpness_ratio < DEFAULT_THRESHOLDS.blur_ratio


@pytest.mark.parametrize(
    ("fraction", "side", "level"),
    [(0.5, "left", 60), (0.45, "top", 200), (0.5, "right", 120), (1.0, "full", 90)],
)
def test_covers(
    street: dict[int, Image], reference: Gray, fraction: float, side: str, level: int
) -> None:
    frame = _frame(
        street,
        600,
        ImageFault.COVERED,
        cover_fraction=fraction,
        cover_side=side,
        cover_level=level,
    )
    verdict = analyze(frame, reference)
    assert verdict.health is Health.COVERED, verdict
    assert verdict.covered_fraction >= 0.25


@pytest.mark.parametrize("shift", [(48, 0), (-64, 0), (0, 40), (-64, -40)])
def test_turned_camera_is_moved(
    street: dict[int, Image], reference: Gray, shift: tuple[int, int]
) -> None:
    verdict = analyze(_frame(street, 300, ImageFault.MOVED, shift=shift), reference)
    assert verdict.health is Health.MOVED, verdict
    assert verdict.shift_fraction >= 0.04


def test_a_shaking_pole_is_not_moved(street: dict[int, Image], reference: Gray) -> None:
    verdict = analyze(_frame(street, 300, ImageFault.MOVED, shift=(8, 4)), reference)
    assert verdict.health is Health.OK, verdict


@pytest.mark.parametrize(("gain", "noise"), [(0.35, 3.0), (0.2, 6.0), (0.12, 8.0)])
def test_night_is_dark_not_a_fault(
    street: dict[int, Image], reference: Gray, gain: float, noise: float
) -> None:
    frame = _frame(street, 450, ImageFault.DARK, dark_gain=gain, dark_noise=noise)
    verdict = analyze(frame, reference)
    assert verdict.health is Health.DARK, verdict
    assert not verdict.health.is_fault


def test_second_real_scene() -> None:
    frames = _read(MEGAMIND, [100, 101])
    reference, later = _seen(frames[100]), _seen(frames[101])
    assert analyze(later, reference).health is Health.DARK  # a dark film scene: a warning only
    blurred = _seen(cv2.GaussianBlur(frames[101], (0, 0), 5))  # type: ignore[arg-type]
    assert analyze(blurred, reference).health is Health.BLURRED
    assert analyze(_seen(np.zeros_like(frames[101])), reference).health is Health.BLACK


def test_verdict_metrics_fit_the_contract(street: dict[int, Image], reference: Gray) -> None:
    metrics = analyze(_frame(street, 150, ImageFault.NONE), reference, reference).metrics()
    assert metrics["image"] == "ok"
    assert {"mean_luma", "frame_diff", "covered_fraction", "shift_fraction"} <= set(metrics)
    assert all(name.islower() and len(name) <= 40 for name in metrics)


def test_one_passing_truck_does_not_page_three_frames_do() -> None:
    confirm = Confirmation(confirm_after=3, clear_after=2)
    seen = [Health.OK, Health.COVERED, Health.OK, Health.COVERED, Health.COVERED]
    assert [confirm.update(h).health for h in seen] == [Health.OK] * 5
    third = confirm.update(Health.BLACK)  # a lens being covered may read covered, then black
    assert (third.health, third.changed) == (Health.BLACK, True)
    assert confirm.update(Health.DARK).health is Health.BLACK  # one good frame does not clear it
    cleared = confirm.update(Health.OK)
    assert (cleared.health, cleared.changed) == (Health.OK, True)
    assert confirm.update(Health.DARK).health is Health.DARK  # a warning needs no confirmation


def test_grade_from_the_last_hour() -> None:
    tracker = GradeTracker()
    for minute in range(60):
        snapshot = tracker.add(minute * 60.0, True)
    assert snapshot.grade is Grade.GOOD
    assert tracker.add(3600.0, False).grade is Grade.UNUSABLE
    assert tracker.add(3660.0, True).grade is Grade.FAIR  # 1 of 61 probes lost: 98.4%
    for minute in range(62, 81):
        snapshot = tracker.add(minute * 60.0, minute % 2 == 0)
    assert snapshot.grade is Grade.POOR
    assert LABELS[Grade.UNUSABLE][0] == "không dùng được"
    stalling = GradeTracker()
    for minute in range(20):  # a picture every time, but the stream stalls one probe in four
        snapshot = stalling.add(minute * 60.0, True, impaired=minute % 4 == 0)
    assert (snapshot.grade, snapshot.episodes) == (Grade.POOR, 4)
    assert stalling.add(1200.0, True, impaired=True).grade is Grade.POOR  # never "unusable"


def test_monitor_treats_byte_identical_snapshots_as_frozen(street: dict[int, Image]) -> None:
    data = encode_jpeg(street[300])
    monitor = ImageMonitor(_seen(street[0]), confirm_after=2)
    first = monitor.observe(decode_jpeg(data), data, at=0.0)
    assert first.verdict.health is Health.OK
    observations = [monitor.observe(decode_jpeg(data), data, at=t) for t in (60.0, 120.0)]
    assert [o.verdict.health for o in observations] == [Health.FROZEN, Health.FROZEN]
    assert observations[-1].confirmed.health is Health.FROZEN
    assert observations[-1].grade.grade is Grade.UNUSABLE


def test_reference_store_round_trip(tmp_path: Path, street: dict[int, Image]) -> None:
    path = reference_path(tmp_path / "refs", "Cổng chợ / lối vào")
    assert path.parent == tmp_path / "refs" and path.name.endswith(".png")
    assert load_reference(path) is None
    kept = save_reference(path, street[0])
    assert kept.shape == (240, 320)  # only the small grayscale analysis image is stored
    loaded = load_reference(path)
    assert loaded is not None and np.array_equal(loaded, kept)


def test_a_fit_no_mounted_camera_can_make_is_not_trusted(street: dict[int, Image]) -> None:
    """ORB matches a view turned upside down; no pole-mounted camera turns so: the fit is refused
    (translation only, ``registered`` False); the view, no longer the scene, is still a fault."""
    reference = _seen(street[300])
    upside_down = _seen(np.ascontiguousarray(street[300][::-1, ::-1]))
    verdict = analyze(upside_down, reference)
    assert not verdict.registered and verdict.rotation_deg == 0.0, verdict
    assert verdict.health.is_fault, verdict


@pytest.mark.parametrize("seed", range(6))
def test_a_cover_over_a_repeating_pattern_is_covered(seed: int) -> None:
    """A chessboard's repeated corners once agreed on a collapsed fit (scale near 0); the
    reference warped through it had no texture left to lose, and the cover read as ``moved``."""
    board = cv2.imread(str(MEGAMIND.parent / "left01.jpg"), cv2.IMREAD_COLOR)
    assert board is not None, "install Debian's opencv-doc"
    rng = np.random.default_rng(seed)
    reference = _seen(np.asarray(board, np.uint8))
    sides = ["left", "right", "top", "bottom"]
    params = FaultParams(
        cover_fraction=0.4 + 0.1 * seed, cover_side=sides[seed % 4], cover_level=60 + 30 * seed
    )
    frame = _seen(apply(np.asarray(board, np.uint8), ImageFault.COVERED, params, rng), 90)
    verdict = analyze(frame, reference)
    assert verdict.health is Health.COVERED, verdict
    assert 0.5 <= verdict.scale <= 2.0
