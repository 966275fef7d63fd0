"""Turn a whole clip to grey with some probability (X-CLIP's GrayScale(p=0.2))."""
import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class ClipGrayscale(BaseTransform):
    """With probability ``prob``, replace every frame of the clip by its luma, kept as 3 equal channels.

    One draw per clip, so all frames change together (mmcv's ``RandomGrayscale`` draws per image). Luma weights are
    ITU-R BT.601 (as torchvision's ``rgb_to_grayscale``); frames are RGB (mmaction2's decoders output RGB).

    Required keys: ``imgs``. Modified keys: ``imgs``.

    Args:
        prob (float): Probability of turning the clip grey. Defaults to 0.2.
    """

    def __init__(self, prob: float = 0.2) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        """Apply the transform to ``results['imgs']``."""
        if np.random.rand() >= self.prob:
            return results
        grey = []
        for img in results['imgs']:
            luma = img[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
            grey.append(np.repeat(np.clip(luma + 0.5, 0, 255).astype(img.dtype)[..., None], 3, axis=-1))
        results['imgs'] = grey
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
