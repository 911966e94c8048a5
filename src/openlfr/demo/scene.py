"""A deterministic synthetic street scene: kit photos walking past a camera, encoded with PyAV.

The kit's real clip has only two recurring people, too few to show a watchlist
at work. This composes a scene from *other* photos of listed volunteers and
from people who are not listed: heads cut out of the photos with a feathered
oval, on simple bodies, crossing a drawn street at different distances (face
sizes) and speeds, some with motion blur. Everything follows one seed, so the
same kit always gives the same frames. The clip is written once into the demo's
home (it holds only the kit's redistributable faces) and reused.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from openlfr.demo.cast import Passer

Image = npt.NDArray[np.uint8]
FaceBox = tuple[float, float, float, float]  # x, y, width, height in the photo's pixels
Locate = Callable[[Image], FaceBox | None]
"""Finds the main face in a photo (the demo passes the configured detector)."""

SCENE_VERSION = 1  # bump when the drawing changes, so cached clips are rebuilt


@dataclass(frozen=True, slots=True)
class SceneConfig:
    """How the street looks and moves. Faces are ``face_px`` tall from far to near."""

    width: int = 960
    height: int = 540
    fps: int = 12
    seed: int = 2024
    spacing_s: float = 2.3  # between two people entering
    crossing_s: tuple[float, float] = (6.0, 9.0)
    face_px: tuple[int, int] = (56, 118)
    blur_share: float = 0.3  # people filmed with motion blur
    first_listed: bool = True  # a listed person enters first, so the first alert comes soon


@dataclass(frozen=True, slots=True)
class Walker:
    """One crossing: who, when, how fast, how far from the camera, how blurred."""

    identity: str
    listed_as: str | None
    enter_s: float
    crossing_s: float
    leftwards: bool
    depth: float  # 0 far … 1 near
    blur_px: int
    colour: tuple[int, int, int]

    def visible_at(self, t: float) -> bool:
        return self.enter_s <= t <= self.enter_s + self.crossing_s


@dataclass(frozen=True, slots=True)
class Scene:
    """The whole timeline; the clip loops seamlessly (it starts and ends empty)."""

    config: SceneConfig
    walkers: tuple[Walker, ...]
    duration_s: float

    @property
    def frames(self) -> int:
        return round(self.duration_s * self.config.fps)

    def listed_walkers(self) -> list[str]:
        """The watchlist references of the listed people who walk by, in order."""
        return [w.listed_as for w in self.walkers if w.listed_as is not None]


_CLOTHES = [
    (60, 60, 140), (40, 90, 40), (150, 110, 60), (90, 40, 90), (30, 30, 30),
    (170, 170, 170), (40, 120, 170), (120, 80, 30), (80, 80, 200), (200, 140, 90),
]  # fmt: skip


def plan_scene(cast: Sequence[Passer], config: SceneConfig | None = None) -> Scene:
    """The timeline for ``cast``: a seeded order, speeds, distances and blur."""
    config = config or SceneConfig()
    rng = np.random.default_rng(config.seed)
    order = [cast[i] for i in rng.permutation(len(cast))]
    if config.first_listed:
        first = next((p for p in order if p.listed_as is not None), None)
        if first is not None:
            order.remove(first)
            order.insert(0, first)
    walkers = []
    t = 0.2
    for i, person in enumerate(order):
        listed_first = i == 0 and person.listed_as is not None
        crossing = float(rng.uniform(*config.crossing_s))
        depth = float(rng.uniform(0.35, 1.0) if person.listed_as else rng.uniform(0.0, 1.0))
        blurred = not listed_first and bool(rng.random() < config.blur_share)
        walkers.append(
            Walker(
                identity=person.identity,
                listed_as=person.listed_as,
                enter_s=round(t, 3),
                crossing_s=round(crossing, 3),
                leftwards=bool(rng.random() < 0.5),
                depth=round(depth, 3),
                blur_px=int(rng.choice([5, 9, 13])) if blurred else 0,
                colour=_CLOTHES[int(rng.integers(len(_CLOTHES)))],
            )
        )
        t += config.spacing_s * float(rng.uniform(0.7, 1.3))
    end = max(w.enter_s + w.crossing_s for w in walkers) if walkers else 1.0
    return Scene(config, tuple(walkers), round(end + 0.5, 3))


@dataclass(frozen=True, slots=True)
class _Sprite:
    """A head cut out of a photo at its on-screen size: colour and alpha (0–1)."""

    bgr: npt.NDArray[np.float32]
    alpha: npt.NDArray[np.float32]
    face_h: float
    chin_y: float  # where the chin is, from the sprite's top


def _sprite(photo: Image, box: FaceBox, face_px: float, blur_px: int) -> _Sprite:
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    top, bottom = max(0.0, cy - 1.2 * h), min(float(photo.shape[0]), cy + 0.85 * h)
    left, right = max(0.0, cx - 0.95 * w), min(float(photo.shape[1]), cx + 0.95 * w)
    region = photo[int(top) : int(bottom), int(left) : int(right)]
    scale = face_px / h
    size = (max(8, round(region.shape[1] * scale)), max(8, round(region.shape[0] * scale)))
    bgr = cv2.resize(region, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = np.zeros((size[1], size[0]), np.float32)
    centre = (size[0] // 2, round((cy - top) * scale * 0.92))
    axes = (round(0.37 * size[0]), round(min(centre[1], size[1] - centre[1]) * 0.96))
    cv2.ellipse(alpha, centre, axes, 0, 0, 360, 1.0, -1)
    feather = 2 * max(1, round(0.05 * size[0])) + 1
    alpha = np.asarray(cv2.GaussianBlur(alpha, (feather, feather), 0), np.float32)
    if blur_px:
        # Motion blur along the walk: what a shutter does to someone passing quickly.
        kernel = np.full((1, blur_px), 1.0 / blur_px, np.float32)
        bgr = np.asarray(cv2.filter2D(bgr, -1, kernel), np.float32)
        alpha = np.asarray(cv2.filter2D(alpha, -1, kernel), np.float32)
    return _Sprite(bgr, alpha, face_px, (cy + 0.55 * h - top) * scale)


def _background(config: SceneConfig) -> Image:
    """A street: sky, shop fronts with windows, a pavement; drawn from the seed."""
    rng = np.random.default_rng(config.seed + 1)
    w, h = config.width, config.height
    image = np.zeros((h, w, 3), np.uint8)
    sky = np.linspace(235, 200, int(0.2 * h))[:, None]
    image[: sky.shape[0]] = np.dstack([sky + 10, sky, sky - 15]).astype(np.uint8)
    base = int(0.66 * h)
    x = 0
    while x < w:
        fw = int(rng.integers(110, 230))
        top = int(rng.integers(int(0.05 * h), int(0.2 * h)))
        tone = rng.integers(70, 170, 3)
        cv2.rectangle(image, (x, top), (x + fw, base), tuple(int(c) for c in tone), -1)
        for wy in range(top + 18, base - 70, 46):
            for wx in range(x + 14, x + fw - 30, 38):
                cv2.rectangle(image, (wx, wy), (wx + 22, wy + 28), (95, 85, 70), -1)
        cv2.rectangle(image, (x + 8, base - 64), (x + fw - 8, base - 8), (60, 70, 80), -1)
        x += fw + 4
    image[base:] = (128, 130, 132)
    for yy in range(base + 30, h, 36):
        cv2.line(image, (0, yy), (w, yy), (112, 114, 116), 1)
    return image


def _caption(image: Image) -> None:
    """Says on every frame what this is, on top of everything else."""
    cv2.putText(
        image,
        "openlfr demo - synthetic scene from CC BY / CC0 photos",
        (10, image.shape[0] - 10),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (245, 245, 245),
        1,
        cv2.LINE_AA,
    )


class SceneRenderer:
    """Draws any frame of a scene (the same frame for the same index, always)."""

    def __init__(self, scene: Scene, photos: dict[str, Path], locate: Locate) -> None:
        self.scene = scene
        c = scene.config
        self._background = _background(c)
        self._sprites: dict[int, _Sprite] = {}
        for i, walker in enumerate(scene.walkers):
            read = cv2.imread(str(photos[walker.identity]), cv2.IMREAD_COLOR)
            if read is None:
                raise ValueError(f"{photos[walker.identity]}: not a readable photo")
            photo = np.asarray(read, np.uint8)
            box = locate(photo)
            if box is None:
                raise ValueError(f"{photos[walker.identity]}: no face found")
            face_px = c.face_px[0] + walker.depth * (c.face_px[1] - c.face_px[0])
            self._sprites[i] = _sprite(photo, box, face_px, walker.blur_px)

    def frame(self, index: int) -> Image:
        c = self.scene.config
        t = index / c.fps
        canvas = self._background.astype(np.float32)
        live = [i for i, w in enumerate(self.scene.walkers) if w.visible_at(t)]
        for i in sorted(live, key=lambda i: self.scene.walkers[i].depth):
            self._draw(canvas, self.scene.walkers[i], self._sprites[i], t)
        image = np.clip(canvas, 0, 255).astype(np.uint8)
        _caption(image)
        return image

    def _draw(self, canvas: npt.NDArray[np.float32], w: Walker, s: _Sprite, t: float) -> None:
        c = self.scene.config
        sh, sw = s.alpha.shape
        progress = (t - w.enter_s) / w.crossing_s
        if w.leftwards:
            progress = 1.0 - progress
        cx = -sw + progress * (c.width + 2 * sw)
        head_cy = (0.34 + 0.2 * w.depth) * c.height
        head_cy += 0.03 * s.face_h * math.sin(2 * math.pi * 1.8 * (t - w.enter_s))
        top, left = round(head_cy - s.chin_y * 0.6), round(cx - sw / 2)
        # The body first: shoulders and a coat down to the bottom of the picture.
        chin = top + round(s.chin_y)
        shoulders = round(1.05 * s.face_h)
        body = np.array(
            [
                (left + sw // 2 - shoulders, c.height),
                (left + sw // 2 - shoulders, chin + round(0.45 * s.face_h)),
                (left + sw // 2 - round(0.3 * s.face_h), chin),
                (left + sw // 2 + round(0.3 * s.face_h), chin),
                (left + sw // 2 + shoulders, chin + round(0.45 * s.face_h)),
                (left + sw // 2 + shoulders, c.height),
            ],
            np.int32,
        )
        cv2.fillPoly(canvas, [body], tuple(float(v) for v in w.colour))
        y0, y1 = max(0, top), min(c.height, top + sh)
        x0, x1 = max(0, left), min(c.width, left + sw)
        if y0 >= y1 or x0 >= x1:
            return
        a = s.alpha[y0 - top : y1 - top, x0 - left : x1 - left, None]
        patch = s.bgr[y0 - top : y1 - top, x0 - left : x1 - left]
        region = canvas[y0:y1, x0:x1]
        canvas[y0:y1, x0:x1] = region * (1.0 - a) + patch * a


@dataclass(frozen=True, slots=True)
class SceneClip:
    """An encoded scene on disk and the timeline it shows."""

    path: Path
    scene: Scene


def scene_digest(scene: Scene, photos: dict[str, Path]) -> str:
    """Identifies a clip: drawing version, timeline and the bytes of every photo in it."""
    h = hashlib.sha256(f"scene-v{SCENE_VERSION}\n".encode())
    h.update(json.dumps(asdict(scene), sort_keys=True, default=str).encode())
    for identity in sorted({w.identity for w in scene.walkers}):
        h.update(hashlib.sha256(photos[identity].read_bytes()).digest())
    return h.hexdigest()[:16]


def write_clip(renderer: SceneRenderer, path: Path) -> None:
    """Encode every frame as H.264 (PyAV), into a temporary name renamed when complete."""
    c = renderer.scene.config
    partial = path.with_name(path.name + ".partial")
    with av.open(str(partial), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(c.fps))
        stream.width, stream.height, stream.pix_fmt = c.width, c.height, "yuv420p"
        stream.options = {"crf": "21", "preset": "veryfast", "g": str(2 * c.fps)}
        for i in range(renderer.scene.frames):
            frame = av.VideoFrame.from_ndarray(renderer.frame(i), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    os.replace(partial, path)


def ensure_clip(
    folder: Path, cast: Sequence[Passer], locate: Locate, config: SceneConfig | None = None
) -> SceneClip:
    """The scene's clip in ``folder``, composed and encoded only if it is not there yet."""
    scene = plan_scene(cast, config)
    photos = {p.identity: p.photo for p in cast}
    path = folder / f"street-scene-{scene_digest(scene, photos)}.mp4"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_clip(SceneRenderer(scene, photos, locate), path)
    return SceneClip(path, scene)
