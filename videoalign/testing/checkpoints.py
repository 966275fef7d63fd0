"""Files in the layouts the model zoo publishes, at tiny sizes and with random weights, for tests.

- :class:`RunsCode`: an object whose unpickling would run a shell command (it creates a marker file), to check that a
  reader never unpickles code;
- :func:`make_openai_clip_archive`: a TorchScript archive in OpenAI CLIP's key layout (a tiny ``ViT-B-16.pt``);
- :func:`make_dalle_encoder`: a module with the tree of ``dall_e.Encoder``, to be pickled as ``encoder.pkl`` is;
- :func:`tiny_open_clip`: an open_clip ``CLIP`` of the tiny size with random weights (the reference of equivalence
  tests).
"""
import os
import shlex
import warnings
from collections import OrderedDict

import torch
import torch.nn as nn

TINY_CLIP_ARCH = dict(
    embed_dim=16,
    vision=dict(image_size=32, patch_size=8, width=32, layers=2, heads=2),
    text=dict(context_length=12, vocab_size=50, width=16, heads=2, layers=1))


class RunsCode:
    """Unpickling this would run ``touch marker``.

    Args:
        marker (str): The file the command would create.
    """

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {shlex.quote(self.marker)}', )


class _OpenAICLIP(nn.Module):
    """OpenAI's CLIP key layout, with the size entries OpenAI's archives carry; partly float16 like them."""

    def __init__(self, arch: dict, seed: int) -> None:
        from videoalign.models.backbones import CLIPViT
        from videoalign.models.text import CLIPTextEncoder
        super().__init__()
        self.visual = CLIPViT(arch=arch, num_frames=1)
        text = CLIPTextEncoder(arch=arch)
        self.token_embedding, self.transformer, self.ln_final = text.token_embedding, text.transformer, text.ln_final
        self.positional_embedding, self.text_projection = text.positional_embedding, text.text_projection
        self.logit_scale = nn.Parameter(torch.tensor(4.6))
        for name in ('input_resolution', 'context_length', 'vocab_size'):
            value = arch['vision']['image_size'] if name == 'input_resolution' else arch['text'][name]
            self.register_buffer(name, torch.tensor(value))
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        self.visual.transformer.half()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual.conv1(x).sum() * self.logit_scale


def make_openai_clip_archive(path: str, arch: dict = TINY_CLIP_ARCH, seed: int = 0) -> nn.Module:
    """Write a TorchScript archive (``torch.jit.trace`` and ``save``, as OpenAI's files) of a CLIP with OpenAI's keys.

    Args:
        path (str): Where to write it.
        arch (dict): The CLIP size. Defaults to :data:`TINY_CLIP_ARCH`.
        seed (int): Seed of the random weights. Defaults to 0.

    Returns:
        nn.Module: The module written (its ``state_dict()`` is what the archive holds).
    """
    module = _OpenAICLIP(arch, seed).eval()
    size = arch['vision']['image_size']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch >= 2.10 deprecates TorchScript
        torch.jit.trace(module, torch.randn(1, 3, size, size)).save(path)
    return module


class _DalleConv2d(nn.Module):
    """dall_e's ``Conv2d``: weights named ``w`` and ``b``."""

    def __init__(self, n_in: int, n_out: int, kw: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_out, n_in, kw, kw))
        self.b = nn.Parameter(torch.randn(n_out))


class _DalleEncoder(nn.Module):
    """The module tree of ``dall_e.Encoder`` (input, groups of blocks with a max-pool, output) at a tiny size."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.device = torch.device('cpu')
        self.requires_grad = False
        self.hook = RunsCode(marker)
        block = nn.Sequential(OrderedDict(relu_1=nn.ReLU(), conv_1=_DalleConv2d(4, 4, 3)))
        self.blocks = nn.Sequential(
            OrderedDict(
                input=_DalleConv2d(3, 4, 7),
                group_1=nn.Sequential(OrderedDict(block_1=block, pool=nn.MaxPool2d(kernel_size=2))),
                output=nn.Sequential(OrderedDict(relu=nn.ReLU(), conv=_DalleConv2d(4, 8, 1)))))
        self.register_buffer('scratch', torch.zeros(1), persistent=False)


def make_dalle_encoder(marker: str) -> nn.Module:
    """A module shaped like ``dall_e.Encoder`` whose pickle also holds a :class:`RunsCode` (``self.hook``).

    Args:
        marker (str): The file unpickling the hook would create.

    Returns:
        nn.Module: Save it with ``torch.save(module, path)`` to get a file like ``encoder.pkl``.
    """
    return _DalleEncoder(marker)


def tiny_open_clip(seed: int = 0, image_size: int = 32) -> nn.Module:
    """An open_clip CLIP of the 'tiny' size with QuickGELU (as OpenAI CLIP) and non-trivial random weights."""
    import open_clip

    from videoalign.models.clip import get_clip_arch
    arch = get_clip_arch('tiny')
    vision, text = arch['vision'], arch['text']
    torch.manual_seed(seed)
    model = open_clip.model.CLIP(
        arch['embed_dim'],
        vision_cfg=open_clip.CLIPVisionCfg(
            image_size=image_size,
            patch_size=vision['patch_size'],
            width=vision['width'],
            layers=vision['layers'],
            head_width=vision['width'] // vision['heads']),
        text_cfg=open_clip.CLIPTextCfg(**text),
        quick_gelu=True)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn_like(param))
    return model.eval()
