"""A deterministic synthetic video dataset whose classes can only be told apart by temporal order.

The ten classes form five temporal pairs ``(A, B)`` (see :data:`TEMPORAL_PAIRS`). For every pair one distribution
of clip parameters is used, a clip is always rendered "forward" (the motion of class ``A``), and a clip of class
``B`` is exactly that forward clip with its frames in reverse order. Hence the multiset of frames of a clip holds no
information about which class of its pair it belongs to: a model that ignores frame order is at chance within each
pair, and only a model that uses time order can solve the task.

This module holds the generator (clips, video files, the dataset and its image set); the class set and the
renderer are in :mod:`~videoalign.datasets.synthetic_render`, the captions, vocabulary and questions in
:mod:`~videoalign.datasets.synthetic_text`, and their public names are re-exported here. The three modules are
self-contained (numpy, OpenCV and mmengine only) so that the data generator stays light. Use
:func:`generate_synthetic_dataset` (or ``tools/data/synthetic/generate.py``) to write the dataset in the mmaction2
``VideoDataset`` / ``VideoTextDataset`` formats, with questions about each clip (:func:`make_questions`, for
video question answering) and a small WordPiece ``vocab.txt`` for BERT tokenizers
(:func:`make_vocab`), :func:`generate_synthetic_images` to add frames of its training clips as an image set
(``ImageListDataset``, e.g. BEVT's image stream), or :func:`sample_clip_params` and :func:`render_clip` to render
clips in memory.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from .synthetic_render import (MIN_COLOR_DISTANCE, PALETTE, PLAIN_SHAPES, ROTATION_SHAPES, SYNTHETIC_CLASSES,
                               TEMPORAL_PAIRS, ClipParams, _check_geometry, _check_int, _label_index, render_clip,
                               render_forward, sample_clip_params)
from .synthetic_text import (QA_ANSWER_TYPES, QA_TEMPLATES, QUESTION_WORDS, SPECIAL_TOKENS, make_ans2label,
                             make_captions, make_questions, make_vocab, motion_answer, text_words)

__all__ = [
    'SYNTHETIC_CLASSES', 'TEMPORAL_PAIRS', 'PALETTE', 'SPLITS', 'FORMAT_VERSION', 'MIN_COLOR_DISTANCE', 'PLAIN_SHAPES',
    'ROTATION_SHAPES', 'ClipParams', 'sample_clip_params', 'render_forward', 'render_clip', 'make_captions',
    'SPECIAL_TOKENS', 'QUESTION_WORDS', 'text_words', 'make_vocab', 'QA_ANSWER_TYPES', 'QA_TEMPLATES', 'motion_answer',
    'make_questions', 'make_ans2label', 'make_clip', 'write_video', 'generate_synthetic_dataset', 'IMAGE_EXTENSIONS',
    'IMAGE_FORMAT_VERSION', 'frame_indices', 'generate_synthetic_images'
]

SPLITS: Tuple[str, ...] = ('train', 'val', 'test')
FORMAT_VERSION = 1


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
