"""Writes each visualised validation or test sample as a video with its label and predicted classes drawn on it."""
import logging
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmengine.dataset import DefaultSampler
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from ...datasets.video_dataset import SKIPPED_KEY
from ...registry import HOOKS
from ...visualization import VideoFileWriter, draw_text_lines, input_to_frames, resize_frame, score_lines
from .class_names_hook import dataset_classes


@HOOKS.register_module()
class VideoVisualizationHook(Hook):
    """Draw the ground truth and the top-k predicted classes on every ``interval``-th sample and write it as a video.

    It replaces mmaction2 1.2.0's ``VisualizationHook``, which cannot draw the samples of a video model:
    ``video.permute(1, 2, 3, 0)`` on a sample of shape ``(views, C, T, H, W)`` raises ``RuntimeError:
    permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering
    of dimensions i.e. input.dim() = 5 is not equal to len(dims) = 4``; and its ``ActionVisualizer`` looks for the
    fields ``gt_labels`` and ``pred_labels``, which ``ActionDataSample`` names ``gt_label`` and ``pred_score``, so it
    never draws a label.
    :class:`~videoalign.engine.runner.VideoAlignRunner` builds this hook for ``default_hooks.visualization`` of type
    ``VisualizationHook``, and ``tools/test.py --show-dir DIR`` enables it.

    The frames are those the model gets (the first view of a sample, after the test pipeline's resizing and
    cropping), written with OpenCV as ``<out_dir>/<video name>.mp4`` in a test and ``<video name>_<epoch or
    iteration>.mp4`` in a validation. Each process writes the samples it runs; videos the dataset skipped as
    unreadable are not drawn.

    Args:
        enable (bool): Draw at all. Defaults to False (mmaction2's default: ``--show``/``--show-dir`` enable it).
        interval (int): Draw every ``interval``-th sample of the loop. Defaults to 5000 (mmaction2's;
            ``tools/test.py --interval`` defaults to 1).
        show (bool): Also show the frames in a window. Defaults to False.
        out_dir (str, optional): Folder of the videos. Defaults to None: ``<log_dir>/vis_data``.
        wait_time (float): Seconds the last frame of a shown sample stays. Defaults to 2.
        fps (float): Frame rate of the written videos. Defaults to 4 (mmaction2's).
        topk (int): Predicted classes drawn. Defaults to 3.
        draw_gt (bool): Draw the ground-truth class. Defaults to True.
        draw_pred (bool): Draw the predicted classes. Defaults to True.
        draw_score (bool): Draw the scores of the predicted classes. Defaults to True.
        font_scale (float, optional): OpenCV font scale. Defaults to None (from the frame size).
        font_color (str): Text colour. Defaults to ``'white'``.
        target_resolution (Sequence[int], optional): ``(width, height)`` of the written frames; -1 for one keeps the
            aspect ratio. Defaults to None: the model's input size, enlarged to a short side of
            :attr:`min_short_side` pixels if smaller, so that the text reads.
        **kwargs: Other drawing options of mmaction2's hook (``rescale_factor``, ``out_type``, ...); ignored with a
            warning.
    """

    priority = 'NORMAL'
    #: frames with a shorter side are enlarged to it (without ``target_resolution``)
    min_short_side = 224

    def __init__(self,
                 enable: bool = False,
                 interval: int = 5000,
                 show: bool = False,
                 out_dir: Optional[str] = None,
                 wait_time: float = 2,
                 fps: float = 4,
                 topk: int = 3,
                 draw_gt: bool = True,
                 draw_pred: bool = True,
                 draw_score: bool = True,
                 font_scale: Optional[float] = None,
                 font_color: str = 'white',
                 target_resolution: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        if interval < 1:
            raise ValueError(f'interval must be positive, got {interval}')
        self.enable = enable
        self.interval = interval
        self.show = show
        self.out_dir = out_dir
        self.wait_time = wait_time
        self.fps = fps
        self.topk = topk
        self.draw_gt = draw_gt
        self.draw_pred = draw_pred
        self.draw_score = draw_score
        self.font_scale = font_scale
        self.font_color = font_color
        self.target_resolution = target_resolution
        if kwargs:
            print_log(
                f'VideoVisualizationHook ignores the options {sorted(kwargs)}', logger='current', level=logging.WARNING)
        self._seen = 0
        self._classes: Optional[List[str]] = None
        self._dataset = None
        self._order: List[int] = []
        self._folder = ''
        self._written: List[str] = []

    @property
    def written(self) -> List[str]:
        """The files written by this process so far."""
        return list(self._written)

    def _start(self, runner, split: str) -> None:
        self._seen = 0
        if not self.enable:
            return
        loader = getattr(runner, f'{split}_dataloader')
        self._dataset = loader.dataset
        self._classes = dataset_classes(loader.dataset)
        # the dataset index of each sample, in the order this process runs them (to name the files after the videos)
        sampler = getattr(loader, 'sampler', None)
        self._order = [int(i) for i in sampler] if isinstance(sampler, DefaultSampler) else []
        self._folder = self.out_dir if self.out_dir is not None else osp.join(runner.log_dir, 'vis_data')

    def before_val_epoch(self, runner) -> None:
        """Reset the sample count and take the validation set's class names."""
        self._start(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        """Reset the sample count and take the test set's class names."""
        self._start(runner, 'test')

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict = None, outputs: Sequence = None) -> None:
        """Draw the batch's samples due (the file names end with the epoch or iteration)."""
        step = runner.epoch if isinstance(runner.train_loop, EpochBasedTrainLoop) else runner.iter
        self._draw_batch(data_batch, outputs, f'_{step}')

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict = None, outputs: Sequence = None) -> None:
        """Draw the batch's samples due."""
        self._draw_batch(data_batch, outputs, '')

    def _name(self, index: int) -> str:
        return self._classes[index] if self._classes and 0 <= index < len(self._classes) else str(index)

    def _lines(self, data_sample) -> List[str]:
        gt = None
        if self.draw_gt and 'gt_label' in data_sample:
            labels = data_sample.gt_label.flatten().tolist()
            if labels and labels[0] >= 0:
                gt = ', '.join(self._name(int(i)) for i in labels)
        results: List[Tuple[str, float]] = []
        if self.draw_pred and 'pred_score' in data_sample:
            scores = data_sample.pred_score.float().flatten()
            values, indices = scores.topk(min(self.topk, scores.numel()))
            results = [(self._name(i), v) for v, i in zip(values.tolist(), indices.tolist())]
        if self.draw_score:
            return score_lines(results, gt)
        return score_lines([], gt) + [label for label, _ in results]

    def _draw_batch(self, data_batch: Optional[dict], outputs: Optional[Sequence], suffix: str) -> None:
        if not self.enable or not isinstance(data_batch, dict) or not outputs:
            return
        inputs = data_batch.get('inputs')
        for i, data_sample in enumerate(outputs):
            index, self._seen = self._seen, self._seen + 1
            if index % self.interval or inputs is None or i >= len(inputs) or data_sample.get(SKIPPED_KEY):
                continue
            frames = input_to_frames(inputs[i])
            if frames is None:
                continue
            name = self._video_name(index, data_sample)
            self._write(frames, self._lines(data_sample), name + suffix)

    def _video_name(self, index: int, data_sample) -> str:
        """The name of the sample's video without folder and extension, else the sample's number in the loop."""
        source = data_sample.get('filename') or data_sample.get('frame_dir')
        if not source and index < len(self._order) and hasattr(self._dataset, 'get_data_info'):
            info = self._dataset.get_data_info(self._order[index])
            source = info.get('filename') or info.get('frame_dir')
        name = osp.splitext(osp.basename(str(source).rstrip('/')))[0] if source else ''
        return name or f'{index:06d}'

    def _write(self, frames, lines: List[str], name: str) -> None:
        import cv2
        out = osp.join(self._folder, name + '.mp4')
        target = self.target_resolution
        if target is None and min(frames.shape[1:3]) < self.min_short_side:
            target = (-1, self.min_short_side) if frames.shape[1] <= frames.shape[2] else (self.min_short_side, -1)
        with VideoFileWriter(out, self.fps) as writer:
            for t, frame in enumerate(frames):
                frame = resize_frame(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), target)
                drawn = draw_text_lines(frame, lines, self.font_scale, self.font_color)
                writer.write(drawn)
                if self.show:
                    cv2.imshow(name, drawn)
                    cv2.waitKey(int(1000 * (self.wait_time if t == len(frames) - 1 else 1 / self.fps)) or 1)
        self._written.append(out)
