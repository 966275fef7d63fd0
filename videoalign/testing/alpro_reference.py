"""Transcriptions of ALPRO's official forward (salesforce/ALPRO) on official-layout state dicts, for tests.

Each function computes with plain tensors taken from a state dict that has the **official key names** (alpro.md §5),
never with videoalign's modules, so comparing a converted videoalign model with them checks the key mapping and the
computation at once:

- :func:`official_video_tokens`: ``src/modeling/timesformer/vit.py`` ``VisionTransformer.forward_features``
  (divided space-time attention, eval mode, the in-forward nearest resize of ``pos_embed`` / ``time_embed``) and
  ``TimeSformer.forward_features(..., pooling='temporal')``;
- :func:`xbert_text`, :func:`xbert_fusion`, :func:`xbert_mlm`: ``src/modeling/xbert.py`` ``BertModel`` with
  ``mode='text'`` (embeddings + layers ``[:fusion_layer]``) and ``mode='fusion'`` (layers ``[fusion_layer:]`` over
  ``cat([text, video])``, the mask ``(1 - mask) * -10000``), and the ``BertForMaskedLM`` head;
- :func:`official_retrieval_inference`: ``src/modeling/alpro_models.py``
  ``AlproForVideoTextRetrieval.forward_inference`` (one video against every text), and
  :func:`official_retrieval_scores` looping it over videos.

:func:`random_official_visual_state` and :func:`random_official_alpro_state` write random official-layout state
dicts of tiny models (the pretraining file with its prompter, or a retrieval file).
"""
import math
from typing import Dict, Mapping

import torch
import torch.nn.functional as F
from einops import rearrange

__all__ = [
    'official_temporal_pooling', 'official_video_tokens', 'xbert_text', 'xbert_fusion', 'xbert_mlm',
    'official_retrieval_inference', 'official_retrieval_scores', 'random_official_visual_state',
    'random_official_alpro_state', 'strip_prefix'
]

StateDict = Mapping[str, torch.Tensor]


def strip_prefix(state: StateDict, prefix: str) -> Dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix``, without it."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _linear(sd: StateDict, name: str, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x, sd[f'{name}.weight'], sd[f'{name}.bias'])


def _layer_norm(sd: StateDict, name: str, x: torch.Tensor, eps: float) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1], ), sd[f'{name}.weight'], sd[f'{name}.bias'], eps=eps)


# ---------------------------------------------------------------- TimeSformer (src/modeling/timesformer/vit.py)


def official_temporal_pooling(tokens: torch.Tensor, num_frames: int, grid: int) -> torch.Tensor:
    """``TimeSformer.forward_features(..., pooling='temporal')`` after the encoder: CLS + the mean over frames.

    Args:
        tokens (torch.Tensor): The normed tokens ``(B, 1 + grid * grid * T, D)``, ``(h w t)`` order.
        num_frames (int): ``T``.
        grid (int): Patches per side (``img_size // patch_size``).

    Returns:
        torch.Tensor: ``(B, 1 + grid * grid, D)``.
    """
    cls_tokens = tokens[:, 0, :].unsqueeze(1)
    x = rearrange(tokens[:, 1:, :], 'b (h w t) m -> b t (h w) m', h=grid, w=grid, t=num_frames)
    return torch.cat((cls_tokens, torch.mean(x, dim=1)), dim=1)


def _timm_attention(sd: StateDict, name: str, x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """timm's ``Attention``: a fused ``qkv`` Linear, the output features split as ``(3, heads, head_dim)``."""
    b, n, c = x.shape
    qkv = _linear(sd, f'{name}.qkv', x).reshape(b, n, 3, num_heads, c // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    attn = ((q @ k.transpose(-2, -1)) * (c // num_heads)**-0.5).softmax(dim=-1)
    return _linear(sd, f'{name}.proj', (attn @ v).transpose(1, 2).reshape(b, n, c))


def official_video_tokens(sd: StateDict, video: torch.Tensor, num_heads: int, patch_size: int) -> torch.Tensor:
    """The official ``VisionTransformer.forward_features`` (eval) and the ``pooling='temporal'`` of its wrapper.

    Args:
        sd (Mapping): The video encoder's official state dict without prefix (``cls_token``, ``blocks.N.*`` ...).
        video (torch.Tensor): ``(B, C, T, H, W)`` with square frames.
        num_heads (int): Attention heads.
        patch_size (int): Patch side in pixels.

    Returns:
        torch.Tensor: The pooled tokens ``(B, 1 + (H / patch_size) ** 2, D)``.
    """
    B, T = video.shape[0], video.shape[2]
    depth = len({k.split('.')[1] for k in sd if k.startswith('blocks.')})
    x = rearrange(video, 'b c t h w -> (b t) c h w')
    x = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=patch_size)
    W = x.shape[-1]
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat((sd['cls_token'].expand(x.size(0), -1, -1), x), dim=1)
    pos_embed = sd['pos_embed']
    if x.size(1) != pos_embed.size(1):  # the official in-forward resize: nearest over a P x P grid
        cls_pos_embed = pos_embed[0, 0, :].unsqueeze(0).unsqueeze(1)
        other_pos_embed = pos_embed[0, 1:, :].unsqueeze(0).transpose(1, 2)
        P = int(other_pos_embed.size(2)**0.5)
        H = x.size(1) // W
        other_pos_embed = other_pos_embed.reshape(1, x.size(2), P, P)
        new_pos_embed = F.interpolate(other_pos_embed, size=(H, W), mode='nearest').flatten(2).transpose(1, 2)
        pos_embed = torch.cat((cls_pos_embed, new_pos_embed), 1)
    x = x + pos_embed
    cls_tokens = x[:B, 0, :].unsqueeze(1)
    x = rearrange(x[:, 1:], '(b t) n m -> (b n) t m', b=B, t=T)
    time_embed = sd['time_embed']
    if T != time_embed.size(1):  # the official in-forward resize: nearest over the frames
        time_embed = F.interpolate(time_embed.transpose(1, 2), size=(T), mode='nearest').transpose(1, 2)
    x = rearrange(x + time_embed, '(b n) t m -> b (n t) m', b=B, t=T)
    x = torch.cat((cls_tokens, x), dim=1)
    H = W
    for i in range(depth):
        blk = f'blocks.{i}'
        xt = rearrange(x[:, 1:, :], 'b (h w t) m -> (b h w) t m', b=B, h=H, w=W, t=T)
        res_temporal = _timm_attention(sd, f'{blk}.temporal_attn', _layer_norm(sd, f'{blk}.temporal_norm1', xt, 1e-6),
                                       num_heads)
        res_temporal = rearrange(res_temporal, '(b h w) t m -> b (h w t) m', b=B, h=H, w=W, t=T)
        xt = x[:, 1:, :] + _linear(sd, f'{blk}.temporal_fc', res_temporal)
        init_cls_token = x[:, 0, :].unsqueeze(1)
        cls_token = rearrange(init_cls_token.repeat(1, T, 1), 'b t m -> (b t) m', b=B, t=T).unsqueeze(1)
        xs = rearrange(xt, 'b (h w t) m -> (b t) (h w) m', b=B, h=H, w=W, t=T)
        xs = torch.cat((cls_token, xs), 1)
        res_spatial = _timm_attention(sd, f'{blk}.attn', _layer_norm(sd, f'{blk}.norm1', xs, 1e-6), num_heads)
        cls_token = torch.mean(rearrange(res_spatial[:, 0, :], '(b t) m -> b t m', b=B, t=T), 1, True)
        res_spatial = rearrange(res_spatial[:, 1:, :], '(b t) (h w) m -> b (h w t) m', b=B, h=H, w=W, t=T)
        x = torch.cat((init_cls_token, xt), 1) + torch.cat((cls_token, res_spatial), 1)
        hidden = F.gelu(_linear(sd, f'{blk}.mlp.fc1', _layer_norm(sd, f'{blk}.norm2', x, 1e-6)))
        x = x + _linear(sd, f'{blk}.mlp.fc2', hidden)
    return official_temporal_pooling(_layer_norm(sd, 'norm', x, 1e-6), T, H)


# ---------------------------------------------------------------- BERT / xbert (src/modeling/xbert.py)


def _xbert_mask(mask: torch.Tensor) -> torch.Tensor:
    """xbert's ``get_extended_attention_mask`` of a ``(B, L)`` padding mask."""
    return (1.0 - mask[:, None, None, :].float()) * -10000.0


def _bert_layer(sd: StateDict, name: str, x: torch.Tensor, additive_mask: torch.Tensor, num_heads: int,
                eps: float) -> torch.Tensor:
    """One post-LN BERT layer: self-attention, add & norm, GELU MLP, add & norm."""
    batch, length, width = x.shape
    head_dim = width // num_heads

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(batch, length, num_heads, head_dim).transpose(1, 2)

    q, k, v = (heads(_linear(sd, f'{name}.attention.self.{part}', x)) for part in ('query', 'key', 'value'))
    scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + additive_mask
    context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, width)
    x = _layer_norm(sd, f'{name}.attention.output.LayerNorm',
                    _linear(sd, f'{name}.attention.output.dense', context) + x, eps)
    hidden = F.gelu(_linear(sd, f'{name}.intermediate.dense', x))
    return _layer_norm(sd, f'{name}.output.LayerNorm', _linear(sd, f'{name}.output.dense', hidden) + x, eps)


def _num_layers(sd: StateDict) -> int:
    return len({k.split('.')[3] for k in sd if k.startswith('bert.encoder.layer.')})


def xbert_text(sd: StateDict,
               input_ids: torch.Tensor,
               mask: torch.Tensor,
               num_heads: int,
               fusion_layer: int,
               eps: float = 1e-12) -> torch.Tensor:
    """xbert ``BertModel(..., mode='text')``: embeddings (token type 0) and layers ``[:fusion_layer]``.

    Args:
        sd (Mapping): xbert ``BertForMaskedLM``'s official state dict (``bert.*``, ``cls.*``): ALPRO's keys under
            ``text_encoder.``.
        input_ids (torch.Tensor): ``(B, L)``.
        mask (torch.Tensor): ``(B, L)``, 1 for real tokens.
        num_heads (int): Attention heads.
        fusion_layer (int): The first fusion layer.
        eps (float): LayerNorm epsilon. Defaults to BERT's 1e-12.

    Returns:
        torch.Tensor: ``(B, L, D)``.
    """
    positions = torch.arange(input_ids.shape[1])
    x = sd['bert.embeddings.word_embeddings.weight'][input_ids] + sd['bert.embeddings.token_type_embeddings.weight'][0]
    x = x + sd['bert.embeddings.position_embeddings.weight'][positions][None]
    x = _layer_norm(sd, 'bert.embeddings.LayerNorm', x, eps)
    for n in range(fusion_layer):
        x = _bert_layer(sd, f'bert.encoder.layer.{n}', x, _xbert_mask(mask), num_heads, eps)
    return x


def xbert_fusion(sd: StateDict,
                 text: torch.Tensor,
                 text_mask: torch.Tensor,
                 video: torch.Tensor,
                 video_mask: torch.Tensor,
                 num_heads: int,
                 fusion_layer: int,
                 eps: float = 1e-12) -> torch.Tensor:
    """xbert ``BertModel(encoder_embeds=cat([text, video]), mode='fusion')``: layers ``[fusion_layer:]``.

    Args:
        sd (Mapping): As in :func:`xbert_text`.
        text (torch.Tensor): Text states ``(B, L, D)``.
        text_mask (torch.Tensor): ``(B, L)``.
        video (torch.Tensor): Video tokens ``(B, N, D)``.
        video_mask (torch.Tensor): ``(B, N)``.
        num_heads (int): Attention heads.
        fusion_layer (int): The first fusion layer.
        eps (float): LayerNorm epsilon. Defaults to 1e-12.

    Returns:
        torch.Tensor: ``(B, L + N, D)``.
    """
    x = torch.cat([text, video], dim=1)
    additive_mask = _xbert_mask(torch.cat([text_mask, video_mask], dim=1))
    for n in range(fusion_layer, _num_layers(sd)):
        x = _bert_layer(sd, f'bert.encoder.layer.{n}', x, additive_mask, num_heads, eps)
    return x


def xbert_mlm(sd: StateDict, x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``BertForMaskedLM``'s head ``cls.predictions``: dense, GELU, LayerNorm, then the (tied) decoder and bias.

    Args:
        sd (Mapping): As in :func:`xbert_text`.
        x (torch.Tensor): ``(B, L, D)``.
        eps (float): LayerNorm epsilon. Defaults to 1e-12.

    Returns:
        torch.Tensor: Logits ``(B, L, vocab)``.
    """
    x = _layer_norm(sd, 'cls.predictions.transform.LayerNorm',
                    F.gelu(_linear(sd, 'cls.predictions.transform.dense', x)), eps)
    return x @ sd['cls.predictions.decoder.weight'].t() + sd['cls.predictions.bias']


# ---------------------------------------------------------------- retrieval (src/modeling/alpro_models.py)


def official_retrieval_inference(sd: StateDict, visual_inputs: torch.Tensor, text_input_ids: torch.Tensor,
                                 text_input_mask: torch.Tensor, video_heads: int, patch_size: int, text_heads: int,
                                 fusion_layer: int) -> Dict[str, torch.Tensor]:
    """``AlproForVideoTextRetrieval.forward_inference``: one video scored against every text.

    The video's pooled tokens give ``video_feat = normalize(vision_proj(CLS))``; the texts (``mode='text'``) give
    ``text_feat = normalize(text_proj(CLS))``; ``itc_scores = video_feat @ text_feat.T / temp``; the video tokens,
    repeated per text, are fused with each text (``mode='fusion'``, ``[text; video]``) and ``itm_head`` scores the
    fusion CLS.

    Args:
        sd (Mapping): The official retrieval (or pretraining) state dict: ``visual_encoder.model.*``,
            ``text_encoder.bert.*``, ``vision_proj``, ``text_proj``, ``itm_head``, ``temp``.
        visual_inputs (torch.Tensor): ``(1, T, C, H, W)``, normalised (the official model transposes to
            ``(B, C, T, H, W)``).
        text_input_ids (torch.Tensor): ``(N, L)``.
        text_input_mask (torch.Tensor): ``(N, L)``.
        video_heads (int): Attention heads of the video encoder.
        patch_size (int): Its patch side.
        text_heads (int): Attention heads of BERT.
        fusion_layer (int): BERT's first fusion layer.

    Returns:
        dict: ``logits`` ``(N, 2)`` and ``itc_scores`` ``(1, N)`` (the official outputs), and the intermediate
        ``video_embeds`` ``(1, 1 + P, D)``, ``video_feat`` ``(1, E)``, ``text_embeds`` ``(N, L, D)``,
        ``text_feat`` ``(N, E)``.
    """
    visual_inputs = visual_inputs.transpose(1, 2)
    video_embeds = official_video_tokens(
        strip_prefix(sd, 'visual_encoder.model.'), visual_inputs, video_heads, patch_size)
    video_feat = F.normalize(_linear(sd, 'vision_proj', video_embeds[:, 0, :]), dim=-1)
    repeated = video_embeds.repeat(text_input_mask.shape[0], 1, 1)
    video_atts = torch.ones(repeated.size()[:-1], dtype=torch.long)
    bert = strip_prefix(sd, 'text_encoder.')
    text_embeds = xbert_text(bert, text_input_ids, text_input_mask, text_heads, fusion_layer)
    text_feat = F.normalize(_linear(sd, 'text_proj', text_embeds[:, 0, :]), dim=-1)
    itc_scores = video_feat @ text_feat.t() / sd['temp']
    fused = xbert_fusion(bert, text_embeds, text_input_mask, repeated, video_atts, text_heads, fusion_layer)
    logits = _linear(sd, 'itm_head', fused[:, 0, :])
    return dict(
        logits=logits,
        itc_scores=itc_scores,
        video_embeds=video_embeds,
        video_feat=video_feat,
        text_embeds=text_embeds,
        text_feat=text_feat)


def official_retrieval_scores(sd: StateDict, visual_inputs: torch.Tensor, text_input_ids: torch.Tensor,
                              text_input_mask: torch.Tensor, **kwargs) -> Dict[str, torch.Tensor]:
    """:func:`official_retrieval_inference` for every video of a batch (the official loop feeds one at a time).

    Args:
        sd (Mapping): As in :func:`official_retrieval_inference`.
        visual_inputs (torch.Tensor): ``(V, T, C, H, W)``.
        text_input_ids (torch.Tensor): ``(N, L)``.
        text_input_mask (torch.Tensor): ``(N, L)``.
        **kwargs: ``video_heads``, ``patch_size``, ``text_heads``, ``fusion_layer``.

    Returns:
        dict: ``itm_logits`` ``(V, N, 2)``, ``itc_scores`` ``(V, N)``, ``video_embeds`` ``(V, 1 + P, D)``,
        ``video_feat`` ``(V, E)``, ``text_embeds`` ``(N, L, D)`` and ``text_feat`` ``(N, E)``.
    """
    outs = [
        official_retrieval_inference(sd, visual_inputs[i:i + 1], text_input_ids, text_input_mask, **kwargs)
        for i in range(visual_inputs.shape[0])
    ]
    return dict(
        itm_logits=torch.stack([o['logits'] for o in outs]),
        itc_scores=torch.cat([o['itc_scores'] for o in outs]),
        video_embeds=torch.cat([o['video_embeds'] for o in outs]),
        video_feat=torch.cat([o['video_feat'] for o in outs]),
        text_embeds=outs[0]['text_embeds'],
        text_feat=outs[0]['text_feat'])


# ---------------------------------------------------------------- random official-layout state dicts


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator) * 0.2


def random_official_visual_state(num_frames: int,
                                 width: int = 32,
                                 depth: int = 2,
                                 grid: int = 4,
                                 patch_size: int = 8,
                                 prefix: str = 'visual_encoder.model.',
                                 seed: int = 2) -> Dict[str, torch.Tensor]:
    """An official-layout ALPRO video encoder (``VisionTransformer`` names, its 400-class head), random values.

    Args:
        num_frames (int): The length of ``time_embed``.
        width (int): Embedding width. Defaults to 32.
        depth (int): Blocks. Defaults to 2.
        grid (int): Patches per side (``pos_embed`` has ``1 + grid ** 2`` rows). Defaults to 4.
        patch_size (int): Patch side. Defaults to 8.
        prefix (str): Prefix of every key. Defaults to ``'visual_encoder.model.'``.
        seed (int): Random seed. Defaults to 2.

    Returns:
        dict: The state dict; LayerNorm weights are near 1, everything else ``N(0, 0.2)``.
    """
    shapes = {
        'cls_token': (1, 1, width),
        'pos_embed': (1, 1 + grid * grid, width),
        'time_embed': (1, num_frames, width),
        'patch_embed.proj.weight': (width, 3, patch_size, patch_size),
        'patch_embed.proj.bias': (width, ),
        'norm.weight': (width, ),
        'norm.bias': (width, ),
        'head.weight': (400, width),
        'head.bias': (400, ),
    }
    for i in range(depth):
        for name in ('norm1', 'temporal_norm1', 'norm2'):
            shapes.update({f'blocks.{i}.{name}.weight': (width, ), f'blocks.{i}.{name}.bias': (width, )})
        for name in ('attn', 'temporal_attn'):
            shapes.update({
                f'blocks.{i}.{name}.qkv.weight': (3 * width, width),
                f'blocks.{i}.{name}.qkv.bias': (3 * width, ),
                f'blocks.{i}.{name}.proj.weight': (width, width),
                f'blocks.{i}.{name}.proj.bias': (width, )
            })
        shapes.update({
            f'blocks.{i}.temporal_fc.weight': (width, width),
            f'blocks.{i}.temporal_fc.bias': (width, ),
            f'blocks.{i}.mlp.fc1.weight': (4 * width, width),
            f'blocks.{i}.mlp.fc1.bias': (4 * width, ),
            f'blocks.{i}.mlp.fc2.weight': (width, 4 * width),
            f'blocks.{i}.mlp.fc2.bias': (width, )
        })
    generator = torch.Generator().manual_seed(seed)
    state = {prefix + key: _randn(generator, *shape) for key, shape in shapes.items()}
    for key in state:
        if key.endswith(('norm1.weight', 'norm2.weight', 'norm.weight')):
            state[key] += 1
    return state


def _random_official_bert(generator: torch.Generator, prefix: str, vocab_size: int, width: int, num_layers: int,
                          intermediate: int, max_positions: int) -> Dict[str, torch.Tensor]:
    """xbert ``BertForMaskedLM``'s keys under ``prefix`` (with ``position_ids``; the decoder tied to the words)."""
    state = {
        'bert.embeddings.position_ids': torch.arange(max_positions).expand(1, -1).clone(),
        'bert.embeddings.word_embeddings.weight': _randn(generator, vocab_size, width),
        'bert.embeddings.position_embeddings.weight': _randn(generator, max_positions, width),
        'bert.embeddings.token_type_embeddings.weight': _randn(generator, 2, width),
    }
    norms = ['bert.embeddings.LayerNorm', 'cls.predictions.transform.LayerNorm']
    for n in range(num_layers):
        layer = f'bert.encoder.layer.{n}'
        for part in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'):
            state.update({f'{layer}.{part}.weight': _randn(generator, width, width)})
            state.update({f'{layer}.{part}.bias': _randn(generator, width)})
        state.update({
            f'{layer}.intermediate.dense.weight': _randn(generator, intermediate, width),
            f'{layer}.intermediate.dense.bias': _randn(generator, intermediate),
            f'{layer}.output.dense.weight': _randn(generator, width, intermediate),
            f'{layer}.output.dense.bias': _randn(generator, width)
        })
        norms += [f'{layer}.attention.output.LayerNorm', f'{layer}.output.LayerNorm']
    for norm in norms:
        state.update({f'{norm}.weight': 1 + _randn(generator, width), f'{norm}.bias': _randn(generator, width)})
    bias = _randn(generator, vocab_size)
    state.update({
        'cls.predictions.transform.dense.weight': _randn(generator, width, width),
        'cls.predictions.transform.dense.bias': _randn(generator, width),
        'cls.predictions.bias': bias,
        'cls.predictions.decoder.weight': state['bert.embeddings.word_embeddings.weight'],
        'cls.predictions.decoder.bias': bias
    })
    return {prefix + k: v for k, v in state.items()}


def random_official_alpro_state(kind: str = 'retrieval',
                                num_frames: int = 4,
                                vocab_size: int = 138,
                                width: int = 32,
                                video_depth: int = 2,
                                grid: int = 4,
                                patch_size: int = 8,
                                text_layers: int = 4,
                                intermediate: int = 64,
                                max_positions: int = 64,
                                embed_dim: int = 16,
                                num_entities: int = 10,
                                seed: int = 0) -> Dict[str, torch.Tensor]:
    """A tiny ALPRO model's official state dict with random values, exact official key names (alpro.md §5).

    Args:
        kind (str): ``'retrieval'`` (``AlproForVideoTextRetrieval``), ``'pretrain'`` (``AlproForPretrain``: adds
            ``mpm_head.{0,2}`` and ``prompter.*``, a whole ``'prompter'`` model) or ``'prompter'`` (a ``Prompter``:
            the retrieval keys and ``{video,image}_prompt_feat``). Defaults to ``'retrieval'``.
        num_frames (int): ``time_embed``'s length (4 for pretraining files). Defaults to 4.
        vocab_size (int): BERT vocabulary. Defaults to 138.
        width (int): Hidden width of both encoders. Defaults to 32.
        video_depth (int): TimeSformer blocks. Defaults to 2.
        grid (int): Patches per side. Defaults to 4.
        patch_size (int): Patch side. Defaults to 8.
        text_layers (int): BERT layers (text and fusion). Defaults to 4.
        intermediate (int): BERT MLP width. Defaults to 64.
        max_positions (int): BERT positions. Defaults to 64.
        embed_dim (int): ``vision_proj`` / ``text_proj`` output. Defaults to 16.
        num_entities (int): Entities of ``mpm_head`` and the prompt features. Defaults to 10.
        seed (int): Random seed (the prompter's is ``seed + 1``). Defaults to 0.

    Returns:
        dict: The official state dict (the pretraining one with the student's keys first, then ``prompter.*``).

    Raises:
        ValueError: If ``kind`` is unknown.
    """
    if kind not in ('retrieval', 'pretrain', 'prompter'):
        raise ValueError(f"kind must be 'retrieval', 'pretrain' or 'prompter', got {kind!r}")
    generator = torch.Generator().manual_seed(seed)
    state = {'temp': torch.tensor(0.07)}
    state.update(random_official_visual_state(num_frames, width, video_depth, grid, patch_size, seed=seed + 100))
    state.update(
        _random_official_bert(generator, 'text_encoder.', vocab_size, width, text_layers, intermediate, max_positions))
    for name, (rows, cols) in dict(
            vision_proj=(embed_dim, width), text_proj=(embed_dim, width), itm_head=(2, width)).items():
        state.update({f'{name}.weight': _randn(generator, rows, cols), f'{name}.bias': _randn(generator, rows)})
    if kind == 'prompter':
        state.update({
            'video_prompt_feat': _randn(generator, num_entities, embed_dim),
            'image_prompt_feat': _randn(generator, num_entities, embed_dim)
        })
    if kind == 'pretrain':
        state.update({
            'mpm_head.0.weight': _randn(generator, 2 * width, width),
            'mpm_head.0.bias': _randn(generator, 2 * width),
            'mpm_head.2.weight': _randn(generator, num_entities, 2 * width),
            'mpm_head.2.bias': _randn(generator, num_entities)
        })
        prompter = random_official_alpro_state('prompter', num_frames, vocab_size, width, video_depth, grid, patch_size,
                                               text_layers, intermediate, max_positions, embed_dim, num_entities,
                                               seed + 1)
        state.update({f'prompter.{k}': v for k, v in prompter.items()})
    return state
