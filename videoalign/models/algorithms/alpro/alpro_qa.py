"""ALPRO's video question answering model: answer classification on the fused ``[question ; video]`` CLS token."""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.structures import ActionDataSample
from mmengine.logging import print_log

from videoalign.datasets.video_qa_dataset import AnswerVocabulary, load_answers
from videoalign.registry import MODELS
from .alpro_base import AlproBase

__all__ = ['AlproQA']

#: How to pack what the model reads from each sample.
PACK_HINT = "PackActionInputs(algorithm_keys=('question', 'gt_answer', 'question_id', 'answer_type'))"


@MODELS.register_module()
class AlproQA(AlproBase):
    """ALPRO for open-ended video question answering (``AlproForSequenceClassification`` of ``salesforce/ALPRO``).

    The question goes through BERT's text layers, the clip through the TimeSformer (``[CLS] + 196`` time-averaged
    tokens); BERT's fusion layers attend over ``[question ; video]`` and ``classifier`` (Linear ``D -> 2D``, ReLU,
    Linear ``2D -> num_classes``) scores the answers on the fused CLS token; training minimises the cross-entropy
    with the answer's label. The state dict keys are ``visual_encoder.*`` (mmaction2's TimeSformer names),
    ``text_encoder.bert.*`` and the official ``classifier.{0,2}.*``; the converter ``alpro_qa`` maps official and
    LAVIS QA files. The official model also holds ``temp``, ``vision_proj``, ``text_proj`` and ``itm_head``, which
    QA never uses (they get no gradient); this one has no such parameters, nor an MLM head or a video
    classification head.

    Modes, as mmaction2's models: ``'loss'`` (``loss_cls`` and the logged batch accuracy ``acc``), ``'predict'``
    (each sample gets ``pred_score``, the softmax over the answers, ``pred_label`` and ``pred_answer``, the answer
    as a string, what :class:`~videoalign.evaluation.metrics.VideoQAAccuracy` and mmaction2's ``VQAAcc`` score)
    and ``'tensor'`` (the logits ``(B, num_classes)``). The questions are ``data_samples[i].question`` and the
    labels ``gt_label`` (from :class:`~videoalign.datasets.VideoQADataset`).

    Args:
        visual_encoder (dict): The video encoder (``ALPROTimeSformer``; ALPRO's QA uses 16 frames and activation
            checkpointing, ``with_cp=True``).
        text_encoder (dict): The split BERT (``ALPROBert``; ``mlm_head`` defaults to False here).
        tokenizer (dict): The tokenizer (``ALPROTokenizer``; ALPRO's QA text length is 40).
        answers (str | Sequence[str] | Mapping[str, int], optional): The answer vocabulary, label ``i`` naming
            answer ``i``: a list, an ``{answer: label}`` dict or a json file of either (ALPRO's
            ``train_ans2label.json``). A file is read when the model is built if it exists, else at the first
            prediction, so that a config builds before its data is prepared. Defaults to None (``num_classes``
            must be given; predictions then have no ``pred_answer``).
        num_classes (int, optional): Outputs of the classifier. None means the number of answers. ALPRO sizes it
            ``max(len(ans2label), 1500)`` (MSRVTT-QA 1500, MSVD-QA 2423); a label beyond the answers predicts
            ``''``. Defaults to None.
        hidden_scale (int): Hidden width of the classifier over the text width (ALPRO's ``cls_hidden_scale``).
            Defaults to 2.
        loss_cls (dict): The classification loss. Defaults to ``dict(type='CrossEntropyLoss')`` (mmaction2's, a
            mean over the batch as ALPRO's ``F.cross_entropy``).
        data_preprocessor (dict, optional): Defaults to mmaction2's ``ActionDataPreprocessor`` with CLIP's mean and
            std and ``format_shape='NCTHW'``.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 visual_encoder: dict,
                 text_encoder: dict,
                 tokenizer: dict,
                 answers: Optional[AnswerVocabulary] = None,
                 num_classes: Optional[int] = None,
                 hidden_scale: int = 2,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(visual_encoder, text_encoder, tokenizer, data_preprocessor, init_cfg)
        self._answer_source = answers
        self._answers: Optional[List[str]] = None
        if answers is not None and not _is_missing_file(answers):
            self._answers = load_answers(answers)
        if num_classes is None:
            if self._answers is None:
                raise ValueError('AlproQA needs num_classes, or answers that can be read now (got '
                                 f'answers={answers!r})')
            num_classes = len(self._answers)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'num_classes must be an integer >= 1, got {num_classes!r}')
        self.num_classes = num_classes
        self._check_answers()
        width = self.text_encoder.hidden_size
        self.classifier = nn.Sequential(
            nn.Linear(width, width * hidden_scale), nn.ReLU(True), nn.Linear(width * hidden_scale, num_classes))
        self.loss_cls = MODELS.build(loss_cls)

    # ------------------------------------------------------------------ answers
    def _check_answers(self) -> None:
        """Raise if there are more answers than classifier outputs; warn if fewer."""
        if self._answers is None:
            return
        if len(self._answers) > self.num_classes:
            raise ValueError(f'{len(self._answers)} answers in {_describe(self._answer_source)} but the classifier '
                             f'has num_classes={self.num_classes} outputs')
        if len(self._answers) < self.num_classes:
            print_log(
                f'{_describe(self._answer_source)} has {len(self._answers)} answers for num_classes='
                f'{self.num_classes}: labels {len(self._answers)} and above predict no answer',
                logger='current',
                level=logging.WARNING)

    @property
    def answers(self) -> Optional[List[str]]:
        """The answer vocabulary in label order (read from its file on first use), or None."""
        if self._answers is None and self._answer_source is not None:
            self._answers = load_answers(self._answer_source)
            self._check_answers()
        return self._answers

    # ------------------------------------------------------------------ forward
    def _questions(self, data_samples: Optional[Sequence[ActionDataSample]]) -> List[str]:
        """The question (a str) of each data sample, with an error that says how to pack them."""
        if not data_samples or not all('question' in sample for sample in data_samples):
            raise KeyError(f'AlproQA reads the question of each data sample: pack it with {PACK_HINT}')
        questions = [sample.question for sample in data_samples]
        if not all(isinstance(q, str) for q in questions):
            raise TypeError(f'each data sample holds one question (a str), got {questions[:3]!r}')
        return questions

    def logits(self, inputs: torch.Tensor, questions: Sequence[str]) -> torch.Tensor:
        """Answer logits of clips and their questions (``AlproForSequenceClassification.forward``).

        Args:
            inputs (torch.Tensor): Normalised clips ``(B, C, T, H, W)`` (or ``(B, 1, C, T, H, W)``).
            questions (Sequence[str]): One question per clip, tokenized with ``self.tokenizer``.

        Returns:
            torch.Tensor: ``(B, num_classes)``.
        """
        clips = self._clips(inputs)
        if len(questions) != clips.shape[0]:
            raise ValueError(f'{len(questions)} questions for {clips.shape[0]} clips')
        text = self.text_states(list(questions))
        fused = self.text_encoder.forward_fusion(text['text_states'], text['text_mask'], self.video_tokens(clips))
        return self.classifier(fused[:, 0])

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample]) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the answers' labels.

        Args:
            inputs (torch.Tensor): Normalised clips.
            data_samples (Sequence[ActionDataSample]): With ``question`` and ``gt_label``.

        Returns:
            dict: ``loss_cls`` and the logged (not optimised) ``acc``, the batch's accuracy.
        """
        logits = self.logits(inputs, self._questions(data_samples))
        if not all('gt_label' in sample for sample in data_samples):
            raise KeyError('training needs the label of each answer (gt_label): build VideoQADataset with ans2label')
        labels = torch.cat([sample.gt_label.reshape(-1)[:1] for sample in data_samples]).to(logits.device).long()
        bad = [(sample.question, int(label)) for sample, label in zip(data_samples, labels)
               if not 0 <= int(label) < self.num_classes]
        if bad:
            raise ValueError(f'labels must be in [0, {self.num_classes}) to train; got {bad[:3]} (label -1: an '
                             'answer outside the vocabulary, which VideoQADataset drops in training)')
        loss = self.loss_cls(logits, labels)
        accuracy = (logits.detach().argmax(dim=1) == labels).float().mean()
        return dict(loss_cls=loss, acc=accuracy)

    def predict(self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample]) -> List[ActionDataSample]:
        """The most likely answer of each question.

        Args:
            inputs (torch.Tensor): Normalised clips.
            data_samples (Sequence[ActionDataSample]): With ``question``.

        Returns:
            list[ActionDataSample]: ``data_samples`` with ``pred_score`` (softmax over the answers), ``pred_label``
            and ``pred_answer`` (``''`` for a label beyond the answers; absent without an answer vocabulary).
        """
        logits = self.logits(inputs, self._questions(data_samples))
        scores = logits.float().softmax(dim=1)
        labels = scores.argmax(dim=1)
        answers = self.answers
        for sample, score, label in zip(data_samples, scores, labels.tolist()):
            sample.set_pred_score(score.detach())
            sample.set_pred_label(label)
            if answers is not None:
                sample.set_field(answers[label] if label < len(answers) else '', 'pred_answer')
        return list(data_samples)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Sequence[ActionDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], List[ActionDataSample], torch.Tensor]:
        """``'loss'``: :meth:`loss`; ``'predict'``: :meth:`predict`; ``'tensor'``: the logits."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.logits(inputs, self._questions(data_samples))
        raise RuntimeError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")


def _is_missing_file(answers: AnswerVocabulary) -> bool:
    """Whether ``answers`` names a local file that does not exist (yet)."""
    return isinstance(answers, str) and '://' not in answers and not osp.isfile(answers)


def _describe(answers: AnswerVocabulary) -> str:
    """The answer vocabulary, in messages."""
    return answers if isinstance(answers, str) else 'the answer list'
