"""Accuracy of camera image health on a labelled set built from real street footage.

Each clip is what the agent sees over ``--probes`` consecutive probes of one camera: JPEG snapshots
of Debian's ``vtest.avi`` (a real pedestrian street scene) taken at random moments, with a fault
applied to every frame of the clip, against a reference frame taken at another moment. Healthy
clips have people walking, lighting changes of ±30%, small pole shake, varied JPEG quality, and in
a quarter of them one transient event (a truck covering half the view, a headlight flash).

Prints the confusion matrix and per-class precision/recall twice: per frame (the raw verdict) and
per clip (the confirmed state the agent reports), then the false-fault rate on healthy clips (ok and
dark: night is a warning, not a fault). The last line:
``min_fault_recall=… false_fault_rate=…`` (clip level, at the default thresholds).

    .venv/bin/python benchmarks/camera_accuracy.py [--clips 120] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.camfaults import (
    FaultParams,
    ImageFault,
    apply,
    decode_jpeg,
    encode_jpeg,
)
from devstack.camsim import find_footage
from edge.camera.health import Health, to_gray
from edge.camera.monitor import ImageMonitor

Image = npt.NDArray[np.uint8]
CLASSES = [h.value for h in Health]
FAULTS = [h.value for h in Health if h.is_fault]
LABEL_OF = {f: Health(f.value) if f is not ImageFault.NONE else Health.OK for f in ImageFault}


@dataclass(frozen=True)
class Clip:
    label: Health
    jpegs: list[bytes]
    frame_truth: list[Health]
    reference: bytes
    note: str


def load_footage() -> list[Image]:
    capture = cv2.VideoCapture(str(find_footage()))
    frames: list[Image] = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.asarray(frame, np.uint8))
    capture.release()
    return frames


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


@dataclass(frozen=True)
class Strength:
    """Parameter ranges of the faults: clear cases by default, borderline ones with --hard."""

    blur_sigma: tuple[float, float] = (2.0, 8.0)
    defocus_radius: tuple[int, int] = (3, 9)
    cover: tuple[float, float] = (0.4, 1.0)
    pan_px: tuple[int, int] = (45, 65)  # of a 640 px wide view
    tilt_px: tuple[int, int] = (34, 49)  # of a 480 px high view


CLEAR = Strength()
HARD = Strength((1.2, 2.0), (2, 3), (0.25, 0.4), (22, 45), (18, 34))


def fault_params(
    fault: ImageFault, rng: np.random.Generator, strength: Strength = CLEAR
) -> tuple[FaultParams, str]:
    """Random but realistic parameters for one clip of ``fault``."""
    gain, noise = float(rng.uniform(0.8, 1.2)), float(rng.uniform(0.8, 2.5))
    if fault is ImageFault.BLURRED:
        if rng.random() < 0.5:
            sigma = float(rng.uniform(*strength.blur_sigma))
            note = f"gaussian sigma={sigma:.1f}"
            return FaultParams(blur_sigma=sigma, gain=gain, noise=noise), note
        radius = int(rng.integers(*strength.defocus_radius))
        return FaultParams(defocus_radius=radius, gain=gain, noise=noise), f"defocus r={radius}"
    if fault is ImageFault.COVERED:
        fraction = float(rng.uniform(*strength.cover))
        side = str(rng.choice(["left", "right", "top", "bottom", "full"]))
        level = int(rng.integers(40, 231))
        note = f"{side} {fraction:.2f} level={level}"
        return FaultParams(
            cover_fraction=fraction, cover_side=side, cover_level=level, gain=gain, noise=noise
        ), note
    if fault is ImageFault.MOVED:
        if rng.random() < 0.7:  # a pan, maybe with some tilt
            pan = _sign(rng) * int(rng.integers(*strength.pan_px))
            shift = (pan, int(rng.integers(-strength.tilt_px[0], strength.tilt_px[0] + 1)))
        else:  # a tilt
            shift = (int(rng.integers(-8, 9)), _sign(rng) * int(rng.integers(*strength.tilt_px)))
        return FaultParams(shift=shift, gain=gain, noise=noise), f"shift={shift}"
    if fault is ImageFault.DARK:
        dark, grain = float(rng.uniform(0.1, 0.4)), float(rng.uniform(2.0, 8.0))
        return FaultParams(dark_gain=dark, dark_noise=grain), f"gain={dark:.2f} noise={grain:.1f}"
    return FaultParams(gain=gain, noise=noise), ""


def build_clips(
    frames: list[Image],
    clips_per_class: int,
    probes: int,
    rng: np.random.Generator,
    strength: Strength = CLEAR,
) -> list[Clip]:
    clips: list[Clip] = []
    for fault in ImageFault:
        for _ in range(clips_per_class):
            quality = int(rng.integers(50, 96))
            ref_index = int(rng.integers(0, len(frames)))
            reference = encode_jpeg(
                apply(frames[ref_index], ImageFault.NONE, FaultParams(), rng), quality
            )
            indices = rng.choice(len(frames), size=probes, replace=False)
            params, note = fault_params(fault, rng, strength)
            jpegs: list[bytes] = []
            truth: list[Health] = []
            transient = fault is ImageFault.NONE and rng.random() < 0.25
            for n, index in enumerate(indices):
                truth.append(LABEL_OF[fault] if n or fault is not ImageFault.FROZEN else Health.OK)
                if fault is ImageFault.FROZEN and jpegs:
                    jpegs.append(jpegs[-1])  # the camera keeps sending the same picture
                    continue
                frame_params, frame_fault = params, fault
                if fault is ImageFault.FROZEN:
                    frame_fault = ImageFault.NONE
                elif fault in {ImageFault.NONE, ImageFault.DARK}:
                    jitter = (int(rng.integers(-6, 7)), int(rng.integers(-4, 5)))
                    frame_params = FaultParams(
                        gain=float(rng.uniform(0.7, 1.3)),
                        noise=params.noise,
                        shift=jitter,
                        dark_gain=params.dark_gain,
                        dark_noise=params.dark_noise,
                    )
                    frame_fault = ImageFault.MOVED if fault is ImageFault.NONE else fault
                if transient and n == probes // 2:
                    if rng.random() < 0.5:
                        frame_params = FaultParams(cover_fraction=0.5, cover_side="bottom")
                        frame_fault = ImageFault.COVERED
                        truth[-1] = Health.COVERED  # at that instant the view is covered
                        note = "a truck passes"
                    else:
                        frame_params, frame_fault = FaultParams(gain=1.7), ImageFault.NONE
                        note = "a headlight flash"
                image = apply(frames[int(index)], frame_fault, frame_params, rng)
                jpegs.append(encode_jpeg(image, quality))
            clips.append(Clip(LABEL_OF[fault], jpegs, truth, reference, note))
    return clips


def _table(title: str, pairs: list[tuple[Health, Health]]) -> dict[str, float]:
    """Print a confusion matrix and precision/recall; return each fault class's recall."""
    counts = Counter(pairs)
    width = 9
    print(f"\n{title} (rows: truth, columns: verdict)")
    print(" " * width + "".join(c.rjust(width) for c in CLASSES) + "   recall precision")
    recalls: dict[str, float] = {}
    for truth in Health:
        row_total = sum(counts[(truth, v)] for v in Health)
        if row_total == 0:
            continue
        column_total = sum(counts[(t, truth)] for t in Health)
        recall = counts[(truth, truth)] / row_total
        precision = counts[(truth, truth)] / column_total if column_total else float("nan")
        recalls[truth.value] = recall
        cells = "".join(str(counts[(truth, v)]).rjust(width) for v in Health)
        print(f"{truth.value:<{width}}{cells}   {recall:6.3f} {precision:9.3f}")
    return recalls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=120, help="clips per class")
    parser.add_argument("--probes", type=int, default=4, help="frames per clip")
    parser.add_argument("--confirm", type=int, default=3, help="consecutive faulty probes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--hard",
        action="store_true",
        help="borderline faults (blur sigma 1.2-2, covers 25-40%%, pans 3.5-7%%) to find the edge",
    )
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    frames = load_footage()
    clips = build_clips(frames, args.clips, args.probes, rng, HARD if args.hard else CLEAR)
    built = time.perf_counter() - started
    frame_pairs: list[tuple[Health, Health]] = []
    clip_pairs: list[tuple[Health, Health]] = []
    misses: list[str] = []
    analysis_s = 0.0
    analysed = 0
    for clip in clips:
        reference = to_gray(decode_jpeg(clip.reference))
        monitor = ImageMonitor(reference, confirm_after=args.confirm)
        state = Health.OK
        for n, data in enumerate(clip.jpegs):
            image = decode_jpeg(data)
            t0 = time.perf_counter()
            observation = monitor.observe(image, data, at=float(n * 60))
            analysis_s += time.perf_counter() - t0
            analysed += 1
            state = observation.confirmed.health
            frame_pairs.append((clip.frame_truth[n], observation.verdict.health))
        clip_pairs.append((clip.label, state))
        if state is not clip.label and len(misses) < 12:
            misses.append(f"  {clip.label.value} -> {state.value} ({clip.note})")

    print(
        f"footage: {find_footage().name}, {len(frames)} frames; {len(clips)} clips of "
        f"{args.probes} probes ({args.clips} per class, {'borderline' if args.hard else 'clear'} "
        f"faults), confirmation after {args.confirm}; "
        f"set built in {built:.1f} s"
    )
    print(f"analysis: {analysis_s / analysed * 1000:.2f} ms per frame (decode excluded)")
    frame_recall = _table("per frame (raw verdicts)", frame_pairs)
    clip_recall = _table("per clip (confirmed state reported by the agent)", clip_pairs)
    healthy = [(t, v) for t, v in clip_pairs if not t.is_fault]
    healthy_frames = [(t, v) for t, v in frame_pairs if not t.is_fault]
    false_fault_rate = sum(v.is_fault for _, v in healthy) / len(healthy)
    frame_false_rate = sum(v.is_fault for _, v in healthy_frames) / len(healthy_frames)
    print(
        f"\nhealthy clips flagged as a fault: {false_fault_rate:.4f}; healthy frames flagged "
        f"without confirmation (baseline, same run): {frame_false_rate:.4f}"
    )
    if misses:
        print("some misclassified clips:\n" + "\n".join(misses))
    min_frame = min(frame_recall[f] for f in FAULTS)
    min_clip = min(clip_recall[f] for f in FAULTS)
    print(f"lowest fault recall: per frame {min_frame:.4f}, per clip {min_clip:.4f}")
    print(f"min_fault_recall={min_clip:.4f} false_fault_rate={false_fault_rate:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
