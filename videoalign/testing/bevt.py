"""A tiny BEVT for tests and CPU runs: the sizes fit the official shape constraints at 64 px."""
import copy

import torch

#: Swin with four stages on 64 px inputs: maps 16, 8, 4, 2, window 2 (a multiple at every stage, so the official
#: image windows need no padding), a 4x4 token grid per frame; tubes on 2 x 4 x 4 positions for 4-frame clips.
TINY_BEVT_BACKBONE = dict(
    type='SwinTransformerBEVT',
    arch=dict(embed_dims=8, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2)),
    window_size=(2, 2, 2),
    drop_path_rate=0.)
#: The tokenizer of the 32 px copies: a DALL-E of hidden width 16 and 64 codes (downsampling by 8: 4x4 ids).
TINY_DALLE = dict(type='DALLETargetGenerator', n_hid=16, vocab_size=64)
TINY_BEVT_HEAD = dict(type='MaskedTokenHead', in_channels=64, num_tokens=64, vae_encoder=TINY_DALLE)


def tiny_bevt_pretrainer(**overrides) -> dict:
    """The config of a tiny :class:`~videoalign.models.algorithms.BEVTPretrainer` (fields of ``overrides`` replace
    its top-level fields)."""
    cfg = dict(type='BEVTPretrainer', backbone=TINY_BEVT_BACKBONE, cls_head=TINY_BEVT_HEAD)
    cfg.update(overrides)
    return copy.deepcopy(cfg)


def tiny_bevt_batches(seed: int = 0) -> tuple:
    """A video and an image batch for :func:`tiny_bevt_pretrainer`, as ``BEVTDataPreprocessor`` makes them: 2 clips
    of 4 frames and 4 images, 64 px (the tokenizer copies 32 px), with tube and block masks."""
    g = torch.Generator().manual_seed(seed)
    tubes = torch.rand(2, 2, 4, 4, generator=g) > 0.5
    video = dict(
        imgs=torch.randn(2, 3, 4, 64, 64, generator=g),
        imgs_second=torch.rand(2, 3, 4, 32, 32, generator=g),
        mask=tubes,
        target_mask=tubes.repeat_interleave(2, dim=1))
    blocks = torch.rand(4, 4, 4, generator=g) > 0.5
    image = dict(
        imgs=torch.randn(4, 3, 64, 64, generator=g),
        imgs_second=torch.rand(4, 3, 32, 32, generator=g),
        mask=blocks,
        target_mask=blocks)
    return dict(inputs=video, data_samples=None), dict(inputs=image, data_samples=None)
