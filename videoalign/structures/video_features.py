"""The named features that a video backbone hands to a neck, a head, a pretrainer or a retrieval model.

A backbone returns a :class:`VideoFeatures` with the fields it computes; a neck reads some and adds others
(:meth:`VideoFeatures.updated`); a head or a loss reads what it needs by name (:meth:`VideoFeatures.require`), and a
missing field is an error that names the field and what produced the features, instead of a guess about the position
of a tensor in a tuple. mmaction2 backbones return bare tensors or tuples of stage maps: :meth:`VideoFeatures.wrap` is
the one place where such an output is given a name.
"""
import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch

__all__ = ['VideoFeatures', 'TENSOR_FIELDS', 'BackboneOutput']

#: The tensor fields of :class:`VideoFeatures`, in order.
TENSOR_FIELDS = ('frame_embeds', 'patch_tokens', 'video_tokens', 'video_embeds', 'stage_outputs', 'masks')
#: What a backbone or a neck may return: named features, or an mmaction2-style tensor or tuple of tensors.
BackboneOutput = Union['VideoFeatures', torch.Tensor, Sequence[torch.Tensor]]


def _shapes(value: Union[torch.Tensor, Tuple[torch.Tensor, ...]]) -> str:
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape))
    return '(' + ', '.join(str(tuple(item.shape)) for item in value) + ')'


def _cat(values: Sequence[Any], where: str) -> Any:
    """Concatenate along the batch axis: tensors, (nested) tuples of tensors item-wise, all-None to None."""
    first = values[0]
    if first is None:
        if any(value is not None for value in values):
            raise ValueError(f'cannot concatenate {where}: set in some chunks and not in others')
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(values)
    if isinstance(first, (tuple, list)):
        if any(not isinstance(value, (tuple, list)) or len(value) != len(first) for value in values):
            raise ValueError(f'cannot concatenate {where}: the chunks hold tuples of different lengths')
        return tuple(_cat(items, f'{where}[{i}]') for i, items in enumerate(zip(*values)))
    raise TypeError(f'cannot concatenate {where} of type {type(first).__name__}')


@dataclass(eq=False)
class VideoFeatures:
    """Features of a batch of ``B`` clips, by name; every tensor field is optional and batch-first.

    Attributes:
        frame_embeds (torch.Tensor, optional): One embedding per frame (or per image a backbone builds from the
            clip), ``(B, T, D)``. CLIP ViTs: ``ln_post(CLS) @ proj`` of each frame (``D = width`` without ``proj``).
        patch_tokens (torch.Tensor, optional): The raw tokens of the last block, per frame and without the CLS
            token or ``ln_post``, ``(B, T, N, W)`` with ``N = h * w`` patches of width ``W`` (X-CLIP's video-specific
            prompt reads them).
        video_tokens (torch.Tensor, optional): The tokens of a backbone that encodes the clip as one sequence,
            ``(B, L, W)``, the CLS token first (ALPRO's TimeSformer: ``[CLS] + mean over T of the patch tokens``,
            ``L = 1 + N``).
        video_embeds (torch.Tensor, optional): One embedding per clip, ``(B, D)``; usually set by a neck from
            ``frame_embeds``.
        stage_outputs (tuple[torch.Tensor], optional): Feature maps of the stages of a hierarchical or convolutional
            backbone, channel-first ``(B, C_i, T_i, H_i, W_i)``, the last stage last (BEVT's Video Swin: stages 3
            and 4; mmaction2's ResNet3d: its output).
        masks (torch.Tensor, optional): The token masks a masked-modelling backbone applied, ``(B, T', h, w)`` bool,
            True where masked (BEVT).
        source (str): What produced the features, for error messages: the backbone's class name, then
            ``' -> '`` and the name of each module that added fields. Defaults to ``'unknown'``.
    """

    frame_embeds: Optional[torch.Tensor] = None
    patch_tokens: Optional[torch.Tensor] = None
    video_tokens: Optional[torch.Tensor] = None
    video_embeds: Optional[torch.Tensor] = None
    stage_outputs: Optional[Tuple[torch.Tensor, ...]] = None
    masks: Optional[torch.Tensor] = None
    source: str = 'unknown'

    def __post_init__(self) -> None:
        if isinstance(self.stage_outputs, list):
            self.stage_outputs = tuple(self.stage_outputs)
        if self.stage_outputs is not None and (not isinstance(self.stage_outputs, tuple) or not self.stage_outputs):
            raise TypeError(f'stage_outputs of features from {self.source} must be a non-empty tuple of tensors')
        batch_sizes = {}
        for name in self.names:
            value = getattr(self, name)
            for tensor in value if isinstance(value, tuple) else (value, ):
                if not isinstance(tensor, torch.Tensor) or tensor.dim() == 0:
                    raise TypeError(f'{name} of features from {self.source} must be batch-first tensors, got '
                                    f'{type(tensor).__name__}')
                batch_sizes.setdefault(int(tensor.shape[0]), name)
        if len(batch_sizes) > 1:
            found = ', '.join(f'{name}: {size}' for size, name in batch_sizes.items())
            raise ValueError(f'the fields of features from {self.source} disagree on the batch size ({found})')

    @property
    def names(self) -> Tuple[str, ...]:
        """The names of the tensor fields that are set, in :data:`TENSOR_FIELDS` order."""
        return tuple(name for name in TENSOR_FIELDS if getattr(self, name) is not None)

    def require(self, name: str, consumer: str) -> Any:
        """The field ``name``; an error naming the field, the consumer and the producer if it is not set.

        Args:
            name (str): A field of :data:`TENSOR_FIELDS`.
            consumer (str): Who needs it, e.g. the class name of a neck or a head.

        Returns:
            torch.Tensor | tuple[torch.Tensor]: The field.

        Raises:
            ValueError: If the field is not set.
        """
        if name not in TENSOR_FIELDS:
            raise KeyError(f'{name!r} is not a field of VideoFeatures; fields: {", ".join(TENSOR_FIELDS)}')
        value = getattr(self, name)
        if value is None:
            raise ValueError(f'{consumer} needs the field {name!r} of VideoFeatures, which the features from '
                             f'{self.source} do not have (they have: {", ".join(self.names) or "nothing"})')
        return value

    def updated(self, by: str, **fields: Any) -> 'VideoFeatures':
        """A copy with ``fields`` set (the tensors are not copied) and ``by`` appended to :attr:`source`.

        Args:
            by (str): The module that computed ``fields``, e.g. a neck's class name.
            **fields: New values of tensor fields.

        Returns:
            VideoFeatures: The new features; ``self`` is unchanged.
        """
        unknown = set(fields) - set(TENSOR_FIELDS)
        if unknown:
            raise KeyError(f'{sorted(unknown)} are not fields of VideoFeatures; fields: {", ".join(TENSOR_FIELDS)}')
        return dataclasses.replace(self, source=f'{self.source} -> {by}', **fields)

    def to_dict(self) -> Dict[str, Union[torch.Tensor, Tuple[torch.Tensor, ...]]]:
        """The set tensor fields by name (what a recognizer returns in ``mode='tensor'``)."""
        return {name: getattr(self, name) for name in self.names}

    @classmethod
    def wrap(cls, output: BackboneOutput, tensor_field: str = 'stage_outputs') -> 'VideoFeatures':
        """Name the output of a backbone that does not return :class:`VideoFeatures`.

        This is the one place where a bare output gets a name: a tensor becomes the field ``tensor_field``, chosen by
        the consumer that receives it (a frame-integration neck after ``torch.nn.Identity`` on cached frame
        embeddings: ``'frame_embeds'``; a pooling neck after mmaction2's ``ResNet3d``: ``'stage_outputs'``; a
        text-prompt head without a neck: ``'video_embeds'``); a tuple or list of tensors (mmaction2 backbones with
        several ``out_indices``) becomes ``stage_outputs``. :class:`VideoFeatures` pass through unchanged.

        Args:
            output (VideoFeatures | torch.Tensor | Sequence[torch.Tensor]): The backbone (or neck) output.
            tensor_field (str): The field of a bare tensor. Defaults to ``'stage_outputs'`` (then ``(output, )``).

        Returns:
            VideoFeatures: The named features.
        """
        if isinstance(output, VideoFeatures):
            return output
        if isinstance(output, torch.Tensor):
            if tensor_field not in TENSOR_FIELDS:
                raise KeyError(f'{tensor_field!r} is not a field of VideoFeatures')
            value = (output, ) if tensor_field == 'stage_outputs' else output
            return cls(**{tensor_field: value}, source=f'a backbone returning a tensor {_shapes(output)}')
        if isinstance(output, (tuple, list)) and output and all(isinstance(x, torch.Tensor) for x in output):
            return cls(
                stage_outputs=tuple(output),
                source=f'a backbone returning a tuple of {len(output)} tensors {_shapes(tuple(output))}')
        raise TypeError(f'expected VideoFeatures, a tensor or a tuple of tensors, got {type(output).__name__}')

    @classmethod
    def cat(cls, outputs: Sequence[BackboneOutput]) -> BackboneOutput:
        """Concatenate the outputs of chunks of one batch along the batch axis (``test_cfg.max_testing_views``).

        :class:`VideoFeatures` are concatenated field by field (``stage_outputs`` stage by stage) and must have the
        same fields set. Bare tensors and tuples of tensors, the outputs of mmaction2 backbones and heads, are
        concatenated as mmaction2's ``Recognizer3D`` does (tuples item-wise), so a recognizer can call this for any
        output.

        Args:
            outputs (Sequence): The outputs of the chunks, in order, all of one kind.

        Returns:
            VideoFeatures | torch.Tensor | tuple: The output of the whole batch, of the same kind.
        """
        if not outputs:
            raise ValueError('nothing to concatenate')
        if len({isinstance(output, VideoFeatures) for output in outputs}) > 1:
            raise TypeError('cannot concatenate VideoFeatures with other outputs')
        first = outputs[0]
        if not isinstance(first, VideoFeatures):
            return _cat(list(outputs), 'the chunk outputs')
        for output in outputs[1:]:
            if output.names != first.names:
                raise ValueError(f'cannot concatenate features with the fields {first.names} and {output.names}')
        joined = {name: _cat([getattr(output, name) for output in outputs], name) for name in first.names}
        return cls(**joined, source=first.source)

    def __repr__(self) -> str:
        fields = ', '.join(f'{name}={_shapes(getattr(self, name))}' for name in self.names)
        return f'{type(self).__name__}({fields}{", " if fields else ""}source={self.source!r})'
