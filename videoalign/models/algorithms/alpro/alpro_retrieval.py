"""ALPRO's text-video retrieval model: fine-tuned with VTC + VTM, ranking with VTM on all pairs or on VTC's top k."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.structures import ActionDataSample
from mmengine.dist import all_reduce, get_rank, get_world_size

from videoalign.models.losses import sample_hard_negatives, vtm_pair_indices
from videoalign.registry import MODELS
from .alpro_base import AlproBase
from .retrieval_scores import RetrievalScores, check_mode, gather_by_index, lavis_scores, official_scores

__all__ = ['AlproRetrieval']

#: The feature keys ``forward(mode='tensor')`` returns (what mmaction2's retrieval loops gather).
FEATURE_KEYS = ('video_feat', 'video_tokens', 'video_index', 'text_feat', 'text_states', 'text_mask', 'text_index')


@MODELS.register_module()
class AlproRetrieval(AlproBase):
    """ALPRO for text-video retrieval (``AlproForVideoTextRetrieval`` of ``salesforce/ALPRO``).

    A TimeSformer encodes the clip into ``[CLS] + 196`` time-averaged tokens; BERT's first layers encode the text;
    ``vision_proj`` / ``text_proj`` map the two CLS tokens to the 256-d VTC space; BERT's last layers fuse
    ``[text ; video]`` by self-attention and ``itm_head`` scores the match on the fused CLS. The state dict keys are
    the official ones (``vision_proj``, ``text_proj``, ``itm_head``, ``temp``, ``text_encoder.bert.*``) except the
    video encoder's, which are mmaction2's TimeSformer's (the converter ``alpro`` maps official and LAVIS files).
    Unlike the official model, it has no MLM head (the text encoder is built with ``mlm_head=False``) and no video
    classification head: retrieval uses neither, and every parameter here is trained.

    Training (``mode='loss'``, one caption per sample in ``data_samples[i].text``): ``loss_vtc`` over the batch of
    all ranks, then ``loss_vtm`` on the ``B`` positive pairs and ``2B`` hard negatives drawn from the local VTC
    similarities, with ``vtm_acc`` logged.

    Evaluation follows mmaction2's ``RetrievalValLoop`` / ``RetrievalTestLoop``: ``mode='tensor'`` encodes each video
    and each of its captions once; :meth:`predict_all` ranks, with the fusion encoder only on the pairs the
    ``inference`` mode ranks: ``'official'`` scores every pair with ``softmax(itm)[:, 1]``, ``'lavis'`` re-ranks the
    ``k`` best VTC candidates of each query with ``itm[:, 1] + cosine similarity``, ``'vtc'`` ranks by the cosine
    similarity alone.

    Args:
        visual_encoder (dict): The video encoder (``ALPROTimeSformer``).
        text_encoder (dict): The split BERT (``ALPROBert``; ``mlm_head`` defaults to False here).
        tokenizer (dict): The tokenizer (``ALPROTokenizer``; its ``max_length`` is the text length: 40 for MSR-VTT,
            50 for DiDeMo).
        embed_dim (int): Width of the VTC space. Defaults to 256.
        temperature (float): Initial VTC temperature (learnable, clamped to the VTC loss's bounds at every training
            step). Defaults to 0.07.
        vtc_loss (dict): Defaults to ``dict(type='VTCLoss')``.
        vtm_loss (dict, optional): Defaults to ``dict(type='VTMLoss')``. None trains with VTC only (ALPRO's
            prompter); rank such a model with ``inference=dict(mode='vtc')``.
        inference (dict): ``mode`` (``'official'``, ``'lavis'`` or ``'vtc'``: the VTC similarity alone, no fusion),
            ``k`` (LAVIS's candidates per query, 256) and ``batch_size`` (pairs per fusion call). Defaults to
            ``dict(mode='official', k=256, batch_size=64)``.
        data_preprocessor (dict, optional): Defaults to mmaction2's ``ActionDataPreprocessor`` with CLIP's mean and
            std and ``format_shape='NCTHW'``.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 visual_encoder: dict,
                 text_encoder: dict,
                 tokenizer: dict,
                 embed_dim: int = 256,
                 temperature: float = 0.07,
                 vtc_loss: dict = dict(type='VTCLoss'),
                 vtm_loss: Optional[dict] = dict(type='VTMLoss'),
                 inference: dict = dict(mode='official', k=256, batch_size=64),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(visual_encoder, text_encoder, tokenizer, data_preprocessor, init_cfg)
        width = self.text_encoder.hidden_size
        self.vision_proj = nn.Linear(width, embed_dim)
        self.text_proj = nn.Linear(width, embed_dim)
        self.itm_head = nn.Linear(width, 2)
        self.temp = nn.Parameter(torch.tensor(float(temperature)))
        self.vtc_loss = MODELS.build(vtc_loss)
        self.vtm_loss = None if vtm_loss is None else MODELS.build(vtm_loss)
        inference = dict(dict(mode='official', k=256, batch_size=64), **inference)
        self.inference_mode, self.inference_k, self.inference_batch_size = check_mode(**inference)

    # ------------------------------------------------------------------ encoders
    def encode_video(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Video tokens and the VTC feature of clips.

        Args:
            inputs (torch.Tensor): Normalised clips ``(B, C, T, H, W)`` (or ``(B, 1, C, T, H, W)``).

        Returns:
            dict: ``video_tokens`` ``(B, 1 + N, D)`` and ``video_feat`` ``(B, embed_dim)``, L2-normalised
            ``vision_proj`` of the CLS token.
        """
        tokens = self.video_tokens(inputs)
        return dict(video_tokens=tokens, video_feat=F.normalize(self.vision_proj(tokens[:, 0]), dim=-1))

    def encode_text(self, texts: Union[str, Sequence[str], Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
        """Text states and the VTC feature of texts (tokenized with ``self.tokenizer``).

        Args:
            texts (str | Sequence[str] | dict): The texts, or the tokenizer's output of them.

        Returns:
            dict: ``text_states`` ``(B, L, D)`` (the text encoder's output), ``text_mask`` ``(B, L)`` and
            ``text_feat`` ``(B, embed_dim)``, L2-normalised ``text_proj`` of the CLS token.
        """
        text = self.text_states(texts)
        text['text_feat'] = F.normalize(self.text_proj(text['text_states'][:, 0]), dim=-1)
        return text

    def itm_logits(self, text_states: torch.Tensor, text_mask: torch.Tensor,
                   video_tokens: torch.Tensor) -> torch.Tensor:
        """VTM logits of text-video pairs: ``itm_head`` on the fused CLS of ``[text ; video]``.

        Args:
            text_states (torch.Tensor): ``(B, L, D)`` from :meth:`encode_text`.
            text_mask (torch.Tensor): ``(B, L)``.
            video_tokens (torch.Tensor): ``(B, 1 + N, D)`` from :meth:`encode_video`, row ``i`` paired with text ``i``.

        Returns:
            torch.Tensor: ``(B, 2)``; column 1 is "matched".
        """
        fused = self.text_encoder.forward_fusion(text_states, text_mask, video_tokens)
        return self.itm_head(fused[:, 0])

    # ------------------------------------------------------------------ training
    @staticmethod
    def _captions(data_samples: Sequence[ActionDataSample]) -> List[str]:
        """The one caption of each training sample."""
        texts = [sample.text for sample in data_samples]
        if not all(isinstance(text, str) for text in texts):
            raise ValueError('training pairs each clip with one caption (a str in data_sample.text); got a list: use '
                             'VideoTextRetrievalDataset with test_mode=False for the training set')
        return texts

    def contrast_and_match(self, video: Dict[str, torch.Tensor],
                           text: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], Optional[torch.Tensor]]:
        """VTC over all ranks, then VTM on the ``B`` positives and ``2B`` hard negatives (ALPRO's ``compute_vtm``).

        Args:
            video (dict): :meth:`encode_video` of the batch.
            text (dict): :meth:`encode_text` of its captions, row ``i`` paired with video ``i``.

        Returns:
            tuple: The losses (``loss_vtc``, and ``loss_vtm`` with the logged ``vtm_acc`` when the model has a VTM
            loss), and the fused states of the ``B`` positive pairs ``(B, Lt + Lv, D)`` (None without VTM), which
            ALPRO's PEM reads.
        """
        self.vtc_loss.clamp_temperature(self.temp)
        loss_vtc, sims = self.vtc_loss(video['video_feat'], text['text_feat'], self.temp, return_similarities=True)
        if self.vtm_loss is None:
            return dict(loss_vtc=loss_vtc), None
        text_idx, video_idx = vtm_pair_indices(sample_hard_negatives(sims.local_v2t, sims.local_t2v))
        fused = self.text_encoder.forward_fusion(text['text_states'][text_idx], text['text_mask'][text_idx],
                                                 video['video_tokens'][video_idx])
        loss_vtm, accuracy = self.vtm_loss(self.itm_head(fused[:, 0]), return_accuracy=True)
        return dict(loss_vtc=loss_vtc, loss_vtm=loss_vtm, vtm_acc=accuracy), fused[:video_idx.numel() // 3]

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample]) -> Dict[str, torch.Tensor]:
        """VTC over all ranks and VTM with one hard negative per video and per text.

        Args:
            inputs (torch.Tensor): Normalised clips.
            data_samples (Sequence[ActionDataSample]): One caption (a str) each in ``text``.

        Returns:
            dict: ``loss_vtc``, ``loss_vtm`` and the logged ``vtm_acc`` (``loss_vtc`` alone without a VTM loss).
        """
        texts = self._captions(data_samples)
        return self.contrast_and_match(self.encode_video(inputs), self.encode_text(texts))[0]

    # ------------------------------------------------------------------ evaluation
    def extract_feat(self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample]) -> Dict[str, torch.Tensor]:
        """Encode each video and each of its captions once (what mmaction2's retrieval loops gather).

        Args:
            inputs (torch.Tensor): Normalised clips, one per sample.
            data_samples (Sequence[ActionDataSample]): With ``text`` (a list of captions, or one str),
                ``gt_video_id`` and ``gt_text_id`` (dataset indices of the video, repeated per caption, and of the
                captions).

        Returns:
            dict: ``video_feat``, ``video_tokens``, ``video_index`` (one row per video) and ``text_feat``,
            ``text_states``, ``text_mask``, ``text_index`` (one row per caption).
        """
        texts, text_index, video_index = [], [], []
        for sample in data_samples:
            captions = [sample.text] if isinstance(sample.text, str) else list(sample.text)
            text_ids = sample.gt_text_id if 'gt_text_id' in sample else []
            video_ids = sample.gt_video_id if 'gt_video_id' in sample else []
            if len(text_ids) != len(captions) or not len(video_ids):
                raise KeyError('retrieval evaluation needs gt_video_id and gt_text_id (one per caption) in each data '
                               "sample: pack them with PackActionInputs(algorithm_keys=('text', 'gt_video_id', "
                               "'gt_text_id'))")
            texts += captions
            text_index += [int(i) for i in text_ids]
            video_index.append(int(video_ids[0]))
        device = self.temp.device
        feats = self.encode_video(inputs)
        feats.update(self.encode_text(texts))
        feats['video_index'] = torch.tensor(video_index, dtype=torch.long, device=device)
        feats['text_index'] = torch.tensor(text_index, dtype=torch.long, device=device)
        return feats

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Sequence[ActionDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], Tuple[List[ActionDataSample], ...]]:
        """``'loss'``: the losses; ``'tensor'``: :meth:`extract_feat`; ``'predict'``: the batch ranked against itself
        (:meth:`predict_all` on its own videos and captions)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs, data_samples)
        if mode == 'predict':
            feats = self.extract_feat(inputs, data_samples)
            num_videos = int(feats['video_index'].max()) + 1
            num_texts = int(feats['text_index'].max()) + 1
            return self.predict_all(feats, data_samples, num_images=num_videos, num_texts=num_texts)
        raise RuntimeError(f"mode must be 'loss', 'tensor' or 'predict', got {mode!r}")

    def rank(self, feats: Dict[str, torch.Tensor], num_videos: int, num_texts: int) -> RetrievalScores:
        """Score matrices of all texts against all videos, from the features of all ranks.

        Args:
            feats (dict): The (concatenated) outputs of :meth:`extract_feat` on this rank.
            num_videos (int): Videos of the dataset.
            num_texts (int): Captions of the dataset.

        Returns:
            RetrievalScores: ``t2v`` ``(num_texts, num_videos)``, ``v2t`` ``(num_videos, num_texts)``, the same on
            every rank.
        """
        every = {}
        for key in ('video_feat', 'video_tokens'):
            every[key] = gather_by_index(feats[key], feats['video_index'], num_videos)
        for key in ('text_feat', 'text_states', 'text_mask'):
            every[key] = gather_by_index(feats[key], feats['text_index'], num_texts)

        def pair_logits(text_idx: torch.Tensor, video_idx: torch.Tensor) -> torch.Tensor:
            return self.itm_logits(every['text_states'][text_idx], every['text_mask'][text_idx],
                                   every['video_tokens'][video_idx])

        # each rank scores a share of the rows; the shares are summed (LAVIS's and the official split of the work)
        rank, world_size = get_rank(), get_world_size()
        device = every['video_feat'].device
        progress = rank == 0
        if self.inference_mode == 'vtc':
            sim_t2v = every['text_feat'] @ every['video_feat'].t()
            return RetrievalScores(sim_t2v, sim_t2v.t(), 0)
        if self.inference_mode == 'official':
            mine = torch.arange(rank, num_videos, world_size, device=device)
            scores = official_scores(pair_logits, num_texts, num_videos, self.inference_batch_size, mine, device,
                                     progress)
            v2t = _combine_rows(scores.v2t.contiguous(), mine)
            return RetrievalScores(v2t.t(), v2t, scores.num_pairs)
        sim_t2v = every['text_feat'] @ every['video_feat'].t()
        my_texts = torch.arange(rank, num_texts, world_size, device=device)
        my_videos = torch.arange(rank, num_videos, world_size, device=device)
        scores = lavis_scores(pair_logits, sim_t2v, self.inference_k, self.inference_batch_size, my_texts, my_videos,
                              progress)
        return RetrievalScores(
            _combine_rows(scores.t2v, my_texts), _combine_rows(scores.v2t, my_videos), scores.num_pairs)

    def predict_all(self,
                    feats: Dict[str, torch.Tensor],
                    data_samples: Sequence[ActionDataSample],
                    num_images: Optional[int] = None,
                    num_texts: Optional[int] = None) -> Tuple[List[ActionDataSample], List[ActionDataSample]]:
        """Rank (:meth:`rank`) and return this rank's samples with their scores, as mmaction2's retrieval loops ask.

        Args:
            feats (dict): The concatenated outputs of :meth:`extract_feat` on this rank.
            data_samples (Sequence[ActionDataSample]): This rank's video samples, in the order of ``feats``.
            num_images (int, optional): Videos of the dataset. Defaults to None: the largest index + 1.
            num_texts (int, optional): Captions of the dataset. Defaults to None: the largest index + 1.

        Returns:
            tuple[list[ActionDataSample], list[ActionDataSample]]: Video-to-text samples (one per local video:
            ``pred_score`` over all captions, ``gt_label`` its captions' indices) and text-to-video samples (one per
            local caption: ``pred_score`` over all videos, ``gt_label`` its video's index).
        """
        num_videos = num_images or int(feats['video_index'].max()) + 1
        num_texts = num_texts or int(feats['text_index'].max()) + 1
        scores = self.rank(feats, num_videos, num_texts)
        v2t_samples, t2v_samples = [], []
        for sample in data_samples:
            video = int(sample.gt_video_id[0])
            v2t = ActionDataSample()
            v2t.set_field(scores.v2t[video].cpu(), 'pred_score')
            v2t.set_field(torch.as_tensor([int(i) for i in sample.gt_text_id]), 'gt_label')
            v2t_samples.append(v2t)
            captions = [sample.text] if isinstance(sample.text, str) else list(sample.text)
            for caption, text in zip(captions, sample.gt_text_id):
                t2v = ActionDataSample(metainfo=dict(text=caption))
                t2v.set_field(scores.t2v[int(text)].cpu(), 'pred_score')
                t2v.set_field(torch.as_tensor([video]), 'gt_label')
                t2v_samples.append(t2v)
        return v2t_samples, t2v_samples


def _combine_rows(matrix: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of ``matrix`` in one matrix: each rank filled ``rows`` (disjoint across ranks)."""
    if get_world_size() == 1:
        return matrix
    combined = torch.zeros_like(matrix)
    combined[rows] = matrix[rows]
    all_reduce(combined, op='sum')
    return combined
