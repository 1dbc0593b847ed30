"""Camera image health from the command line.

``python -m edge.camera analyze --reference REF.jpg FRAME.jpg [...]`` (or one VIDEO_FILE) prints one
JSON object: ``status`` (ok, dark, black, frozen, blurred, covered, moved) confirmed over the frames
in time order, and each frame's measured values. Exit code 2 on unreadable input.

``python -m edge.camera reference CONFIG DEVICE_ID [--from IMAGE]`` (re)takes a camera's reference
frame: a snapshot now (or the given image), stored where the agent's probe reads it; a running
agent picks it up at its next probe.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge.camera.analyze import InputError, analyze_files, read_image
from edge.camera.reference import reference_path, save_reference
from edge.config import ConfigError, load
from edge.probes.camera import CameraSnapshotConfig, Failure


def rebaseline(config_path: Path, device_id: str, image_path: Path | None) -> int:
    try:
        config = load(config_path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    device = next((d for d in config.devices if d.id == device_id), None)
    if not isinstance(device, CameraSnapshotConfig):
        print(f"error: {config_path}: no camera_snapshot device {device_id!r}", file=sys.stderr)
        return 2
    if device.reference_dir is None:
        print(f"error: device {device_id!r} has no reference_dir to store it in", file=sys.stderr)
        return 2
    if image_path is not None:
        loaded = read_image(image_path)
        if loaded is None:
            print(f"error: {image_path}: not an image", file=sys.stderr)
            return 2
        frame = loaded[0]
    else:
        snapshot = device.build().fetch()
        if isinstance(snapshot, Failure):
            print(f"error: no snapshot from {device_id!r}: {snapshot.reason}", file=sys.stderr)
            return 1
        frame = snapshot.frame
    path = reference_path(device.reference_dir, device_id)
    kept = save_reference(path, frame)
    size = f"{kept.shape[1]}x{kept.shape[0]}"
    print(f"reference for {device_id} stored in {path} ({size} analysis image)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge.camera", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="judge frames or a video against a reference frame")
    analyze.add_argument("--reference", type=Path, required=True, help="the camera's reference")
    analyze.add_argument("inputs", type=Path, nargs="+", help="frames in time order, or one video")
    analyze.add_argument("--confirm", type=int, default=3, help="consecutive faulty frames needed")
    analyze.add_argument("--every", type=float, default=1.0, help="video: seconds between samples")
    analyze.add_argument("--max-frames", type=int, default=300, help="video: frames at most")
    reference = sub.add_parser("reference", help="(re)take a camera's reference frame")
    reference.add_argument("config", type=Path, help="the agent's configuration file")
    reference.add_argument("device_id", help="the camera's device id")
    reference.add_argument("--from", dest="image", type=Path, help="use this image, not a snapshot")
    args = parser.parse_args(argv)

    if args.command == "reference":
        return rebaseline(args.config, args.device_id, args.image)
    if args.confirm < 1 or args.every <= 0 or args.max_frames < 1:
        print("error: --confirm, --every and --max-frames must be positive", file=sys.stderr)
        return 2
    try:
        answer = analyze_files(
            args.reference, args.inputs, args.confirm, args.every, args.max_frames
        )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(answer, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
