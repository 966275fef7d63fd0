"""ALPRO's pretraining model: VTC + VTM + MLM + PEM, with a frozen prompter making the entity pseudo-labels."""
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
from mmaction.structures import ActionDataSample

from videoalign.models.text.mlm_masking import mask_tokens_for_mlm
from videoalign.registry import MODELS
from .alpro_retrieval import AlproRetrieval
from .pem_utils import box_mean_pool, box_patch_mask, zero_outside_box
from .prompter import read_entities

__all__ = ['AlproPretrainer']


@MODELS.register_module()
class AlproPretrainer(AlproRetrieval):
    """ALPRO pretraining (``AlproForPretrain`` of ``salesforce/ALPRO``): the unweighted sum of four losses.

    * **VTC** and **VTM** as :class:`AlproRetrieval` trains them;
    * **MLM**: BERT masking of the caption (15%; 80% ``[MASK]``, 10% random, 10% kept), the masked text through the
      text layers and the fusion layers with the unmasked video, BERT's MLM head (``text_encoder.cls``);
    * **PEM**: the frozen prompter (:class:`ALPROPrompter`, trained beforehand with VTC only) sees the clip with
      everything outside a random box zeroed (before normalisation) and gives soft entity labels
      ``softmax(sim / temp)`` against its video or image entity prompts (by each sample's ``source``); the student
      averages its fused visual tokens (the positive pairs' fusion output, the video CLS left out) inside the box and
      ``mpm_head`` (768 -> 1536 -> entities) is trained with the soft cross-entropy, samples whose labels are too
      unsure left out.

    The entity prompt features are built once, in :meth:`init_weights` (after the prompter's weights are loaded),
    from the first ``num_entities`` entities of ``entities`` and the 12 video / 12 image templates. A checkpoint of
    this model holds them (``prompter.video_prompt_feat``, ``prompter.image_prompt_feat``), as the official one.

    Args:
        visual_encoder (dict): The video encoder (``ALPROTimeSformer``, 4 frames in pretraining).
        text_encoder (dict): The split BERT (``ALPROBert``; its MLM head is kept here).
        tokenizer (dict): The tokenizer (``ALPROTokenizer``, text length 30 in pretraining).
        prompter (dict): The frozen prompter (``ALPROPrompter``), with its checkpoint in ``init_cfg``.
        entities (str): The unigram file; the first token of each of its first ``num_entities`` lines is an entity.
        num_entities (int): Entities. Defaults to 1000.
        mlm_probability (float): Share of the text tokens masked for MLM. Defaults to 0.15.
        mlm_loss (dict): Defaults to ``dict(type='MLMLoss')``.
        pem_loss (dict): Defaults to ``dict(type='PEMLoss')`` (the intended ignore rule; see ``PEMLoss``).
        prompt_length (int): Text length of the entity prompts. Defaults to 15.
        **kwargs: The arguments of :class:`AlproRetrieval` (``embed_dim``, ``temperature``, ``vtc_loss``,
            ``vtm_loss``, ``inference``, ``data_preprocessor``, ``init_cfg``).
    """

    def __init__(self,
                 visual_encoder: dict,
                 text_encoder: dict,
                 tokenizer: dict,
                 prompter: dict,
                 entities: str,
                 num_entities: int = 1000,
                 mlm_probability: float = 0.15,
                 mlm_loss: dict = dict(type='MLMLoss'),
                 pem_loss: dict = dict(type='PEMLoss'),
                 prompt_length: int = 15,
                 **kwargs) -> None:
        super().__init__(visual_encoder, dict(dict(mlm_head=True), **text_encoder), tokenizer, **kwargs)
        if self.text_encoder.cls is None:
            raise ValueError('ALPRO pretraining needs the MLM head: build the text encoder with mlm_head=True')
        if self.vtm_loss is None:
            raise ValueError('PEM reads the fusion output of the VTM positives: AlproPretrainer needs a vtm_loss')
        if not 0 < mlm_probability < 1:
            raise ValueError(f'mlm_probability must be in (0, 1), got {mlm_probability}')
        self.prompter = MODELS.build(dict(prompter, num_entities=num_entities))
        width = self.text_encoder.hidden_size
        self.mpm_head = nn.Sequential(nn.Linear(width, 2 * width), nn.ReLU(True), nn.Linear(2 * width, num_entities))
        self.mlm_loss = MODELS.build(mlm_loss)
        self.pem_loss = MODELS.build(pem_loss)
        self.entities = entities
        self.num_entities = num_entities
        self.mlm_probability = mlm_probability
        self.prompt_length = prompt_length

    def init_weights(self) -> None:
        """Initialise (the prompter loads its checkpoint through its ``init_cfg``), then build the entity prompts."""
        super().init_weights()
        if not self.prompter.prompts_ready:
            entities = read_entities(self.entities, self.num_entities)
            self.prompter.build_prompts(self.tokenizer, entities, max_length=self.prompt_length)

    def train(self, mode: bool = True) -> 'AlproPretrainer':
        """Set the training mode; the prompter stays in eval mode."""
        super().train(mode)
        self.prompter.eval()
        return self

    def _mlm(self, text: Dict[str, torch.Tensor], input_ids: torch.Tensor,
             video_tokens: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Masked language modelling of the captions, with the unmasked video (the official ``compute_mlm``)."""
        masked_ids, labels = mask_tokens_for_mlm(
            input_ids,
            text['text_mask'],
            special_ids=self.tokenizer.all_special_ids,
            mask_token_id=self.tokenizer.mask_token_id,
            vocab_size=self.tokenizer.vocab_size,
            probability=self.mlm_probability)
        states = self.text_encoder.forward_text(masked_ids, text['text_mask'])
        fused = self.text_encoder.forward_fusion(states, text['text_mask'], video_tokens)
        logits = self.text_encoder.mlm_logits(fused[:, :input_ids.shape[1]])
        loss, accuracy = self.mlm_loss(logits, labels, return_accuracy=True)
        return dict(loss_mlm=loss, mlm_acc=accuracy)

    def _pem(self, inputs: torch.Tensor, boxes: torch.Tensor, sources: List[str], fused_positives: torch.Tensor,
             text_length: int) -> Dict[str, torch.Tensor]:
        """Prompting entity modelling (the official ``compute_mpm_with_encoder_out``)."""
        preprocessor = self.data_preprocessor
        crops = zero_outside_box(self._clips(inputs), boxes, preprocessor.mean, preprocessor.std)
        soft_labels, ignored = self.prompter.pseudo_labels(crops, sources, self.pem_loss.ignore_threshold,
                                                           self.pem_loss.ignore_rule)
        patches = fused_positives[:, text_length + 1:]  # the fused video tokens, without the video CLS
        grid = self.visual_encoder.img_size // self.visual_encoder.patch_size
        inside = box_patch_mask(boxes, grid, grid, self.visual_encoder.patch_size).to(patches.dtype)
        loss, accuracy = self.pem_loss(self.mpm_head(box_mean_pool(patches, inside)), soft_labels, ignored, True)
        return dict(loss_pem=loss, pem_acc=accuracy, pem_ignored=ignored.float().mean())

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample]) -> Dict[str, torch.Tensor]:
        """The four losses of one batch of one source (videos, or images as static clips).

        Args:
            inputs (torch.Tensor): Normalised clips ``(B, 1, C, T, H, W)``.
            data_samples (Sequence[ActionDataSample]): ``text`` (one caption), ``pem_box`` (top, left, height,
                width in pixels, on the patch grid) and ``source`` (``'video'`` or ``'image'``).

        Returns:
            dict: ``loss_vtc``, ``loss_vtm``, ``loss_mlm``, ``loss_pem`` and the logged ``vtm_acc``, ``mlm_acc``,
            ``pem_acc`` (the official ``mpm_acc``) and ``pem_ignored`` (the share of samples left out of PEM).
        """
        texts = self._captions(data_samples)
        missing = [key for key in ('pem_box', 'source') if key not in data_samples[0]]
        if missing:
            raise KeyError(f'ALPRO pretraining samples need {missing}: add PEMRandomBox to the pipeline and pack '
                           "PackActionInputs(algorithm_keys=('text', 'pem_box', 'source'))")
        video = self.encode_video(inputs)
        tokens = self.tokenizer(texts)
        text = self.encode_text(tokens)
        losses, fused_positives = self.contrast_and_match(video, text)
        losses.update(self._mlm(text, tokens['input_ids'].to(self.temp.device), video['video_tokens']))
        boxes = torch.as_tensor([list(sample.pem_box) for sample in data_samples], device=self.temp.device)
        losses.update(
            self._pem(inputs, boxes, [sample.source for sample in data_samples], fused_positives,
                      text['text_states'].shape[1]))
        return losses
