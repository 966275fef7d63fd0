"""Checks, before any work starts, that every label of every dataset fits the model's classes."""
from typing import Iterator, Optional

from mmengine.dataset import BaseDataset
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...registry import HOOKS
from .class_names_hook import dataset_classes


def _leaf_datasets(dataset) -> Iterator:
    """The datasets inside mmengine's dataset wrappers (``ConcatDataset``, ``RepeatDataset``, ...)."""
    inner = getattr(dataset, 'datasets', None) or ([dataset.dataset] if hasattr(dataset, 'dataset') else None)
    if inner is None:
        yield dataset
    else:
        for child in inner:
            yield from _leaf_datasets(child)


def check_labels(dataset, num_classes: int, split: str) -> None:
    """Raise if a label of ``dataset`` is not a class index of a model with ``num_classes`` classes.

    Args:
        dataset: A dataset whose ``data_list`` items carry ``label`` (an int, or a list of ints for multi-label
            data); items of videoalign's ``VideoDataset`` also carry the ``lineno`` of their annotation line.
        num_classes (int): The model's number of classes.
        split (str): ``'train'``, ``'val'`` or ``'test'``, for the message.

    Raises:
        ValueError: Naming ``<annotation file>:<line>`` (or the sample), the label and the valid range.
    """
    for leaf in _leaf_datasets(dataset):
        if not isinstance(leaf, BaseDataset):
            continue
        leaf.full_init()
        for index in range(len(leaf)):
            info = BaseDataset.get_data_info(leaf, index)  # as parsed (mmaction2's turns multi-labels one-hot)
            labels = info.get('label')
            if labels is None or (labels == -1 and not info.get('labelled', True)):
                continue  # a list without labels (inference): nothing to check
            bad = [
                label for label in (labels if isinstance(labels, (list, tuple)) else [labels])
                if not 0 <= int(label) < num_classes
            ]
            if bad:
                where = f'{leaf.ann_file}:{info["lineno"]}' if 'lineno' in info else \
                    f'sample {index} ({info.get("filename", "")}) of {getattr(leaf, "ann_file", "the dataset")}'
                raise ValueError(f'{where}: label {bad[0]} is not one of the {num_classes} classes (labels 0 to '
                                 f'{num_classes - 1}); fix the {split} annotation file, or the class list or '
                                 f'num_classes to match it')


def model_num_classes(model) -> Optional[int]:
    """``model.cls_head.num_classes`` (the model unwrapped), or None for a model without a classification head."""
    model = model.module if is_model_wrapper(model) else model
    num_classes = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
    return num_classes if isinstance(num_classes, int) and num_classes > 0 else None


@HOOKS.register_module()
class LabelCheckHook(Hook):
    """Before a run, check the labels of its datasets against the model's number of classes.

    Without it an out-of-range label crashes training with an ``IndexError`` naming no file, and in validation or
    test it is silently scored as a wrong answer. :class:`~videoalign.engine.runner.VideoAlignRunner` adds it to the
    default hooks (``default_hooks.label_check``; set it to None to turn it off).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Check the datasets of the loops this run has built: against the class list a dataset declares (a model
        that scores class-name text takes it), else against the model's ``num_classes``."""
        num_classes = model_num_classes(runner.model)
        for split in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{split}_loop', None)
            dataloader = getattr(loop, 'dataloader', None)
            if dataloader is None:
                continue
            classes = dataset_classes(dataloader.dataset)
            count = len(classes) if classes else num_classes
            if count:
                check_labels(dataloader.dataset, count, split)
