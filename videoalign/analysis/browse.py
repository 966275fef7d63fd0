"""Frames of what a data pipeline yields, as videos (``tools/analysis/browse_dataset.py`` is the command line).

A pipeline step's output is shown through its ``imgs`` (a list of ``H x W x C`` RGB frames before ``FormatShape``, an
array in the ``input_format`` layout after it) or, after ``PackActionInputs``, its ``inputs`` tensor:

- ``NCTHW`` (``N`` views of ``T`` frames, 3D models): the views are tiled in a grid, ``T`` frames;
- ``NCHW`` (``N`` frames of all clips and crops, 2D models): the ``N`` frames one after the other.

Clips are uint8 in [0, 255] (normalisation happens in the data preprocessor); a float array is clipped to that range
(scaled by 255 first when it lies in [0, 1]). One channel is shown as grey, two (optical flow) with a zero third.
"""
import math
from typing import Any, List, Optional, Sequence

import cv2
import numpy as np
import torch

from ..visualization.video_labels import write_video as write_bgr_video


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """An image array as uint8: floats in [0, 1] scaled by 255, then clipped to [0, 255]."""
    if array.dtype == np.uint8:
        return array
    array = array.astype(np.float32)
    if array.size and array.min() >= 0 and array.max() <= 1:
        array = array * 255
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    """An ``H x W x C`` frame with 1, 2 or 3 channels as ``H x W x 3`` uint8."""
    frame = _to_uint8(frame)
    if frame.ndim == 2:
        frame = frame[..., None]
    channels = frame.shape[2]
    if channels == 1:
        return np.repeat(frame, 3, axis=2)
    if channels == 2:
        return np.concatenate([frame, np.zeros_like(frame[..., :1])], axis=2)
    if channels == 3:
        return frame
    raise ValueError(f'a frame of {channels} channels cannot be shown (expected 1, 2 or 3; shape {frame.shape})')


def tile(views: Sequence[np.ndarray]) -> np.ndarray:
    """Tile same-size ``H x W x 3`` images in a near-square grid (black where the grid is not full)."""
    cols = math.ceil(math.sqrt(len(views)))
    rows = math.ceil(len(views) / cols)
    height, width = views[0].shape[:2]
    grid = np.zeros((rows * height, cols * width, 3), dtype=np.uint8)
    for i, view in enumerate(views):
        r, c = divmod(i, cols)
        grid[r * height:(r + 1) * height, c * width:(c + 1) * width] = view
    return grid


def frames_of(value: Any, layout: Optional[str] = None) -> List[np.ndarray]:
    """The frames (``H x W x 3`` uint8 RGB) that show an ``imgs`` value or an ``inputs`` tensor.

    Args:
        value (Any): A list of ``H x W x C`` frames, or an array / tensor in the ``layout`` of ``FormatShape``.
        layout (str, optional): ``'NCTHW'`` or ``'NCHW'``; None guesses from the number of dimensions (5: NCTHW,
            4: NCHW). Defaults to None.

    Returns:
        list[np.ndarray]: The frames; several views of ``NCTHW`` are tiled in each frame.

    Raises:
        ValueError: If the value cannot be shown (another layout, a wrong number of dimensions).
    """
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError('no frame to show (an empty imgs list)')
        return [_to_rgb(np.asarray(frame)) for frame in value]
    array = value.detach().cpu().float().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if layout is None:
        layout = {5: 'NCTHW', 4: 'NCHW'}.get(array.ndim)
    if layout == 'NCTHW' and array.ndim == 5:
        views = array.transpose(0, 2, 3, 4, 1)  # N T H W C
        return [tile([_to_rgb(view[t]) for view in views]) for t in range(views.shape[1])]
    if layout == 'NCHW' and array.ndim == 4:
        return [_to_rgb(frame) for frame in array.transpose(0, 2, 3, 1)]
    raise ValueError(f'cannot show an array of shape {tuple(array.shape)} in layout {layout}: expected a list of '
                     f'H x W x C frames, NCTHW (5 dimensions) or NCHW (4 dimensions)')


def _resize_to_height(frame: np.ndarray, height: int) -> np.ndarray:
    if frame.shape[0] == height:
        return frame
    width = max(1, round(frame.shape[1] * height / frame.shape[0]))
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)


def side_by_side(panels: Sequence[Sequence[np.ndarray]], height: Optional[int] = None) -> List[np.ndarray]:
    """Put several frame sequences next to each other, at one height; a shorter sequence holds its last frame.

    Args:
        panels (Sequence[Sequence[np.ndarray]]): The sequences (e.g. one per pipeline step).
        height (int, optional): The common height. Defaults to None (the tallest panel's).

    Returns:
        list[np.ndarray]: As many frames as the longest sequence.
    """
    height = height or max(p[0].shape[0] for p in panels)
    resized = [[_resize_to_height(f, height) for f in panel] for panel in panels]
    length = max(len(p) for p in resized)
    return [np.concatenate([p[min(t, len(p) - 1)] for p in resized], axis=1) for t in range(length)]


def write_video(path: str, frames: Sequence[np.ndarray], fps: float = 5.0) -> None:
    """Write RGB frames as an mp4 (OpenCV, mp4v codec; :func:`videoalign.visualization.video_labels.write_video`).

    Args:
        path (str): The ``.mp4`` file.
        frames (Sequence[np.ndarray]): Same-size ``H x W x 3`` uint8 RGB frames.
        fps (float): Frames per second. Defaults to 5.

    Raises:
        ValueError: If there is no frame or the frames differ in size.
        OSError: If OpenCV cannot open the file for writing.
    """
    if not frames:
        raise ValueError(f'{path}: no frame to write')
    height, width = frames[0].shape[:2]
    for i, frame in enumerate(frames):
        if frame.shape[:2] != (height, width):
            raise ValueError(f'{path}: frame {i} is {frame.shape[1]}x{frame.shape[0]}, frame 0 {width}x{height}')
    write_bgr_video((np.ascontiguousarray(frame[..., ::-1]) for frame in frames), path, fps)  # OpenCV writes BGR


def count_frames(path: str) -> int:
    """The number of frames OpenCV decodes from a video (read one by one, not the container's count)."""
    capture = cv2.VideoCapture(path)
    count = 0
    try:
        while capture.isOpened():
            ok, _ = capture.read()
            if not ok:
                break
            count += 1
    finally:
        capture.release()
    return count
