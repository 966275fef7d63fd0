"""CLIP's text transformer with OpenAI CLIP's parameter names, reading token ids or token embeddings.

The parameters sit at the module's top level under the names of OpenAI CLIP (and of open_clip's ``CLIP``):
``token_embedding``, ``positional_embedding``, ``transformer.resblocks.{i}.*``, ``ln_final`` and ``text_projection``,
so a CLIP state dict (or the text keys of an X-CLIP checkpoint) loads by name. ``forward_embeddings`` takes token
embeddings and the end-of-text positions instead of token ids, for learnable prompt vectors (Efficient-Prompt).
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from videoalign.models.clip.archs import get_clip_arch
from videoalign.models.clip.layers import CLIPResidualBlock, LayerNorm
from videoalign.registry import MODELS


def build_causal_mask(context_length: int) -> torch.Tensor:
    """CLIP's additive causal attention mask: 0 on and below the diagonal, ``-inf`` above it.

    Args:
        context_length (int): Sequence length ``L``.

    Returns:
        torch.Tensor: The mask of shape ``(L, L)``.
    """
    return torch.full((context_length, context_length), float('-inf')).triu_(1)


def _text_arch(arch: Union[str, dict]) -> Tuple[dict, int]:
    """The text section of a CLIP size and its ``embed_dim`` (a name or a dict as ``get_clip_arch`` takes)."""
    full = get_clip_arch(arch)
    if 'text' not in full:
        raise KeyError(f'CLIP arch {arch!r} has no "text" section')
    return full['text'], full['embed_dim']


@MODELS.register_module()
class CLIPTextEncoder(BaseModule):
    """CLIP's text tower: causal pre-LN transformer, feature at the end-of-text token, linear projection.

    ``forward(tokens)`` is CLIP's ``encode_text``: the token embeddings plus the positional embedding go through
    the causal transformer; ``ln_final`` and ``text_projection`` are applied at the end-of-text (EOT) token, which
    CLIP finds as the argmax of the token ids (the EOT id is the largest id in the vocabulary).

    The weights are initialised as open_clip's ``TextTransformer.init_parameters`` when the module is built, so that
    it is usable without ``init_weights``. CLIP weights come through ``init_cfg``, e.g.
    ``dict(type='CLIPPretrained', checkpoint=..., prefix='')``: the text keys of a CLIP state dict sit at its top
    level, as here; its ``visual.*`` and ``logit_scale`` keys are not part of this module.

    Args:
        arch (str | dict): A CLIP size known to ``videoalign.models.clip.archs.get_clip_arch`` (``'ViT-B/16'``,
            ``'ViT-L/14'``, ``'tiny'``, ...), or a dict with ``embed_dim`` and a ``text`` section
            (``context_length``, ``vocab_size``, ``width``, ``heads``, ``layers``). Defaults to ``'ViT-B/16'``.
        init_cfg (dict | list[dict], optional): Initialisation config applied by ``init_weights`` on top of CLIP's
            initialisation. Defaults to None.
    """

    def __init__(self, arch: Union[str, dict] = 'ViT-B/16', init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        text_cfg, embed_dim = _text_arch(arch)
        self.arch = arch
        self.embed_dim = embed_dim
        self.context_length = text_cfg['context_length']
        self.vocab_size = text_cfg['vocab_size']
        self.width = text_cfg['width']
        self.num_heads = text_cfg['heads']
        self.num_layers = text_cfg['layers']

        self.token_embedding = nn.Embedding(self.vocab_size, self.width)
        self.positional_embedding = nn.Parameter(torch.empty(self.context_length, self.width))
        mask = build_causal_mask(self.context_length)
        # a ModuleDict gives the keys transformer.resblocks.{i}.* of OpenAI CLIP
        self.transformer = nn.ModuleDict(
            dict(
                resblocks=nn.Sequential(
                    *[CLIPResidualBlock(self.width, self.num_heads, attn_mask=mask) for _ in range(self.num_layers)])))
        self.ln_final = LayerNorm(self.width)
        self.text_projection = nn.Parameter(torch.empty(self.width, self.embed_dim))
        self._init_clip_weights()

    def _init_clip_weights(self) -> None:
        """CLIP's initialisation of the text tower (open_clip ``TextTransformer.init_parameters``)."""
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        attn_std = self.width**-0.5
        proj_std = self.width**-0.5 * (2 * self.num_layers)**-0.5
        fc_std = (2 * self.width)**-0.5
        for block in self.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=self.width**-0.5)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Encode token ids, as CLIP's ``encode_text`` (not normalised).

        Args:
            tokens (torch.Tensor): Token ids of shape ``(K, context_length)``, each row ending with the EOT id,
                which is the largest id of the row.

        Returns:
            torch.Tensor: Text embeddings of shape ``(K, embed_dim)``.
        """
        if tokens.dim() != 2:
            raise ValueError(f'tokens must have shape (K, {self.context_length}), got {tuple(tokens.shape)}')
        return self.forward_embeddings(self.token_embedding(tokens), tokens.argmax(dim=-1))

    def forward_embeddings(self, embeddings: torch.Tensor, eot_indices: torch.Tensor) -> torch.Tensor:
        """Encode token embeddings whose EOT positions are given (e.g. learnable prompt vectors around class names).

        Only the positions up to the last EOT token are computed: under the causal mask the later ones cannot change
        the features at the EOT tokens.

        Args:
            embeddings (torch.Tensor): Token embeddings of shape ``(K, context_length, width)``, without the
                positional embedding (it is added here).
            eot_indices (torch.Tensor): Position of the EOT token of each sequence, a LongTensor of shape ``(K, )``.

        Returns:
            torch.Tensor: Text embeddings of shape ``(K, embed_dim)`` (not normalised).
        """
        if embeddings.dim() != 3 or embeddings.shape[1:] != (self.context_length, self.width):
            raise ValueError(f'embeddings must have shape (K, {self.context_length}, {self.width}), '
                             f'got {tuple(embeddings.shape)}')
        if eot_indices.shape != embeddings.shape[:1]:
            raise ValueError(f'eot_indices must have shape ({embeddings.shape[0]}, ), got {tuple(eot_indices.shape)}')
        # the attention is causal, so the tokens after the last EOT token reach no EOT token: they are left out
        length = int(eot_indices.max()) + 1
        x = embeddings[:, :length] + self.positional_embedding[:length].to(embeddings.dtype)
        x = self.transformer.resblocks(x.transpose(0, 1).contiguous()).transpose(0, 1)  # blocks run on (L, K, width)
        # ln_final acts on each token alone, so it is applied to the EOT tokens only
        x = x[torch.arange(x.shape[0], device=x.device), eot_indices.to(x.device)]
        return self.ln_final(x) @ self.text_projection.to(x.dtype)
