"""What every ALPRO model has: the video encoder, the split BERT, the tokenizer and CLIP's normalisation."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel

from videoalign.registry import MODELS, TOKENIZERS

__all__ = ['AlproBase', 'ALPRO_MEAN', 'ALPRO_STD']

#: ALPRO normalises with CLIP's mean and std (``config_release/*.json``), here on the 0-255 scale of the pipeline.
ALPRO_MEAN = [0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255]
ALPRO_STD = [0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255]


class AlproBase(BaseModel):
    """The parts ALPRO's models share (the official ``AlproBaseModel`` less its heads): ``visual_encoder``
    (``ALPROTimeSformer``), ``text_encoder`` (``ALPROBert``, by default without its MLM head) and the tokenizer.

    Args:
        visual_encoder (dict): The video encoder.
        text_encoder (dict): The split BERT; ``mlm_head`` defaults to False.
        tokenizer (dict): The tokenizer (``ALPROTokenizer``).
        data_preprocessor (dict, optional): Defaults to mmaction2's ``ActionDataPreprocessor`` with CLIP's mean and
            std and ``format_shape='NCTHW'``.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 visual_encoder: dict,
                 text_encoder: dict,
                 tokenizer: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='ActionDataPreprocessor', mean=ALPRO_MEAN, std=ALPRO_STD, format_shape='NCTHW')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.visual_encoder = MODELS.build(visual_encoder)
        self.text_encoder = MODELS.build(dict(dict(mlm_head=False), **text_encoder))
        self.tokenizer = TOKENIZERS.build(tokenizer)
        width = self.text_encoder.hidden_size
        if self.visual_encoder.embed_dims != width:
            raise ValueError(f'the fusion encoder concatenates video and text tokens: the video width '
                             f'({self.visual_encoder.embed_dims}) must equal the text width ({width})')
        if self.tokenizer.vocab_size > self.text_encoder.vocab_size:
            raise ValueError(f'the tokenizer has {self.tokenizer.vocab_size} word pieces but the text encoder embeds '
                             f'only {self.text_encoder.vocab_size}: set text_encoder.config.vocab_size')

    @staticmethod
    def _clips(inputs: torch.Tensor) -> torch.Tensor:
        """``(B, 1, C, T, H, W)`` from the data preprocessor (one view per video), or ``(B, C, T, H, W)``."""
        if inputs.dim() == 6:
            if inputs.shape[1] != 1:
                raise ValueError(f'ALPRO encodes one clip per video, got {inputs.shape[1]} views (inputs of shape '
                                 f'{tuple(inputs.shape)}); use num_clips=1 in SampleFrames/ALPROSampleFrames')
            inputs = inputs[:, 0]
        if inputs.dim() != 5:
            raise ValueError(f'expected clips (B, C, T, H, W), got shape {tuple(inputs.shape)}')
        return inputs

    def video_tokens(self, inputs: torch.Tensor) -> torch.Tensor:
        """ALPRO's video tokens ``(B, 1 + N, D)`` of normalised clips ``(B, C, T, H, W)`` (or ``(B, 1, ...)``)."""
        return self.visual_encoder(self._clips(inputs)).video_tokens

    def text_states(self, texts: Union[str, Sequence[str], Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
        """The text encoder's output of texts (tokenized here) or of the tokenizer's output.

        Args:
            texts (str | Sequence[str] | dict): Texts, or ``input_ids`` and ``attention_mask``.

        Returns:
            dict: ``text_states`` ``(B, L, D)`` and ``text_mask`` ``(B, L)``, on the model's device.
        """
        tokens = texts if isinstance(texts, dict) else self.tokenizer(texts)
        device = next(self.text_encoder.parameters()).device
        mask = tokens['attention_mask'].to(device)
        return dict(text_states=self.text_encoder.forward_text(tokens['input_ids'].to(device), mask), text_mask=mask)
