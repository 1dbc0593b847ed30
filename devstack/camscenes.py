"""Real scenes for the camera benchmarks, split once into tuning scenes and held-back scenes.

The sources are the real footage and photographs Debian's ``opencv-doc`` ships: a street video
(``vtest.avi``), streets and buildings, rooms, landscapes, a football match, dark film frames.
Each scene is one source (two views of the same place, like leuvenA and leuvenB or aero1 and
aero3, would leak between the sets, so only one of each pair is used). Thresholds are chosen on
``TUNE`` and reported on ``REPORT``; no scene is in both.

A still photograph stands for a fixed camera whose picture changes only by light, sensor noise,
pole shake and JPEG; the video adds people walking by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

DATA = Path("/usr/share/doc/opencv-doc/examples/data")

Image = npt.NDArray[np.uint8]
MAX_WIDTH = 768

# name: (file, frame of a video or None for a still photograph / every frame of a street video)
TUNE: dict[str, tuple[str, int | None]] = {
    "street-vtest": ("vtest.avi", None),
    "leuven-street": ("leuvenA.jpg", None),
    "aerial": ("aero1.jpg", None),
    "graffiti-wall": ("graf1.png", None),
    "baboon": ("baboon.jpg", None),
    "fruit-stall": ("fruits.jpg", None),
    "gym": ("basketball1.png", None),
    "shelf": ("box_in_scene.png", None),
    "office-chessboard": ("left01.jpg", None),
    "painting": ("starry_night.jpg", None),
    "orange-low-texture": ("orange.jpg", None),
    "render-dark": ("Blender_Suzanne1.jpg", None),
}
REPORT: dict[str, tuple[str, int | None]] = {
    "building": ("building.jpg", None),
    "house": ("home.jpg", None),
    "football": ("messi5.jpg", None),
    "board": ("board.jpg", None),
    "toys": ("rubberwhale1.png", None),
    "plant": ("aloeL.jpg", None),
    "butterfly": ("butterfly.jpg", None),
    "squirrel": ("squirrel_cls.jpg", None),
    "car-plate": ("licenseplate_motion.jpg", None),
    "desk-stuff": ("stuff.jpg", None),
    "apple-low-texture": ("apple.jpg", None),
    "film-dark-1": ("Megamind.avi", 60),
    "film-dark-2": ("Megamind.avi", 200),
    "tree-bright": ("tree.avi", 0),
}


@dataclass(frozen=True)
class Scene:
    name: str
    frames: list[Image]  # one for a photograph, many for a street video

    def frame(self, rng: np.random.Generator) -> Image:
        return self.frames[int(rng.integers(0, len(self.frames)))]


def _video(path: Path, only: int | None, step: int = 2) -> list[Image]:
    capture = cv2.VideoCapture(str(path))
    frames: list[Image] = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if (only is None and index % step == 0) or index == only:
            frames.append(np.asarray(frame, np.uint8))
        index += 1
    capture.release()
    return frames


def _fit(image: Image, width: int = MAX_WIDTH) -> Image:
    """Large photographs at a sub-stream's size (what the agent mostly probes)."""
    if image.shape[1] <= width:
        return image
    size = (width, round(image.shape[0] * width / image.shape[1]))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def load(split: Mapping[str, tuple[str, int | None]]) -> list[Scene]:
    scenes = []
    for name, (file, only) in split.items():
        path = DATA / file
        if path.suffix == ".avi":
            frames = _video(path, only)
        else:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            frames = [] if image is None else [np.asarray(image, np.uint8)]
        if not frames:
            raise FileNotFoundError(f"{path}: missing or unreadable (install Debian's opencv-doc)")
        scenes.append(Scene(name, [_fit(frame) for frame in frames]))
    return scenes
