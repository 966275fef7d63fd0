"""CLIP's byte-pair-encoding tokenizer (open_clip's ``SimpleTokenizer``, which ships its vocabulary: no download)."""
import logging
from typing import List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log

from videoalign.registry import TOKENIZERS


@TOKENIZERS.register_module()
class CLIPTokenizer:
    """CLIP's tokenizer: ``[SOT] + BPE(text) + [EOT]``, zero-padded to the context length.

    Texts are cleaned and lower-cased as open_clip does. A text longer than the context is cut to the context length
    and its last token is replaced by EOT, so every row keeps its EOT token (and EOT stays the largest id of the row,
    which is how CLIP finds it); a warning names each text cut this way (once per text). The output equals
    ``open_clip.tokenize``.

    open_clip is imported when the tokenizer is built, not when this module is imported (it is slow to import).

    Args:
        context_length (int): Default length of the token sequences. Defaults to 77.
        bpe_path (str, optional): A BPE merges file (``.txt.gz``); None means open_clip's, which CLIP uses.
            Defaults to None.
    """

    def __init__(self, context_length: int = 77, bpe_path: Optional[str] = None) -> None:
        from open_clip.tokenizer import SimpleTokenizer
        if context_length < 2:
            raise ValueError(f'context_length must hold at least SOT and EOT, got {context_length}')
        self.context_length = context_length
        self._bpe = SimpleTokenizer() if bpe_path is None else SimpleTokenizer(bpe_path=bpe_path)
        self._truncated: set = set()  # texts already reported as cut

    @property
    def sot_token_id(self) -> int:
        """Id of the start-of-text token."""
        return self._bpe.sot_token_id

    @property
    def eot_token_id(self) -> int:
        """Id of the end-of-text token (the largest id of the vocabulary)."""
        return self._bpe.eot_token_id

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included."""
        return self._bpe.vocab_size

    def encode(self, text: str) -> List[int]:
        """BPE token ids of ``text``, without SOT and EOT and without truncation."""
        return self._bpe.encode(text)

    def decode(self, token_ids: Sequence[int]) -> str:
        """The text of BPE token ids (special tokens are written as ``<start_of_text>`` and ``<end_of_text>``)."""
        return self._bpe.decode([int(i) for i in token_ids])

    def __call__(self, texts: Union[str, Sequence[str]], context_length: Optional[int] = None) -> torch.Tensor:
        """Tokenize one text or a list of texts.

        Args:
            texts (str | Sequence[str]): The text(s).
            context_length (int, optional): Length of each row; None means ``self.context_length``.
                Defaults to None.

        Returns:
            torch.Tensor: LongTensor of shape ``(len(texts), context_length)`` (one row for a single str).
        """
        if isinstance(texts, str):
            texts = [texts]
        context_length = self.context_length if context_length is None else context_length
        if context_length < 2:
            raise ValueError(f'context_length must hold at least SOT and EOT, got {context_length}')
        result = torch.zeros(len(texts), context_length, dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = self.encode(text)
            if len(tokens) > context_length - 2 and text not in self._truncated:
                self._truncated.add(text)
                print_log(
                    f'text cut to {context_length - 2} of its {len(tokens)} tokens (context length '
                    f'{context_length}): {text!r}',
                    logger='current',
                    level=logging.WARNING)
            ids = [self.sot_token_id] + tokens[:context_length - 2] + [self.eot_token_id]
            result[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        return result

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(context_length={self.context_length}, vocab_size={self.vocab_size})'
