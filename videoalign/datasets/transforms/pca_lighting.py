"""AlexNet-style PCA lighting noise: what mmaction 0.x's ``ColorJitter()`` did with its default arguments."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS

# ImageNet RGB eigenvalues / eigenvectors (pixel range [0, 255]), as fb.resnet.torch and mmaction 0.x
IMAGENET_EIG_VAL = (55.46, 4.794, 1.148)
IMAGENET_EIG_VEC = ((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203))


@TRANSFORMS.register_module()
class PCALighting(BaseTransform):
    """Add ``eig_vec @ (alpha * eig_val)`` to every pixel, ``alpha ~ N(0, alpha_std)`` drawn once per clip.

    This is mmaction 0.x's ``ColorJitter`` with ``color_space_aug=False`` (its default), which AIM's ViT-L/14 K400
    config uses; mmaction2 1.x's ``ColorJitter`` is a different, much stronger brightness / contrast / saturation /
    hue jitter. As in mmaction 0.x, frames become float32 and are not clipped to [0, 255].

    Required keys: ``imgs``. Modified keys: ``imgs``.

    Args:
        alpha_std (float): Standard deviation of the per-component weights. Defaults to 0.1.
        eig_val (Sequence[float], optional): The 3 eigenvalues. Defaults to ImageNet's.
        eig_vec (Sequence[Sequence[float]], optional): The 3x3 eigenvectors (columns). Defaults to ImageNet's.
    """

    def __init__(self,
                 alpha_std: float = 0.1,
                 eig_val: Optional[Sequence[float]] = None,
                 eig_vec: Optional[Sequence[Sequence[float]]] = None) -> None:
        if alpha_std < 0:
            raise ValueError(f'alpha_std must be >= 0, got {alpha_std}')
        self.alpha_std = alpha_std
        self.eig_val = np.asarray(IMAGENET_EIG_VAL if eig_val is None else eig_val, dtype=np.float32)
        self.eig_vec = np.asarray(IMAGENET_EIG_VEC if eig_vec is None else eig_vec, dtype=np.float32)
        if self.eig_val.shape != (3, ) or self.eig_vec.shape != (3, 3):
            raise ValueError(f'eig_val must have 3 values and eig_vec 3x3, got shapes {self.eig_val.shape} and '
                             f'{self.eig_vec.shape}')

    def transform(self, results: dict) -> dict:
        """Apply the same lighting shift to all frames of ``results['imgs']``."""
        alpha = np.random.normal(0, self.alpha_std, size=(3, ))
        rgb = np.dot(self.eig_vec * alpha, self.eig_val).astype(np.float32)
        results['imgs'] = [img.astype(np.float32) + rgb for img in results['imgs']]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(alpha_std={self.alpha_std})'
