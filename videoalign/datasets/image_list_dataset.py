"""An image-list dataset whose samples look like one-frame clips, so that mmaction2's transforms apply to images."""
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np

from ..registry import DATASETS
from .video_dataset import VideoDataset


def image_is_readable(path: str) -> bool:
    """Whether OpenCV can decode the image file ``path``.

    Args:
        path (str): Path of an image file.

    Returns:
        bool: False for a missing, empty or undecodable file.
    """
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    try:
        data = np.fromfile(path, dtype=np.uint8)
        return cv2.imdecode(data, cv2.IMREAD_COLOR) is not None
    except (OSError, cv2.error):
        return False


@DATASETS.register_module()
class ImageListDataset(VideoDataset):
    """Images listed one per line, each sample a one-frame clip (``clip_len=1``, ``num_clips=1``).

    Each line of ``ann_file`` is ``<relative/path.jpg> [<label>]`` (as ImageNet's train list); a line without a
    label gets label -1. The paths are joined to ``data_prefix['img']``. A sample holds ``img_path`` and
    ``filename`` (both the full path: mmaction2's ``ImageDecode`` reads ``filename``), ``label``, ``lineno``,
    ``clip_len=1`` and ``num_clips=1``, plus mmaction2's ``modality`` and ``start_index``. After ``ImageDecode``
    (``results['imgs']`` is a list of one ``HxWx3`` ``uint8`` RGB frame), mmaction2's frame transforms work as on a
    clip: ``RandomResizedCrop`` / ``RandomRescale``, ``RandomCrop``, ``Resize``, ``Flip``, ``ColorJitter``,
    ``FormatShape('NCHW')`` (which gives ``(1, 3, H, W)``). A typical BEVT image pipeline::

        [dict(type='ImageDecode'), dict(type='RandomResizedCrop'), dict(type='Resize', scale=(224, 224),
         keep_ratio=False), dict(type='Flip', flip_ratio=0.5), dict(type='CopyResize', scale=(112, 112),
         input_format='NCHW'), dict(type='FormatShape', input_format='NCHW'),
         dict(type='mmpretrain.BEiTMaskGenerator', input_size=14, num_masking_patches=98, min_num_patches=16),
         dict(type='PackActionInputs', collect_keys=('imgs', 'imgs_second', 'mask'))]

    Everything else is :class:`~videoalign.datasets.VideoDataset`'s: the list is checked (errors name the file and
    line, a UTF-8 byte-order mark is ignored, ``delimiter`` and ``multi_class`` apply), and an image the pipeline
    fails on is reported and skipped (another sample stands in and records the skipped path in its
    ``skipped_videos`` metainfo) when OpenCV cannot decode it; an error on a decodable image is raised as is.

    Args:
        ann_file (str): Path to the image list.
        pipeline (list): Data transforms.
        data_prefix (dict): ``dict(img=<folder>)``, the folder the listed paths are relative to. Defaults to
            ``dict(img='')``.
        **kwargs: Other arguments of :class:`~videoalign.datasets.VideoDataset` (``class_names``, ``max_skips``,
            ``num_shots``, ``shot_seed``, ``multi_class``, ``num_classes``, ``test_mode``, ``delimiter``, ...).
    """

    def __init__(self, ann_file: str, pipeline: list, data_prefix: Optional[dict] = None, **kwargs) -> None:
        data_prefix = dict(img='') if data_prefix is None else dict(data_prefix)
        if set(data_prefix) != {'img'}:
            raise ValueError(f'ImageListDataset takes data_prefix=dict(img=<folder>), got {data_prefix!r}')
        super().__init__(ann_file, pipeline, data_prefix=data_prefix, **kwargs)

    sample_noun = 'image'
    prefix_key = 'img'

    def is_readable(self, path: str) -> bool:
        """Whether OpenCV decodes the image (see :func:`image_is_readable`)."""
        return image_is_readable(path)

    def load_data_list(self) -> List[dict]:
        """Parse the image list with :class:`~videoalign.datasets.VideoDataset`'s checks; one-frame samples."""
        data_list = super().load_data_list()  # no 'video' prefix: the paths come back as listed
        prefix = self.data_prefix.get('img') or ''
        for info in data_list:
            path = osp.join(prefix, info['filename']) if prefix else info['filename']
            info.update(filename=path, img_path=path, clip_len=1, num_clips=1)
        return data_list
