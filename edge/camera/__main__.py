"""``python -m edge.camera analyze --reference REF.jpg FRAME.jpg [...]`` (or one VIDEO_FILE).

Prints one JSON object: ``status`` (ok, dark, black, frozen, blurred, covered, moved) confirmed over
the frames in time order, and each frame's measured values. Exit code 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge.camera.analyze import InputError, analyze_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge.camera", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="judge frames or a video against a reference frame")
    analyze.add_argument("--reference", type=Path, required=True, help="the camera's reference")
    analyze.add_argument("inputs", type=Path, nargs="+", help="frames in time order, or one video")
    analyze.add_argument("--confirm", type=int, default=3, help="consecutive faulty frames needed")
    analyze.add_argument("--every", type=float, default=1.0, help="video: seconds between samples")
    analyze.add_argument("--max-frames", type=int, default=300, help="video: frames at most")
    args = parser.parse_args(argv)

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
