"""A tiny BEVT for tests and CPU runs: the sizes fit the official shape constraints at 64 px."""
import copy

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
