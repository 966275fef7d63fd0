"""Efficient-Prompt's learnable continuous text prompt: learned vectors around the class-name tokens.

Official code: ``ju-chen/Efficient-Prompt`` ``src/model.py`` (``CLIPrompt.embedding`` and ``replace_text_embedding``,
commit ``1f69a18``).
"""
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from videoalign.registry import MODELS


@MODELS.register_module()
class LearnablePrompt(BaseModule):
    """Prompt vectors indexed by absolute sequence position, shared by all classes (Efficient-Prompt §2.2).

    ``embedding`` is an ``nn.Embedding(context_length, width)`` whose row ``p`` is the learned vector of sequence
    position ``p``. For a class whose token ids are ``[SOT, w_1 .. w_{ind-1}, EOT]`` (EOT at ``ind``), the sequence
    fed to the text encoder is

    ======================================================  ============================================
    positions                                               content
    ======================================================  ============================================
    ``0``                                                   SOT token embedding (frozen)
    ``1 .. prefix``                                         learned rows ``1 .. prefix``
    ``prefix + 1 .. prefix + ind - 1``                      class-name token embeddings (frozen)
    ``prefix + ind .. prefix + ind + postfix - 1``          learned rows at those positions
    ``prefix + ind + postfix``                              EOT token embedding (frozen)
    later positions                                         learned rows (masked out by the causal mask)
    ======================================================  ============================================

    so which rows form the postfix depends on the length of the class name, as in the official code. The rows at
    positions taken by SOT, the class name and EOT are never used; those after EOT are used but get zero gradient.
    The token embeddings come from the frozen CLIP ``token_embedding`` passed to :meth:`forward`; the output goes to
    ``CLIPTextEncoder.forward_embeddings(embeds, eot_indices)``, which adds CLIP's positional embedding.

    Args:
        prefix (int): Learned vectors before the class name. Defaults to 16 (the README's ``--prefix 16``; the
            argparse default is 0).
        postfix (int): Learned vectors after the class name. Defaults to 16 (``--postfix 16``).
        context_length (int): Sequence length ``L`` of the text encoder. Defaults to 77.
        width (int): Token width of the text encoder. Defaults to 512.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to normal with std 0.01, as the
            official ``initialize_parameters`` (also drawn at construction, so the module works without
            ``init_weights``).
    """

    def __init__(
        self,
        prefix: int = 16,
        postfix: int = 16,
        context_length: int = 77,
        width: int = 512,
        init_cfg: Optional[Union[dict, List[dict]]] = dict(type='Normal', layer='Embedding', std=0.01)
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if prefix < 0 or postfix < 0:
            raise ValueError(f'prefix and postfix must be >= 0, got {prefix} and {postfix}')
        if prefix + postfix + 3 > context_length:
            raise ValueError(f'prefix ({prefix}) + postfix ({postfix}) leave no room for SOT, a class-name token and '
                             f'EOT in context_length {context_length}')
        self.prefix = prefix
        self.postfix = postfix
        self.context_length = context_length
        self.width = width
        self.embedding = nn.Embedding(context_length, width)
        nn.init.normal_(self.embedding.weight, std=0.01)

    def eot_indices(self, tokens: torch.Tensor, names: Optional[Sequence[str]] = None) -> torch.Tensor:
        """Position of EOT in the prompted sequences, ``prefix + ind + postfix``, after checking that each fits.

        Args:
            tokens (torch.Tensor): Token ids ``(K, context_length)`` of the class names, ``[SOT, words, EOT, 0 ..]``
                (EOT is the largest id of a row, as CLIP assumes).
            names (Sequence[str], optional): The class names, to name the one that does not fit. Defaults to None.

        Returns:
            torch.Tensor: LongTensor ``(K, )``.

        Raises:
            ValueError: If ``tokens`` has the wrong shape, a row has no EOT after SOT, or a class does not fit:
                ``1 + prefix + (ind - 1) + postfix + 1 > context_length``.
        """
        if tokens.dim() != 2 or tokens.shape[1] != self.context_length:
            raise ValueError(f'tokens must have shape (K, {self.context_length}), got {tuple(tokens.shape)}')
        ind = tokens.argmax(dim=-1)
        eot = ind + self.prefix + self.postfix
        bad = torch.nonzero((ind < 1) | (eot >= self.context_length)).flatten().tolist()
        if bad:
            k = bad[0]
            name = repr(names[k]) if names is not None else f'of row {k}'
            num_words = int(ind[k]) - 1
            if num_words < 0:
                raise ValueError(f'the tokens of class {name} have no EOT after SOT (EOT must be the largest id)')
            raise ValueError(
                f'class {name} does not fit the prompt: SOT + {self.prefix} prefix + {num_words} name tokens + '
                f'{self.postfix} postfix + EOT = {num_words + self.prefix + self.postfix + 2} tokens, more than the '
                f'context length {self.context_length}')
        return eot

    def forward(self,
                tokens: torch.Tensor,
                token_embedding: Callable[[torch.Tensor], torch.Tensor],
                names: Optional[Sequence[str]] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """The prompted token embeddings of the classes and their EOT positions.

        Args:
            tokens (torch.Tensor): Token ids ``(K, context_length)`` of the class names.
            token_embedding (Callable): The text encoder's token embedding (ids -> ``(..., width)``).
            names (Sequence[str], optional): The class names, for error messages. Defaults to None.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Embeddings ``(K, context_length, width)`` (without the positional
            embedding) and the EOT positions ``(K, )``.
        """
        ind = tokens.argmax(dim=-1, keepdim=True)  # (K, 1): EOT position in the plain tokenisation
        eot = self.eot_indices(tokens, names)
        pos = torch.arange(self.context_length, device=tokens.device).unsqueeze(0)  # (1, L)
        is_sot = pos == 0
        is_word = (pos > self.prefix) & (pos < self.prefix + ind)
        is_eot = pos == eot.unsqueeze(1)
        # the token each frozen position copies: SOT from 0, word j from j (= pos - prefix), EOT from ind
        source = torch.where(is_word, pos - self.prefix, torch.where(is_eot, ind, torch.zeros_like(pos)))
        frozen = token_embedding(tokens.gather(1, source))  # (K, L, width)
        learned = self.embedding.weight.to(frozen.dtype).unsqueeze(0)  # (1, L, width): row p at position p
        embeds = torch.where((is_sot | is_word | is_eot).unsqueeze(-1), frozen, learned)
        return embeds, eot

    def extra_repr(self) -> str:
        return f'prefix={self.prefix}, postfix={self.postfix}, context_length={self.context_length}'
