"""``python -m edge.camera analyze``: one JSON object on stdout, for frames or one video."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from devstack.camfaults import FaultParams, ImageFault, apply, encode_jpeg
from devstack.camsim import find_footage


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge.camera", "analyze", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("frames")
    capture = cv2.VideoCapture(str(find_footage()))
    source = []
    for _ in range(200):
        ok, frame = capture.read()
        assert ok
        source.append(np.asarray(frame, np.uint8))
    capture.release()
    rng = np.random.default_rng(3)
    # Full frames (crop=False), framed like the video the last test samples: a cropped view
    # would be a zoom of the video's picture, which the registration rightly calls moved.
    files = {"ref": apply(source[0], ImageFault.NONE, FaultParams(), rng, crop=False)}
    for i in (50, 100, 150):
        files[f"ok{i}"] = apply(source[i], ImageFault.NONE, FaultParams(), rng, crop=False)
        files[f"cov{i}"] = apply(source[i], ImageFault.COVERED, FaultParams(), rng, crop=False)
    paths = {}
    for name, image in files.items():
        paths[name] = folder / f"{name}.jpg"
        paths[name].write_bytes(encode_jpeg(image))
    return paths


def test_covered_frames_in_time_order(frames: dict[str, Path]) -> None:
    names = ["ok50", "cov50", "cov100", "cov150"]
    done = _run("--reference", str(frames["ref"]), *(str(frames[n]) for n in names))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "covered"
    assert [f["image"] for f in answer["frames"]] == ["ok", "covered", "covered", "covered"]
    assert [f["source"] for f in answer["frames"]] == [f"{n}.jpg" for n in names]
    assert answer["frames"][1]["covered_fraction"] >= 0.25


def test_one_covered_frame_among_good_ones_is_not_confirmed(frames: dict[str, Path]) -> None:
    names = ["ok50", "cov100", "ok100", "ok150"]
    answer = json.loads(
        _run("--reference", str(frames["ref"]), *(str(frames[n]) for n in names)).stdout
    )
    assert answer["status"] == "ok"
    assert answer["counts"] == {"ok": 3, "covered": 1}


def test_a_video_file_is_sampled(frames: dict[str, Path]) -> None:
    done = _run("--reference", str(frames["ref"]), "--every", "5", str(find_footage()))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "ok"
    assert answer["frames_analyzed"] == 16  # 79.5 s of footage, one frame every 5 s
    assert answer["frames"][1]["source"] == "vtest.avi@5.00s"


def test_unreadable_input_names_the_file(frames: dict[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "ghi chú.txt"
    junk.write_text("không phải ảnh", encoding="utf-8")
    done = _run("--reference", str(frames["ref"]), str(junk))
    assert done.returncode == 2
    assert "ghi chú.txt" in done.stderr and done.stdout == ""
