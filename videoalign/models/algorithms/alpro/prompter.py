"""ALPRO's prompter: the frozen video-text model that gives PEM its soft entity labels.

Official code (``salesforce/ALPRO``): ``class Prompter(AlproBaseModel)`` in ``src/modeling/alpro_models.py`` (a whole
TimeSformer + BERT + projections model, pretrained beforehand with VTC only, then loaded into
``AlproForPretrain.prompter``), and ``get_video_prompt_templates`` / ``get_image_prompt_templates`` /
``setup_text_prompts`` in ``src/pretrain/run_pretrain_sparse.py``:

.. code-block:: python

    content = open(entity_filepath).read().split('\\n')[:entity_num]          # data/unigrams.txt, 1000
    entities = [c.split(' ')[0] for c in content]
    video_prompts = []
    for template in video_prompt_templates:                                  # template-major order
        video_prompts.extend([template.format(e) for e in entities])
    batch_enc_video_prompts = tokenizer.batch_encode_plus(video_prompts, max_length=15, padding="max_length",
                                                          return_tensors="pt")

    # Prompter.build_text_prompts (once, in eval mode, under no_grad)
    video_prompt_feat = F.normalize(self.text_proj(video_prompt_embeds[:, 0, :]), dim=-1)
    video_num_templates = int(video_prompt_feat.shape[0] / self.entity_num)
    video_prompt_feat = torch.stack(video_prompt_feat.chunk(video_num_templates), dim=1)
    self.video_prompt_feat = torch.mean(video_prompt_feat, dim=1)            # not normalised again: norm < 1

    # Prompter.get_pseudo_labels (eval mode, no_grad)
    _, masked_image_feat = self._forward_visual_embeds(batch['crop_visual_inputs'])   # normalize(vision_proj(CLS))
    prompt_feat = self.video_prompt_feat if batch['type'] == 'video' else self.image_prompt_feat
    sim_masked = masked_image_feat @ prompt_feat.t() / self.temp
    pseudo_labels, ignore_masks = self._compute_soft_labels(sim_masked)

Differences: the source (video or image prompts) may be chosen per sample as well as per batch; the ignore rule is
chosen (see :mod:`videoalign.models.losses.pem_loss`); entities are read with any whitespace as the separator (the
official code splits on single spaces: the same entities for a space-separated file); prompts longer than 15 word
pieces are cut by the tokenizer (the official ``batch_encode_plus`` without ``truncation`` would fail on them).
"""
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from videoalign.models.losses import pem_pseudo_labels
from videoalign.registry import MODELS, TOKENIZERS

__all__ = ['ALPROPrompter', 'VIDEO_TEMPLATES', 'IMAGE_TEMPLATES', 'read_entities', 'PROMPT_SOURCES']

#: The 12 video prompt templates (``get_video_prompt_templates``), in the official order.
VIDEO_TEMPLATES = (
    'A footage of a {}.',
    'A footage of the {}.',
    'A footage of one {}.',
    'A video of a {}.',
    'A video of the {}.',
    'A video of one {}.',
    'A portrait of a {}.',
    'A portrait of the {}.',
    'A portrait of one {}.',
    'A video footage of a {}.',
    'A video footage of the {}.',
    'A video footage of one {}.',
)

#: The 12 image prompt templates (``get_image_prompt_templates``), in the official order.
IMAGE_TEMPLATES = (
    'A photo of a {}.',
    'A photo of the {}.',
    'A photo of one {}.',
    'A picture of a {}.',
    'A picture of the {}.',
    'A picture of one {}.',
    'A good photo of the {}.',
    'A good photo of a {}.',
    'A good photo of one {}.',
    'A good picture of the {}.',
    'A good picture of a {}.',
    'A good picture of one {}.',
)

#: The prompt sets a sample's crop is compared with: ``'video'`` (WebVid clips) or ``'image'`` (CC3M images).
PROMPT_SOURCES = ('video', 'image')


def read_entities(path: str, num_entities: int = 1000) -> List[str]:
    """The entities of ALPRO's unigram file: the first whitespace-separated token of each of the first lines.

    Args:
        path (str): The file (the official ``data/unigrams.txt``: one entity per line, most frequent first,
            followed by its count).
        num_entities (int): Lines to read. Defaults to 1000 (the official ``num_entities``).

    Returns:
        list[str]: ``num_entities`` entities.

    Raises:
        ValueError: If the file has fewer lines, or one of them is blank.
    """
    entities = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if len(entities) == num_entities:
                break
            tokens = line.split()
            if not tokens:
                raise ValueError(f'line {number} of the entity file {path!r} is blank')
            entities.append(tokens[0])
    if len(entities) < num_entities:
        raise ValueError(f'the entity file {path!r} has {len(entities)} lines, fewer than num_entities='
                         f'{num_entities}')
    return entities


def _note_loaded_prompts(module: 'ALPROPrompter', state_dict: dict, prefix: str, *args) -> None:
    """Load pre-hook of :class:`ALPROPrompter`: loading both prompt features counts as having built them."""
    if all(prefix + name in state_dict for name in ('video_prompt_feat', 'image_prompt_feat')):
        module.prompts_ready = True


@MODELS.register_module()
class ALPROPrompter(BaseModule):
    """ALPRO's frozen prompter: entity-prompt features and the soft entity labels of PEM's crops.

    Its keys are those of the official ``Prompter`` as :func:`~videoalign.models.converters.alpro.convert_alpro`
    (``task='pretrain'``) maps them under ``prompter.``: ``visual_encoder.*``, ``text_encoder.bert.*`` (no MLM head),
    ``vision_proj``, ``text_proj``, ``itm_head`` (unused, kept so that the official keys load strictly), ``temp`` and
    the buffers ``video_prompt_feat`` / ``image_prompt_feat`` ``(num_entities, embed_dim)``.

    It is frozen: every parameter has ``requires_grad=False``, :meth:`train` keeps it in eval mode (no dropout, no
    drop path) and it computes under ``no_grad``. The prompt features are built once with :meth:`build_prompts` (the
    official run builds them when it does not resume from a whole pretraining checkpoint), or loaded with the weights.

    Args:
        visual_encoder (dict): The video encoder (``ALPROTimeSformer``).
        text_encoder (dict): The text encoder (``ALPROBert``; built with ``mlm_head=False``).
        embed_dim (int): Width of the VTC space (``vision_proj`` / ``text_proj``). Defaults to 256.
        num_entities (int): Entities of the prompt features. Defaults to 1000.
        temperature (float): Initial temperature (the loaded prompter's replaces it). Defaults to 0.07.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 visual_encoder: dict,
                 text_encoder: dict,
                 embed_dim: int = 256,
                 num_entities: int = 1000,
                 temperature: float = 0.07,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if text_encoder.get('mlm_head', False):
            raise ValueError('the prompter encodes prompts only: its text encoder has no MLM head (mlm_head=False)')
        self.visual_encoder = MODELS.build(visual_encoder)
        self.text_encoder = MODELS.build(dict(text_encoder, mlm_head=False))
        width = self.text_encoder.hidden_size
        self.vision_proj = nn.Linear(self.visual_encoder.embed_dims, embed_dim)
        self.text_proj = nn.Linear(width, embed_dim)
        self.itm_head = nn.Linear(width, 2)
        self.temp = nn.Parameter(torch.tensor(float(temperature)))
        self.register_buffer('video_prompt_feat', torch.zeros(num_entities, embed_dim))
        self.register_buffer('image_prompt_feat', torch.zeros(num_entities, embed_dim))
        self.num_entities = num_entities
        self.prompts_ready = False
        self.register_load_state_dict_pre_hook(_note_loaded_prompts)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'ALPROPrompter':
        """Stay in eval mode whatever ``mode`` is (the official prompter is switched to eval before every use)."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        """The device of the parameters."""
        return self.temp.device

    @torch.no_grad()
    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``normalize(text_proj(CLS))`` of tokenized texts (the official ``mode='text'`` features).

        Args:
            input_ids (torch.Tensor): ``(N, L)``.
            attention_mask (torch.Tensor): ``(N, L)``.

        Returns:
            torch.Tensor: ``(N, embed_dim)``.
        """
        states = self.text_encoder.forward_text(input_ids.to(self.device), attention_mask.to(self.device))
        return F.normalize(self.text_proj(states[:, 0]), dim=-1)

    @torch.no_grad()
    def encode_video(self, clips: torch.Tensor) -> torch.Tensor:
        """``normalize(vision_proj(CLS))`` of normalised clips ``(B, C, T, H, W)`` -> ``(B, embed_dim)``."""
        tokens = self.visual_encoder(clips).video_tokens
        return F.normalize(self.vision_proj(tokens[:, 0]), dim=-1)

    @torch.no_grad()
    def _prompt_features(self, tokenizer: Callable, entities: Sequence[str], templates: Sequence[str], max_length: int,
                         batch_size: int) -> torch.Tensor:
        """The template mean of the normalised features of every (template, entity) prompt: ``(E, embed_dim)``."""
        prompts = [template.format(entity) for template in templates for entity in entities]  # template-major
        feats = []
        for start in range(0, len(prompts), batch_size):
            tokens = tokenizer(prompts[start:start + batch_size], max_length=max_length)
            feats.append(self.encode_text(tokens['input_ids'], tokens['attention_mask']))
        feats = torch.cat(feats).view(len(templates), len(entities), -1)
        return feats.mean(dim=0)

    @torch.no_grad()
    def build_prompts(self,
                      tokenizer: Union[Callable, dict],
                      entities: Sequence[str],
                      video_templates: Sequence[str] = VIDEO_TEMPLATES,
                      image_templates: Sequence[str] = IMAGE_TEMPLATES,
                      max_length: int = 15,
                      batch_size: int = 1024,
                      force: bool = False) -> None:
        """Fill ``video_prompt_feat`` and ``image_prompt_feat`` as the official ``build_text_prompts``, once.

        For each entity and template, the text feature ``normalize(text_proj(CLS))`` of ``template.format(entity)``;
        the mean over the templates, not normalised again (so its norm is below 1).

        Args:
            tokenizer (ALPROTokenizer | dict): The tokenizer (or its config), called as
                ``tokenizer(texts, max_length=...)``.
            entities (Sequence[str]): ``num_entities`` entities (:func:`read_entities`).
            video_templates (Sequence[str]): Templates of the video prompts. Defaults to :data:`VIDEO_TEMPLATES`.
            image_templates (Sequence[str]): Templates of the image prompts. Defaults to :data:`IMAGE_TEMPLATES`.
            max_length (int): Prompt length in word pieces. Defaults to 15 (the official value).
            batch_size (int): Prompts per text-encoder call (no effect on the result). Defaults to 1024.
            force (bool): Build again even if the features were built or loaded. Defaults to False.

        Raises:
            RuntimeError: If the features are there already and ``force`` is False.
            ValueError: If the number of entities is not ``num_entities`` or a template has no ``{}``.
        """
        if self.prompts_ready and not force:
            raise RuntimeError('the prompt features were already built or loaded; pass force=True to build them '
                               'again')
        if len(entities) != self.num_entities:
            raise ValueError(f'expected {self.num_entities} entities (num_entities), got {len(entities)}')
        for template in list(video_templates) + list(image_templates):
            if '{}' not in template:
                raise ValueError(f'a prompt template needs a {{}} for the entity, got {template!r}')
        if isinstance(tokenizer, dict):
            tokenizer = TOKENIZERS.build(tokenizer)
        self.eval()
        for name, templates in (('video_prompt_feat', video_templates), ('image_prompt_feat', image_templates)):
            feats = self._prompt_features(tokenizer, entities, templates, max_length, batch_size)
            getattr(self, name).copy_(feats)
        self.prompts_ready = True

    def _prompt_bank(self, source: Union[str, Sequence[str]], batch: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(B,)`` bool, True where a sample takes the image prompts, from a source per batch or per sample."""
        sources = [source] * batch if isinstance(source, str) else list(source)
        if len(sources) != batch:
            raise ValueError(f'expected one source per clip ({batch}), got {len(sources)}')
        unknown = sorted({s for s in sources if s not in PROMPT_SOURCES})
        if unknown:
            raise ValueError(f'source must be one of {PROMPT_SOURCES} (for the whole batch or per clip), got {unknown}')
        return torch.tensor([s == 'image' for s in sources], dtype=torch.bool, device=self.device)

    @torch.no_grad()
    def similarities(self, crop_clips: torch.Tensor, source: Union[str, Sequence[str]]) -> torch.Tensor:
        """Cosine-like similarities ``(B, num_entities)`` of the crops' video features to their prompt features
        (not divided by the temperature).

        Args:
            crop_clips (torch.Tensor): Normalised clips ``(B, C, T, H, W)``, black outside the PEM box
                (:func:`~videoalign.models.algorithms.alpro.pem_utils.zero_outside_box`).
            source (str | Sequence[str]): ``'video'`` or ``'image'``, for the batch or per clip.

        Returns:
            torch.Tensor: ``(B, num_entities)``.
        """
        if not self.prompts_ready:
            raise RuntimeError('the prompt features are neither built nor loaded: call build_prompts (or load a '
                               'checkpoint holding prompter.video_prompt_feat and prompter.image_prompt_feat)')
        self.eval()
        use_image = self._prompt_bank(source, crop_clips.shape[0])
        feat = self.encode_video(crop_clips)
        sim_video = feat @ self.video_prompt_feat.t().to(feat.dtype)
        sim_image = feat @ self.image_prompt_feat.t().to(feat.dtype)
        return torch.where(use_image[:, None], sim_image, sim_video)

    @torch.no_grad()
    def pseudo_labels(self,
                      crop_clips: torch.Tensor,
                      source: Union[str, Sequence[str]],
                      ignore_threshold: float = 0.2,
                      ignore_rule: str = 'intended') -> Tuple[torch.Tensor, torch.Tensor]:
        """PEM's soft labels of the crops: ``softmax(sim / temp)`` over the entities, and the ignored samples.

        ``temp`` is the prompter's own temperature, as loaded (the official code does not clamp it).

        Args:
            crop_clips (torch.Tensor): Normalised clips ``(B, C, T, H, W)``, black outside the PEM box.
            source (str | Sequence[str]): ``'video'`` (video prompts) or ``'image'`` (image prompts), for the batch
                (the official ``batch['type']``) or per clip.
            ignore_threshold (float): Defaults to 0.2.
            ignore_rule (str): ``'intended'`` or ``'official'`` (see
                :func:`~videoalign.models.losses.pem_pseudo_labels`). Defaults to ``'intended'``.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: ``soft_labels`` ``(B, num_entities)`` float32 and ``ignore_mask``
            ``(B,)`` bool.
        """
        sim = self.similarities(crop_clips, source)
        return pem_pseudo_labels(sim, self.temp, ignore_threshold, ignore_rule)

    def forward(self,
                crop_clips: torch.Tensor,
                source: Union[str, Sequence[str]],
                ignore_threshold: float = 0.2,
                ignore_rule: str = 'intended') -> Tuple[torch.Tensor, torch.Tensor]:
        """:meth:`pseudo_labels`."""
        return self.pseudo_labels(crop_clips, source, ignore_threshold, ignore_rule)
