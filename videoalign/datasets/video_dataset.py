"""mmaction2's VideoDataset with checked annotation files and unreadable videos skipped instead of fatal."""
import logging
import os.path as osp
from collections import defaultdict
from typing import List, Optional, Sequence, Set, Union

import numpy as np
from mmaction.datasets import VideoDataset as _MMActionVideoDataset
from mmengine.logging import print_log

from ..registry import DATASETS
from .class_names import resolve_class_names

SKIPPED_KEY = 'skipped_videos'


def video_is_readable(path: str) -> bool:
    """Whether decord can open ``path`` and decode its first and last frames.

    Args:
        path (str): Path of a video file.

    Returns:
        bool: False for a missing, empty, truncated or otherwise undecodable file.
    """
    import decord
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    try:
        reader = decord.VideoReader(path, num_threads=1)
        if len(reader) == 0:
            return False
        reader.get_batch([0, len(reader) - 1])
    except Exception:  # decord raises DECORDError, RuntimeError or IndexError, depending on the damage
        return False
    return True


@DATASETS.register_module()
class VideoDataset(_MMActionVideoDataset):
    """mmaction2's ``VideoDataset`` that checks its annotation file and survives unreadable videos.

    Registered under mmaction2's name in videoalign's scope, so an mmaction2 config with
    ``default_scope='videoalign'`` gets this behaviour without change. Differences:

    - A missing annotation file, or a line that is not ``<path> <label>`` (``<path> <label> <label> ...`` for
      ``multi_class``), raises an error that names the file, the line number and the line. A UTF-8 byte-order mark
      is ignored. Each sample keeps the ``lineno`` of its line, so that
      :class:`~videoalign.engine.hooks.LabelCheckHook` names ``file:line`` for a label the model has no class for.
    - When the pipeline fails on a video that decord cannot read (missing, empty, truncated, corrupt), the video is
      reported and another sample is drawn in its place; the stand-in carries the skipped paths in its metainfo
      (``skipped_videos``), which :class:`~videoalign.engine.hooks.SkippedVideoHook` counts in the training log and
      :class:`~videoalign.evaluation.AccMetric` leaves out of the metrics. An error on a readable video is a bug
      in the pipeline and is raised as is.
    - ``class_names`` (a label map, an ``id,name`` CSV or a list) become ``metainfo['classes']``: the Runner saves
      them with every checkpoint, and :class:`~videoalign.engine.hooks.ClassNamesHook` gives them to a model that
      scores class-name text.
    - ``num_shots`` keeps ``K`` videos per class, drawn with ``shot_seed`` (the same K, seed and list always give the
      same subset), for few-shot training.

    Args:
        ann_file (str): Path to the annotation file.
        pipeline (list): Data transforms.
        class_names (Sequence[str] | str, optional): The names of the classes, label ``i`` naming the ``i``-th: a
            list, or a label map (one name per line) or ``id,name`` CSV file. Defaults to None (no names).
        max_skips (int): How many unreadable videos in a row training skips before it gives up (validation and
            test skip any number). Defaults to 50.
        num_shots (int, optional): Keep this many videos of every class (few-shot). Defaults to None (all).
        shot_seed (int): Seed of the few-shot draw. Defaults to 0.
        **kwargs: Other arguments of mmaction2's ``VideoDataset`` (``data_prefix``, ``multi_class``,
            ``num_classes``, ``start_index``, ``modality``, ``test_mode``, ``delimiter``).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 class_names: Optional[Union[Sequence[str], str]] = None,
                 max_skips: int = 50,
                 num_shots: Optional[int] = None,
                 shot_seed: int = 0,
                 **kwargs) -> None:
        if num_shots is not None and num_shots < 1:
            raise ValueError(f'num_shots must be >= 1, got {num_shots}')
        if class_names is not None:
            kwargs['metainfo'] = dict(kwargs.get('metainfo') or {}, classes=tuple(resolve_class_names(class_names)))
        self.max_skips = max_skips
        self._unreadable: Set[int] = set()  # indices found unreadable (in this process)
        self.num_shots = num_shots
        self.shot_seed = shot_seed
        super().__init__(ann_file, pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the annotation file, with errors that say where and what was expected."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'annotation file {self.ann_file} does not exist (expected one "<path> <label>" line per video)')
        expected = '<path> <label> [<label> ...]' if self.multi_class else '<path> <label>'
        data_list = []
        with open(self.ann_file, encoding='utf-8-sig') as f:  # -sig: a byte-order mark is not part of the path
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                fields = line.strip().split(self.delimiter)
                try:
                    if self.multi_class:
                        if self.num_classes is None:
                            raise ValueError('multi_class=True needs num_classes')
                        filename, label = fields[0], [int(x) for x in fields[1:]]
                    elif len(fields) == 1:
                        if len(fields[0].split()) > 1:
                            raise ValueError(f'fields are not separated by the delimiter {self.delimiter!r}')
                        filename, label = fields[0], -1
                    elif len(fields) == 2:
                        filename, label = fields[0], int(fields[1])
                    else:
                        raise ValueError(f'{len(fields)} fields')
                except ValueError as err:
                    raise ValueError(f'{self.ann_file}:{lineno}: cannot parse {line.strip()!r} ({err}); '
                                     f'expected "{expected}" separated by {self.delimiter!r}') from None
                if self.data_prefix.get('video') is not None:
                    filename = osp.join(self.data_prefix['video'], filename)
                info = dict(filename=filename, label=label, lineno=lineno)
                if len(fields) == 1:
                    info['labelled'] = False  # a list for inference: LabelCheckHook has nothing to check
                data_list.append(info)
        if not data_list:
            raise ValueError(f'annotation file {self.ann_file} lists no videos')
        return data_list

    def filter_data(self) -> List[dict]:
        """Keep ``num_shots`` videos per class (all videos when ``num_shots`` is None)."""
        if self.num_shots is None:
            return self.data_list
        if self.multi_class:
            raise ValueError('num_shots needs single-label annotations (multi_class=False)')
        by_label = defaultdict(list)
        for index, info in enumerate(self.data_list):
            by_label[info['label']].append(index)
        rng = np.random.default_rng(self.shot_seed)
        keep = []
        for label in sorted(by_label):
            indices = by_label[label]
            if len(indices) < self.num_shots:
                raise ValueError(f'{self.ann_file}: class {label} has {len(indices)} videos, fewer than '
                                 f'num_shots={self.num_shots}')
            keep.extend(rng.choice(indices, self.num_shots, replace=False).tolist())
        return [self.data_list[i] for i in sorted(keep)]

    #: What a sample is, in messages; the key of ``data_prefix`` that holds the folder of the files.
    sample_noun = 'video'
    prefix_key = 'video'

    def is_readable(self, path: str) -> bool:
        """Whether the file of a sample is readable (decord opens the video and decodes its first and last frames):
        a pipeline error on a readable file is raised, on an unreadable one the sample is skipped."""
        return video_is_readable(path)

    def __getitem__(self, idx: int) -> dict:
        """The ``idx``-th sample; an unreadable video is replaced by another sample that records it.

        In training the stand-in is drawn at random, and more than ``max_skips`` unreadable videos in a row stop the
        run. In test mode (validation and test) the next readable video stands in, so evaluation stays
        deterministic; any number of unreadable videos is skipped, and only a list with no readable video fails.
        """
        if not self._fully_initialized:
            self.full_init()
        skipped = []
        tries = len(self) + 1 if self.test_mode else self.max_refetch + 1
        for _ in range(tries):
            try:
                data = None if idx in self._unreadable else self.prepare_data(idx)
            except Exception as err:
                path = self.get_data_info(idx)['filename']
                if self.is_readable(path):
                    raise  # the file is fine: the error is the pipeline's
                print_log(
                    f'skipping unreadable {self.sample_noun} {path}: {type(err).__name__}: {err}',
                    logger='current',
                    level=logging.WARNING)
                self._unreadable.add(idx)
            if idx in self._unreadable:
                skipped.append(self.get_data_info(idx)['filename'])
                idx = self._stand_in(idx, len(skipped))
                continue
            if data is None:  # a random transform asked for another sample
                if self.test_mode:
                    raise RuntimeError(f'the test pipeline returned None for {self.get_data_info(idx)["filename"]}')
                idx = self._rand_another()
                continue
            if skipped:
                data['data_samples'].set_metainfo({SKIPPED_KEY: skipped})
            return data
        raise RuntimeError(f'no sample could be prepared after {tries} tries from {self.ann_file}')

    def _stand_in(self, idx: int, num_skipped: int) -> int:
        """The index to try after ``num_skipped`` unreadable videos in a row, the last at ``idx``."""
        if self.test_mode:
            if len(self._unreadable) >= len(self):
                raise RuntimeError(f'none of the {len(self)} {self.sample_noun}s listed in {self.ann_file} could be '
                                   f'read; check the {self.sample_noun}s under {self.data_prefix.get(self.prefix_key)}')
            return (idx + 1) % len(self)
        if num_skipped > self.max_skips:
            raise RuntimeError(f'{num_skipped} {self.sample_noun}s in a row could not be read (last: '
                               f'{self.get_data_info(idx)["filename"]}); check the {self.sample_noun}s under '
                               f'{self.data_prefix.get(self.prefix_key)} listed in {self.ann_file}')
        return self._rand_another()
