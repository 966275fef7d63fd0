"""Read the cached per-frame features of a video (written by ``tools/data/extract_clip_features.py``)."""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadFrameFeatures(BaseTransform):
    """Load ``<video path without extension>.npy``, an array ``(T_video, D)`` with one feature per frame.

    The dataset's ``data_prefix`` points at the feature folder, so the annotation file of the videos is used as it
    is: ``brush_hair/x.avi`` under ``data_prefix=dict(video='data/hmdb51/clip_features')`` reads
    ``data/hmdb51/clip_features/brush_hair/x.npy``. Followed by a frame sampler (which reads ``total_frames``) and
    :class:`FrameFeatureDecode`.

    Required keys: ``filename``. Added keys: ``features`` (float32 ``(T_video, D)``), ``total_frames``,
    ``feature_path``.
    """

    def transform(self, results: dict) -> dict:
        """Load the features of ``results['filename']``."""
        path = osp.splitext(results['filename'])[0] + '.npy'
        if not osp.isfile(path):
            raise FileNotFoundError(f'frame features not found: {path} (write them with '
                                    f'tools/data/extract_clip_features.py)')
        features = np.load(path)
        if features.ndim != 2 or len(features) == 0:
            raise ValueError(f'{path}: expected frame features of shape (T, D) with T >= 1, got {features.shape}')
        results['features'] = features.astype(np.float32, copy=False)
        results['total_frames'] = len(features)
        results['feature_path'] = path
        return results
