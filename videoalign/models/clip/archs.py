"""The sizes of OpenAI CLIP models, shared by the visual backbone and the text encoder.

Each entry is ``dict(embed_dim, vision=dict(image_size, patch_size, width, layers, heads),
text=dict(context_length, vocab_size, width, heads, layers))`` with the values of the released OpenAI models
(open_clip's ``model_configs/*.json``; heads are ``width // 64`` as in OpenAI CLIP). ``'tiny'`` is a test size.
open_clip's names are accepted as aliases (``'ViT-B-16'`` for ``'ViT-B/16'``, ``'ViT-L-14-336'`` for
``'ViT-L/14@336'``).
"""
import copy
from typing import Dict, Union

__all__ = ['CLIP_ARCHS', 'CLIP_ARCH_ALIASES', 'get_clip_arch']

_TEXT_B = dict(context_length=77, vocab_size=49408, width=512, heads=8, layers=12)
_TEXT_L = dict(context_length=77, vocab_size=49408, width=768, heads=12, layers=12)

# yapf: disable
CLIP_ARCHS: Dict[str, dict] = {
    'ViT-B/32': dict(
        embed_dim=512,
        vision=dict(image_size=224, patch_size=32, width=768, layers=12, heads=12),
        text=_TEXT_B),
    'ViT-B/16': dict(
        embed_dim=512,
        vision=dict(image_size=224, patch_size=16, width=768, layers=12, heads=12),
        text=_TEXT_B),
    'ViT-L/14': dict(
        embed_dim=768,
        vision=dict(image_size=224, patch_size=14, width=1024, layers=24, heads=16),
        text=_TEXT_L),
    'ViT-L/14@336': dict(
        embed_dim=768,
        vision=dict(image_size=336, patch_size=14, width=1024, layers=24, heads=16),
        text=_TEXT_L),
    # A test size: 16 patches of 8x8 on a 32x32 image, head width 32 in both towers.
    'tiny': dict(
        embed_dim=32,
        vision=dict(image_size=32, patch_size=8, width=64, layers=2, heads=2),
        text=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=2)),
}
# yapf: enable

# open_clip's model names for the same sizes.
CLIP_ARCH_ALIASES: Dict[str, str] = {
    'ViT-B-32': 'ViT-B/32',
    'ViT-B-16': 'ViT-B/16',
    'ViT-L-14': 'ViT-L/14',
    'ViT-L-14-336': 'ViT-L/14@336',
}

_VISION_KEYS = ('image_size', 'patch_size', 'width', 'layers', 'heads')
_TEXT_KEYS = ('context_length', 'vocab_size', 'width', 'heads', 'layers')


def _check_section(arch: dict, section: str, keys: tuple) -> None:
    """Raise ``KeyError`` if ``arch[section]`` lacks one of ``keys``, or ``ValueError`` if widths and heads clash."""
    cfg = arch[section]
    missing = [k for k in keys if k not in cfg]
    if missing:
        raise KeyError(f'CLIP arch section {section!r} lacks {missing}; it needs {list(keys)}')
    if cfg['width'] % cfg['heads'] != 0:
        raise ValueError(f'CLIP arch section {section!r}: width {cfg["width"]} is not divisible by '
                         f'heads {cfg["heads"]}')


def get_clip_arch(arch: Union[str, dict]) -> dict:
    """Look up a CLIP size by name, or check a custom one.

    Args:
        arch (str | dict): A name of :data:`CLIP_ARCHS` or of :data:`CLIP_ARCH_ALIASES`, or a dict of the same
            layout. A dict needs ``embed_dim`` and at least one of ``vision`` and ``text``; each section present must
            hold all its keys.

    Returns:
        dict: A copy of the size, safe to modify.

    Raises:
        KeyError: If the name is unknown (the message lists the known names) or the dict lacks keys.
        TypeError: If ``arch`` is neither a str nor a dict.
    """
    if isinstance(arch, str):
        name = CLIP_ARCH_ALIASES.get(arch, arch)
        if name not in CLIP_ARCHS:
            raise KeyError(f'unknown CLIP arch {arch!r}; known names are {sorted(CLIP_ARCHS)} and the open_clip '
                           f'aliases {sorted(CLIP_ARCH_ALIASES)}')
        return copy.deepcopy(CLIP_ARCHS[name])
    if not isinstance(arch, dict):
        raise TypeError(f'arch must be a name or a dict, got {type(arch).__name__}')
    if 'embed_dim' not in arch:
        raise KeyError(f'a custom CLIP arch needs "embed_dim", got keys {sorted(arch)}')
    if 'vision' not in arch and 'text' not in arch:
        raise KeyError('a custom CLIP arch needs a "vision" or a "text" section (or both)')
    if 'vision' in arch:
        _check_section(arch, 'vision', _VISION_KEYS)
    if 'text' in arch:
        _check_section(arch, 'text', _TEXT_KEYS)
    return copy.deepcopy(arch)
