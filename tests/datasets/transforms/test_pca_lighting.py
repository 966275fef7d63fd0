"""PCALighting: mmaction 0.x's default ColorJitter (PCA lighting noise, one draw per clip)."""
import numpy as np
import pytest

from videoalign.datasets.transforms import PCALighting
from videoalign.datasets.transforms.pca_lighting import IMAGENET_EIG_VAL, IMAGENET_EIG_VEC


def test_one_shift_per_clip_as_mmaction_0x():
    imgs = [np.full((4, 5, 3), 100, np.uint8), np.full((4, 5, 3), 30, np.uint8)]
    np.random.seed(3)
    out = PCALighting()(dict(imgs=list(imgs)))['imgs']
    np.random.seed(3)
    alpha = np.random.normal(0, 0.1, size=(3, ))
    expected = np.dot(np.array(IMAGENET_EIG_VEC) * alpha, np.array(IMAGENET_EIG_VAL))  # mmaction 0.x's formula
    for img, res in zip(imgs, out):
        assert res.dtype == np.float32
        np.testing.assert_allclose(res - img.astype(np.float32), np.broadcast_to(expected, res.shape), rtol=1e-5)
    assert np.abs(expected).max() > 0.1


def test_zero_std_is_identity_and_bad_args_raise():
    img = np.random.randint(0, 255, (4, 4, 3), np.uint8)
    np.testing.assert_array_equal(PCALighting(alpha_std=0.)(dict(imgs=[img]))['imgs'][0], img)
    with pytest.raises(ValueError, match='alpha_std'):
        PCALighting(alpha_std=-1)
    with pytest.raises(ValueError, match='eig_vec 3x3'):
        PCALighting(eig_vec=[[1, 0], [0, 1]])
