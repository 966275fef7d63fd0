"""The text embeddings of a class list: prompts -> tokens -> text encoder, cached while the encoder is frozen.

X-CLIP caches the class text features once and never refreshes them (``XCLIP.cache_text``), so a second class list
in the same process gets stale classifiers, and it calls ``self.train()`` inside forward. Here the cache is derived
state that is rebuilt whenever what it depends on changes:

- the class list or the templates (``set_class_names``, ``set_templates``);
- the text encoder's weights: moved to another device or dtype, replaced, or changed in place (checkpoint loading
  and ``init_weights`` write the parameters in place, which bumps their version counters);
- the encoder's trainability: by default a cache is kept only while every encoder parameter has
  ``requires_grad=False``, and a trainable encoder is run on every call, with autograd. The caller may ask for a
  cache of a trainable encoder (``cache=True``, e.g. a learnable prompt in eval mode); it is computed without
  autograd and rebuilt once an optimizer step or a checkpoint changes the weights in place.

The cache is a plain attribute, not a buffer: it is not in the state dict, does not follow ``Module.to`` (a moved
encoder triggers a recomputation on its new device) and is not broadcast by DDP. The encoder is run in whatever
train/eval mode it is in; the owner keeps a frozen encoder in eval mode.
"""
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from .templates import format_prompts, get_templates


class ClassTextBank:
    """Text embeddings of classes, one per class, ensembled over prompt templates.

    For ``K`` classes and ``M`` templates the ``K * M`` prompts are encoded. With ``normalize=True`` a class
    embedding is the mean of its ``M`` L2-normalised template embeddings, normalised again (CLIP's prompt
    ensembling). With ``normalize=False`` it has the same direction and the mean norm of its template embeddings,
    which for one template is the encoder output itself (X-CLIP adds its video-specific prompt to those unnormalised
    CLIP text features).

    Args:
        tokenizer (Callable): Maps a list of texts and ``context_length`` to token ids ``(N, context_length)``.
        class_names (Sequence[str]): The class names.
        templates (str | Sequence[str]): A named template set (see :mod:`.templates`) or templates with one ``{}``
            each. Defaults to ``'bare'``.
        replace_underscores (bool): Whether underscores in class names are written as spaces. Defaults to True.
        normalize (bool): Whether the class embeddings are L2-normalised. Defaults to True.
        context_length (int): Length of the token sequences. Defaults to 77.
        batch_size (int): Prompts encoded per text-encoder call, to bound memory for large class lists.
            Defaults to 512.
    """

    def __init__(self,
                 tokenizer: Callable[..., torch.Tensor],
                 class_names: Sequence[str],
                 templates: Union[str, Sequence[str]] = 'bare',
                 replace_underscores: bool = True,
                 normalize: bool = True,
                 context_length: int = 77,
                 batch_size: int = 512) -> None:
        if batch_size < 1:
            raise ValueError(f'batch_size must be positive, got {batch_size}')
        self.tokenizer = tokenizer
        self.replace_underscores = replace_underscores
        self.normalize = normalize
        self.context_length = context_length
        self.batch_size = batch_size
        self._class_names: Tuple[str, ...] = tuple(class_names)
        self._templates: Tuple[str, ...] = tuple(get_templates(templates))
        self._tokens: Optional[torch.Tensor] = None  # (K * M, L) on the CPU
        self._device_tokens: Optional[torch.Tensor] = None  # the same on the encoder's device
        self._cache: Optional[torch.Tensor] = None
        self._cache_key: Optional[tuple] = None

    @property
    def class_names(self) -> List[str]:
        """The class names (a copy)."""
        return list(self._class_names)

    @property
    def templates(self) -> List[str]:
        """The templates (a copy)."""
        return list(self._templates)

    @property
    def num_classes(self) -> int:
        """Number of classes ``K``."""
        return len(self._class_names)

    def set_class_names(self, class_names: Sequence[str]) -> None:
        """Replace the class list; the embeddings are recomputed on the next call."""
        self._class_names = tuple(class_names)
        self._tokens = None
        self.invalidate()

    def set_templates(self, templates: Union[str, Sequence[str]]) -> None:
        """Replace the templates; the embeddings are recomputed on the next call."""
        self._templates = tuple(get_templates(templates))
        self._tokens = None
        self.invalidate()

    def invalidate(self) -> None:
        """Drop the cached embeddings (needed only after writing encoder weights through ``.data``)."""
        self._device_tokens = None
        self._cache = None
        self._cache_key = None

    def prompts(self) -> List[List[str]]:
        """The prompt texts: ``prompts()[k][m]`` is class ``k`` under template ``m``."""
        return format_prompts(self._class_names, self._templates, self.replace_underscores)

    def tokens(self) -> torch.Tensor:
        """Token ids of all prompts, class-major: row ``k * M + m`` is class ``k`` under template ``m``."""
        if self._tokens is None:
            texts = [text for class_prompts in self.prompts() for text in class_prompts]
            with torch.inference_mode(False):  # kept across calls, so never an inference tensor
                self._tokens = self.tokenizer(texts, context_length=self.context_length)
        return self._tokens

    @staticmethod
    def is_frozen(text_encoder: nn.Module) -> bool:
        """Whether no parameter of ``text_encoder`` requires a gradient."""
        return not any(p.requires_grad for p in text_encoder.parameters())

    @staticmethod
    def _weights_key(text_encoder: nn.Module) -> tuple:
        """Identifies the encoder's current weights: storage, device, dtype and in-place version of each."""
        return tuple((p.data_ptr(), p.device, p.dtype, p._version) for p in text_encoder.parameters())

    def _tokens_on(self, device: torch.device) -> torch.Tensor:
        """The token ids on ``device``, copied there once."""
        if self._device_tokens is None or self._device_tokens.device != device:
            with torch.inference_mode(False):
                self._device_tokens = self.tokens().to(device)
        return self._device_tokens

    def _encode(self, text_encoder: nn.Module) -> torch.Tensor:
        """Encode every prompt and reduce over the templates: ``(K, D)``."""
        param = next(text_encoder.parameters(), None)
        device = param.device if param is not None else torch.device('cpu')
        tokens = self._tokens_on(device)
        embeds = torch.cat([text_encoder(chunk) for chunk in tokens.split(self.batch_size)])
        num_templates = len(self._templates)
        if num_templates == 1 and not self.normalize:
            return embeds
        embeds = embeds.view(self.num_classes, num_templates, -1)
        mean = F.normalize(F.normalize(embeds, dim=-1).mean(dim=1), dim=-1)
        if self.normalize:
            return mean
        return mean * embeds.norm(dim=-1).mean(dim=1, keepdim=True)

    def __call__(self, text_encoder: nn.Module, cache: Optional[bool] = None) -> torch.Tensor:
        """The class embeddings ``(K, D)`` from ``text_encoder`` (cached while it is frozen).

        Args:
            text_encoder (nn.Module): Maps token ids ``(N, L)`` to text embeddings ``(N, D)``.
            cache (bool, optional): Whether to use (and keep) the cache. None means while the encoder is frozen;
                True caches a trainable encoder too (computed without autograd: for evaluation only); False always
                runs the encoder, with autograd. Defaults to None.

        Returns:
            torch.Tensor: The class embeddings, in the encoder's dtype.
        """
        if cache is None:
            cache = self.is_frozen(text_encoder)
        if not cache:
            return self._encode(text_encoder)
        key = self._weights_key(text_encoder)
        if self._cache is None or key != self._cache_key:
            param = next(text_encoder.parameters(), None)
            device_type = param.device.type if param is not None else 'cpu'
            # a normal tensor even under inference_mode (it is reused in training), computed in the encoder's dtype
            with torch.inference_mode(False), torch.no_grad(), torch.autocast(device_type, enabled=False):
                self._cache = self._encode(text_encoder)
            self._cache_key = key
        return self._cache
