"""PEMRandomBox (ALPRO's ``random_erase`` box, draw for draw) and the model-side helpers: the prompter's blacked-out
input, the patch mask and the pooling of the box's tokens, against transcriptions of the official code."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope

from videoalign.datasets.transforms import PEMRandomBox
from videoalign.models.algorithms.alpro import box_mean_pool, box_patch_mask, zero_outside_box
from videoalign.models.algorithms.alpro.alpro_base import ALPRO_MEAN, ALPRO_STD
from videoalign.registry import TRANSFORMS


def official_random_erase(input_img, patch_size, s_l=0.3, s_h=0.5, r_1=0.3, r_2=1 / 0.3, v_l=0, v_h=255):
    """``src/datasets/dataset_pretrain_sparse.py`` ``random_erase`` of salesforce/ALPRO, on frames ``(T, C, H, W)``."""
    assert input_img.ndim == 4
    img_t, img_c, img_h, img_w = input_img.shape
    while True:
        s = np.random.uniform(s_l, s_h) * img_h * img_w
        r = np.random.uniform(r_1, r_2)
        w = int(np.sqrt(s / r))
        h = int(np.sqrt(s * r))
        left = np.random.randint(0, img_w)
        top = np.random.randint(0, img_h)
        w = w - w % patch_size
        h = h - h % patch_size
        left = left - left % patch_size
        top = top - top % patch_size
        if left + w <= img_w and top + h <= img_h:
            break
    context_img = input_img.clone()
    context_img[:, :, top:top + h, left:left + w] = 0
    input_img = input_img[:, :, top:top + h, left:left + w]
    pad = (left, img_w - left - w, top, img_h - top - h)
    input_img = torch.nn.functional.pad(input_img, pad=pad, mode='constant', value=0.0)
    img_masks = torch.ones_like(input_img)
    img_masks[:, :, top:top + h, left:left + w] = 0
    img_masks = torch.nn.functional.avg_pool2d(
        img_masks.float(), kernel_size=(patch_size, patch_size), stride=patch_size)
    img_masks = torch.mean(img_masks, dim=(0, 1))
    return input_img, img_masks, context_img


def official_box_pooling(visual_output: torch.Tensor, patch_masks: torch.Tensor) -> torch.Tensor:
    """The pooling of ``AlproForPretrain.compute_mpm_with_encoder_out`` (``visual_output`` without the visual CLS)."""
    bsz, h, w = patch_masks.shape
    patch_masks_flatten_inverted = (1 - patch_masks.view(bsz, -1)).unsqueeze(-1)
    num_masked_patches = torch.sum(patch_masks_flatten_inverted.squeeze(-1), dim=-1, keepdim=True)
    masked_visual_embeds = patch_masks_flatten_inverted * visual_output
    masked_visual_embeds = torch.sum(masked_visual_embeds, dim=1)
    masked_visual_embeds /= num_masked_patches
    return masked_visual_embeds


def _normalise(frames: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` pixels (0-255) to the model's input (ALPRO's CLIP mean and std on the 0-255 scale)."""
    mean = torch.tensor(ALPRO_MEAN).view(1, 3, 1, 1, 1)
    std = torch.tensor(ALPRO_STD).view(1, 3, 1, 1, 1)
    return (frames - mean) / std


def _box_of(context_img: torch.Tensor) -> tuple:
    """The zeroed box of the official ``context_img`` of frames that are nowhere 0."""
    zero = context_img[0, 0] == 0
    rows, cols = torch.nonzero(zero.any(dim=1)).flatten(), torch.nonzero(zero.any(dim=0)).flatten()
    if not len(rows) or not len(cols):
        return None
    return int(rows[0]), int(cols[0]), len(rows), len(cols)


@pytest.mark.parametrize('size,patch', [((224, 224), 16), ((224, 320), 16), ((32, 32), 8)])
def test_same_box_as_the_official_random_erase(size, patch):
    transform = PEMRandomBox(patch_size=patch)
    frames = torch.rand(2, 3, *size) * 254 + 1  # (T, C, H, W), nowhere 0
    for seed in range(60):
        np.random.seed(seed)
        box = transform.sample_box(*size)
        after_ours = np.random.random()
        np.random.seed(seed)
        crop, mpm_mask, context = official_random_erase(frames, patch)
        assert np.random.random() == after_ours  # the same draws, in the same number
        assert box == _box_of(context), seed
        # the patch mask is the official 1 - mpm_mask, flattened row-major
        grid = (size[0] // patch, size[1] // patch)
        assert mpm_mask.shape == grid
        torch.testing.assert_close(box_patch_mask([box], *grid, patch), 1 - mpm_mask.reshape(1, -1))
        # the prompter's input: the official crop (black outside) normalised afterwards
        ours = zero_outside_box(_normalise(frames.transpose(0, 1)[None]), [box], ALPRO_MEAN, ALPRO_STD)
        torch.testing.assert_close(ours, _normalise(crop.transpose(0, 1)[None]), rtol=1e-5, atol=1e-5)


def test_boxes_over_many_draws_at_224():
    transform = PEMRandomBox()
    np.random.seed(0)
    boxes = np.array([transform.sample_box(224, 224) for _ in range(2000)])
    top, left, h, w = boxes.T
    assert (boxes % 16 == 0).all() and (h >= 16).all() and (w >= 16).all()
    assert (top + h <= 224).all() and (left + w <= 224).all()
    area = 224 * 224
    # the drawn area s is in [0.3, 0.5] * H * W and the sides are cut down: int(), then less than a patch
    assert (h * w <= 0.5 * area).all() and ((h + 17) * (w + 17) >= 0.3 * area).all()
    assert (h <= np.sqrt(0.5 * area / 0.3)).all() and (w <= np.sqrt(0.5 * area / 0.3)).all()
    assert 0.2 < (h * w / area).mean() < 0.4
    assert len(set(top.tolist())) > 5 and len(set(left.tolist())) > 5 and (h > w).any() and (w > h).any()


def test_empty_boxes_are_drawn_again():
    """With 16 px patches on 32 px frames the official snapping can give an empty box; here it is drawn again."""
    transform = PEMRandomBox(patch_size=16)
    frames = torch.rand(1, 3, 32, 32) + 1
    diverged = 0
    for seed in range(100):
        np.random.seed(seed)
        box = transform.sample_box(32, 32)
        assert box[2] >= 16 and box[3] >= 16
        np.random.seed(seed)
        official = _box_of(official_random_erase(frames, 16)[2])
        if official is None:  # the official box is empty
            diverged += 1
        else:
            assert box == official
    assert diverged > 0


def test_pipeline_and_the_model_side():
    imgs = [np.random.randint(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(4)]
    with DefaultScope.overwrite_default_scope('videoalign'):
        pipeline = Compose([
            TRANSFORMS.build(t) for t in [
                dict(type='Resize', scale=(32, 32), keep_ratio=False),
                dict(type='PEMRandomBox', patch_size=8),
                dict(type='FormatShape', input_format='NCTHW'),
                dict(type='PackActionInputs', algorithm_keys=('pem_box', )),
            ]
        ])
    np.random.seed(3)
    packed = pipeline(dict(imgs=imgs, img_shape=(48, 64), modality='RGB', num_clips=1, clip_len=4))
    top, left, h, w = box = packed['data_samples'].pem_box
    assert all(isinstance(v, int) and v % 8 == 0 for v in box) and top + h <= 32 and left + w <= 32

    inputs = _normalise(packed['inputs'].float())  # (1, C, T, H, W)
    crop = zero_outside_box(inputs, [box], ALPRO_MEAN, ALPRO_STD)
    # the data preprocessor's buffers (C, 1, 1, 1) work as well
    as_buffers = [torch.tensor(v).view(3, 1, 1, 1) for v in (ALPRO_MEAN, ALPRO_STD)]
    torch.testing.assert_close(zero_outside_box(inputs, torch.tensor([box]), *as_buffers), crop)
    assert torch.equal(crop[..., top:top + h, left:left + w], inputs[..., top:top + h, left:left + w])
    black = (-torch.tensor(ALPRO_MEAN) / torch.tensor(ALPRO_STD)).view(3, 1, 1)
    outside = torch.ones(32, 32, dtype=torch.bool)
    outside[top:top + h, left:left + w] = False
    for t in range(4):
        torch.testing.assert_close(crop[0, :, t][:, outside], black.expand(3, 32, 32)[:, outside])
    mask = box_patch_mask([box], 4, 4, 8).view(4, 4)
    assert mask.sum() == h * w / 64 and mask[top // 8, left // 8] == 1 and set(mask.unique().tolist()) <= {0., 1.}


def test_box_patch_mask_and_pooling_against_the_official_code():
    boxes = torch.tensor([[0, 0, 16, 16], [5, 3, 20, 11], [8, 16, 24, 16]])  # the second is off the grid
    mask = box_patch_mask(boxes, 4, 4, 8)
    for box, row in zip(boxes.tolist(), mask):
        top, left, h, w = box
        img_masks = torch.ones(1, 1, 32, 32)
        img_masks[:, :, top:top + h, left:left + w] = 0
        official = torch.mean(F.avg_pool2d(img_masks, kernel_size=(8, 8), stride=8), dim=(0, 1))
        torch.testing.assert_close(row, 1 - official.flatten())
    # the fused visual tokens after the text and the visual CLS
    fused = torch.randn(3, 5 + 1 + 16, 12)
    patch_masks = (1 - mask).view(3, 4, 4)  # the official mpm_mask
    torch.testing.assert_close(
        box_mean_pool(fused[:, 6:], mask), official_box_pooling(fused[:, 6:], patch_masks), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(box_mean_pool(fused[:, 6:], mask)[0], fused[0, 6:][[0, 1, 4, 5]].mean(dim=0))


def test_errors():
    with pytest.raises(ValueError, match='patch_size'):
        PEMRandomBox(patch_size=0)
    with pytest.raises(ValueError, match='area_range'):
        PEMRandomBox(area_range=(0.5, 0.3))
    with pytest.raises(ValueError, match='at most 1'):
        PEMRandomBox(area_range=(0.5, 1.5))
    with pytest.raises(ValueError, match='aspect_range'):
        PEMRandomBox(aspect_range=(0, 2))
    with pytest.raises(ValueError, match='on the 16 px patch grid'):
        PEMRandomBox().sample_box(224, 200)
    with pytest.raises(RuntimeError, match='after 50 draws'):
        PEMRandomBox(max_attempts=50).sample_box(16, 16)  # no non-empty box of half the area fits
    with pytest.raises(KeyError, match='img_shape'):
        PEMRandomBox()(dict(imgs=[]))
    assert 'patch_size=16' in repr(PEMRandomBox())

    video = torch.zeros(2, 3, 4, 32, 32)
    with pytest.raises(ValueError, match='pass the 32x32 frames'):
        zero_outside_box(video, [(0, 0, 8, 8), (24, 0, 16, 8)], ALPRO_MEAN, ALPRO_STD)
    with pytest.raises(ValueError, match='height, width >= 1'):
        box_patch_mask([(0, 0, 0, 8)], 4, 4, 8)
    with pytest.raises(ValueError, match='one box per clip'):
        zero_outside_box(video, [(0, 0, 8, 8)], ALPRO_MEAN, ALPRO_STD)
    with pytest.raises(ValueError, match='mean and std of 3 channels'):
        zero_outside_box(video, [(0, 0, 8, 8)] * 2, ALPRO_MEAN[:2], ALPRO_STD)
    with pytest.raises(ValueError, match=r'\(B, 4\)'):
        box_patch_mask(torch.zeros(2, 3), 4, 4, 8)
    with pytest.raises(ValueError, match=r'tokens \(B, N, D\)'):
        box_mean_pool(torch.randn(2, 16, 4), torch.ones(2, 15))
