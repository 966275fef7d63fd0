"""ALPRO's text side: one BERT split into a text encoder and a fusion encoder (its tokenizer: ``bert_tokenizer.py``).

ALPRO (``salesforce/ALPRO``, ``src/modeling/xbert.py``) runs a single ``BertForMaskedLM`` in two parts: ``mode='text'``
runs the embeddings and layers ``[0, fusion_layer)`` over the caption; ``mode='fusion'`` runs layers
``[fusion_layer, num_hidden_layers)`` as **self-attention over the concatenation** ``[text ; video]``, with the
concatenated padding masks (its layers have no cross-attention). :class:`ALPROBert` does the same with transformers'
own ``BertForMaskedLM`` modules and explicit methods instead of a ``mode`` switch.

Parameter names equal the official layout under the module (``bert.embeddings.*``, ``bert.encoder.layer.N.*``,
``cls.predictions.*``; no ``bert.pooler``, as xbert's ``BertForMaskedLM`` has none), so the official
``text_encoder.*`` keys load into ``<model>.text_encoder.*`` unchanged. The one extra official key,
``bert.embeddings.position_ids`` (a persistent buffer in xbert, a non-persistent one in transformers >= 4.31), is
dropped at load time by a hook, so a strict load of the official keys succeeds.

Differences from xbert (transformers 4.11) that do not change results in practice:

* padded positions get ``torch.finfo(dtype).min`` added to their attention scores instead of ``-10000``; both give
  them a weight of 0 after the softmax (exactly 0 in float32 for the ``min`` and ``exp(-10000) = 0`` for the other),
  and every row keeps at least its ``[CLS]`` unmasked;
* ``attn_implementation='sdpa'`` (the default) computes the same attention with PyTorch's fused kernel; ``'eager'``
  is the same code path as xbert (matmul, softmax, dropout).

transformers is imported when a class is built, not when this module is imported (it is slow to import).
"""
import logging
import os.path as osp
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule

from videoalign.registry import MODELS

_ATTN_IMPLEMENTATIONS = ('eager', 'sdpa')


def _drop_position_ids(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """Load pre-hook of ``BertEmbeddings``: drop xbert's persistent ``position_ids`` buffer.

    transformers registers ``position_ids`` (``arange(max_position_embeddings)``) as a non-persistent buffer, so it is
    not a key of the module; the official checkpoints, written by transformers 4.11, hold it. The value is the same
    arange; a checkpoint holding anything else is reported, as those positions would be ignored.
    """
    value = state_dict.pop(prefix + 'position_ids', None)
    if value is None:
        return
    expected = torch.arange(value.numel(), dtype=torch.long)
    if value.dtype.is_floating_point or not torch.equal(value.detach().reshape(-1).long().cpu(), expected):
        print_log(
            f'{prefix}position_ids of the checkpoint is not arange({value.numel()}); it is ignored (positions '
            'are 0, 1, 2, ... as in BERT)',
            logger='current',
            level=logging.WARNING)


#: What Google's BERT checkpoints (``bert-base-uncased``'s ``pytorch_model.bin``: ``BertForPreTraining``) hold that
#: ALPRO's BERT does not: the pooler and the next-sentence head.
PRETRAINING_EXTRAS = ('bert.pooler.', 'cls.seq_relationship.')


def _from_bert_checkpoint(module: 'ALPROBert', state_dict: dict, prefix: str, *args) -> None:
    """Load pre-hook of :class:`ALPROBert`: read Google's BERT checkpoints as transformers does.

    ``bert-base-uncased``'s ``pytorch_model.bin`` names its LayerNorm parameters ``gamma`` / ``beta`` (TF-era names,
    which ``from_pretrained`` renames; a plain ``load_state_dict``, e.g. mmengine's ``Pretrained`` init, does not) and
    holds the pooler and the next-sentence head, which ALPRO does not use; without an MLM head the ``cls.*`` keys go
    too. Each change is logged once.
    """
    dropped = PRETRAINING_EXTRAS + (() if module.cls is not None else ('cls.', ))
    renamed, removed = 0, []
    for key in [k for k in state_dict if k.startswith(prefix)]:
        name = key[len(prefix):]
        if name.startswith(dropped):
            removed.append(name)
            del state_dict[key]
        elif name.endswith(('LayerNorm.gamma', 'LayerNorm.beta')):
            state_dict[key.rsplit('.', 1)[0] + ('.weight' if key.endswith('gamma') else '.bias')] = state_dict.pop(key)
            renamed += 1
    if renamed or removed:
        print_log(
            f'{prefix or "ALPROBert"}: {renamed} LayerNorm gamma/beta renamed to weight/bias, {len(removed)} keys '
            f'ALPRO does not use dropped ({", ".join(sorted({k.rsplit(".", 2)[0] for k in removed})) or "none"})',
            logger='current')


@MODELS.register_module()
class ALPROBert(BaseModule):
    """BERT split into ALPRO's text encoder (layers ``[:fusion_layer]``) and fusion encoder (the rest).

    The modules are those of one transformers ``BertForMaskedLM``: ``self.bert`` (its ``BertModel``, without pooler)
    and ``self.cls`` (the MLM head, whose decoder weight is tied to the word embeddings).

    * :meth:`forward_text`: embeddings, then layers ``[0, fusion_layer)`` with the text padding mask
      (xbert ``mode='text'``);
    * :meth:`forward_fusion`: layers ``[fusion_layer, num_hidden_layers)`` over ``cat([text_states, video_tokens])``
      with the mask ``cat([text_mask, video_mask])`` (xbert ``mode='fusion'``, as ALPRO's ``compute_vtm`` and
      ``compute_mlm`` call it); no embedding layer, no position embeddings for the video tokens;
    * :meth:`mlm_logits`: the MLM head (``cls``) on any states, e.g. the text part of the fused states.

    Weights come from BERT's initialisation (``N(0, initializer_range)``) or from a local pretrained folder;
    :meth:`init_weights` keeps them (only an ``init_cfg``, e.g. ``Pretrained``, is applied).

    Args:
        config (dict, optional): ``transformers.BertConfig`` fields. None means ``BertConfig()``'s defaults, i.e. the
            shape of ``bert-base-uncased`` (vocabulary 30522, hidden 768, 12 layers, 12 heads). With
            ``pretrained``, the fields override those of the folder's ``config.json``. Defaults to None.
        pretrained (str, optional): A local folder written by ``save_pretrained`` (``config.json`` and
            ``model.safetensors`` or ``pytorch_model.bin``), e.g. ``bert-base-uncased`` downloaded beforehand. Never
            fetched from the network. Defaults to None.
        fusion_layer (int): Index of the first fusion layer; ``0 <= fusion_layer <= num_hidden_layers``. ALPRO uses
            6 of BERT-base's 12. Defaults to 6.
        attn_implementation (str): ``'sdpa'`` (PyTorch's fused attention) or ``'eager'`` (xbert's matmul and softmax).
            Defaults to ``'sdpa'``.
        mlm_head (bool): Keep the MLM head ``cls`` (pretraining). Retrieval and QA do not use it: without it the
            module has only ``bert.*`` and :meth:`mlm_logits` is unavailable. Defaults to True.
        init_cfg (dict | list[dict], optional): mmengine initialisation config. Defaults to None.
    """

    def __init__(self,
                 config: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 fusion_layer: int = 6,
                 attn_implementation: str = 'sdpa',
                 mlm_head: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import BertConfig, BertForMaskedLM
        if attn_implementation not in _ATTN_IMPLEMENTATIONS:
            raise ValueError(f'attn_implementation must be one of {_ATTN_IMPLEMENTATIONS}, got {attn_implementation!r}')
        if config is not None and not isinstance(config, dict):
            raise TypeError(f'config must be a dict of BertConfig fields or None, got {type(config).__name__}')
        config = dict(config or {})
        if pretrained is not None:
            if not osp.isdir(pretrained):
                raise FileNotFoundError(
                    f'pretrained must be a local folder with config.json and the weights (the network is never '
                    f'used), got {pretrained!r}')
            mlm = BertForMaskedLM.from_pretrained(
                pretrained, local_files_only=True, attn_implementation=attn_implementation, **config)
        else:
            mlm = BertForMaskedLM(BertConfig(attn_implementation=attn_implementation, **config))
        bert_config = mlm.config
        if bert_config.is_decoder or bert_config.add_cross_attention:
            raise ValueError('ALPRO fuses by self-attention over [text ; video]: is_decoder and add_cross_attention '
                             'must be False')
        if not 0 <= fusion_layer <= bert_config.num_hidden_layers:
            raise ValueError(
                f'fusion_layer must be in [0, {bert_config.num_hidden_layers}] (num_hidden_layers), got {fusion_layer}')
        self.config = bert_config  # transformers.BertConfig
        self.fusion_layer = fusion_layer
        self.bert = mlm.bert
        self.cls = mlm.cls if mlm_head else None
        self.bert.embeddings.register_load_state_dict_pre_hook(_drop_position_ids)
        self.register_load_state_dict_pre_hook(_from_bert_checkpoint)

    @property
    def hidden_size(self) -> int:
        """Width of the token states."""
        return self.config.hidden_size

    @property
    def vocab_size(self) -> int:
        """Number of word pieces the MLM head scores."""
        return self.config.vocab_size

    def init_weights(self) -> None:
        """Apply ``init_cfg`` only; the BERT weights are already initialised (or loaded) at construction.

        mmengine's default would call ``init_weights`` of the transformers children, which is theirs, not mmengine's.
        """
        if self.init_cfg is not None:
            from mmengine.model.weight_init import initialize
            initialize(self, self.init_cfg)
        self._is_init = True

    def _extended_mask(self, mask: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """BERT's additive mask ``(B, 1, 1, L)``: 0 where ``mask`` is 1, the dtype's minimum where it is 0."""
        return self.bert.get_extended_attention_mask(mask, tuple(mask.shape), dtype=states.dtype)

    def _run_layers(self, states: torch.Tensor, mask: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        extended = self._extended_mask(mask, states)
        for layer in self.bert.encoder.layer[start:stop]:
            states = layer(states, attention_mask=extended)[0]
        return states

    def forward_text(self,
                     input_ids: torch.Tensor,
                     attention_mask: Optional[torch.Tensor] = None,
                     token_type_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The text encoder: embeddings and layers ``[0, fusion_layer)`` (xbert ``mode='text'``).

        Args:
            input_ids (torch.Tensor): Token ids ``(B, L)``.
            attention_mask (torch.Tensor, optional): ``(B, L)``, 1 for real tokens and 0 for padding; None means all
                ones. Defaults to None.
            token_type_ids (torch.Tensor, optional): ``(B, L)`` segment ids; None means all 0, as ALPRO. Defaults to
                None.

        Returns:
            torch.Tensor: Token states ``(B, L, hidden_size)``.
        """
        if input_ids.dim() != 2:
            raise ValueError(f'input_ids must be (B, L), got shape {tuple(input_ids.shape)}')
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        elif attention_mask.shape != input_ids.shape:
            raise ValueError(f'attention_mask {tuple(attention_mask.shape)} must have the shape of input_ids '
                             f'{tuple(input_ids.shape)}')
        states = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        return self._run_layers(states, attention_mask, 0, self.fusion_layer)

    def forward_fusion(self,
                       text_states: torch.Tensor,
                       text_mask: torch.Tensor,
                       video_tokens: torch.Tensor,
                       video_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The fusion encoder: layers ``[fusion_layer, num_hidden_layers)`` over ``[text ; video]`` (xbert
        ``mode='fusion'``).

        Args:
            text_states (torch.Tensor): Output of :meth:`forward_text`, ``(B, Lt, hidden_size)``.
            text_mask (torch.Tensor): The text padding mask ``(B, Lt)`` (1 real, 0 padding).
            video_tokens (torch.Tensor): Video tokens ``(B, Lv, hidden_size)`` (ALPRO: CLS + 196 pooled patches).
            video_mask (torch.Tensor, optional): ``(B, Lv)``; None means all ones, as ALPRO. Defaults to None.

        Returns:
            torch.Tensor: Fused states ``(B, Lt + Lv, hidden_size)``: the text positions first, then the video
            positions (ALPRO reads the fusion CLS at 0, the MLM states at ``[:Lt]`` and the video at ``[Lt:]``).
        """
        if text_states.dim() != 3 or video_tokens.dim() != 3:
            raise ValueError(f'text_states and video_tokens must be (B, L, C), got shapes {tuple(text_states.shape)} '
                             f'and {tuple(video_tokens.shape)}')
        batch, text_len, width = text_states.shape
        if video_tokens.shape[0] != batch or video_tokens.shape[2] != width or width != self.hidden_size:
            raise ValueError(f'text_states {tuple(text_states.shape)} and video_tokens {tuple(video_tokens.shape)} '
                             f'must share the batch size and the width {self.hidden_size}')
        if text_mask.shape != (batch, text_len):
            raise ValueError(f'text_mask must be ({batch}, {text_len}), got {tuple(text_mask.shape)}')
        if video_mask is None:
            video_mask = text_mask.new_ones(batch, video_tokens.shape[1])
        elif video_mask.shape != video_tokens.shape[:2]:
            raise ValueError(f'video_mask must be {tuple(video_tokens.shape[:2])}, got {tuple(video_mask.shape)}')
        mask = torch.cat([text_mask, video_mask.to(text_mask.dtype)], dim=1)
        states = torch.cat([text_states, video_tokens.to(text_states.dtype)], dim=1)
        return self._run_layers(states, mask, self.fusion_layer, self.config.num_hidden_layers)

    def mlm_logits(self, states: torch.Tensor) -> torch.Tensor:
        """The MLM head (``cls.predictions``: dense, GELU, LayerNorm, tied decoder plus bias).

        Args:
            states (torch.Tensor): Token states ``(..., hidden_size)``.

        Returns:
            torch.Tensor: Logits ``(..., vocab_size)``.
        """
        if self.cls is None:
            raise RuntimeError('this ALPROBert was built with mlm_head=False: it has no MLM head')
        return self.cls(states)

    def forward(self,
                input_ids: torch.Tensor,
                attention_mask: torch.Tensor,
                video_tokens: torch.Tensor,
                video_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Text encoder then fusion encoder: :meth:`forward_fusion` of :meth:`forward_text`.

        Args:
            input_ids (torch.Tensor): Token ids ``(B, Lt)``.
            attention_mask (torch.Tensor): Text padding mask ``(B, Lt)``.
            video_tokens (torch.Tensor): ``(B, Lv, hidden_size)``.
            video_mask (torch.Tensor, optional): ``(B, Lv)``; None means all ones. Defaults to None.

        Returns:
            torch.Tensor: Fused states ``(B, Lt + Lv, hidden_size)``.
        """
        text_states = self.forward_text(input_ids, attention_mask)
        return self.forward_fusion(text_states, attention_mask, video_tokens, video_mask)
