"""The DALL-E dVAE encoder as BEVT's frozen target generator: images to visual-token logits."""
from typing import Optional

from mmpretrain.models.selfsup.cae import DALLEEncoder

from videoalign.registry import MODELS

__all__ = ['DALLETargetGenerator']


@MODELS.register_module()
class DALLETargetGenerator(DALLEEncoder):
    """OpenAI's DALL-E dVAE encoder (mmpretrain's ``DALL-E``), frozen: logits ``(N, vocab_size, H / 8, W / 8)``.

    mmpretrain's encoder is trainable although it takes ``requires_grad=False`` (its parameters are created with
    ``requires_grad=True``); this one is frozen for good: no parameter requires a gradient (so the optimizer keeps no
    state for it) and it stays in eval mode when its parent is put in train mode. The key
    names are the official dVAE's (``blocks.input.w`` ... ``blocks.output.conv.b``); ``encoder.pkl`` converts to them
    with the ``dvae`` converter (model zoo: ``dalle/dvae-encoder``).

    The input is an RGB image mapped to the dVAE's range, ``(x / 255) * 0.8 + 0.1`` (BEVT's data preprocessor does
    it); the encoder downsamples by 8 (112 px -> 14x14 positions). The targets are the argmax over the codebook.

    Args:
        group_count (int): Groups of residual blocks. Defaults to 4.
        n_hid (int): Hidden width of the first group. Defaults to 256.
        n_blk_per_group (int): Residual blocks per group. Defaults to 2.
        input_channels (int): Image channels. Defaults to 3.
        vocab_size (int): Codebook size. Defaults to 8192.
        init_cfg (dict, optional): Initialisation config, e.g. ``dict(type='Pretrained',
            checkpoint='videoalign://dalle/dvae-encoder')``. Defaults to None.
    """

    def __init__(self,
                 group_count: int = 4,
                 n_hid: int = 256,
                 n_blk_per_group: int = 2,
                 input_channels: int = 3,
                 vocab_size: int = 8192,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            group_count=group_count,
            n_hid=n_hid,
            n_blk_per_group=n_blk_per_group,
            input_channels=input_channels,
            vocab_size=vocab_size,
            init_cfg=init_cfg)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'DALLETargetGenerator':
        """Stay in eval mode whatever ``mode`` is."""
        return super().train(False)
