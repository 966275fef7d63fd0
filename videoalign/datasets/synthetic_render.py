"""The classes of the synthetic dataset and how a clip is drawn: the class set and temporal pairs, colours and
shapes, the clip parameters (:class:`ClipParams`, :func:`sample_clip_params`) and the renderer
(:func:`render_forward`, :func:`render_clip`).

Part of :mod:`videoalign.datasets.synthetic`, which re-exports its public names.
"""
import dataclasses
from typing import Dict, Tuple, Union

import cv2
import numpy as np

SYNTHETIC_CLASSES: Tuple[str, ...] = ('move_left', 'move_right', 'move_up', 'move_down', 'grow', 'shrink',
                                      'rotate_clockwise', 'rotate_counterclockwise', 'appear', 'disappear')
"""The class names; the label of a class is its index."""

TEMPORAL_PAIRS: Tuple[Tuple[str, str], ...] = tuple(
    (SYNTHETIC_CLASSES[i], SYNTHETIC_CLASSES[i + 1]) for i in range(0, len(SYNTHETIC_CLASSES), 2))
"""``(A, B)`` pairs: a clip of class ``B`` is the time reversal of a clip of class ``A``."""

PALETTE: Dict[str, Tuple[int, int, int]] = {
    'red': (220, 40, 40),
    'green': (40, 200, 60),
    'blue': (50, 90, 235),
    'yellow': (240, 220, 40),
    'white': (245, 245, 245),
    'cyan': (40, 215, 225),
    'magenta': (215, 50, 215),
    'orange': (245, 140, 30),
}
"""Named RGB object colours."""

MIN_COLOR_DISTANCE = 120.0  # least Euclidean RGB distance between the object and the background colour
PLAIN_SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle')
ROTATION_SHAPES: Tuple[str, ...] = ('arrow', 'triangle')  # no rotational symmetry, so the direction is visible

_MOTIONS = ('translate_x', 'translate_y', 'scale', 'rotate', 'presence')  # one per pair, forward = class A
_SHIFT = 4  # sub-pixel bits for OpenCV drawing


@dataclasses.dataclass(frozen=True)
class ClipParams:
    """Everything needed to render one clip; all geometry describes the forward (class ``A``) sequence.

    Positions are in pixels (x to the right, y downwards), angles in degrees (increasing = clockwise on screen).
    Centre, radius and angle are interpolated linearly from their start to their end value over the clip.

    Args:
        pair_index (int): Index into :data:`TEMPORAL_PAIRS`.
        num_frames (int): Number of frames.
        size (int): Frame height and width.
        background (tuple): Background RGB colour.
        background_name (str): ``'dark'`` or ``'light'``.
        color_name (str): Key of :data:`PALETTE`.
        shape (str): ``'circle'``, ``'square'``, ``'triangle'`` or ``'arrow'``.
        center_start (tuple): ``(x, y)`` of the object centre in the first forward frame.
        center_end (tuple): ``(x, y)`` in the last forward frame.
        radius_start (float): Radius of the circle that bounds the object in the first forward frame.
        radius_end (float): Bounding radius in the last forward frame.
        angle_start (float): Orientation in the first forward frame.
        angle_end (float): Orientation in the last forward frame.
        visible_from (int): First forward frame in which the object is drawn.
        marker (bool): Whether to punch a background-coloured dot near the object's tip.
        noise_std (float): Standard deviation of the Gaussian pixel noise.
        noise_seed (int): Seed of the pixel noise.
    """

    pair_index: int
    num_frames: int
    size: int
    background: Tuple[int, int, int]
    background_name: str
    color_name: str
    shape: str
    center_start: Tuple[float, float]
    center_end: Tuple[float, float]
    radius_start: float
    radius_end: float
    angle_start: float
    angle_end: float
    visible_from: int
    marker: bool
    noise_std: float
    noise_seed: int


def _check_int(name: str, value, minimum: int) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``value`` is an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')


def _check_geometry(num_frames: int, size: int) -> None:
    """Validate the clip geometry shared by all entry points."""
    _check_int('num_frames', num_frames, 4)
    _check_int('size', size, 32)
    if size % 2:
        raise ValueError(f'size must be even (the mp4v encoder crops odd sizes), got {size!r}')


def _label_index(label: Union[int, str]) -> int:
    """Turn a class name or label into a label."""
    if isinstance(label, str):
        if label not in SYNTHETIC_CLASSES:
            raise ValueError(f'label must be one of {SYNTHETIC_CLASSES}, got {label!r}')
        return SYNTHETIC_CLASSES.index(label)
    _check_int('label', label, 0)
    if label >= len(SYNTHETIC_CLASSES):
        raise ValueError(f'label must be < {len(SYNTHETIC_CLASSES)}, got {label!r}')
    return int(label)


def _sample_colors(rng: np.random.Generator) -> Tuple[Tuple[int, int, int], str, str]:
    """Draw a background colour (dark or light, grey or muted) and an object colour well separated from it."""
    dark = bool(rng.random() < 0.5)
    level = rng.uniform(25, 75) if dark else rng.uniform(165, 215)
    tint = rng.uniform(-25, 25, size=3) * (rng.random() < 0.5)  # half grey, half a muted colour
    background = tuple(int(v) for v in np.clip(np.rint(level + tint), 0, 255))
    candidates = [
        name for name, rgb in PALETTE.items() if np.linalg.norm(np.subtract(rgb, background)) >= MIN_COLOR_DISTANCE
    ]
    color_name = candidates[int(rng.integers(len(candidates)))]
    return background, 'dark' if dark else 'light', color_name


def sample_clip_params(label: Union[int, str],
                       rng: np.random.Generator,
                       num_frames: int = 16,
                       size: int = 64) -> ClipParams:
    """Draw the parameters of one clip of class ``label``.

    The distribution depends only on the temporal pair of ``label``, never on which class of the pair it is, so
    class ``B`` clips are time reversals of class ``A`` clips drawn from the same distribution.

    Args:
        label (int | str): Class label or name.
        rng (np.random.Generator): Source of randomness.
        num_frames (int): Number of frames. Defaults to 16.
        size (int): Frame height and width. Defaults to 64.

    Returns:
        ClipParams: The clip parameters.
    """
    _check_geometry(num_frames, size)
    pair_index = _label_index(label) // 2
    motion = _MOTIONS[pair_index]
    background, background_name, color_name = _sample_colors(rng)
    shapes = ROTATION_SHAPES if motion == 'rotate' else PLAIN_SHAPES
    shape = shapes[int(rng.integers(len(shapes)))]
    margin = 1.5
    angle = float(rng.uniform(0, 360)) if shape != 'circle' else 0.0
    angle_end, visible_from = angle, 0
    if motion in ('translate_x', 'translate_y'):
        radius_start = radius_end = float(rng.uniform(0.08, 0.13) * size)
        low, high = radius_start + margin, size - radius_start - margin
        distance = float(rng.uniform(0.4, 0.6) * size)
        along_start = float(rng.uniform(low + distance, high))  # forward motion is to the left / upwards
        along_end = along_start - distance
        across_start = float(rng.uniform(low, high))
        across_end = float(np.clip(across_start + rng.uniform(-0.05, 0.05) * size, low, high))
        if motion == 'translate_x':
            center_start, center_end = (along_start, across_start), (along_end, across_end)
        else:
            center_start, center_end = (across_start, along_start), (across_end, along_end)
    else:
        if motion == 'scale':  # forward = grow, diameter from ~15% to ~45% of the frame
            radius_start = float(rng.uniform(0.065, 0.09) * size)
            radius_end = float(rng.uniform(0.2, 0.24) * size)
        elif motion == 'rotate':  # forward = clockwise
            radius_start = radius_end = float(rng.uniform(0.26, 0.34) * size)
            angle_end = angle + float(rng.uniform(120, 240))
        else:  # forward = appear, the object switches on between 30% and 70% of the clip
            radius_start = radius_end = float(rng.uniform(0.12, 0.2) * size)
            first = max(1, int(np.ceil(0.3 * num_frames)))
            last = min(num_frames - 1, int(np.floor(0.7 * num_frames)))
            visible_from = int(rng.integers(first, last + 1))
        low, high = radius_end + margin, size - radius_end - margin
        center_start = center_end = (float(rng.uniform(low, high)), float(rng.uniform(low, high)))
    return ClipParams(
        pair_index=pair_index,
        num_frames=int(num_frames),
        size=int(size),
        background=background,
        background_name=background_name,
        color_name=color_name,
        shape=shape,
        center_start=center_start,
        center_end=center_end,
        radius_start=radius_start,
        radius_end=radius_end,
        angle_start=angle,
        angle_end=angle_end,
        visible_from=visible_from,
        marker=motion == 'rotate',
        noise_std=float(rng.uniform(2.0, 5.0)),
        noise_seed=int(rng.integers(2**31)))


def _shape_outline(shape: str) -> np.ndarray:
    """Unit outline (inside the unit circle, pointing along +x) of a polygonal shape."""
    if shape == 'square':
        return np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) / np.sqrt(2)
    if shape == 'triangle':  # tall isosceles triangle, apex at +x
        return np.array([[1.0, 0.0], [-0.7, 0.55], [-0.7, -0.55]])
    if shape == 'arrow':
        return np.array([[1.0, 0.0], [0.25, 0.6], [0.25, 0.22], [-0.95, 0.22], [-0.95, -0.22], [0.25, -0.22],
                         [0.25, -0.6]])
    raise ValueError(f'shape must be one of {PLAIN_SHAPES + ROTATION_SHAPES}, got {shape!r}')


def _to_fixed(points: np.ndarray) -> np.ndarray:
    """Convert float pixel coordinates to OpenCV's fixed-point representation."""
    return np.rint(np.asarray(points) * (1 << _SHIFT)).astype(np.int32)


def _draw_object(canvas: np.ndarray, params: ClipParams, center: np.ndarray, radius: float, angle: float) -> None:
    """Draw the object of ``params`` onto ``canvas`` in place."""
    color = tuple(int(v) for v in PALETTE[params.color_name])
    if params.shape == 'circle':
        cv2.circle(
            canvas,
            tuple(int(v) for v in _to_fixed(center)),
            int(round(radius * (1 << _SHIFT))),
            color,
            thickness=-1,
            lineType=cv2.LINE_AA,
            shift=_SHIFT)
        return
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    points = _shape_outline(params.shape) @ rotation.T * radius + center
    cv2.fillPoly(canvas, [_to_fixed(points)], color, lineType=cv2.LINE_AA, shift=_SHIFT)
    if params.marker:
        dot = np.array([0.55 * np.cos(theta), 0.55 * np.sin(theta)]) * radius + center
        dot_radius = max(1.0, 0.12 * radius)
        cv2.circle(
            canvas,
            tuple(int(v) for v in _to_fixed(dot)),
            int(round(dot_radius * (1 << _SHIFT))),
            tuple(int(v) for v in params.background),
            thickness=-1,
            lineType=cv2.LINE_AA,
            shift=_SHIFT)


def render_forward(params: ClipParams) -> np.ndarray:
    """Render the forward (class ``A``) sequence of ``params``.

    Args:
        params (ClipParams): Clip parameters.

    Returns:
        np.ndarray: ``uint8`` RGB frames of shape ``(num_frames, size, size, 3)``.
    """
    num_frames, size = params.num_frames, params.size
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    steps = np.linspace(0.0, 1.0, num_frames)
    start, end = np.asarray(params.center_start), np.asarray(params.center_end)
    for t, s in enumerate(steps):
        frames[t] = params.background
        if t >= params.visible_from:
            _draw_object(frames[t], params, start + s * (end - start),
                         params.radius_start + s * (params.radius_end - params.radius_start),
                         params.angle_start + s * (params.angle_end - params.angle_start))
    noise = np.random.default_rng(params.noise_seed).normal(0.0, params.noise_std, size=frames.shape)
    return np.clip(np.rint(frames + noise), 0, 255).astype(np.uint8)


def render_clip(label: Union[int, str], params: ClipParams) -> np.ndarray:
    """Render a clip of class ``label``: the forward sequence, reversed in time for the second class of a pair.

    Args:
        label (int | str): Class label or name; must belong to the pair of ``params``.
        params (ClipParams): Clip parameters, e.g. from :func:`sample_clip_params`.

    Returns:
        np.ndarray: ``uint8`` RGB frames of shape ``(num_frames, size, size, 3)``.
    """
    label = _label_index(label)
    if label // 2 != params.pair_index:
        raise ValueError(f'label {SYNTHETIC_CLASSES[label]!r} does not belong to the pair '
                         f'{TEMPORAL_PAIRS[params.pair_index]} of these params')
    frames = render_forward(params)
    return np.ascontiguousarray(frames[::-1]) if label % 2 else frames
