"""VideoVisualizationHook: one labelled video per sample for NCTHW and NCHW inputs, and the Runner builds it."""
import os
import os.path as osp
from glob import glob
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.model import BaseModel

from videoalign.engine import VideoAlignRunner, VideoVisualizationHook
from videoalign.visualization import draw_text_lines, input_to_frames, parse_color, resize_frame

CLASSES = ['move_left', 'move_right', 'grow']


def _runner(classes=CLASSES):
    dataset = SimpleNamespace(metainfo=dict(classes=classes))
    return SimpleNamespace(test_dataloader=SimpleNamespace(dataset=dataset), log_dir='unused')


def _sample(name: str, label: int, skipped: bool = False) -> ActionDataSample:
    sample = ActionDataSample().set_gt_label(label).set_pred_score(torch.tensor([0.1, 0.7, 0.2]))
    sample.set_metainfo(dict(filename=f'/data/videos/{name}.mp4'))
    if skipped:
        sample.set_field(['/data/videos/bad.mp4'], 'skipped_videos')
    return sample


def _frames(path: str) -> list:
    capture, frames = cv2.VideoCapture(path), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def test_input_to_frames_of_each_layout():
    ncthw = torch.randint(0, 256, (2, 3, 4, 8, 10), dtype=torch.uint8)  # 2 views of 4 frames
    frames = input_to_frames(ncthw)
    assert frames.shape == (4, 8, 10, 3) and np.array_equal(frames[1], ncthw[0, :, 1].permute(1, 2, 0).numpy())
    assert input_to_frames(torch.zeros(5, 3, 8, 10, dtype=torch.uint8)).shape == (5, 8, 10, 3)  # NCHW (TSN)
    normalised = input_to_frames(torch.linspace(-2, 2, 3 * 2 * 4 * 4).view(1, 3, 2, 4, 4))
    assert normalised.dtype == np.uint8 and normalised.min() == 0 and normalised.max() == 255
    assert input_to_frames(torch.zeros(1, 1, 2, 4, 4)).shape == (2, 4, 4, 3)  # grey
    assert input_to_frames(torch.zeros(8, 512)) is None and input_to_frames(torch.zeros(1, 2, 2, 4, 4)) is None


def test_drawing_helpers():
    assert parse_color('white') == (255, 255, 255) and parse_color('#ff8800') == (0, 136, 255)
    assert parse_color('255,0,0') == (0, 0, 255) and parse_color((0, 255, 0)) == (0, 255, 0)
    with pytest.raises(ValueError, match='unknown colour'):
        parse_color('not-a-colour')
    frame = np.zeros((64, 96, 3), np.uint8)
    assert resize_frame(frame, (48, -1)).shape == (32, 48, 3) and resize_frame(frame, (-1, 128)).shape == (128, 192, 3)
    drawn = draw_text_lines(frame, ['move_left: 0.70'], font_color='yellow')
    assert drawn[:20].any() and not frame.any()  # drawn on a copy


def test_writes_one_labelled_video_per_sample(tmp_path):
    hook = VideoVisualizationHook(enable=True, out_dir=str(tmp_path), interval=1, topk=2)
    runner = _runner()
    hook.before_test_epoch(runner)
    inputs = [torch.randint(0, 256, (1, 3, 8, 32, 32), dtype=torch.uint8) for _ in range(3)]
    outputs = [_sample('a', 0), _sample('b', 1), _sample('c', 2, skipped=True)]
    hook.after_test_iter(runner, 0, dict(inputs=inputs), outputs)
    assert sorted(os.listdir(tmp_path)) == ['a.mp4', 'b.mp4']  # a stand-in for an unreadable video is not drawn
    frames = _frames(osp.join(tmp_path, 'a.mp4'))
    assert len(frames) == 8 and frames[0].shape == (224, 224, 3)  # enlarged so that the text reads
    assert hook._lines(outputs[0]) == ['gt: move_left', 'move_right: 0.70', 'grow: 0.20']
    assert VideoVisualizationHook(draw_score=False, topk=1)._lines(outputs[0]) == ['gt: 0', '1']  # no class names

    # NCHW (TSN-style) inputs, every 2nd sample, a fixed output size
    hook = VideoVisualizationHook(enable=True, out_dir=str(tmp_path / 'nchw'), interval=2, target_resolution=(64, 48))
    hook.before_test_epoch(runner)
    batch = [torch.zeros(5, 3, 32, 32, dtype=torch.uint8) for _ in range(3)]
    hook.after_test_iter(runner, 0, dict(inputs=batch), [_sample(n, 0) for n in 'xyz'])
    assert sorted(os.listdir(tmp_path / 'nchw')) == ['x.mp4', 'z.mp4']
    frames = _frames(str(tmp_path / 'nchw' / 'x.mp4'))
    assert len(frames) == 5 and frames[0].shape == (48, 64, 3)


def test_disabled_hook_writes_nothing(tmp_path):
    hook = VideoVisualizationHook(out_dir=str(tmp_path))
    hook.before_test_epoch(_runner())
    hook.after_test_iter(None, 0, dict(inputs=[torch.zeros(1, 3, 2, 8, 8)]), [_sample('a', 0)])
    assert os.listdir(tmp_path) == []


def test_runner_builds_it_for_mmaction2_visualization_hook_and_logs_the_environment(tmp_path):

    class Toy(BaseModel):

        def forward(self, inputs=None, data_samples=None, mode='tensor'):
            return inputs

    runner = VideoAlignRunner(
        model=Toy(),
        work_dir=str(tmp_path),
        experiment_name='vis',
        default_hooks=dict(visualization=dict(type='VisualizationHook', enable=True, out_dir=str(tmp_path / 'show'))),
        default_scope='videoalign')
    hooks = [hook for hook in runner.hooks if isinstance(hook, VideoVisualizationHook)]
    assert len(hooks) == 1 and hooks[0].enable and hooks[0].out_dir == str(tmp_path / 'show')
    with open(glob(osp.join(runner.log_dir, '*.log'))[0]) as f:
        env = f.read().split('Runtime environment:')[0]
    for name in ('PyTorch', 'MMEngine', 'videoalign', 'MMAction2', 'MMCV', 'open_clip', 'decord'):
        assert f'\n    {name}: ' in env, name
    assert env.count('\n    PyTorch: ') == 1  # one environment log, not mmengine's and videoalign's
