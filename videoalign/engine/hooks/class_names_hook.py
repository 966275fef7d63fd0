"""Gives the model the class names of the data it is trained, validated or tested on."""
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...registry import HOOKS


def dataset_classes(dataset) -> Optional[List[str]]:
    """The class names a dataset declares (``metainfo['classes']``), looking inside dataset wrappers, or None."""
    while True:
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        if classes:
            return list(classes)
        if not hasattr(dataset, 'dataset'):
            return None
        dataset = dataset.dataset


@HOOKS.register_module()
class ClassNamesHook(Hook):
    """Set the class names of a text-classifier head from the dataset of each loop, and check a fixed head's size.

    Class names are data: a dataset declares them (``class_names`` of :class:`~videoalign.datasets.VideoDataset`,
    kept as ``metainfo['classes']``), the Runner saves the training set's in every checkpoint
    (``meta['dataset_meta']``), and a head that scores class-name text (``set_class_names``) takes those of the
    dataset it runs on: the training set's before training, the validation set's for each validation (then the
    training set's again), the test set's before testing (a zero-shot test scores classes never trained on). A head
    with a fixed number of classes is checked against the dataset's class list instead.
    :class:`~videoalign.engine.runner.VideoAlignRunner` adds this hook to the default hooks
    (``default_hooks.class_names``).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._train_classes: Optional[List[str]] = None

    @staticmethod
    def _head(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return getattr(model, 'cls_head', None)

    def _apply(self, runner, split: str) -> Optional[List[str]]:
        """Give the head the classes of ``split``'s dataset; return them."""
        loop = getattr(runner, f'{split}_loop')
        classes = dataset_classes(loop.dataloader.dataset)
        head = self._head(runner)
        if head is None:
            return classes
        if hasattr(head, 'set_class_names'):
            if classes:
                if list(head.class_names or ()) != classes:
                    head.set_class_names(classes)
            elif not head.class_names:
                raise ValueError(
                    f'{type(head).__name__} scores class names, but neither the model nor the {split} dataset '
                    f'({getattr(loop.dataloader.dataset, "ann_file", "")}) has any: give the dataset its label map '
                    f'(class_names=...)')
        elif classes and getattr(head, 'num_classes', None) not in (None, len(classes)):
            raise ValueError(f'the {split} dataset declares {len(classes)} classes but the model\'s '
                             f'{type(head).__name__} has num_classes={head.num_classes}')
        return classes

    def before_train(self, runner) -> None:
        self._train_classes = self._apply(runner, 'train')

    def before_val(self, runner) -> None:
        self._apply(runner, 'val')

    def after_val(self, runner) -> None:
        head = self._head(runner)
        if self._train_classes and hasattr(head, 'set_class_names') and head.class_names != self._train_classes:
            head.set_class_names(self._train_classes)

    def before_test(self, runner) -> None:
        self._apply(runner, 'test')
