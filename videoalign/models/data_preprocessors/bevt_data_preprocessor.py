"""BEVT's data preprocessor: a video batch and an image batch, each with its tokenizer copy and masks."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseDataPreprocessor

from videoalign.registry import MODELS

__all__ = ['BEVTDataPreprocessor']

#: The keys of a batch's ``inputs``, before and after preprocessing.
INPUT_KEYS = ('imgs', 'imgs_second', 'mask', 'target_mask')
#: The dimensions of a stacked ``imgs`` batch, with its view axis: ``(B, N, C, T, H, W)`` or ``(B, N, C, H, W)``.
VIDEO_DIM, IMAGE_DIM = 6, 5


@MODELS.register_module()
class BEVTDataPreprocessor(BaseDataPreprocessor):
    """Stacks, moves and normalises BEVT's batches: one batch, or a tuple of batches (video, image) from the joint
    loop.

    **Input**, per batch: ``pseudo_collate`` of ``PackActionInputs(collect_keys=('imgs', 'imgs_second', 'mask',
    'target_mask'))`` outputs (``target_mask`` only for videos), i.e. ``dict(inputs=dict(imgs=[...],
    imgs_second=[...], mask=[...], target_mask=[...]), data_samples=[...])`` with one tensor per sample (already
    stacked tensors are taken as well). Per sample, with ``N`` views (``num_crops * num_clips``, 1 for an image):

    - video: ``imgs`` ``uint8`` ``(N, 3, T, H, W)`` (``FormatShape('NCTHW')``), ``imgs_second`` ``(N, 3, T, h2,
      w2)`` (``CopyResize(input_format='NCTHW')``), ``mask`` ``(N, T', h, w)`` and ``target_mask`` ``(N, T, h, w)``
      (:class:`~videoalign.datasets.transforms.TubeMaskGenerator`);
    - image: ``imgs`` ``(N, 3, H, W)`` (``FormatShape('NCHW')``), ``imgs_second`` ``(N, 3, h2, w2)``
      (``CopyResize(input_format='NCHW')``), ``mask`` ``(h, w)`` (mmpretrain's ``BEiTMaskGenerator``) or ``(N, h,
      w)``; ``target_mask`` optional.

    A mask without the view axis is taken only when ``N`` is 1. The kind of a batch is told by the dimensions of
    ``imgs``.

    **Output** (the contract of :class:`~videoalign.models.algorithms.BEVTPretrainer`): for one batch,
    ``dict(inputs=dict(imgs, imgs_second, mask, target_mask), data_samples=<list>)``; for a tuple or list of batches,
    a tuple of such dicts (mmengine's ``BaseModel._run_forward`` then calls ``model(*batches, mode=...)``). The views
    are flattened into the batch, ``B' = B * N``:

    ============  =============================  =========================
    key           video                          image
    ============  =============================  =========================
    imgs          float ``(B', 3, T, H, W)``     float ``(B', 3, H, W)``
    imgs_second   float ``(B', 3, T, h2, w2)``   float ``(B', 3, h2, w2)``
    mask          bool ``(B', T', h, w)``        bool ``(B', h, w)``
    target_mask   bool ``(B', T, h, w)``         bool ``(B', h, w)``
    ============  =============================  =========================

    BEVT: ``T = 16``, ``T' = T / 2 = 8``, ``H = W = 224``, ``h2 = w2 = H / 2 = 112``, ``h = w = H / 16 = 14``. For an
    image, ``target_mask`` is ``mask`` when the batch has none. ``imgs`` is normalised with ``mean`` and ``std``;
    ``imgs_second`` is mapped to the DALL-E range, ``(x / 255) * (1 - 2 * second_eps) + second_eps`` (0 -> 0.1 and
    255 -> 0.9 for the default 0.1, the official ``MapPixels``). ``data_samples`` stays one per sample (``B``, not
    ``B'``): pretraining does not use them.

    The tensors are moved with mmengine's :meth:`cast_data` (to the preprocessor's device, ``non_blocking`` as
    set) and computed in float32, as mmengine's preprocessors do; under bf16 / fp16 autocast (``AmpOptimWrapper``)
    the model casts them where it needs to.

    Args:
        mean (Sequence[float]): Per-channel mean of ``imgs``, RGB. Defaults to ImageNet's
            (123.675, 116.28, 103.53).
        std (Sequence[float]): Per-channel standard deviation of ``imgs``. Defaults to ImageNet's
            (58.395, 57.12, 57.375).
        second_eps (float): The DALL-E ``logit_laplace_eps`` of the ``imgs_second`` mapping, in ``[0, 0.5)``.
            Defaults to 0.1.
        non_blocking (bool): Copy to the device without blocking. Defaults to False.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 second_eps: float = 0.1,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if len(mean) != len(std) or len(mean) == 0:
            raise ValueError(f'mean and std must list one value per channel each, got mean={mean!r}, std={std!r}')
        if any(s <= 0 for s in std):
            raise ValueError(f'std must be positive, got {std!r}')
        if not 0 <= second_eps < 0.5:
            raise ValueError(f'second_eps must be in [0, 0.5), got {second_eps!r}')
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32), persistent=False)
        self.second_eps = float(second_eps)

    def forward(self, data: Union[dict, Sequence[dict]], training: bool = False) -> Union[dict, Tuple[dict, ...]]:
        """Preprocess one batch, or each batch of a tuple or list.

        Args:
            data (dict | Sequence[dict]): A collated batch, or the batches of one iteration (video, image).
            training (bool): Unused (no batch augmentation). Defaults to False.

        Returns:
            dict | tuple[dict]: The preprocessed batch, or a tuple with one per batch.
        """
        if isinstance(data, dict):
            return self._preprocess(data)
        if isinstance(data, (tuple, list)) and data and all(isinstance(batch, dict) for batch in data):
            return tuple(self._preprocess(batch) for batch in data)
        raise TypeError(f'BEVTDataPreprocessor takes a batch dict or a tuple / list of batch dicts, got '
                        f'{type(data).__name__}' +
                        (f' of {[type(b).__name__ for b in data]}' if isinstance(data, (tuple, list)) else ''))

    @staticmethod
    def _stack(key: str, value) -> torch.Tensor:
        """``inputs[key]`` as one tensor: a list of per-sample tensors stacked, a tensor taken as is."""
        if isinstance(value, torch.Tensor):
            return value
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, torch.Tensor) for v in value):
            raise TypeError(f'inputs[{key!r}] must be a tensor or a non-empty list of tensors (one per sample), got '
                            f'{type(value).__name__}')
        shapes = {tuple(v.shape) for v in value}
        if len(shapes) > 1:
            raise ValueError(f'inputs[{key!r}] holds samples of different shapes {sorted(shapes)}; the pipeline must '
                             f'give every sample the same size')
        return torch.stack(list(value))

    @staticmethod
    def _flatten_views(key: str, tensor: torch.Tensor, batch_views: Tuple[int, int], dim: int) -> torch.Tensor:
        """``tensor`` ``(B, N, ...)`` -> ``(B * N, ...)``; a tensor without the view axis (``dim - 1`` dims) is taken
        when ``N`` is 1."""
        num_views = batch_views[1]
        if tensor.dim() == dim - 1 and num_views == 1 and tensor.shape[0] == batch_views[0]:
            return tensor
        if tensor.dim() != dim or tuple(tensor.shape[:2]) != batch_views:
            raise ValueError(f'inputs[{key!r}] has shape {tuple(tensor.shape)}; expected {dim} dimensions starting '
                             f'with (batch, views) = {batch_views}, as imgs')
        return tensor.flatten(0, 1)

    def _preprocess(self, data: dict) -> Dict[str, object]:
        """Preprocess one collated batch."""
        if 'inputs' not in data:
            raise KeyError(f'a batch needs "inputs" (and "data_samples"), got keys {sorted(data)}')
        data = self.cast_data(data)
        inputs = data['inputs']
        if not isinstance(inputs, dict):
            raise TypeError(f'batch inputs must be a dict of {INPUT_KEYS} (PackActionInputs(collect_keys=...)), got '
                            f'{type(inputs).__name__}')
        unknown = set(inputs) - set(INPUT_KEYS)
        missing = {'imgs', 'imgs_second', 'mask'} - set(inputs)
        if unknown or missing:
            raise KeyError(f'batch inputs must hold {INPUT_KEYS} (target_mask optional for images), got '
                           f'{sorted(inputs)}')
        imgs = self._stack('imgs', inputs['imgs'])
        if imgs.dim() not in (VIDEO_DIM, IMAGE_DIM):
            raise ValueError(f'imgs must be (batch, views, C, T, H, W) clips or (batch, views, C, H, W) images, got '
                             f'{tuple(imgs.shape)}')
        is_video = imgs.dim() == VIDEO_DIM
        batch_views = tuple(imgs.shape[:2])
        channels = imgs.shape[2]
        if channels != self.mean.numel():
            raise ValueError(f'imgs has {channels} channels (shape {tuple(imgs.shape)}) but mean and std have '
                             f'{self.mean.numel()}')
        if 'target_mask' not in inputs and is_video:
            raise KeyError('a video batch needs inputs["target_mask"] (TubeMaskGenerator), got '
                           f'{sorted(inputs)}')

        imgs = self._flatten_views('imgs', imgs, batch_views, imgs.dim()).float()
        spatial = (1, ) * (imgs.dim() - 2)
        imgs = (imgs - self.mean.view(1, -1, *spatial)) / self.std.view(1, -1, *spatial)

        second = self._flatten_views('imgs_second', self._stack('imgs_second', inputs['imgs_second']), batch_views,
                                     VIDEO_DIM if is_video else IMAGE_DIM)
        if second.shape[1] != channels or (is_video and second.shape[2] != imgs.shape[2]):
            raise ValueError(f'imgs_second {tuple(second.shape)} does not match imgs {tuple(imgs.shape)} in channels '
                             f'or frames (after flattening the views)')
        second = second.float() / 255 * (1 - 2 * self.second_eps) + self.second_eps

        mask_dim = VIDEO_DIM - 1 if is_video else IMAGE_DIM - 1  # (B, N, T', h, w) or (B, N, h, w)
        mask = self._flatten_views('mask', self._stack('mask', inputs['mask']), batch_views, mask_dim).bool()
        if 'target_mask' in inputs:
            target_mask = self._stack('target_mask', inputs['target_mask'])
            target_mask = self._flatten_views('target_mask', target_mask, batch_views, mask_dim).bool()
        else:
            target_mask = mask
        if target_mask.shape[-2:] != mask.shape[-2:] or (is_video and target_mask.shape[1] != imgs.shape[2]):
            raise ValueError(f'target_mask {tuple(target_mask.shape)} must have the grid of mask '
                             f'{tuple(mask.shape)}' + (f' and the {imgs.shape[2]} frames of imgs' if is_video else ''))
        return dict(
            inputs=dict(imgs=imgs, imgs_second=second, mask=mask, target_mask=target_mask),
            data_samples=data.get('data_samples'))
