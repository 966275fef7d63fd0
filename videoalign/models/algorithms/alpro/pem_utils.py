"""PEM's crop box on the model side: the prompter's input (the outside of the box blacked out) and the student's
patch mask (the patches inside the box, whose fused tokens are averaged).

The boxes come from the :class:`~videoalign.datasets.transforms.PEMRandomBox` transform: ``(top, left, height,
width)`` in pixels of the final frames, one per sample, the same on all frames. Official code (``salesforce/ALPRO``
``src/datasets/dataset_pretrain_sparse.py`` ``random_erase``, on the un-normalised frames ``(T, C, H, W)``):

.. code-block:: python

    input_img = input_img[:, :, top: top + h, left: left + w]
    pad = (left, img_w - left - w, top, img_h - top - h)
    input_img = torch.nn.functional.pad(input_img, pad=pad, mode='constant', value=0.0)   # the prompter's input
    img_masks = torch.ones_like(input_img)
    img_masks[:, :, top: top+h, left: left+w] = 0
    img_masks = torch.nn.functional.avg_pool2d(img_masks.float(), kernel_size=(patch_size, patch_size),
                                               stride=patch_size)
    img_masks = torch.mean(img_masks, dim=(0, 1))                                        # mpm_mask: 1 outside

The frames are normalised afterwards (``PrefetchLoader``), so the outside is black in pixel space: ``-mean / std`` in
the normalised input, which is what :func:`zero_outside_box` writes. ``compute_mpm_with_encoder_out`` then averages
the fused visual tokens (after the visual CLS) with the weights ``1 - mpm_mask`` (:func:`box_patch_mask`,
:func:`box_mean_pool`).
"""
from typing import Sequence, Union

import torch

__all__ = ['box_patch_mask', 'zero_outside_box', 'box_mean_pool', 'as_boxes']

Boxes = Union[torch.Tensor, Sequence[Sequence[int]]]


def as_boxes(boxes: Boxes, device: Union[torch.device, str, None] = None) -> torch.Tensor:
    """Boxes as a ``(B, 4)`` long tensor ``(top, left, height, width)``, checked to be non-empty and non-negative.

    Args:
        boxes (torch.Tensor | Sequence): ``(B, 4)``, e.g. ``[sample.pem_box for sample in data_samples]``.
        device (torch.device | str, optional): Where to put them. Defaults to None: where they are (the CPU for a
            sequence).

    Returns:
        torch.Tensor: ``(B, 4)`` long.

    Raises:
        ValueError: If the shape is not ``(B, 4)``, a coordinate is negative or a box is empty.
    """
    if not isinstance(boxes, torch.Tensor):
        boxes = torch.as_tensor([[int(v) for v in box] for box in boxes], dtype=torch.long)
    boxes = boxes.to(device=device, dtype=torch.long) if device is not None else boxes.long()
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f'expected boxes (B, 4) as (top, left, height, width), got shape {tuple(boxes.shape)}')
    if bool((boxes[:, :2] < 0).any()) or bool((boxes[:, 2:] < 1).any()):
        raise ValueError(f'boxes need top, left >= 0 and height, width >= 1, got {boxes.tolist()}')
    return boxes


def _check_inside(boxes: torch.Tensor, height: int, width: int) -> None:
    outside = (boxes[:, 0] + boxes[:, 2] > height) | (boxes[:, 1] + boxes[:, 3] > width)
    if bool(outside.any()):
        raise ValueError(f'boxes {boxes[outside].tolist()} (top, left, height, width) pass the {height}x{width} '
                         'frames')


def _coverage(start: torch.Tensor, length: torch.Tensor, cells: int, cell_size: int) -> torch.Tensor:
    """``(B, cells)``: the fraction of each cell ``[j * cell_size, (j + 1) * cell_size)`` inside
    ``[start, start + length)``."""
    edges = torch.arange(cells, device=start.device) * cell_size
    low = torch.maximum(edges[None], start[:, None])
    high = torch.minimum(edges[None] + cell_size, (start + length)[:, None])
    return (high - low).clamp(min=0).float() / cell_size


def box_patch_mask(boxes: Boxes, grid_h: int, grid_w: int, patch_size: int) -> torch.Tensor:
    """The patches inside each box: the official ``1 - mpm_mask``, flattened in the video tokens' row-major order.

    A patch's value is the fraction of its pixels inside the box (the official average pooling), so 1 inside and 0
    outside for boxes on the patch grid, as :class:`~videoalign.datasets.transforms.PEMRandomBox` draws them.

    Args:
        boxes (torch.Tensor | Sequence): ``(B, 4)`` ``(top, left, height, width)`` in pixels.
        grid_h (int): Patch rows (``H // patch_size``).
        grid_w (int): Patch columns.
        patch_size (int): Patch side in pixels.

    Returns:
        torch.Tensor: ``(B, grid_h * grid_w)`` float32, on the device of ``boxes``.

    Raises:
        ValueError: If a box is empty or passes the ``grid_h * patch_size`` x ``grid_w * patch_size`` frames.
    """
    boxes = as_boxes(boxes)
    _check_inside(boxes, grid_h * patch_size, grid_w * patch_size)
    rows = _coverage(boxes[:, 0], boxes[:, 2], grid_h, patch_size)
    cols = _coverage(boxes[:, 1], boxes[:, 3], grid_w, patch_size)
    return (rows[:, :, None] * cols[:, None, :]).flatten(1)


def zero_outside_box(inputs: torch.Tensor, boxes: Boxes, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """What the prompter sees: the clips with every pixel outside the box black **before** normalisation.

    Args:
        inputs (torch.Tensor): Normalised clips ``(B, C, T, H, W)`` (``(x - mean) / std``).
        boxes (torch.Tensor | Sequence): ``(B, 4)`` ``(top, left, height, width)`` in pixels, one per clip, the same
            box on all frames.
        mean (Sequence[float]): The per-channel mean of the normalisation (``C`` values, the scale of ``std``).
        std (Sequence[float]): The per-channel std.

    Returns:
        torch.Tensor: A new tensor like ``inputs``: the inputs inside the box, ``-mean / std`` outside.

    Raises:
        ValueError: If the shapes do not match or a box passes the frames.
    """
    if inputs.dim() != 5:
        raise ValueError(f'expected clips (B, C, T, H, W), got shape {tuple(inputs.shape)}')
    batch, channels, _, height, width = inputs.shape
    boxes = as_boxes(boxes, inputs.device)
    if boxes.shape[0] != batch:
        raise ValueError(f'expected one box per clip ({batch}), got {boxes.shape[0]}')
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f'expected mean and std of {channels} channels, got {len(mean)} and {len(std)}')
    _check_inside(boxes, height, width)
    ys = torch.arange(height, device=inputs.device)
    xs = torch.arange(width, device=inputs.device)
    in_rows = (ys[None] >= boxes[:, :1]) & (ys[None] < boxes[:, :1] + boxes[:, 2:3])
    in_cols = (xs[None] >= boxes[:, 1:2]) & (xs[None] < boxes[:, 1:2] + boxes[:, 3:4])
    inside = (in_rows[:, :, None] & in_cols[:, None, :])[:, None, None]  # (B, 1, 1, H, W)
    mean = torch.as_tensor(mean, dtype=torch.float32, device=inputs.device)
    std = torch.as_tensor(std, dtype=torch.float32, device=inputs.device)
    black = (-mean / std).to(inputs.dtype).view(1, channels, 1, 1, 1)
    return torch.where(inside, inputs, black)


def box_mean_pool(tokens: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
    """The mean of the patch tokens weighted by ``patch_mask`` (the official pooling of the box's fused tokens).

    Args:
        tokens (torch.Tensor): ``(B, N, D)`` patch tokens (the fused visual tokens without the visual CLS:
            ``fused[:, text_len + 1:]``).
        patch_mask (torch.Tensor): ``(B, N)`` weights from :func:`box_patch_mask`.

    Returns:
        torch.Tensor: ``(B, D)``: ``sum_n(mask_n * token_n) / sum_n(mask_n)``.

    Raises:
        ValueError: If the shapes do not match.
    """
    if tokens.dim() != 3 or patch_mask.shape != tokens.shape[:2]:
        raise ValueError(f'expected tokens (B, N, D) and patch_mask (B, N), got {tuple(tokens.shape)} and '
                         f'{tuple(patch_mask.shape)}')
    weights = patch_mask.to(device=tokens.device, dtype=tokens.dtype).unsqueeze(-1)
    return (weights * tokens).sum(dim=1) / weights.sum(dim=1)
