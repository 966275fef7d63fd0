"""mmaction2's ``Recognizer3D`` with the set of trained parameters stated in the config."""
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmaction.models.recognizers import Recognizer3D
from mmengine.logging import print_log

from videoalign.registry import MODELS
from videoalign.structures import BackboneOutput, VideoFeatures


def _as_patterns(name: str, patterns: Optional[Sequence[str]]) -> Optional[Tuple[str, ...]]:
    if patterns is None:
        return None
    if isinstance(patterns, str) or not all(isinstance(p, str) and p for p in patterns):
        raise TypeError(f'{name} must be a list of non-empty name substrings, got {patterns!r}')
    return tuple(patterns)


def parameter_table(model: torch.nn.Module) -> str:
    """A table of trainable and frozen parameter counts per top-level module of ``model``.

    Args:
        model (torch.nn.Module): The model.

    Returns:
        str: One line per top-level module and a total line.
    """
    counts: Dict[str, list] = OrderedDict()
    for name, param in model.named_parameters():
        row = counts.setdefault(name.split('.', 1)[0], [0, 0])
        row[0 if param.requires_grad else 1] += param.numel()
    total = [sum(row[0] for row in counts.values()), sum(row[1] for row in counts.values())]
    width = max([len(key) for key in counts] + [5])
    lines = [f'{"module":<{width}}  {"trainable":>13}  {"frozen":>13}']
    lines += [f'{key:<{width}}  {row[0]:>13,}  {row[1]:>13,}' for key, row in list(counts.items()) + [('total', total)]]
    return '\n'.join(lines)


@MODELS.register_module()
class VideoRecognizer(Recognizer3D):
    """``Recognizer3D`` whose trained parameters are chosen in the config, as the CLIP-adaptation recipes do.

    After the sub-modules are built, every parameter whose name (e.g. ``backbone.transformer.resblocks.0.ln_1.weight``)
    contains none of ``trainable`` (if given), or contains one of ``frozen``, gets ``requires_grad=False``. Freezing
    never unfreezes: a parameter a sub-module froze itself (a frozen text tower) stays frozen. The resulting table of
    trainable and frozen counts per top-level module is logged. Frozen parameters then get no gradient, and
    :class:`~videoalign.engine.MultiplierOptimWrapperConstructor` gives them no optimizer state.

    A backbone without any trainable parameter runs under ``torch.no_grad()`` in training (no activations are kept for
    a backward pass that could not reach anything) and stays in eval mode.

    Backbones and necks may return :class:`~videoalign.structures.VideoFeatures` (named fields) or, as mmaction2's,
    tensors and tuples: the views of a test batch split by ``test_cfg.max_testing_views`` are joined by
    :meth:`VideoFeatures.cat <videoalign.structures.VideoFeatures.cat>`, and ``mode='tensor'`` returns the set fields
    of features as a dict of tensors (mmengine's contract for that mode).

    Args:
        trainable (Sequence[str], optional): Name substrings of the parameters that may train (AIM's
            ``('temporal_embedding', 'ln_post', 'adapter', 'cls_head')``); all others are frozen. None trains all.
            Defaults to None.
        frozen (Sequence[str], optional): Name substrings of parameters to freeze in any case. Defaults to None.
        **kwargs: The arguments of mmaction2's ``Recognizer3D`` (``backbone``, ``neck``, ``cls_head``,
            ``data_preprocessor``, ``train_cfg``, ``test_cfg``).
    """

    def __init__(self,
                 trainable: Optional[Sequence[str]] = None,
                 frozen: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.trainable = _as_patterns('trainable', trainable)
        self.frozen = _as_patterns('frozen', frozen)
        for pattern in (self.trainable or ()) + (self.frozen or ()):
            if not any(pattern in name for name, _ in self.named_parameters()):
                raise ValueError(f'{type(self).__name__}: the pattern {pattern!r} matches no parameter name')
        for name, param in self.named_parameters():
            if (self.trainable is not None and not any(p in name for p in self.trainable)) or \
                    any(p in name for p in self.frozen or ()):
                param.requires_grad_(False)
        print_log(f'parameters of {type(self).__name__}:\n{parameter_table(self)}', logger='current')

    @property
    def backbone_frozen(self) -> bool:
        """Whether no backbone parameter requires a gradient."""
        return not any(param.requires_grad for param in self.backbone.parameters())

    def train(self, mode: bool = True) -> 'VideoRecognizer':
        """Set train/eval mode; a frozen backbone stays in eval mode."""
        super().train(mode)
        if mode and self.backbone_frozen:
            self.backbone.eval()
        return self

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'neck',
                     data_samples=None,
                     test_mode: bool = False) -> tuple:
        """``Recognizer3D.extract_feat`` for named features too; in training, a frozen backbone runs without autograd.

        Args:
            inputs (torch.Tensor): Clips ``(N, views, C, T, H, W)``.
            stage (str): The last stage to run: ``'backbone'``, ``'neck'`` or ``'head'``; in test mode the features
                after the neck are returned, as mmaction2 does. Defaults to ``'neck'``.
            data_samples (list, optional): The data samples, passed to the neck in training. Defaults to None.
            test_mode (bool): Whether in test mode. Defaults to False.

        Returns:
            tuple: The features (:class:`~videoalign.structures.VideoFeatures`, a tensor or a tuple; logits for
            ``stage='head'``) and the keyword arguments of the head's ``loss``/``predict``.
        """
        max_views = (self.test_cfg or {}).get('max_testing_views', False)
        if test_mode and max_views:
            return self._extract_feat_in_chunks(inputs, max_views)
        if test_mode or not self.backbone_frozen:
            return super().extract_feat(inputs, stage=stage, data_samples=data_samples, test_mode=test_mode)
        with torch.no_grad():
            x, kwargs = super().extract_feat(inputs, stage='backbone', data_samples=data_samples)
        if stage == 'backbone':
            return x, kwargs
        loss_aux = dict()
        if self.with_neck:
            x, loss_aux = self.neck(x, data_samples=data_samples)
        kwargs['loss_aux'] = loss_aux
        if stage == 'head' and self.with_cls_head:
            x = self.cls_head(x, **kwargs)
        return x, kwargs

    def _extract_feat_in_chunks(self, inputs: torch.Tensor, max_views: int) -> Tuple[BackboneOutput, dict]:
        """The test path of ``extract_feat`` with ``test_cfg.max_testing_views``: at most that many views at a time.

        Args:
            inputs (torch.Tensor): The views of one video ``(1, views, C, T, H, W)``.
            max_views (int): Views per backbone call.

        Returns:
            tuple: The features after the neck of all views, joined by :meth:`VideoFeatures.cat`, and the keyword
            arguments of the head's ``predict`` (``fcn_test``).
        """
        if not isinstance(max_views, int) or max_views < 1:
            raise ValueError(f'test_cfg.max_testing_views must be a positive int, got {max_views!r}')
        num_views = inputs.shape[1]
        inputs = inputs.view((-1, ) + inputs.shape[2:])
        if inputs.shape[0] != num_views:
            raise ValueError('test_cfg.max_testing_views is only compatible with a test batch size of 1')
        outputs = []
        for chunk in inputs.split(max_views):
            x = self.backbone(chunk)
            if self.with_neck:
                x, _ = self.neck(x)
            outputs.append(x)
        return VideoFeatures.cat(outputs), dict(fcn_test=self.test_cfg.get('fcn_test', False))

    def _forward(self,
                 inputs: torch.Tensor,
                 stage: str = 'backbone',
                 **kwargs) -> Union[torch.Tensor, tuple, Dict[str, torch.Tensor]]:
        """``mode='tensor'``: the output of ``stage``, with :class:`~videoalign.structures.VideoFeatures` as a dict.

        Returns:
            torch.Tensor | tuple | dict: Logits, an mmaction2 output, or the set fields of the features by name
            (e.g. ``{'frame_embeds': ..., 'patch_tokens': ..., 'video_embeds': ...}``).
        """
        feats, _ = self.extract_feat(inputs, stage=stage)
        return feats.to_dict() if isinstance(feats, VideoFeatures) else feats
