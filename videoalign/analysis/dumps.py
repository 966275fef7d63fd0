"""Reading prediction dumps (``tools/test.py --dump preds.pkl``) and the accuracies of the analysis tools.

A dump is a pickled list with one dict per test sample, mmaction2's ``ActionDataSample.to_dict()``: ``pred_score``
(a float tensor of the class scores, bf16 in dumps of old autocast runs), ``pred_label``, ``gt_label`` (a tensor of
one class index) and the sample's metainfo (``filename``...). A sample that stands in for unreadable videos carries
``skipped_videos`` (see :class:`videoalign.datasets.VideoDataset`) and is left out here: it repeats another video.

A dump is read with :mod:`pickle`: load only dumps you trust, as with any pickle.
"""
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from ..datasets.video_dataset import SKIPPED_KEY


@dataclass
class Predictions:
    """The scored samples of a dump, as arrays.

    Attributes:
        path (str): The dump.
        scores (np.ndarray): ``(N, num_classes)`` float32 class scores.
        labels (np.ndarray): ``(N, )`` int64 ground-truth classes.
        indices (np.ndarray): ``(N, )`` the index of each kept sample in the dump.
        skipped (list[str]): The unreadable videos whose stand-ins were left out.
        num_samples (int): The number of samples in the dump, stand-ins included.
    """

    path: str
    scores: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    skipped: List[str] = field(default_factory=list)
    num_samples: int = 0

    @property
    def num_classes(self) -> int:
        """The number of classes (columns of the scores)."""
        return int(self.scores.shape[1])

    @property
    def pred_labels(self) -> np.ndarray:
        """``(N, )`` the top-scoring class of each sample."""
        return self.scores.argmax(axis=1)


def load_dump(path: str) -> List[Dict]:
    """Read a dump: a list of dicts (data samples).

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        list[dict]: The samples, bf16 and fp16 tensors converted to float32.

    Raises:
        FileNotFoundError: If there is no such file.
        ValueError: If it is not a list of dicts.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'dump {path} does not exist (expected the file of tools/test.py --dump)')
    with open(path, 'rb') as f:
        try:
            data = pickle.load(f)
        except (pickle.UnpicklingError, EOFError) as err:
            raise ValueError(f'{path}: not a readable pickle ({err})') from None
    if not isinstance(data, list) or not all(isinstance(s, Mapping) for s in data):
        raise ValueError(f'{path}: expected a list of dicts (tools/test.py --dump), got {type(data).__name__}' +
                         (f' of {type(data[0]).__name__}' if isinstance(data, list) and data else ''))
    return [{k: _to_float32(v) for k, v in sample.items()} for sample in data]


def _to_float32(value: Any) -> Any:
    """A float tensor (bf16, fp16, fp32) as float32; a dict of them likewise; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != torch.float64:
        return value.float()
    if isinstance(value, Mapping):
        return {k: _to_float32(v) for k, v in value.items()}
    return value


def _score_of(path: str, index: int, sample: Mapping, score_key: Optional[str]) -> np.ndarray:
    """The ``pred_score`` of a sample as a 1-D float32 array."""
    if 'pred_score' not in sample:
        raise KeyError(f'{path}: sample {index} has no pred_score; its keys: {", ".join(map(str, sample))}')
    score = sample['pred_score']
    if isinstance(score, Mapping):
        if score_key is None or score_key not in score:
            raise KeyError(f'{path}: sample {index}: pred_score is a dict with keys {", ".join(map(str, score))}; '
                           f'choose one with --score-key' + (f' (not {score_key!r})' if score_key else ''))
        score = score[score_key]
    array = score.detach().cpu().float().numpy() if isinstance(score, torch.Tensor) else np.asarray(score)
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != 1:
        raise ValueError(f'{path}: sample {index}: pred_score has shape {tuple(array.shape)}; expected (num_classes, )')
    return array


def _label_of(path: str, index: int, sample: Mapping) -> int:
    """The ``gt_label`` of a sample as an int."""
    if 'gt_label' not in sample:
        raise KeyError(f'{path}: sample {index} has no gt_label; its keys: {", ".join(map(str, sample))}')
    label = sample['gt_label']
    array = np.asarray(label.detach().cpu() if isinstance(label, torch.Tensor) else label).reshape(-1)
    if array.size != 1:
        raise ValueError(f'{path}: sample {index}: gt_label {array.tolist()} is not one class (multi-label dumps '
                         f'are not supported)')
    return int(array[0])


def predictions(samples: Sequence[Mapping], path: str = '<dump>', score_key: Optional[str] = None) -> Predictions:
    """The scores and labels of the samples of a dump, stand-ins for unreadable videos left out.

    Args:
        samples (Sequence[Mapping]): The dump's samples (:func:`load_dump`).
        path (str): The dump, for the messages. Defaults to ``'<dump>'``.
        score_key (str, optional): The item of a dict ``pred_score`` to read. Defaults to None.

    Returns:
        Predictions: The arrays.

    Raises:
        KeyError: If a sample has no ``pred_score`` or ``gt_label`` (the message names the sample and its keys).
        ValueError: If the dump has no sample, the scores differ in length, or a label is out of range.
    """
    scores, labels, indices, skipped = [], [], [], []
    for i, sample in enumerate(samples):
        if sample.get(SKIPPED_KEY):
            skipped += list(sample[SKIPPED_KEY])
            continue
        score = _score_of(path, i, sample, score_key)
        if scores and score.shape != scores[0].shape:
            raise ValueError(f'{path}: sample {i} has {score.shape[0]} class scores, sample {indices[0]} has '
                             f'{scores[0].shape[0]}')
        scores.append(score)
        labels.append(_label_of(path, i, sample))
        indices.append(i)
    if not scores:
        raise ValueError(f'{path}: no scored sample ({len(samples)} samples, {len(skipped)} unreadable videos)')
    result = Predictions(path, np.stack(scores), np.array(labels, dtype=np.int64), np.array(indices), skipped,
                         len(samples))
    bad = np.flatnonzero((result.labels < 0) | (result.labels >= result.num_classes))
    if bad.size:
        raise ValueError(f'{path}: sample {int(result.indices[bad[0]])} has gt_label {int(result.labels[bad[0]])}, '
                         f'outside the {result.num_classes} classes of its pred_score')
    return result


def load_predictions(path: str, score_key: Optional[str] = None) -> Predictions:
    """:func:`load_dump` then :func:`predictions`."""
    return predictions(load_dump(path), path, score_key)


def top_k_accuracy(scores: np.ndarray, labels: np.ndarray, topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """The fraction of samples whose label is among the ``k`` highest scores, for each ``k``.

    Args:
        scores (np.ndarray): ``(N, C)`` scores.
        labels (np.ndarray): ``(N, )`` labels.
        topk (Sequence[int]): The ``k`` values; those above ``C`` are left out. Defaults to (1, 5). A tie goes to
            the lower class index, as with ``argmax``.

    Returns:
        dict[int, float]: ``k`` -> accuracy in [0, 1].
    """
    # the rank of the true class: the classes that score higher, or as high with a lower index (argmax's order)
    truth = scores[np.arange(len(labels)), labels][:, None]
    before = np.arange(scores.shape[1])[None, :] < labels[:, None]
    rank = ((scores > truth) | ((scores == truth) & before)).sum(axis=1)
    return {k: float(np.mean(rank < k)) for k in topk if k <= scores.shape[1]}


def mean_class_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """The mean over the classes that occur in ``labels`` of the top-1 accuracy of their samples.

    Args:
        scores (np.ndarray): ``(N, C)`` scores.
        labels (np.ndarray): ``(N, )`` labels.

    Returns:
        float: The mean class accuracy in [0, 1].
    """
    hits = scores.argmax(axis=1) == labels
    return float(np.mean([hits[labels == c].mean() for c in np.unique(labels)]))


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int, normalize: Optional[str] = None) -> Any:
    """The confusion matrix: row ``i``, column ``j`` counts the samples of class ``i`` predicted as ``j``.

    Args:
        labels (np.ndarray): ``(N, )`` true classes.
        preds (np.ndarray): ``(N, )`` predicted classes.
        num_classes (int): The number of classes.
        normalize (str, optional): ``'true'`` (rows sum to 1), ``'pred'`` (columns sum to 1), ``'all'`` (the matrix
            sums to 1) or None (counts). An empty row or column stays 0. Defaults to None.

    Returns:
        np.ndarray: ``(num_classes, num_classes)`` int64 counts, or float64 fractions when normalised.
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, preds), 1)
    if normalize is None:
        return matrix
    if normalize not in ('true', 'pred', 'all'):
        raise ValueError(f'normalize={normalize!r}: expected "true", "pred", "all" or None')
    axis = {'true': 1, 'pred': 0, 'all': None}[normalize]
    totals = matrix.sum(axis=axis, keepdims=axis is not None).astype(np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.nan_to_num(matrix / totals)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in float64."""
    shifted = scores.astype(np.float64) - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fuse_predictions(preds: Sequence[Predictions],
                     coefficients: Optional[Sequence[float]] = None,
                     apply_softmax: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """The weighted sum of the scores of several dumps of the same test set (models, views or modalities).

    A sample left out of one dump (a stand-in for an unreadable video) is left out of all.

    Args:
        preds (Sequence[Predictions]): The dumps' predictions, in the same sample order.
        coefficients (Sequence[float], optional): One weight per dump. Defaults to None (all 1).
        apply_softmax (bool): Apply a softmax to each dump's scores before the sum. Defaults to False.

    Returns:
        tuple[np.ndarray, np.ndarray]: The fused ``(N, C)`` scores and the ``(N, )`` labels.

    Raises:
        ValueError: If the dumps differ in size, classes or labels, or the coefficients are not one per dump.
    """
    coefficients = [1.0] * len(preds) if coefficients is None else list(coefficients)
    if len(coefficients) != len(preds):
        raise ValueError(f'{len(coefficients)} coefficients for {len(preds)} dumps; give one per dump')
    first = preds[0]
    common = set(first.indices.tolist())
    for p in preds[1:]:
        if p.num_samples != first.num_samples:
            raise ValueError(f'{p.path} has {p.num_samples} samples, {first.path} has {first.num_samples}: not '
                             f'dumps of the same test set')
        if p.num_classes != first.num_classes:
            raise ValueError(f'{p.path} scores {p.num_classes} classes, {first.path} scores {first.num_classes}')
        common &= set(p.indices.tolist())
    keep = np.array(sorted(common), dtype=np.int64)
    fused, labels = None, None
    for p, coefficient in zip(preds, coefficients):
        rows = np.searchsorted(p.indices, keep)
        scores, p_labels = p.scores[rows], p.labels[rows]
        if labels is None:
            labels = p_labels
        elif not np.array_equal(labels, p_labels):
            i = int(np.flatnonzero(labels != p_labels)[0])
            raise ValueError(f'sample {int(keep[i])}: gt_label {int(p_labels[i])} in {p.path}, {int(labels[i])} in '
                             f'{first.path}: the dumps are not in the same sample order')
        scores = softmax(scores) if apply_softmax else scores.astype(np.float64)
        fused = coefficient * scores if fused is None else fused + coefficient * scores
    return fused, labels
