"""Draw labels and scores on video frames and write them as a video file with OpenCV.

Shared by ``demo/demo.py --out-filename`` and :class:`~videoalign.engine.hooks.VideoVisualizationHook`
(``tools/test.py --show-dir``). Frames are handled as OpenCV does: ``(H, W, 3)`` ``uint8`` BGR arrays. Videos are
written with ``cv2.VideoWriter`` (``mp4v`` for ``.mp4``/``.m4v``/``.mov``, ``MJPG`` for ``.avi``), which needs no
package beyond the pinned OpenCV.
"""
import functools
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

ColorType = Union[str, Sequence[int]]

_OUTLINE = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
#: FourCC codes by file extension
FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG'}


@functools.lru_cache(maxsize=64)
def _named_color(name: str) -> List[int]:
    """``[R, G, B]`` of a matplotlib colour name or hex code (cached: frames are drawn with the same colour)."""
    from matplotlib.colors import to_rgb
    try:
        return [round(c * 255) for c in to_rgb(name)]
    except ValueError:
        raise ValueError(f'unknown colour {name!r}: give a name (white), a hex code (#ff8800) or R,G,B') from None


def parse_color(color: ColorType) -> Tuple[int, int, int]:
    """An OpenCV BGR colour from a colour name or hex code (matplotlib's, e.g. ``'white'``, ``'#ff8800'``), an
    ``'R,G,B'`` string or an ``(R, G, B)`` sequence of 0-255 values.

    Args:
        color (str | Sequence[int]): The colour.

    Returns:
        tuple[int, int, int]: ``(B, G, R)``.

    Raises:
        ValueError: If the colour is not understood.
    """
    if isinstance(color, str) and ',' in color:
        color = [part.strip() for part in color.split(',')]
    if isinstance(color, str):
        rgb = _named_color(color)
    else:
        try:
            rgb = [int(c) for c in color]
        except (TypeError, ValueError):
            raise ValueError(f'unknown colour {color!r}: give a name (white), a hex code (#ff8800) or R,G,B') from None
        if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
            raise ValueError(f'colour {color!r}: R,G,B needs three values in 0-255')
    return rgb[2], rgb[1], rgb[0]


def adaptive_font_scale(frame_shape: Sequence[int]) -> float:
    """An OpenCV font scale that suits the frame size: 0.5 for a short side of 224 pixels, in ``[0.25, 3]``.

    Args:
        frame_shape (Sequence[int]): ``(H, W, ...)``.

    Returns:
        float: The font scale.
    """
    return min(max(min(frame_shape[:2]) / 448, 0.25), 3.0)


def draw_text_lines(frame: np.ndarray,
                    lines: Sequence[str],
                    font_scale: Optional[float] = None,
                    font_color: ColorType = 'white') -> np.ndarray:
    """Draw lines of text from the top-left corner of a frame, outlined in black so that they read on any background.

    Args:
        frame (np.ndarray): ``(H, W, 3)`` ``uint8`` BGR frame (not changed).
        lines (Sequence[str]): The lines, top first.
        font_scale (float, optional): OpenCV font scale. Defaults to None (:func:`adaptive_font_scale`).
        font_color (str | Sequence[int]): Text colour, see :func:`parse_color`. Defaults to ``'white'``.

    Returns:
        np.ndarray: A copy of the frame with the text.
    """
    canvas = np.ascontiguousarray(frame).copy()
    scale = adaptive_font_scale(canvas.shape) if font_scale is None else font_scale
    color = parse_color(font_color)
    font = cv2.FONT_HERSHEY_SIMPLEX
    thickness = max(1, round(scale * 2))
    margin = max(2, round(6 * scale))
    y = margin
    for line in lines:
        (_, height), baseline = cv2.getTextSize(line, font, scale, thickness)
        y += height
        for dx, dy in _OUTLINE:  # a thicker stroke would advance the glyphs further: shift the same stroke instead
            cv2.putText(canvas, line, (margin + dx, y + dy), font, scale, (0, 0, 0), thickness, cv2.LINE_AA)
        cv2.putText(canvas, line, (margin, y), font, scale, color, thickness, cv2.LINE_AA)
        y += baseline + margin
    return canvas


def score_lines(results: Iterable[Tuple[str, float]], gt_label: Optional[str] = None) -> List[str]:
    """The text drawn on a frame: ``gt: <label>`` (if given), then one ``<label>: <score>`` line per result.

    Args:
        results (Iterable[tuple[str, float]]): ``(label, score)`` pairs, best first.
        gt_label (str, optional): The ground-truth label. Defaults to None.

    Returns:
        list[str]: The lines.
    """
    lines = [f'gt: {gt_label}'] if gt_label is not None else []
    return lines + [f'{label}: {score:.2f}' for label, score in results]


def resize_frame(frame: np.ndarray, target_resolution: Optional[Sequence[int]]) -> np.ndarray:
    """Resize a frame to ``(width, height)``; -1 for one of them keeps the aspect ratio (mmaction2's rule).

    Args:
        frame (np.ndarray): ``(H, W, C)`` frame.
        target_resolution (Sequence[int], optional): ``(width, height)``; None keeps the frame as it is.

    Returns:
        np.ndarray: The resized frame.
    """
    if target_resolution is None:
        return frame
    width, height = target_resolution
    frame_h, frame_w = frame.shape[:2]
    if width == -1 and height == -1:
        return frame
    if width == -1:
        width = round(height / frame_h * frame_w)
    if height == -1:
        height = round(width / frame_w * frame_h)
    if width <= 0 or height <= 0:
        raise ValueError(f'target resolution {tuple(target_resolution)}: give positive sizes, or -1 for one of them')
    larger = width * height > frame_w * frame_h
    return cv2.resize(frame, (int(width), int(height)), interpolation=cv2.INTER_LINEAR if larger else cv2.INTER_AREA)


class VideoFileWriter:
    """Write BGR frames to a video file with ``cv2.VideoWriter`` (a context manager); the size is the first frame's.

    Args:
        out_filename (str): ``.mp4``, ``.m4v``, ``.mov`` (``mp4v``) or ``.avi`` (``MJPG``); its folder is created.
        fps (float): Frame rate.
    """

    def __init__(self, out_filename: str, fps: float) -> None:
        ext = osp.splitext(out_filename)[1].lower()
        self.codec = FOURCC.get(ext)
        if self.codec is None:
            raise ValueError(f'{out_filename}: the output must end with one of {", ".join(FOURCC)} (OpenCV writes '
                             f'the video)')
        if fps <= 0:
            raise ValueError(f'fps must be positive, got {fps}')
        self.out_filename = out_filename
        self.fps = float(fps)
        self.fourcc = cv2.VideoWriter_fourcc(*self.codec)
        self._writer: Optional[cv2.VideoWriter] = None
        self._size: Optional[Tuple[int, int]] = None
        self.num_frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append a ``(H, W, 3)`` ``uint8`` BGR frame (resized to the first frame's size if it differs)."""
        if self._writer is None:
            self._size = (frame.shape[1], frame.shape[0])
            folder = osp.dirname(osp.abspath(self.out_filename))
            os.makedirs(folder, exist_ok=True)
            self._writer = cv2.VideoWriter(self.out_filename, self.fourcc, self.fps, self._size)
            if not self._writer.isOpened():
                raise OSError(f'OpenCV cannot write {self.out_filename} (codec {self.codec})')
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(np.ascontiguousarray(frame, dtype=np.uint8))
        self.num_frames += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> 'VideoFileWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_video(frames: Iterable[np.ndarray], out_filename: str, fps: float) -> int:
    """Write BGR frames to a video file (see :class:`VideoFileWriter`).

    Args:
        frames (Iterable[np.ndarray]): ``(H, W, 3)`` ``uint8`` BGR frames.
        out_filename (str): The file.
        fps (float): Frame rate.

    Returns:
        int: The number of frames written.
    """
    with VideoFileWriter(out_filename, fps) as writer:
        for frame in frames:
            writer.write(frame)
    if writer.num_frames == 0:
        raise ValueError(f'no frame to write to {out_filename}')
    return writer.num_frames


def input_to_frames(inputs) -> Optional[np.ndarray]:
    """The frames of the first view of one sample's model input, as ``(T, H, W, 3)`` ``uint8`` RGB, or None.

    A sample's input (before the data preprocessor) is ``(views, C, T, H, W)`` for ``NCTHW`` models and
    ``(frames, C, H, W)`` for ``NCHW`` models, with C = 3 (RGB) or 1 (grey). Values outside ``[0, 255]`` (a
    normalised input) are rescaled to it. Anything else (features, other channel counts) gives None.

    Args:
        inputs (torch.Tensor | np.ndarray): One sample's input.

    Returns:
        np.ndarray | None: The frames.
    """
    ndim = getattr(inputs, 'ndim', None)
    if ndim == 5:
        inputs = inputs[0]  # the first view: the others are not converted
    if hasattr(inputs, 'detach'):
        inputs = inputs.detach().cpu()
        array = (inputs if inputs.dtype == torch.uint8 else inputs.float()).numpy()
    else:
        array = np.asarray(inputs)
    if ndim == 5:
        array = array.transpose(1, 2, 3, 0)  # (C, T, H, W) -> (T, H, W, C)
    elif array.ndim == 4:
        array = array.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    else:
        return None
    if array.shape[-1] not in (1, 3) or array.size == 0:
        return None
    if array.dtype != np.uint8:
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 255:
            array = (array - low) / max(high - low, 1e-6) * 255
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return array


def write_labelled_video(video: str,
                         out_filename: str,
                         lines: Sequence[str],
                         fps: Optional[float] = None,
                         font_scale: Optional[float] = None,
                         font_color: ColorType = 'white',
                         target_resolution: Optional[Sequence[int]] = None,
                         chunk: int = 64) -> int:
    """Read every frame of a video with decord, draw ``lines`` on it and write the result with OpenCV.

    Args:
        video (str): The input video.
        out_filename (str): The output video (see :class:`VideoFileWriter` for the extensions).
        lines (Sequence[str]): The text drawn on every frame (e.g. :func:`score_lines`).
        fps (float, optional): Output frame rate. Defaults to None (the input's, else 30).
        font_scale (float, optional): OpenCV font scale. Defaults to None (from the frame size).
        font_color (str | Sequence[int]): Text colour, see :func:`parse_color`. Defaults to ``'white'``.
        target_resolution (Sequence[int], optional): ``(width, height)`` of the output; -1 for one of them keeps
            the aspect ratio. Defaults to None (the input's size).
        chunk (int): Frames decoded at a time. Defaults to 64.

    Returns:
        int: The number of frames written (the input's).
    """
    import decord
    reader = decord.VideoReader(video, num_threads=1)
    num_frames = len(reader)
    if num_frames == 0:
        raise ValueError(f'{video} has no frame')
    if fps is None:
        fps = reader.get_avg_fps() or 30.0
    with VideoFileWriter(out_filename, fps) as writer:
        for start in range(0, num_frames, chunk):
            batch = reader.get_batch(list(range(start, min(start + chunk, num_frames)))).asnumpy()
            for frame in batch:
                frame = resize_frame(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), target_resolution)
                writer.write(draw_text_lines(frame, lines, font_scale, font_color))
    return writer.num_frames
