"""Open-ended video question answering (ALPRO's MSRVTT-QA / MSVD-QA jsonl, mmaction2's MSRVTTVQA json)."""
import json
import logging
import os.path as osp
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from mmaction.datasets.msrvtt_datasets import pre_text as mmaction_pre_text
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from ..registry import DATASETS
from .video_dataset import VideoDataset

__all__ = ['VideoQADataset', 'load_answers']

#: What the annotation formats look like, for error messages.
FORMATS = ('json lines {"video_id": <name>, "question": <str>, "answer": <str>, "answer_type": <str>} (ALPRO), '
           'or a json list [{"question_id": <id>, "video": <path>, "question": <str>, "answer": <str> | [<str>, '
           '...]}, ...] (mmaction2 MSRVTTVQA, optionally with "answer_type")')
#: What ``unknown_answers`` takes.
UNKNOWN_ANSWERS = ('drop', 'error')

AnswerVocabulary = Union[str, Sequence[str], Mapping[str, int]]


def _answers_of_mapping(ans2label: Mapping, where: str) -> List[str]:
    """The answers of an ``{answer: label}`` mapping in label order; the labels must be ``0 .. N - 1``."""
    labels = list(ans2label.values())
    if not all(isinstance(a, str)
               for a in ans2label) or not all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        raise ValueError(f'{where}: an ans2label maps answers (str) to labels (int)')
    if sorted(labels) != list(range(len(labels))):
        raise ValueError(f'{where}: the labels of an ans2label must be 0 .. {len(labels) - 1}, each once; got '
                         f'{sorted(labels)[:10]}{" ..." if len(labels) > 10 else ""}')
    answers = [''] * len(labels)
    for answer, label in ans2label.items():
        answers[label] = answer
    return answers


def load_answers(answers: AnswerVocabulary) -> List[str]:
    """The answer vocabulary of a QA model, answer ``i`` having label ``i``.

    Args:
        answers (str | Sequence[str] | Mapping[str, int]): A list of answers, an ``{answer: label}`` dict (ALPRO's
            ``ans2label``), or a json file holding either (e.g. ALPRO's ``train_ans2label.json``; any mmengine
            file backend).

    Returns:
        list[str]: The answers in label order.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: Naming the file, if the answers are not distinct strings or the labels not ``0 .. N - 1``.
    """
    where = 'answers'
    if isinstance(answers, str):
        where = answers
        if '://' not in answers and not osp.isfile(answers):
            raise FileNotFoundError(f'answer vocabulary {answers} does not exist (expected a json {{answer: label}} '
                                    'dict, e.g. ALPRO\'s train_ans2label.json, or a json list of answers)')
        with get_local_path(answers) as local, open(local, encoding='utf-8-sig') as f:
            try:
                answers = json.load(f)
            except ValueError as err:
                raise ValueError(f'{where}: not json ({err}); expected an {{answer: label}} dict or a list of '
                                 'answers') from None
    if isinstance(answers, Mapping):
        vocabulary = _answers_of_mapping(answers, where)
    elif isinstance(answers, Sequence) and all(isinstance(a, str) for a in answers):
        vocabulary = list(answers)
    else:
        raise ValueError(f'{where}: expected an {{answer: label}} dict or a list of answers, got '
                         f'{type(answers).__name__}')
    if not vocabulary:
        raise ValueError(f'{where}: the answer vocabulary is empty')
    repeated = [a for a, n in Counter(vocabulary).items() if n > 1]
    if repeated:
        raise ValueError(f'{where}: answers listed more than once: {", ".join(map(repr, repeated[:5]))}')
    return vocabulary


@DATASETS.register_module()
class VideoQADataset(VideoDataset):
    """Videos and open-ended questions about them, answered by classification over an answer vocabulary.

    The annotation file is recognised from its content:

    - ALPRO's json lines (``data/msrvtt_qa/txt/{train,val,test}.jsonl``, ``data/msvd_qa/txt/...``): one
      ``{"video_id", "question", "answer", "answer_type"}`` per line (``answer_type``: ``what``, ``who``, ``how``,
      ``where`` or ``when``); the path is ``video_id + video_ext`` (ALPRO: ``.mp4`` for MSR-VTT, ``.avi`` for
      MSVD) and the question id is the line's index among the questions, as ALPRO numbers them;
    - mmaction2's ``MSRVTTVQA`` json: a list of ``{"question_id", "video", "question", "answer"}`` (``answer`` a str
      or a list, whose most frequent entry is taken, the first of a tie), ``answer_type`` optional (the synthetic
      questions have it).

    Anything else raises an error that names the file, the line or item, and the expected formats. Paths are joined
    to ``data_prefix['video']``. Questions are kept as written (ALPRO's tokenizer lower-cases them);
    ``pre_text=True`` applies mmaction2's ``pre_text`` as ``MSRVTTVQA`` does.

    Each sample holds ``question`` (str), ``gt_answer`` (str), ``question_id`` (int), ``answer_type`` (when the
    file has it) and, with an answer vocabulary, ``label``, the answer's index in it (``-1`` for an answer outside
    it), which mmaction2's ``PackActionInputs`` packs as ``gt_label``; pack the others with
    ``PackActionInputs(algorithm_keys=('question', 'gt_answer', 'question_id', 'answer_type'))``. The answers
    become ``metainfo['classes']``, which the Runner saves with every checkpoint.

    Answers outside the vocabulary (ALPRO's ``ans2label`` holds only the frequent ones of the training set):

    - training: with ``unknown_answers='drop'`` (default) these questions are left out, with a warning that counts
      them. ALPRO's loader looks every training answer up in ``ans2label`` and raises a ``KeyError`` on a missing
      one (its released training files hold no such answer); ``'error'`` does the same, naming file and line;
    - evaluation (``test_mode=True``): kept, with label ``-1``; a prediction is an answer of the vocabulary, so
      they count as wrong, as in ALPRO's evaluation, which compares the predicted answer with the annotated one.

    An unreadable video is handled as in :class:`~videoalign.datasets.VideoDataset`: in training another question
    stands in; in evaluation the next one does and carries ``skipped_videos``, and
    :class:`~videoalign.evaluation.metrics.VideoQAAccuracy` leaves it out and counts the skipped videos (ALPRO's
    evaluation also replaces the sample and so leaves the question out).

    Args:
        ann_file (str): Path to the annotation file.
        pipeline (list): Data transforms.
        ans2label (str | Sequence[str] | Mapping[str, int], optional): The answer vocabulary (see
            :func:`load_answers`): ALPRO's ``train_ans2label.json``. Needed for training; evaluation without it
            gives samples without ``label`` (the metric compares answers). Defaults to None.
        video_ext (str): Extension added to ALPRO's ``video_id``. Defaults to ``'.mp4'``.
        unknown_answers (str): ``'drop'`` or ``'error'``: what training does with a question whose answer is
            not in ``ans2label``. Defaults to ``'drop'``.
        pre_text (bool): Clean the questions with mmaction2's ``pre_text``. Defaults to False (as ALPRO).
        **kwargs: Other arguments of :class:`~videoalign.datasets.VideoDataset` (``data_prefix``, ``test_mode``,
            ``max_skips``, ``start_index``, ``modality``; not ``class_names``, ``num_shots``, ``multi_class``).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 ans2label: Optional[AnswerVocabulary] = None,
                 video_ext: str = '.mp4',
                 unknown_answers: str = 'drop',
                 pre_text: bool = False,
                 **kwargs) -> None:
        for key in ('class_names', 'num_shots', 'multi_class'):
            if kwargs.get(key):
                raise ValueError(f'{key} does not apply to {self.__class__.__name__}')
        if unknown_answers not in UNKNOWN_ANSWERS:
            raise ValueError(f'unknown_answers must be one of {UNKNOWN_ANSWERS}, got {unknown_answers!r}')
        self.answers = load_answers(ans2label) if ans2label is not None else None
        if self.answers is None and not kwargs.get('test_mode', False):
            raise ValueError(f'training on {ann_file} needs the answer vocabulary: set ans2label (ALPRO\'s '
                             'train_ans2label.json)')
        self.ans2label = None if self.answers is None else {a: i for i, a in enumerate(self.answers)}
        if self.answers is not None:
            kwargs['metainfo'] = dict(kwargs.get('metainfo') or {}, classes=tuple(self.answers))
        self.video_ext = video_ext
        self.unknown_answers = unknown_answers
        self.pre_text = pre_text
        self.num_dropped = 0
        super().__init__(ann_file, pipeline, **kwargs)

    @property
    def num_answers(self) -> Optional[int]:
        """Size of the answer vocabulary (None without one)."""
        return None if self.answers is None else len(self.answers)

    def load_data_list(self) -> List[dict]:
        """Read the annotation file into one sample per question (see the class for unknown answers)."""
        data_list, dropped = [], []
        for index, (where, item) in enumerate(self._read_items()):
            info = self._sample(item, where, index)
            if self.ans2label is not None:
                info['label'] = self.ans2label.get(info['gt_answer'], -1)
                if info['label'] < 0 and not self.test_mode:
                    if self.unknown_answers == 'error':
                        raise KeyError(f'{self.ann_file}{where}: the answer {info["gt_answer"]!r} is not in the '
                                       f'answer vocabulary ({len(self.answers)} answers); use '
                                       "unknown_answers='drop' to leave such questions out of training")
                    dropped.append(info['gt_answer'])
                    continue
            data_list.append(info)
        self.num_dropped = len(dropped)
        if dropped:
            print_log(
                f'{self.ann_file}: left out {len(dropped)} training question(s) whose answer is not among the '
                f'{len(self.answers)} of the answer vocabulary (e.g. {", ".join(map(repr, dropped[:5]))})',
                logger='current',
                level=logging.WARNING)
        if not data_list:
            raise ValueError(f'annotation file {self.ann_file} has no question to use')
        return data_list

    def filter_data(self) -> List[dict]:
        """All samples (few-shot subsets do not apply)."""
        return self.data_list

    def _error(self, where: str, message: str) -> ValueError:
        """An error that names the file, the place in it and the expected formats."""
        return ValueError(f'{self.ann_file}{where}: {message}; expected {FORMATS}')

    def _read_items(self) -> List[tuple]:
        """``(where, item)`` of every question of the file: a json list, or json lines."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file {self.ann_file} does not exist (expected {FORMATS})')
        with open(self.ann_file, encoding='utf-8-sig') as f:
            content = f.read()
        try:
            data = json.loads(content)
        except ValueError:
            data = None  # json lines, or not json at all
        if isinstance(data, list):
            return [(f' item {i}', item) for i, item in enumerate(data)]
        if isinstance(data, dict) and not {'question', 'answer'} <= set(data):
            raise self._error('', 'a json dict that is not a question')
        items = []
        for lineno, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((f':{lineno}', json.loads(line)))
            except ValueError as err:
                raise self._error(f':{lineno}', f'cannot parse {line.strip()[:200]!r} ({err})') from None
        return items

    def _sample(self, item: Any, where: str, index: int) -> Dict[str, Any]:
        """One question of the file as a sample (without its label); ``index`` is its place among the questions,
        the question id where the item has none (as ALPRO numbers its questions)."""
        if not isinstance(item, dict) or not {'question', 'answer'
                                              } <= set(item) or not ({'video', 'video_id'} & set(item)):
            raise self._error(where, f'cannot read {str(item)[:200]!r}')
        if 'video' in item:
            path = item['video']
            if not isinstance(path, str) or not path:
                raise self._error(where, f'"video" must be a non-empty str, got {path!r}')
        else:
            video_id = item['video_id']
            if not isinstance(video_id, str) or not video_id:
                raise self._error(where, f'"video_id" must be a non-empty str, got {video_id!r}')
            path = video_id if video_id.endswith(self.video_ext) else video_id + self.video_ext
        if self.data_prefix.get('video') is not None:
            path = osp.join(self.data_prefix['video'], path)
        question = item['question']
        if not isinstance(question, str) or not question.strip():
            raise self._error(where, f'"question" must be a non-empty str, got {question!r}')
        answer = item['answer']
        if isinstance(answer, list) and answer and all(isinstance(a, str) for a in answer):
            answer = Counter(answer).most_common(1)[0][0]
        if not isinstance(answer, str):
            raise self._error(where, f'"answer" must be a str or a non-empty list of str, got {answer!r}')
        info = dict(
            filename=path,
            question=mmaction_pre_text(question) if self.pre_text else question,
            gt_answer=answer,
            question_id=item.get('question_id', index))
        if item.get('answer_type') is not None:
            info['answer_type'] = str(item['answer_type'])
        return info
