"""Video files through PyAV (FFmpeg's libraries, bundled in the wheel): count, read and write frames.

Why PyAV and not torchcodec or decord: docs/video_data.md.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg")


class VideoReadError(RuntimeError):
    """A video file cannot be opened or decoded (missing, corrupt, no video stream)."""


def _av():
    try:
        import av  # optional extra ([video])
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ImportError("reading videos needs PyAV: pip install 'rmeeto[video]' (or pip install av)") from e
    return av


def _open(path: str):
    av = _av()
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError, ValueError) as e:
        raise VideoReadError(f"cannot open {path}: {e}") from e
    if not container.streams.video:
        container.close()
        raise VideoReadError(f"{path} has no video stream")
    return container


def _decode(container, stream) -> Iterable:
    av = _av()
    try:
        yield from container.decode(stream)
    except (av.FFmpegError, OSError, ValueError) as e:
        raise VideoReadError(f"cannot decode {container.name}: {e}") from e


def _video_stream(container, threads: int = 0):
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stream.codec_context.thread_count = max(0, int(threads))
    return stream


def count_frames(path: str, exact: bool = False) -> int:
    """Frames in the first video stream: the container's count, or (``exact``, or when the
    container has none) the number actually decoded."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        if stream.frames > 0 and not exact:
            return int(stream.frames)
        stream.thread_type = "AUTO"
        return sum(1 for _ in _decode(container, stream))
    finally:
        container.close()


class VideoTooShort(VideoReadError):
    """The video decodes but has fewer frames than the run needs."""


def _decode_wanted(container, stream, wanted: list[int]) -> tuple[dict, int]:
    """Decode from the start until every frame in sorted ``wanted`` is held; (frames, frames seen)."""
    got: dict[int, np.ndarray] = {}
    pos, k = 0, 0
    for frame in _decode(container, stream):
        if pos == wanted[k]:
            got[pos] = frame.to_ndarray(format="rgb24")
            k += 1
            if k == len(wanted):
                return got, pos + 1
        pos += 1
    return got, pos


def read_frames(path: str, indices: Sequence[int]) -> np.ndarray:
    """RGB frames ``indices`` (0-based, any order, repeats allowed) as ``uint8 (len, H, W, 3)``;
    decodes from the start and stops after the last wanted frame."""
    return read_sampled(path, lambda total: indices)


def read_sampled(path: str, pick: Callable[[int], Sequence[int]], min_frames: int = 1,
                 threads: int = 0) -> np.ndarray:
    """Open ``path`` once, choose the frames with ``pick(total_frames)`` and decode them.

    ``threads``: decoder threads (0: FFmpeg's choice; 1 in DataLoader workers, which already
    use every core between them).

    ``total_frames`` is the container's count. When the container has none (some MKV/WebM) or
    holds fewer frames than it claims, every frame is decoded once to count them, and ``pick`` is
    asked again with the true count. Fewer than ``min_frames`` frames raises :class:`VideoTooShort`."""
    container = _open(path)
    try:
        stream = _video_stream(container, threads)
        total = int(stream.frames)
        if total > 0:
            _check_length(path, total, min_frames)
            indices = _checked(pick(total), total)
            wanted = sorted(set(indices))
            got, _ = _decode_wanted(container, stream, wanted)
            if len(got) == len(wanted):
                return np.stack([got[i] for i in indices])
            container.close()
            container = _open(path)
            stream = _video_stream(container, threads)
        every = [f.to_ndarray(format="rgb24") for f in _decode(container, stream)]
    finally:
        container.close()
    _check_length(path, len(every), min_frames)
    indices = _checked(pick(len(every)), len(every))
    return np.stack([every[i] for i in indices])


def _check_length(path: str, total: int, min_frames: int) -> None:
    if total < max(1, min_frames):
        raise VideoTooShort(f"{path} has {total} frames, fewer than the {max(1, min_frames)} needed")


def _checked(indices: Sequence[int], total: int) -> list[int]:
    out = [int(i) for i in indices]
    if not out:
        raise ValueError("no frame indices were asked for")
    bad = [i for i in out if not 0 <= i < total]
    if bad:
        raise VideoReadError(f"frame {bad[0]} was asked for, but the video has {total} frames")
    return out


def write_video(path: str, frames: np.ndarray, fps: int = 8, crf: int = 18, codec: str = "libx264") -> None:
    """Write ``uint8 (T, H, W, 3)`` RGB frames as an H.264 MP4 (yuv420p; H and W must be even).
    One encoder thread, so that the same frames always give the same bytes."""
    av = _av()
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 with yuv420p needs even height and width, got {h}x{w}")
    with av.open(path, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(crf), "preset": "medium"} if codec == "libx264" else {}
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[i]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
