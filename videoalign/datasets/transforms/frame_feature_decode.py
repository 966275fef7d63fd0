"""Gather the sampled frames' features, as ``DecordDecode`` gathers the sampled frames of a video."""
import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class FrameFeatureDecode(BaseTransform):
    """Take the features at ``frame_inds`` into ``imgs`` of shape ``(num_clips, clip_len, D)``.

    ``PackActionInputs`` then packs ``imgs`` as the model input; a recognizer sees ``(B, num_clips, clip_len, D)``
    and its backbone (an identity) hands ``(B * num_clips, clip_len, D)`` to the neck.

    Required keys: ``features`` (from :class:`LoadFrameFeatures`), ``frame_inds``, ``clip_len``, ``num_clips``,
    ``start_index`` (optional). Added keys: ``imgs``. Removed keys: ``features``.
    """

    def transform(self, results: dict) -> dict:
        """Gather the features of the sampled frames."""
        features = results.pop('features')
        inds = np.asarray(results['frame_inds']).reshape(-1) - results.get('start_index', 0)
        if inds.size != results['num_clips'] * results['clip_len']:
            raise ValueError(f'{inds.size} frame indices do not make {results["num_clips"]} clips of '
                             f'{results["clip_len"]} frames')
        if inds.min() < 0 or inds.max() >= len(features):
            raise IndexError(f'frame index out of range [0, {len(features)}) in {results.get("feature_path")}')
        results['imgs'] = features[inds].reshape(results['num_clips'], results['clip_len'], -1)
        return results
