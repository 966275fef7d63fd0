"""BEVT's joint pretrainer: masked video and masked image modelling on one shared encoder, in one optimizer step."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

__all__ = ['BEVTPretrainer']

#: The suffix of each stream's losses and accuracies in the log (the official names: loss_cls_3d, mask_acc_2d, ...).
STREAM_SUFFIX = {5: '3d', 4: '2d'}


@MODELS.register_module()
class BEVTPretrainer(BaseModel):
    """Runs each batch it is given (a video batch, an image batch, or both) through the shared backbone and the head.

    The joint loop (:class:`~videoalign.engine.runner.JointEpochBasedTrainLoop`) gives one video batch and one image
    batch per iteration; the data preprocessor turns them into a tuple of dicts, and mmengine calls
    ``model(video, image, mode='loss')``. Each batch's ``inputs`` hold ``imgs`` (normalised clips
    ``(B, C, T, H, W)`` or images ``(B, C, H, W)``), ``imgs_second`` (the tokenizer's copy of the same crop at half
    the size, in the dVAE's range), ``mask`` (the input mask: video tubes ``(B, T / 2, h, w)``, image blocks
    ``(B, h, w)``) and ``target_mask`` (where the loss is taken: the tubes upsampled to ``(B, T, h, w)``; the same
    blocks for images). The two losses are summed into one backward pass, as the official ``BEVTMultiSource``.

    Losses, per stream (``3d`` video, ``2d`` image): ``loss_cls_3d`` and ``loss_cls_2d`` (weighted) and the logged
    ``mask_acc_3d`` and ``mask_acc_2d``.

    Args:
        backbone (dict): The shared encoder with both decoders (``SwinTransformerBEVT``).
        cls_head (dict): The masked-token head with the frozen target generator (``MaskedTokenHead``).
        data_preprocessor (dict, optional): Defaults to ``dict(type='BEVTDataPreprocessor')``.
        loss_weight_3d (float): Weight of the video loss. Defaults to 1.
        loss_weight_2d (float): Weight of the image loss. Defaults to 1.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: dict,
                 data_preprocessor: Optional[dict] = dict(type='BEVTDataPreprocessor'),
                 loss_weight_3d: float = 1.,
                 loss_weight_2d: float = 1.,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone: nn.Module = MODELS.build(backbone)
        self.cls_head: nn.Module = MODELS.build(cls_head)
        self.loss_weights = {'3d': loss_weight_3d, '2d': loss_weight_2d}

    def extract_feat(self, inputs: Dict[str, torch.Tensor]) -> VideoFeatures:
        """The backbone's features of one batch's ``inputs`` (``imgs`` masked by ``mask``)."""
        return self.backbone(inputs['imgs'], inputs.get('mask'))

    def loss(self, batches: Sequence[dict]) -> Dict[str, torch.Tensor]:
        """The masked-token losses of the batches, each stream's keys suffixed ``_3d`` (video) or ``_2d`` (image)."""
        losses = {}
        for batch in batches:
            inputs = batch['inputs']
            missing = {'imgs', 'imgs_second', 'mask', 'target_mask'} - set(inputs)
            if missing:
                raise KeyError(f'a BEVT batch needs inputs {sorted(missing)} (see BEVTDataPreprocessor)')
            stream = STREAM_SUFFIX.get(inputs['imgs'].dim())
            if stream is None:
                raise ValueError(f'imgs must be clips (B, C, T, H, W) or images (B, C, H, W), got '
                                 f'{tuple(inputs["imgs"].shape)}')
            if f'loss_cls_{stream}' in losses:
                raise ValueError(f'two {stream} batches in one iteration: give one video and/or one image batch')
            stream_losses = self.cls_head.loss(self.extract_feat(inputs), inputs['imgs_second'], inputs['target_mask'])
            stream_losses['loss_cls'] = stream_losses['loss_cls'] * self.loss_weights[stream]
            losses.update({f'{name}_{stream}': value for name, value in stream_losses.items()})
        return losses

    def forward(self,
                *batches: dict,
                inputs: Optional[Dict[str, torch.Tensor]] = None,
                data_samples: Optional[list] = None,
                mode: str = 'loss') -> Union[Dict[str, torch.Tensor], List[VideoFeatures]]:
        """``model(video_batch, image_batch, mode=...)`` (the joint loop) or ``model(inputs=..., mode=...)``.

        Args:
            *batches (dict): Preprocessed batches, each ``dict(inputs=..., data_samples=...)``.
            inputs (dict, optional): The inputs of a single batch. Defaults to None.
            data_samples (list, optional): Its data samples (unused). Defaults to None.
            mode (str): ``'loss'`` (the losses) or ``'tensor'`` (the backbone's features of each batch).

        Returns:
            dict | list[VideoFeatures]: The losses, or one :class:`VideoFeatures` per batch.
        """
        if inputs is not None:
            batches = batches + (dict(inputs=inputs, data_samples=data_samples), )
        if not batches:
            raise ValueError('BEVTPretrainer got no batch')
        if mode == 'loss':
            return self.loss(batches)
        if mode == 'tensor':
            return [self.extract_feat(batch['inputs']) for batch in batches]
        raise ValueError(f'BEVTPretrainer has modes "loss" and "tensor", got {mode!r} (fine-tune a recognizer to '
                         f'predict)')
