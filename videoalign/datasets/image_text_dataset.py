"""Image-caption pairs (ALPRO's CC3M annotation) as samples that image pipelines turn into static clips."""
import json
import os.path as osp
import random
from typing import Any, List, Optional

from ..registry import DATASETS
from .image_list_dataset import ImageListDataset

#: The annotation format, for error messages.
FORMAT = 'a json list [{"image": <path>, "caption": <str> | [<str>, ...]}, ...] (ALPRO\'s cc3m.json)'


@DATASETS.register_module()
class ImageTextDataset(ImageListDataset):
    """Images with captions, one sample per image: ALPRO's CC3M pretraining data.

    The annotation file is ALPRO's ``data/cc3m/txt/cc3m.json`` (read by ``PretrainImageTextDataset`` in
    ``src/datasets/dataset_pretrain_sparse.py``): a json list of ``{"image": <path>, "caption": <str>}``, where
    ``caption`` may also be a list of captions; the official paths are absolute (no image folder). Paths are joined
    to ``data_prefix['img']`` when it is given. As the official dataset, a sample is an image, and an image with
    several captions gets one of them at random each time it is loaded (Python's ``random``, seeded per worker by
    mmengine).

    A sample holds ``img_path`` and ``filename`` (the path; mmaction2's ``ImageDecode`` reads ``filename``), ``text``
    (the caption), ``image_id`` (its index in the file), ``source`` (``'image'``: ALPRO's pretraining picks the
    image entity prompts by it; pack it with ``PackActionInputs(algorithm_keys=('text', 'source', ...))``),
    ``clip_len=1`` and ``num_clips=1``. ALPRO's image pipeline::

        [dict(type='ImageDecode'), dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
         dict(type='Resize', scale=(224, 224), keep_ratio=False, interpolation='bicubic'),
         dict(type='Flip', flip_ratio=0.5),
         dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=7, ops=IMAGE_OPS, apply_prob=0.5,
              replace=True),
         dict(type='ImageToClip', num_frames=4), dict(type='FormatShape', input_format='NCTHW'), ...]

    The rest is :class:`~videoalign.datasets.ImageListDataset`'s: an image that cannot be decoded is reported and
    another sample stands in for it (recording the skipped path in its ``skipped_videos`` metainfo), where the
    official code draws another one silently.

    Args:
        ann_file (str): Path to the json file.
        pipeline (list): Data transforms.
        data_prefix (dict, optional): ``dict(img=<folder>)``, the folder the paths are relative to. Defaults to
            ``dict(img='')`` (paths as written).
        source (str): The ``source`` of every sample. Defaults to ``'image'``.
        **kwargs: Other arguments of :class:`~videoalign.datasets.VideoDataset` (``max_skips``, ``test_mode``, ...;
            not ``class_names``, ``num_shots``, ``multi_class``).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 data_prefix: Optional[dict] = None,
                 source: str = 'image',
                 **kwargs) -> None:
        for key in ('class_names', 'num_shots', 'multi_class'):
            if kwargs.get(key):
                raise ValueError(f'{key} does not apply to {self.__class__.__name__}')
        self.source = source
        super().__init__(ann_file, pipeline, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the json list into samples (their captions kept in ``captions``)."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file {self.ann_file} does not exist (expected {FORMAT})')
        with open(self.ann_file, encoding='utf-8-sig') as f:
            try:
                data = json.load(f)
            except ValueError as err:
                raise ValueError(f'{self.ann_file}: not json ({err}); expected {FORMAT}') from None
        if not isinstance(data, list):
            raise ValueError(f'{self.ann_file}: a json {type(data).__name__}; expected {FORMAT}')
        if not data:
            raise ValueError(f'annotation file {self.ann_file} lists no images')
        prefix = self.data_prefix.get('img') or ''
        data_list = []
        for index, item in enumerate(data):
            path, captions = self._read_item(item, index)
            path = osp.join(prefix, path) if prefix else path
            data_list.append(
                dict(
                    filename=path,
                    img_path=path,
                    captions=captions,
                    image_id=index,
                    source=self.source,
                    clip_len=1,
                    num_clips=1))
        return data_list

    def _read_item(self, item: Any, index: int) -> tuple:
        """``(path, captions)`` of one item, or an error naming the file and the item."""
        if not isinstance(item, dict) or 'image' not in item or 'caption' not in item:
            raise ValueError(f'{self.ann_file} item {index}: cannot read {item!r}; expected {FORMAT}')
        path, caption = item['image'], item['caption']
        if not isinstance(path, str) or not path:
            raise ValueError(f'{self.ann_file} item {index}: "image" must be a non-empty str, got {path!r}')
        captions = [caption] if isinstance(caption, str) else caption
        if not isinstance(captions, list) or not captions or not all(isinstance(c, str) for c in captions):
            raise ValueError(f'{self.ann_file} item {index}: "caption" must be a str or a non-empty list of str, got '
                             f'{caption!r}')
        return path, captions

    def filter_data(self) -> List[dict]:
        """All samples (few-shot subsets do not apply)."""
        return self.data_list

    def get_data_info(self, idx: int) -> dict:
        """The sample ``idx`` with one of its captions, drawn at random, as ``text``."""
        info = super().get_data_info(idx)
        captions = info.pop('captions')
        info['text'] = captions[0] if len(captions) == 1 else random.choice(captions)
        return info
