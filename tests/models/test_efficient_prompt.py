"""Efficient-Prompt as a whole (efficient_prompt.md): what trains, the class-embedding cache, official checkpoints
converted by ``tools/convert/convert.py efficient_prompt`` (training: test_efficient_prompt_training.py).

The official state dict is written here from the key list of efficient_prompt.md §3 with random values, and the
official forward pass is re-computed from it by hand (prompt layout loop, temporal blocks, ``cos / 0.07``).
"""
import copy
import math
import os.path as osp
from collections import OrderedDict

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

from videoalign.models.backbones import CLIPViT
from videoalign.models.converters import convert_efficient_prompt
from videoalign.models.text import CLIPTextEncoder, CLIPTokenizer
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, run_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'efficient_prompt', 'vit-b16-16f_hmdb51.py')
FEATURE_CONFIG = osp.join(REPO_ROOT, 'configs', 'efficient_prompt', 'vit-b16-16f_hmdb51-features.py')
CONVERTER = ['tools/convert/convert.py', 'efficient_prompt']
NAMES = ['brush hair', 'cartwheel', 'shoot a bow with great care']
TINY_T, TINY_D = 4, 32  # the 'tiny' CLIP arch: vision 64 wide, 2 layers, 32x32 frames; text 32 wide, 2 layers


def tiny_model(names=NAMES):
    """The HMDB51 config's model at the 'tiny' CLIP size, with random weights."""
    cfg = Config.fromfile(CONFIG)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.update(arch='tiny', num_frames=TINY_T, init_cfg=None)
    model_cfg.neck.update(num_frames=TINY_T, embed_dims=TINY_D, num_heads=2)
    model_cfg.cls_head.update(num_classes=len(names), in_channels=TINY_D, class_names=list(names))
    model_cfg.cls_head.text_encoder.update(arch='tiny', init_cfg=None)
    init_default_scope('videoalign')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_gradients_reach_exactly_the_neck_and_the_prompt():
    model = tiny_model()
    model.train()
    captured = []
    model.backbone.register_forward_hook(lambda module, args, out: captured.append(out))
    losses = model.loss(torch.randn(2, 1, 3, TINY_T, 32, 32), samples([0, 2]))
    losses['loss_cls'].backward()
    trained = {name for name, p in model.named_parameters() if p.grad is not None}
    assert trained == {
        name
        for name, _ in model.named_parameters()
        if name.startswith('neck.') or name == 'cls_head.prompt.embedding.weight'
    }
    assert all(model.get_parameter(name).grad.abs().sum() > 0 for name in trained)
    assert all(not p.requires_grad for name, p in model.named_parameters() if name not in trained)
    # the frozen backbone ran without autograd and stays in eval mode, as the frozen text tower
    assert len(captured) == 1 and captured[0].names == ('frame_embeds', 'patch_tokens')
    assert all(not value.requires_grad and value.grad_fn is None for value in captured[0].to_dict().values())
    assert not model.backbone.training and not model.cls_head.text_encoder.training and model.neck.training


def test_logits_are_cosine_over_a_fixed_temperature():
    model = tiny_model()
    head = model.cls_head.eval()
    video = torch.randn(5, TINY_D)
    text = head.class_embeddings()
    torch.testing.assert_close(text.norm(dim=-1), torch.ones(len(NAMES)))
    expected = torch.nn.functional.normalize(video, dim=-1) @ text.t() / 0.07
    torch.testing.assert_close(head(video), expected)
    assert 'logit_scale' not in dict(head.named_parameters()) and 'cls_head.logit_scale' not in model.state_dict()
    assert math.isclose(head.logit_scale.item(), math.log(1 / 0.07), rel_tol=1e-6)
    assert not hasattr(head, 'set_templates') and not hasattr(head, 'templates')  # learned vectors, no templates


def test_class_embeddings_cached_in_eval_and_refreshed_on_change():
    model = tiny_model()
    head = model.cls_head
    model.eval()
    first = head.class_embeddings()
    assert head.class_embeddings() is first and not first.requires_grad  # cached

    # training: recomputed on every call, with autograd to the prompt
    model.train()
    a, b = head.class_embeddings(), head.class_embeddings()
    assert a is not b and a.requires_grad and torch.allclose(a, first)

    # an optimizer step writes the prompt in place: the eval cache is refreshed
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.loss(torch.randn(2, 1, 3, TINY_T, 32, 32), samples([0, 1]))['loss_cls'].backward()
    optimizer.step()
    model.eval()
    second = head.class_embeddings()
    assert second is not first and not torch.allclose(second, first)
    assert head.class_embeddings() is second
    # loading a checkpoint (in-place copy) refreshes it too
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state['cls_head.prompt.embedding.weight'].normal_(std=0.01)
    model.load_state_dict(state)
    third = head.class_embeddings()
    assert third is not second and not torch.allclose(third, second)

    # zero-shot: held-out class names at test time
    head.set_class_names(['ride a horse', 'smile'])
    assert head.num_classes == 2 and head.class_embeddings().shape == (2, TINY_D)
    results = model.predict(torch.randn(3, 5, 3, TINY_T, 32, 32), samples([0, 1, 1]))
    assert results[0].pred_score.shape == (2, )
    torch.testing.assert_close(results[0].pred_score.sum(), torch.tensor(1.))  # 5 views averaged as probabilities


def test_class_names_too_long_for_the_prompt():
    long_name = ' '.join(['word'] * 50)
    with pytest.raises(ValueError, match=f"class '{long_name}' does not fit"):
        tiny_model(NAMES + [long_name])
    model = tiny_model()
    with pytest.raises(ValueError, match='does not fit'):
        model.cls_head.set_class_names(['smile', long_name])
    assert model.cls_head.class_names == NAMES and model.cls_head.num_classes == 3  # left unchanged


# ----------------------------------------------------------------------------------------------------------------
# official checkpoints


def clip_block_shapes(prefix: str, width: int) -> dict:
    return {
        f'{prefix}.attn.in_proj_weight': (3 * width, width),
        f'{prefix}.attn.in_proj_bias': (3 * width, ),
        f'{prefix}.attn.out_proj.weight': (width, width),
        f'{prefix}.attn.out_proj.bias': (width, ),
        f'{prefix}.ln_1.weight': (width, ),
        f'{prefix}.ln_1.bias': (width, ),
        f'{prefix}.mlp.c_fc.weight': (4 * width, width),
        f'{prefix}.mlp.c_fc.bias': (4 * width, ),
        f'{prefix}.mlp.c_proj.weight': (width, 4 * width),
        f'{prefix}.mlp.c_proj.bias': (width, ),
        f'{prefix}.ln_2.weight': (width, ),
        f'{prefix}.ln_2.bias': (width, )
    }


def official_key_shapes(width=768,
                        layers=12,
                        patch=16,
                        grid=14,
                        embed=512,
                        text_width=512,
                        text_layers=12,
                        vocab=49408,
                        num_frames=16,
                        tfm_layers=1) -> 'OrderedDict':
    """The keys and shapes of an official ``CLIPrompt`` state dict (efficient_prompt.md §3; defaults: B/16)."""
    shapes = OrderedDict()
    shapes['clipmodel.positional_embedding'] = (77, text_width)
    shapes['clipmodel.text_projection'] = (text_width, embed)
    shapes['clipmodel.logit_scale'] = ()
    shapes['clipmodel.visual.class_embedding'] = (width, )
    shapes['clipmodel.visual.positional_embedding'] = (grid * grid + 1, width)
    shapes['clipmodel.visual.proj'] = (width, embed)
    shapes['clipmodel.visual.conv1.weight'] = (width, 3, patch, patch)
    shapes['clipmodel.visual.ln_pre.weight'] = (width, )
    shapes['clipmodel.visual.ln_pre.bias'] = (width, )
    for i in range(layers):
        shapes.update(clip_block_shapes(f'clipmodel.visual.transformer.resblocks.{i}', width))
    shapes['clipmodel.visual.ln_post.weight'] = (width, )
    shapes['clipmodel.visual.ln_post.bias'] = (width, )
    for i in range(text_layers):
        shapes.update(clip_block_shapes(f'clipmodel.transformer.resblocks.{i}', text_width))
    shapes['clipmodel.token_embedding.weight'] = (vocab, text_width)
    shapes['clipmodel.ln_final.weight'] = (text_width, )
    shapes['clipmodel.ln_final.bias'] = (text_width, )
    shapes['embedding.weight'] = (77, embed)
    shapes['temporalEmbedding.weight'] = (num_frames, embed)
    for i in range(tfm_layers):
        shapes.update(clip_block_shapes(f'temporalModelling.resblocks.{i}', embed))
    return shapes


TINY_SHAPES = dict(width=64, layers=2, patch=8, grid=4, embed=TINY_D, text_width=32, text_layers=2, num_frames=TINY_T)


def official_forward(state: dict, videos: torch.Tensor, names, prefix=16, postfix=16) -> torch.Tensor:
    """The official logits (``CLIPrompt.forward`` + ``cos / 0.07``) computed from an official tiny state dict."""
    visual = CLIPViT('tiny', num_frames=TINY_T, use_proj=True).eval()
    visual.load_state_dict({
        k[len('clipmodel.visual.'):]: v
        for k, v in state.items() if k.startswith('clipmodel.visual.')
    })
    text = CLIPTextEncoder('tiny').eval()
    text.load_state_dict({
        k[len('clipmodel.'):]: v
        for k, v in state.items()
        if k.startswith('clipmodel.') and not k.startswith(('clipmodel.visual.', 'clipmodel.logit_scale'))
    })
    # replace_text_embedding: learned rows by absolute position, then SOT, the name and EOT written over them
    tokens = CLIPTokenizer()(list(names))
    words = text.token_embedding(tokens)
    embeds = state['embedding.weight'].unsqueeze(0).repeat(len(names), 1, 1)
    prompt_tokens = torch.zeros(len(names), 77, dtype=torch.long)
    for i in range(len(names)):
        ind = int(tokens[i].argmax())
        embeds[i, 0] = words[i, 0]
        embeds[i, prefix + 1:prefix + ind] = words[i, 1:ind]
        embeds[i, prefix + ind + postfix] = words[i, ind]
        prompt_tokens[i, 0], prompt_tokens[i, prefix + ind + postfix] = tokens[i, 0], tokens[i, ind]
        prompt_tokens[i, prefix + 1:prefix + ind] = tokens[i, 1:ind]
    t_feature = text.forward_embeddings(embeds, prompt_tokens.argmax(dim=-1))
    # videos: per-frame CLIP, + temporalEmbedding, temporalModelling (pre-LN blocks), mean over T
    frames = visual(videos).frame_embeds.transpose(0, 1)  # (T, B, D)
    x = frames + state['temporalEmbedding.weight'].unsqueeze(1)
    block = {
        k[len('temporalModelling.resblocks.0.'):]: v
        for k, v in state.items() if k.startswith('temporalModelling.resblocks.0.')
    }
    attn = torch.nn.MultiheadAttention(TINY_D, 2)
    attn.load_state_dict({k[len('attn.'):]: v for k, v in block.items() if k.startswith('attn.')})
    ln = torch.nn.functional.layer_norm
    y = ln(x, (TINY_D, ), block['ln_1.weight'], block['ln_1.bias'])
    x = x + attn(y, y, y, need_weights=False)[0]
    h = ln(x, (TINY_D, ), block['ln_2.weight'], block['ln_2.bias']) @ block['mlp.c_fc.weight'].t()
    h = h + block['mlp.c_fc.bias']
    x = x + (h * torch.sigmoid(1.702 * h)) @ block['mlp.c_proj.weight'].t() + block['mlp.c_proj.bias']
    v_feature = x.mean(dim=0)
    v_feature = v_feature / v_feature.norm(dim=-1, keepdim=True)
    t_feature = t_feature / t_feature.norm(dim=-1, keepdim=True)
    return v_feature @ t_feature.t() / 0.07


def save_official(path, shapes, seed=0) -> OrderedDict:
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict((k, torch.randn(s, generator=gen) * 0.1) for k, s in shapes.items())
    torch.save({'state_dict': state, 'optimizer': {'state': {}, 'param_groups': []}, 'iteration': 1100}, path)
    return state


def test_official_checkpoint_converts_loads_strictly_and_gives_the_official_logits(tmp_path):
    official = save_official(str(tmp_path / 'HMDB_best.pth.tar'), official_key_shapes(**TINY_SHAPES))
    dst = str(tmp_path / 'converted.pth')
    run_tool(['python', *CONVERTER, str(tmp_path / 'HMDB_best.pth.tar'), dst])
    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['converter'] == 'efficient_prompt'
    converted = checkpoint['state_dict']
    assert len(converted) == len(official) - 1  # logit_scale dropped

    model = tiny_model().eval()
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    state = model.state_dict()
    assert torch.equal(state['cls_head.prompt.embedding.weight'], official['embedding.weight'])
    assert torch.equal(state['neck.temporal_embedding.weight'], official['temporalEmbedding.weight'])
    assert torch.equal(state['neck.transformer.resblocks.0.mlp.c_fc.weight'],
                       official['temporalModelling.resblocks.0.mlp.c_fc.weight'])
    assert torch.equal(state['backbone.conv1.weight'], official['clipmodel.visual.conv1.weight'])
    assert torch.equal(state['cls_head.text_encoder.transformer.resblocks.1.ln_2.bias'],
                       official['clipmodel.transformer.resblocks.1.ln_2.bias'])

    videos = torch.randn(2, 3, TINY_T, 32, 32)
    with torch.no_grad():
        ours = model.extract_feat(videos.unsqueeze(1), stage='head')[0]
        expected = official_forward(official, videos, NAMES)
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)


def test_full_size_conversion_matches_both_model_layouts():
    """B/16 key names and shapes (meta tensors: nothing is allocated) against the full models of the configs."""
    official = {k: torch.empty(s, device='meta') for k, s in official_key_shapes().items()}
    assert len(official) == 316
    assert sum(math.prod(s) for k, s in official_key_shapes().items() if not k.startswith('clipmodel.')) == 3200000
    init_default_scope('videoalign')
    for config, drop_visual in ((CONFIG, False), (FEATURE_CONFIG, True)):
        cfg = Config.fromfile(config)
        cfg.model.cls_head.class_names = [f'class {i}' for i in range(51)]
        model = MODELS.build(cfg.model)
        converted = convert_efficient_prompt({'state_dict': official}, drop_visual=drop_visual)
        assert {k: tuple(v.shape) for k, v in converted.items()} == \
            {k: tuple(v.shape) for k, v in model.state_dict().items()}
        del model


def test_unknown_key_raises():
    shapes = official_key_shapes(**TINY_SHAPES)
    shapes['prompt_learner.ctx'] = (4, )
    with pytest.raises(KeyError, match='prompt_learner.ctx'):
        convert_efficient_prompt({'state_dict': {k: torch.zeros(s) for k, s in shapes.items()}})
