"""Exact-match accuracy of open-ended video QA, overall and per answer type (ALPRO's ``evaluate_qa``)."""
import logging
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ...datasets.video_dataset import SKIPPED_KEY
from ...registry import METRICS

#: ALPRO's answer types of MSRVTT-QA and MSVD-QA (the question word), in its order.
ALPRO_ANSWER_TYPES = ('what', 'who', 'how', 'where', 'when')


def _answer(value: Any, key: str) -> List[str]:
    """An answer (str) or answers (a list of str) of a sample, as a list."""
    answers = [value] if isinstance(value, str) else value
    if not isinstance(answers, (list, tuple)) or not all(isinstance(a, str) for a in answers):
        raise TypeError(f'{key} must be a str (or a list of str), got {value!r}')
    return list(answers)


@METRICS.register_module()
class VideoQAAccuracy(BaseMetric):
    """Accuracy of predicted answers, overall and per answer type, as ALPRO's ``AlproVideoQADataset.evaluate_qa``.

    Each sample needs ``pred_answer`` (str, e.g. from :class:`~videoalign.models.algorithms.AlproQA`) and
    ``gt_answer`` (the annotated answer, from :class:`~videoalign.datasets.VideoQADataset`; a list counts any of its
    entries), and may have ``answer_type``. A prediction is right when it equals the annotated answer exactly, as
    ALPRO compares the strings (mmaction2's ``VQAAcc`` normalises them and scores soft VQA accuracy instead), so a
    question whose answer is outside the model's vocabulary always counts as wrong.

    Metrics, in percent (with the default prefix ``qa``: ``qa/acc``, ``qa/what_acc``, ...):

    - ``acc``: over all questions (ALPRO's ``overall_acc``);
    - ``<type>_acc`` for each answer type: of ``answer_types`` when given (ALPRO's MSRVTT-QA and MSVD-QA types are
      :data:`ALPRO_ANSWER_TYPES`; a type without any question gets 0, as in ALPRO), otherwise of every type found
      in the samples, sorted.

    A sample that stands in for an unreadable video (it carries ``skipped_videos``, see
    :class:`~videoalign.datasets.VideoDataset`) is left out, so no question counts twice; the skipped videos are
    counted in ``skipped_videos`` and a warning lists them.

    Args:
        answer_types (Sequence[str], optional): The types to report. Defaults to None: those of the samples.
        collect_device (str): Device to gather the results across ranks: ``'cpu'`` or ``'gpu'``. Defaults to
            ``'cpu'``.
        prefix (str, optional): Prefix of the metric names; None means ``'qa'``. Defaults to None.
    """

    default_prefix: Optional[str] = 'qa'

    def __init__(self,
                 answer_types: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        if answer_types is not None:
            answer_types = tuple(answer_types)
            if not answer_types or not all(isinstance(t, str) and t for t in answer_types):
                raise ValueError(f'answer_types must be a non-empty list of str or None, got {answer_types!r}')
        self.answer_types = answer_types
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Keep whether each answer is right, and its type.

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): The model's predictions with the ground truth (``pred_answer``,
                ``gt_answer``, optionally ``answer_type``).
        """
        for sample in data_samples:
            skipped = sample.get(SKIPPED_KEY)
            if skipped:
                self.results.append({SKIPPED_KEY: list(skipped)})
                continue
            if 'pred_answer' not in sample:
                raise KeyError('VideoQAAccuracy scores pred_answer (a str): use a QA model such as AlproQA')
            if 'gt_answer' not in sample:
                raise KeyError("a QA sample needs gt_answer: pack it with PackActionInputs(algorithm_keys=("
                               "'question', 'gt_answer', 'question_id', 'answer_type'))")
            pred = sample['pred_answer']
            if not isinstance(pred, str):
                raise TypeError(f'pred_answer must be a str, got {pred!r}')
            self.results.append(
                dict(correct=pred in _answer(sample['gt_answer'], 'gt_answer'), answer_type=sample.get('answer_type')))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """``acc`` and ``<type>_acc`` (percent), and ``skipped_videos`` when a video could not be read.

        Args:
            results (list[dict]): ``correct`` and ``answer_type`` of each question, or the skipped videos of a
                stand-in.

        Returns:
            dict[str, float]: The metrics.
        """
        skipped = sorted({path for r in results if SKIPPED_KEY in r for path in r[SKIPPED_KEY]})
        scored = [r for r in results if SKIPPED_KEY not in r]
        if not scored:
            raise ValueError('no QA sample was scored')
        metrics = {'acc': 100.0 * sum(r['correct'] for r in scored) / len(scored)}
        found = sorted({r['answer_type'] for r in scored if r['answer_type'] is not None})
        for answer_type in (self.answer_types if self.answer_types is not None else found):
            of_type = [r['correct'] for r in scored if r['answer_type'] == answer_type]
            metrics[f'{answer_type}_acc'] = 100.0 * sum(of_type) / len(of_type) if of_type else 0.0
        if skipped:
            print_log(
                f'{len(skipped)} unreadable video(s) were not evaluated: {", ".join(skipped)}',
                logger='current',
                level=logging.WARNING)
            metrics[SKIPPED_KEY] = len(skipped)
        return metrics
