"""A deterministic synthetic video dataset whose classes can only be told apart by temporal order.

The ten classes form five temporal pairs ``(A, B)`` (see :data:`TEMPORAL_PAIRS`). For every pair one distribution
of clip parameters is used, a clip is always rendered "forward" (the motion of class ``A``), and a clip of class
``B`` is exactly that forward clip with its frames in reverse order. Hence the multiset of frames of a clip holds no
information about which class of its pair it belongs to: a model that ignores frame order is at chance within each
pair, and only a model that uses time order can solve the task.

This module is self-contained (numpy, OpenCV and mmengine only) so that the data generator stays light. Use
:func:`generate_synthetic_dataset` (or ``tools/data/synthetic/generate.py``) to write the dataset in the mmaction2
``VideoDataset`` / ``VideoTextDataset`` formats, with questions about each clip (:func:`make_questions`, for
video question answering) and a small WordPiece ``vocab.txt`` for BERT tokenizers
(:func:`make_vocab`), :func:`generate_synthetic_images` to add frames of its training clips as an image set
(``ImageListDataset``, e.g. BEVT's image stream), or :func:`sample_clip_params` and :func:`render_clip` to render
clips in memory.
"""
import dataclasses
import json
import os
import os.path as osp
import re
import shutil
import string
from typing import Dict, List, Optional, Sequence, Tuple, Union

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

SPLITS: Tuple[str, ...] = ('train', 'val', 'test')
FORMAT_VERSION = 1
MIN_COLOR_DISTANCE = 120.0  # least Euclidean RGB distance between the object and the background colour
PLAIN_SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle')
ROTATION_SHAPES: Tuple[str, ...] = ('arrow', 'triangle')  # no rotational symmetry, so the direction is visible

_MOTIONS = ('translate_x', 'translate_y', 'scale', 'rotate', 'presence')  # one per pair, forward = class A
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_CAPTIONS = {
    'move_left': ('{a} {color} {shape} moves to the left', '{a} {color} {shape} slides from right to left'),
    'move_right': ('{a} {color} {shape} moves to the right', '{a} {color} {shape} slides from left to right'),
    'move_up': ('{a} {color} {shape} moves up', '{a} {color} {shape} rises toward the top'),
    'move_down': ('{a} {color} {shape} moves down', '{a} {color} {shape} sinks toward the bottom'),
    'grow': ('a small {color} {shape} grows larger', '{a} {color} {shape} gets bigger'),
    'shrink': ('a large {color} {shape} shrinks', '{a} {color} {shape} gets smaller'),
    'rotate_clockwise': ('{a} {color} {shape} rotates clockwise', '{a} {color} {shape} turns clockwise'),
    'rotate_counterclockwise':
    ('{a} {color} {shape} rotates counterclockwise', '{a} {color} {shape} turns anticlockwise'),
    'appear': ('{a} {color} {shape} appears', '{a} {color} {shape} shows up'),
    'disappear': ('{a} {color} {shape} disappears', '{a} {color} {shape} vanishes'),
}


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


def make_captions(label: Union[int, str], params: ClipParams, rng: np.random.Generator) -> List[str]:
    """Write one or two English captions for a clip.

    Args:
        label (int | str): Class label or name.
        params (ClipParams): Clip parameters.
        rng (np.random.Generator): Source of randomness (how many captions, which wording).

    Returns:
        list[str]: The captions.
    """
    name = SYNTHETIC_CLASSES[_label_index(label)]
    templates = _CAPTIONS[name]
    order = [int(i) for i in rng.permutation(len(templates))][:int(rng.integers(1, 3))]
    article = 'an' if params.color_name[0] in 'aeiou' else 'a'
    captions = []
    for i in order:
        text = templates[i].format(a=article, color=params.color_name, shape=params.shape)
        if rng.random() < 0.3:
            text += f' on a {params.background_name} background'
        captions.append(text)
    return captions


SPECIAL_TOKENS: Tuple[str, ...] = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')
"""BERT's special tokens in ``bert-base-uncased``'s order (ids 0, 100, 101, 102, 103 there; 0 to 4 in
:func:`make_vocab`'s vocabulary)."""

QUESTION_WORDS: Tuple[str, ...] = ('what', 'color', 'is', 'the', 'shape', 'moving', 'does', 'do', '?')
"""The words of the synthetic questions ("what color is the circle?", "what shape is moving?", "what does the red
circle do?"), in :func:`make_vocab`'s vocabulary."""


def text_words(text: str) -> List[str]:
    """The words of ``text`` as BERT's basic tokenizer splits an ASCII text: lower-cased, split at white space and
    around each punctuation character.

    Args:
        text (str): A text.

    Returns:
        list[str]: Its words and punctuation characters, in order.
    """
    return re.findall(r'[^\s' + re.escape(string.punctuation) + r']+|[' + re.escape(string.punctuation) + ']',
                      text.lower())


def _possible_caption_words() -> List[str]:
    """Every word :func:`make_captions` can write (all templates, colours, shapes, articles and backgrounds)."""
    words = set(text_words(' on a dark light background'))
    for templates in _CAPTIONS.values():
        for template in templates:
            for color in PALETTE:
                for shape in PLAIN_SHAPES + ROTATION_SHAPES:
                    for article in ('a', 'an'):
                        words.update(text_words(template.format(a=article, color=color, shape=shape)))
    return sorted(words)


def make_vocab(captions: Sequence[str] = ()) -> List[str]:
    """A small WordPiece vocabulary (the lines of a ``vocab.txt``) that holds every word of the synthetic data.

    The lines are :data:`SPECIAL_TOKENS` (so ``[PAD]`` is id 0 as in BERT), the ASCII punctuation characters
    (``string.punctuation``), then, sorted, every word :func:`make_captions` can write, the words of
    ``captions``, :data:`QUESTION_WORDS` and the words of the class names (the answers of the questions). All
    words are whole (no ``##`` pieces) and lower case, for an uncased tokenizer. The captions of a generated
    dataset add no word, so its vocabulary is the same for every seed and size.

    Args:
        captions (Sequence[str]): Further texts whose words to include. Defaults to ().

    Returns:
        list[str]: The vocabulary, a token per entry; the index is the id.
    """
    words = set(_possible_caption_words()) | set(QUESTION_WORDS)
    for text in list(captions) + [name.replace('_', ' ') for name in SYNTHETIC_CLASSES]:
        words.update(text_words(text))
    punctuation = list(string.punctuation)
    return list(SPECIAL_TOKENS) + punctuation + sorted(words - set(punctuation) - set(SPECIAL_TOKENS))


QA_ANSWER_TYPES: Tuple[str, ...] = ('color', 'shape', 'motion')
"""The ``answer_type`` of the synthetic questions, one question of each per clip (:func:`make_questions`)."""

QA_TEMPLATES: Dict[str, str] = {
    'color': 'what color is the {shape}?',
    'shape': 'what shape is moving?',
    'motion': 'what does the {color} {shape} do?',
}
"""The question of each answer type; their words are :data:`QUESTION_WORDS` and the colours and shapes."""


def motion_answer(label: Union[int, str]) -> str:
    """The answer to the motion question of a clip of class ``label``: the class name in words ("move left").

    Args:
        label (int | str): Class label or name.

    Returns:
        str: The class name with spaces for underscores.
    """
    return SYNTHETIC_CLASSES[_label_index(label)].replace('_', ' ')


def make_questions(label: Union[int, str], params: ClipParams) -> List[Dict[str, str]]:
    """The three questions of a clip, one per :data:`QA_ANSWER_TYPES`, in that order.

    - ``color``: "what color is the {shape}?", answered by the object's colour (a key of :data:`PALETTE`);
    - ``shape``: "what shape is moving?", answered by its shape;
    - ``motion``: "what does the {color} {shape} do?", answered by :func:`motion_answer` ("move left", ...). The
      two classes of a temporal pair differ only in frame order, so this question needs the order of the frames.

    Args:
        label (int | str): Class label or name.
        params (ClipParams): The clip's parameters.

    Returns:
        list[dict]: ``{question, answer, answer_type}`` dicts.
    """
    answers = dict(color=params.color_name, shape=params.shape, motion=motion_answer(label))
    return [
        dict(
            question=QA_TEMPLATES[kind].format(color=params.color_name, shape=params.shape),
            answer=answers[kind],
            answer_type=kind) for kind in QA_ANSWER_TYPES
    ]


def make_ans2label(answers: Sequence[str]) -> Dict[str, int]:
    """ALPRO's ``ans2label`` of a list of answers: each distinct answer and its label, the answers sorted.

    Args:
        answers (Sequence[str]): Answers (e.g. of the training questions), repeated or not.

    Returns:
        dict[str, int]: ``{answer: label}`` with labels ``0 .. N - 1`` in sorted order of the answers.
    """
    return {answer: label for label, answer in enumerate(sorted(set(answers)))}


def make_clip(seed: int,
              split: str,
              label: Union[int, str],
              index: int,
              num_frames: int = 16,
              size: int = 64) -> Tuple[np.ndarray, ClipParams, List[str]]:
    """Deterministically make clip ``index`` of class ``label`` in ``split``.

    Args:
        seed (int): Dataset seed.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        label (int | str): Class label or name.
        index (int): Clip index within the class and split.
        num_frames (int): Number of frames. Defaults to 16.
        size (int): Frame height and width. Defaults to 64.

    Returns:
        tuple: ``(frames, params, captions)``, frames as in :func:`render_clip`.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    _check_int('seed', seed, 0)
    _check_int('index', index, 0)
    label = _label_index(label)
    rng = np.random.default_rng([int(seed), SPLITS.index(split), label, int(index)])
    params = sample_clip_params(label, rng, num_frames, size)
    captions = make_captions(label, params, rng)
    return render_clip(label, params), params, captions


def write_video(path: str, frames: np.ndarray, fps: int = 8) -> None:
    """Write RGB ``frames`` to an mp4 (``mp4v``) file atomically: a temporary file is moved into place.

    Args:
        path (str): Destination ``.mp4`` path.
        frames (np.ndarray): ``uint8`` RGB frames of shape ``(T, H, W, 3)``.
        fps (int): Frame rate. Defaults to 8.
    """
    folder, name = osp.split(path)
    tmp_path = osp.join(folder, f'.tmp-{os.getpid()}-{name}')
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(tmp_path, cv2.VideoWriter_fourcc(*'mp4v'), float(fps), (width, height))
    try:
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot open a mp4v video writer for {tmp_path}')
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        writer.release()
        if not osp.isfile(tmp_path) or osp.getsize(tmp_path) == 0:
            raise RuntimeError(f'OpenCV wrote no data to {tmp_path}')
        os.replace(tmp_path, path)
    finally:
        writer.release()
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def _atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    tmp_path = osp.join(osp.dirname(path), f'.tmp-{os.getpid()}-{osp.basename(path)}')
    with open(tmp_path, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp_path, path)


def _clip_name(split: str, label: int, index: int) -> str:
    """Path of a clip relative to ``out_dir/videos``."""
    return f'{split}/{SYNTHETIC_CLASSES[label]}_{index:04d}.mp4'


def _process_alive(pid: int) -> bool:
    """Whether another process ``pid`` exists (assumed so where that cannot be checked safely)."""
    if pid == os.getpid():
        return False
    if os.name != 'posix':
        return True
    try:
        os.kill(pid, 0)  # signal 0 only checks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to another user
        return True
    return True


def _remove_stale_temporaries(folder: str) -> None:
    """Delete the temporary files that interrupted runs left in ``folder`` (not those of running processes)."""
    for name in os.listdir(folder):
        pid = name.split('-')[1] if name.startswith('.tmp-') and name.count('-') >= 2 else ''
        if pid.isdigit() and not _process_alive(int(pid)):
            os.remove(osp.join(folder, name))


def _output_files(out_dir: str) -> Dict[str, Union[str, Dict[str, str]]]:
    """The annotation, caption, label-map and meta file paths under ``out_dir``."""
    return dict(
        ann_files={s: osp.join(out_dir, f'synthetic_{s}_list_videos.txt')
                   for s in SPLITS},
        caption_files={s: osp.join(out_dir, f'synthetic_{s}_captions.json')
                       for s in SPLITS},
        qa_files={s: osp.join(out_dir, f'synthetic_{s}_qa.json')
                  for s in SPLITS},
        ans2label_file=osp.join(out_dir, 'synthetic_ans2label.json'),
        label_map=osp.join(out_dir, 'label_map.txt'),
        vocab_file=osp.join(out_dir, 'vocab.txt'),
        meta_file=osp.join(out_dir, 'meta.json'))


def _summary(out_dir: str, counts: Dict[str, int], reused: bool) -> Dict:
    """Build the summary returned by :func:`generate_synthetic_dataset`."""
    summary = dict(out_dir=out_dir, video_root=osp.join(out_dir, 'videos'))
    summary.update(_output_files(out_dir))
    summary.update(num_clips=dict(counts), classes=list(SYNTHETIC_CLASSES), reused=reused)
    return summary


def _complete(out_dir: str, names: Sequence[str]) -> bool:
    """Whether all annotation files and all videos exist."""
    files = _output_files(out_dir)
    paths = [files['label_map'], files['vocab_file'], *files['ann_files'].values(), *files['caption_files'].values()]
    paths += [files['ans2label_file'], *files['qa_files'].values()]
    paths += [osp.join(out_dir, 'videos', name) for name in names]
    return all(osp.isfile(p) for p in paths)


def _remove_outputs(out_dir: str) -> None:
    """Delete what a previous generation wrote under ``out_dir`` (and nothing else)."""
    for split in SPLITS:
        shutil.rmtree(osp.join(out_dir, 'videos', split), ignore_errors=True)
    _remove_image_outputs(out_dir)  # frames of the old clips
    files = _output_files(out_dir)
    for path in [
            files['label_map'], files['vocab_file'], files['meta_file'], *files['ann_files'].values(),
            *files['caption_files'].values(), *files['qa_files'].values(), files['ans2label_file']
    ]:
        if osp.isfile(path):
            os.remove(path)


def generate_synthetic_dataset(out_dir: Union[str, os.PathLike],
                               num_train_per_class: int = 80,
                               num_val_per_class: int = 10,
                               num_test_per_class: int = 10,
                               num_frames: int = 16,
                               size: int = 64,
                               fps: int = 8,
                               seed: int = 0,
                               overwrite: bool = False,
                               show_progress: bool = True) -> Dict:
    """Write the synthetic dataset (mp4 videos, mmaction2 list and caption files, question files, label map,
    WordPiece vocabulary) to ``out_dir``.

    The question files ``synthetic_<split>_qa.json`` are json lists in mmaction2's ``MSRVTTVQA`` format plus
    ALPRO's ``answer_type``: ``{question_id, video, question, answer, answer_type}``, three questions per clip
    (:func:`make_questions`), ``question_id`` counting from 0 in each split; ``synthetic_ans2label.json`` is
    ALPRO's answer vocabulary ``{answer: label}`` of the training questions (:func:`make_ans2label`).

    Generation is deterministic in its arguments and idempotent: when ``out_dir/meta.json`` records the same
    arguments and every file exists, nothing is written. A run that was interrupted is resumed by calling again
    with the same arguments (videos are moved into place only once complete); so is a dataset written before a
    file was added to the outputs (e.g. ``vocab.txt``): the missing files are written, the videos are kept.

    Args:
        out_dir (str): Output folder.
        num_train_per_class (int): Training clips per class. Defaults to 80.
        num_val_per_class (int): Validation clips per class. Defaults to 10.
        num_test_per_class (int): Test clips per class. Defaults to 10.
        num_frames (int): Frames per clip, at least 4. Defaults to 16.
        size (int): Frame height and width, even and at least 32. Defaults to 64.
        fps (int): Frame rate written into the videos. Defaults to 8.
        seed (int): Seed; the clips of different seeds differ. Defaults to 0.
        overwrite (bool): Replace a dataset generated with different arguments. Defaults to False.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``out_dir``, ``video_root``, ``ann_files``, ``caption_files``, ``qa_files`` (all ``{split: path}``),
        ``ans2label_file``, ``label_map``, ``vocab_file`` (``vocab.txt``, see :func:`make_vocab`), ``meta_file``,
        ``num_clips`` (``{split: count}``), ``classes`` and ``reused``.
    """
    counts = dict(train=num_train_per_class, val=num_val_per_class, test=num_test_per_class)
    for split, count in counts.items():
        _check_int(f'num_{split}_per_class', count, 1)
    _check_geometry(num_frames, size)
    _check_int('fps', fps, 1)
    _check_int('seed', seed, 0)
    out_dir = str(out_dir)
    params = dict(
        num_train_per_class=int(num_train_per_class),
        num_val_per_class=int(num_val_per_class),
        num_test_per_class=int(num_test_per_class),
        num_frames=int(num_frames),
        size=int(size),
        fps=int(fps),
        seed=int(seed))
    meta = dict(
        format_version=FORMAT_VERSION,
        params=params,
        classes=list(SYNTHETIC_CLASSES),
        temporal_pairs=[list(p) for p in TEMPORAL_PAIRS])
    files = _output_files(out_dir)
    jobs = [(split, label, index) for split in SPLITS for label in range(len(SYNTHETIC_CLASSES))
            for index in range(counts[split])]
    names = [_clip_name(*job) for job in jobs]
    num_clips = {split: counts[split] * len(SYNTHETIC_CLASSES) for split in SPLITS}

    old_meta: Optional[Dict] = None
    if osp.isfile(files['meta_file']):
        try:
            with open(files['meta_file'], encoding='utf-8') as f:
                old_meta = dict(json.load(f))
        except (ValueError, TypeError):  # unreadable: treat it as a dataset of unknown origin
            old_meta = dict(format_version=None)
    finished = bool(old_meta and old_meta.pop('complete', False))
    same = old_meta == meta
    if same and finished and _complete(out_dir, names):
        return _summary(out_dir, num_clips, reused=True)
    ours = [files['label_map'], files['vocab_file'], *files['ann_files'].values(), osp.join(out_dir, 'videos')]
    if not same and (old_meta is not None or any(osp.exists(p) for p in ours)):
        if not overwrite:
            raise FileExistsError(f'{out_dir!r} already holds a synthetic dataset generated with different '
                                  f'parameters (or of unknown origin); pass overwrite=True (--overwrite) to '
                                  f'replace it, or choose another folder')
        _remove_outputs(out_dir)

    os.makedirs(out_dir, exist_ok=True)
    _atomic_write_text(files['meta_file'], json.dumps(dict(meta, complete=False), indent=2) + '\n')
    for split in SPLITS:
        folder = osp.join(out_dir, 'videos', split)
        os.makedirs(folder, exist_ok=True)
        _remove_stale_temporaries(folder)
    _remove_stale_temporaries(out_dir)

    captions: Dict[str, Dict[str, List[str]]] = {split: {} for split in SPLITS}
    questions: Dict[str, List[Dict]] = {split: [] for split in SPLITS}
    progress = None
    if show_progress:
        from mmengine.utils import ProgressBar
        progress = ProgressBar(len(jobs))
    for (split, label, index), name in zip(jobs, names):
        path = osp.join(out_dir, 'videos', name)
        if osp.isfile(path):  # written by an interrupted run with the same parameters
            rng = np.random.default_rng([int(seed), SPLITS.index(split), label, index])
            clip_params = sample_clip_params(label, rng, num_frames, size)
            captions[split][name] = make_captions(label, clip_params, rng)
        else:
            frames, clip_params, captions[split][name] = make_clip(seed, split, label, index, num_frames, size)
            write_video(path, frames, fps)
        for item in make_questions(label, clip_params):
            questions[split].append(dict(question_id=len(questions[split]), video=name, **item))
        if progress is not None:
            progress.update()
    if progress is not None:
        print()

    for split in SPLITS:
        lines = [f'{name} {label}\n' for (job_split, label, _), name in zip(jobs, names) if job_split == split]
        _atomic_write_text(files['ann_files'][split], ''.join(lines))
        _atomic_write_text(files['caption_files'][split], json.dumps(captions[split], indent=2) + '\n')
        _atomic_write_text(files['qa_files'][split], json.dumps(questions[split], indent=2) + '\n')
    ans2label = make_ans2label([item['answer'] for item in questions['train']])
    _atomic_write_text(files['ans2label_file'], json.dumps(ans2label, indent=2) + '\n')
    _atomic_write_text(files['label_map'], ''.join(f'{name}\n' for name in SYNTHETIC_CLASSES))
    all_captions = [text for split in SPLITS for texts in captions[split].values() for text in texts]
    _atomic_write_text(files['vocab_file'], ''.join(f'{token}\n' for token in make_vocab(all_captions)))
    _atomic_write_text(files['meta_file'], json.dumps(dict(meta, complete=True), indent=2) + '\n')
    return _summary(out_dir, num_clips, reused=False)


IMAGE_EXTENSIONS: Tuple[str, ...] = ('png', 'jpg')
IMAGE_FORMAT_VERSION = 1


def _image_files(out_dir: str) -> Dict[str, str]:
    """The image folder, image list and image meta file paths under ``out_dir``."""
    return dict(
        image_root=osp.join(out_dir, 'images'),
        ann_file=osp.join(out_dir, 'synthetic_train_list_images.txt'),
        meta_file=osp.join(out_dir, 'images_meta.json'))


def _remove_image_outputs(out_dir: str) -> None:
    """Delete what :func:`generate_synthetic_images` wrote under ``out_dir`` (and nothing else)."""
    files = _image_files(out_dir)
    shutil.rmtree(osp.join(files['image_root'], 'train'), ignore_errors=True)
    for path in (files['ann_file'], files['meta_file']):
        if osp.isfile(path):
            os.remove(path)


def frame_indices(num_frames: int, frames_per_clip: int) -> List[int]:
    """The frames of a clip that :func:`generate_synthetic_images` saves: the centres of ``frames_per_clip`` equal
    parts of the clip.

    Args:
        num_frames (int): Frames per clip.
        frames_per_clip (int): Frames to take, 1 to ``num_frames``.

    Returns:
        list[int]: Increasing frame indices, e.g. ``[8]`` for 1 of 16 and ``[4, 12]`` for 2 of 16.
    """
    _check_int('num_frames', num_frames, 1)
    _check_int('frames_per_clip', frames_per_clip, 1)
    if frames_per_clip > num_frames:
        raise ValueError(f'frames_per_clip must be at most num_frames={num_frames}, got {frames_per_clip!r}')
    return [(2 * j + 1) * num_frames // (2 * frames_per_clip) for j in range(frames_per_clip)]


def _write_image(path: str, frame: np.ndarray) -> None:
    """Write the RGB ``frame`` to ``path`` (its extension names the format) through a temporary file."""
    folder, name = osp.split(path)
    tmp_path = osp.join(folder, f'.tmp-{os.getpid()}-{name}')
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if name.endswith('.jpg') else []
    try:
        if not cv2.imwrite(tmp_path, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params):
            raise RuntimeError(f'OpenCV could not write {tmp_path}')
        os.replace(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def generate_synthetic_images(out_dir: Union[str, os.PathLike],
                              frames_per_clip: int = 1,
                              ext: str = 'png',
                              overwrite: bool = False,
                              show_progress: bool = True) -> Dict:
    """Save frames of the training clips of the synthetic dataset in ``out_dir`` as images, with an image list.

    The frames (:func:`frame_indices` of each clip, in the clip's own time order) are rendered again from the
    dataset's ``meta.json`` (same seed, sizes and counts), not decoded from the lossy videos, so a PNG holds exactly
    the rendered pixels. They serve as an image set, e.g. BEVT's image stream, through
    :class:`~videoalign.datasets.ImageListDataset` with ``data_prefix=dict(img=<out_dir>/images)``; each list line
    is ``train/<class>_<clip:04d>_<frame:02d>.<ext> <label of the clip>``.

    Like :func:`generate_synthetic_dataset`, it is deterministic and idempotent: when ``images_meta.json`` records
    the same dataset and arguments and every file exists, nothing is written; otherwise the images are written
    again (an image set of unknown origin is replaced only with ``overwrite``).

    Args:
        out_dir (str): The folder of a complete synthetic dataset (from :func:`generate_synthetic_dataset`).
        frames_per_clip (int): Frames saved per training clip, 1 to the clips' ``num_frames``. Defaults to 1.
        ext (str): ``'png'`` (lossless) or ``'jpg'`` (quality 95). Defaults to ``'png'``.
        overwrite (bool): Replace an image set in ``out_dir`` whose ``images_meta.json`` is missing or unreadable.
            Defaults to False.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``image_root``, ``ann_file``, ``meta_file``, ``num_images``, ``frame_indices`` and ``reused``.
    """
    out_dir = str(out_dir)
    if ext not in IMAGE_EXTENSIONS:
        raise ValueError(f'ext must be one of {IMAGE_EXTENSIONS}, got {ext!r}')
    dataset_meta_file = _output_files(out_dir)['meta_file']
    try:
        with open(dataset_meta_file, encoding='utf-8') as f:
            dataset_meta = dict(json.load(f))
    except (OSError, ValueError, TypeError):
        dataset_meta = {}
    if not dataset_meta.get('complete') or dataset_meta.get('format_version') != FORMAT_VERSION:
        raise FileNotFoundError(f'{out_dir!r} holds no complete synthetic dataset (no readable {dataset_meta_file}); '
                                f'generate it first with generate_synthetic_dataset (tools/data/synthetic/generate.py)')
    video_params = dataset_meta['params']
    indices = frame_indices(video_params['num_frames'], frames_per_clip)
    files = _image_files(out_dir)
    meta = dict(
        format_version=IMAGE_FORMAT_VERSION,
        dataset=video_params,
        frames_per_clip=int(frames_per_clip),
        frame_indices=indices,
        ext=ext)
    jobs = [(label, index) for label in range(len(SYNTHETIC_CLASSES))
            for index in range(video_params['num_train_per_class'])]
    names = [f'train/{SYNTHETIC_CLASSES[label]}_{index:04d}_{t:02d}.{ext}' for label, index in jobs for t in indices]
    summary = dict(files, num_images=len(names), frame_indices=indices)

    old_meta: Optional[Dict] = None
    if osp.isfile(files['meta_file']):
        try:
            with open(files['meta_file'], encoding='utf-8') as f:
                old_meta = dict(json.load(f))
        except (ValueError, TypeError):
            old_meta = None
    finished = bool(old_meta and old_meta.pop('complete', False))
    paths = [files['ann_file']] + [osp.join(files['image_root'], name) for name in names]
    if old_meta == meta and finished and all(osp.isfile(p) for p in paths):
        return dict(summary, reused=True)
    ours = [files['ann_file'], osp.join(files['image_root'], 'train')]
    if old_meta is None and any(osp.exists(p) for p in ours) and not overwrite:
        raise FileExistsError(f'{out_dir!r} already holds synthetic images of unknown origin (no readable '
                              f'{files["meta_file"]}); pass overwrite=True (--overwrite) to replace them')
    _remove_image_outputs(out_dir)
    folder = osp.join(files['image_root'], 'train')
    os.makedirs(folder, exist_ok=True)
    _atomic_write_text(files['meta_file'], json.dumps(dict(meta, complete=False), indent=2) + '\n')

    progress = None
    if show_progress:
        from mmengine.utils import ProgressBar
        progress = ProgressBar(len(jobs))
    lines = []
    for label, index in jobs:
        frames = make_clip(video_params['seed'], 'train', label, index, video_params['num_frames'],
                           video_params['size'])[0]
        for t in indices:
            name = f'train/{SYNTHETIC_CLASSES[label]}_{index:04d}_{t:02d}.{ext}'
            _write_image(osp.join(files['image_root'], name), frames[t])
            lines.append(f'{name} {label}\n')
        if progress is not None:
            progress.update()
    if progress is not None:
        print()
    _atomic_write_text(files['ann_file'], ''.join(lines))
    _atomic_write_text(files['meta_file'], json.dumps(dict(meta, complete=True), indent=2) + '\n')
    return dict(summary, reused=False)
