"""Tests of the CLIP size table."""
import open_clip
import pytest

from videoalign.models.clip.archs import CLIP_ARCH_ALIASES, CLIP_ARCHS, get_clip_arch


@pytest.mark.parametrize('alias', sorted(CLIP_ARCH_ALIASES))
def test_matches_open_clip_configs(alias):
    arch = get_clip_arch(alias)
    assert arch == CLIP_ARCHS[CLIP_ARCH_ALIASES[alias]]
    ref = open_clip.get_model_config(alias)
    assert arch['embed_dim'] == ref['embed_dim']
    vision, ref_vision = arch['vision'], ref['vision_cfg']
    for key in ('image_size', 'patch_size', 'width', 'layers'):
        assert vision[key] == ref_vision[key], key
    # open_clip derives the heads from a head width of 64 (OpenAI CLIP: width // 64)
    assert vision['heads'] == ref_vision['width'] // ref_vision.get('head_width', 64)
    for key in ('context_length', 'vocab_size', 'width', 'heads', 'layers'):
        assert arch['text'][key] == ref['text_cfg'][key], key


def test_official_values():
    assert get_clip_arch('ViT-B/16')['text'] == dict(context_length=77, vocab_size=49408, width=512, heads=8, layers=12)
    large = get_clip_arch('ViT-L/14@336')
    assert large['embed_dim'] == 768 and large['vision']['image_size'] == 336
    assert large['vision'] == dict(image_size=336, patch_size=14, width=1024, layers=24, heads=16)
    assert large['text']['width'] == 768 and large['text']['heads'] == 12
    tiny = get_clip_arch('tiny')
    assert tiny['vision']['width'] % tiny['vision']['heads'] == 0


def test_returns_copies():
    arch = get_clip_arch('ViT-B/16')
    arch['vision']['width'] = 1
    assert get_clip_arch('ViT-B/16')['vision']['width'] == 768
    # B/32 and B/16 share the same text size: a change to one must not leak into the other
    assert get_clip_arch('ViT-B/32')['text'] is not get_clip_arch('ViT-B/16')['text']


def test_unknown_and_custom():
    with pytest.raises(KeyError, match='ViT-B/16'):
        get_clip_arch('ViT-H/14')
    custom = dict(embed_dim=16, vision=dict(image_size=16, patch_size=8, width=32, layers=1, heads=2))
    assert get_clip_arch(custom) == custom
    with pytest.raises(KeyError, match='heads'):
        get_clip_arch(dict(embed_dim=16, vision=dict(image_size=16, patch_size=8, width=32, layers=1)))
    with pytest.raises(KeyError, match='embed_dim'):
        get_clip_arch(dict(vision=custom['vision']))
    with pytest.raises(ValueError, match='divisible'):
        get_clip_arch(dict(embed_dim=16, vision=dict(image_size=16, patch_size=8, width=30, layers=1, heads=4)))
    with pytest.raises(TypeError):
        get_clip_arch(16)
