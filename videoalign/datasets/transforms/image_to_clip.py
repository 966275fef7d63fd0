"""An image as a static clip: its one frame repeated, so that video models and their pipelines take images."""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class ImageToClip(BaseTransform):
    """Repeat the one frame of an image sample ``num_frames`` times: a static clip.

    ALPRO pretrains its video encoder on CC3M images as well, each image "repeated ``num_frm`` times as a static
    clip" (``PretrainImageTextDataset`` in ``src/datasets/dataset_pretrain_sparse.py``). After mmaction2's
    ``ImageDecode`` (``results['imgs']`` holds one ``HxWx3`` frame) and the image transforms, this step makes the
    sample a clip of ``num_frames`` identical frames; ``FormatShape('NCTHW')`` then gives ``(1, 3, T, H, W)``, as for
    a video. Each frame is a copy, so that in-place transforms after it (mmaction2's ``Flip`` flips each frame in
    place) act once on every frame. Placing it last among the frame transforms is cheaper.

    **Required keys:** ``imgs`` (a list of one ``HxWxC`` array, or an array of shape ``(1, H, W, C)``).

    **Modified keys:** ``imgs`` (a list of ``num_frames`` arrays).

    **Added keys:** ``clip_len`` (``num_frames``), ``num_clips`` (1), ``frame_inds`` (``num_frames`` zeros).

    Args:
        num_frames (int): Frames of the clip (ALPRO: 4 for pretraining).
    """

    def __init__(self, num_frames: int) -> None:
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'num_frames must be an integer >= 1, got {num_frames!r}')
        self.num_frames = num_frames

    def transform(self, results: Dict) -> Dict:
        """Repeat the frame of ``results['imgs']``.

        Args:
            results (dict): The sample, one frame in ``imgs``.

        Returns:
            dict: The sample as a clip of ``num_frames`` frames.

        Raises:
            KeyError: If the sample has no ``imgs``.
            ValueError: If ``imgs`` does not hold exactly one frame.
        """
        if 'imgs' not in results:
            raise KeyError(f'ImageToClip needs results["imgs"] (from ImageDecode); got keys {sorted(results)}')
        imgs = results['imgs']
        if len(imgs) != 1:
            raise ValueError(f'ImageToClip repeats the one frame of an image, got {len(imgs)} frames'
                             f'{" (" + results["filename"] + ")" if "filename" in results else ""}')
        frame = np.asarray(imgs[0])
        results['imgs'] = [frame.copy() for _ in range(self.num_frames)]
        results['clip_len'] = self.num_frames
        results['num_clips'] = 1
        results['frame_inds'] = np.zeros(self.num_frames, dtype=np.int64)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_frames={self.num_frames})'
