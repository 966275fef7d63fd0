"""videoalign.analysis.{logs,dumps,publish,browse}: the helpers of the analysis tools."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from videoalign.analysis.browse import count_frames, frames_of, side_by_side, write_video
from videoalign.analysis.dumps import (Predictions, confusion_matrix, fuse_predictions, mean_class_accuracy,
                                       predictions, top_k_accuracy)
from videoalign.analysis.logs import find_scalars, load_scalars
from videoalign.analysis.publish import format_parameters, strip_checkpoint


def test_scalars_split_and_newest_run(tmp_path):
    for run, loss in (('20260101_000000', 1.0), ('20260102_000000', 2.0)):
        path = tmp_path / run / 'vis_data' / 'scalars.json'
        path.parent.mkdir(parents=True)
        path.write_text(
            json.dumps(dict(loss=loss, time=0.1, iter=10, step=10)) + '\n\n' + json.dumps({
                'acc/top1': 0.5,
                'step': 10
            }) + '\n')
    assert find_scalars(str(tmp_path)).endswith(osp.join('20260102_000000', 'vis_data', 'scalars.json'))
    log = load_scalars(str(tmp_path))
    x, y, axis = log.series('loss')
    assert x.tolist() == [10] and y.tolist() == [2.0] and axis == 'iter'
    assert log.series('acc/top1')[2] == 'step'  # an iteration-based run: no epoch
    with pytest.raises(FileNotFoundError, match='no vis_data/scalars.json'):
        find_scalars(str(tmp_path / '20260101_000000' / 'vis_data'))


def test_accuracies_and_confusion():
    scores = np.array([[0.9, 0.1, 0.0], [0.5, 0.5, 0.0], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]], dtype=np.float32)
    labels = np.array([0, 1, 2, 2])
    # a tie goes to the lower class index, as argmax; 4 > 3 classes is left out
    assert top_k_accuracy(scores, labels, (1, 2, 4)) == {1: 0.5, 2: 0.75}
    assert mean_class_accuracy(scores, labels) == pytest.approx((1 + 0 + 0.5) / 3)
    preds = np.array([0, 0, 2, 0])
    assert confusion_matrix(labels, preds, 3).tolist() == [[1, 0, 0], [1, 0, 0], [1, 0, 1]]
    np.testing.assert_allclose(
        confusion_matrix(labels, preds, 3, 'pred'), [[1 / 3, 0, 0], [1 / 3, 0, 0], [1 / 3, 0, 1]])
    assert confusion_matrix(labels, preds, 3, 'all').sum() == pytest.approx(1)


def test_predictions_checks_and_fusion():
    samples = [dict(pred_score=torch.tensor([0.2, 0.8], dtype=torch.bfloat16), gt_label=torch.tensor([1]))] * 3
    with pytest.raises(KeyError, match=r'sample 1 has no gt_label; its keys: pred_score'):
        predictions([samples[0], dict(pred_score=torch.zeros(2))], 'd.pkl')
    with pytest.raises(ValueError, match='sample 0 has gt_label 5, outside the 2 classes'):
        predictions([dict(pred_score=torch.zeros(2), gt_label=torch.tensor([5]))], 'd.pkl')
    with pytest.raises(KeyError, match='pred_score is a dict with keys rgb, pose; choose one with --score-key'):
        predictions([dict(pred_score=dict(rgb=torch.zeros(2), pose=torch.zeros(2)), gt_label=1)], 'd.pkl')
    a = predictions(samples, 'a.pkl')
    assert a.scores.dtype == np.float32 and a.labels.tolist() == [1, 1, 1]
    b = predictions([samples[0], dict(samples[1], skipped_videos=['x.mp4']), samples[2]], 'b.pkl')
    assert b.indices.tolist() == [0, 2] and b.skipped == ['x.mp4']
    fused, labels = fuse_predictions([a, b], [1, 1])  # sample 1 left out of both
    assert fused.shape == (2, 2) and labels.tolist() == [1, 1]
    np.testing.assert_allclose(fused[0], [0.4, 1.6], rtol=1e-2)
    other = Predictions('c.pkl', np.zeros((2, 3), np.float32), np.zeros(2, np.int64), np.arange(2), num_samples=3)
    with pytest.raises(ValueError, match='c.pkl scores 3 classes, a.pkl scores 2'):
        fuse_predictions([a, other])


def test_strip_checkpoint():
    state = {'conv.weight': torch.ones(2, 2)[0], 'bn.running_mean': torch.zeros(2), 'note': 'text'}
    published, dropped = strip_checkpoint({'state_dict': state, 'meta': {'epoch': 2, 'time': object()}, 'ema': {}})
    assert published['meta'] == {'epoch': 2}
    assert published['state_dict'].keys() == {'conv.weight', 'bn.running_mean'}
    assert published['state_dict']['conv.weight'].untyped_storage().nbytes() == 8  # the view's data only
    assert 'ema (training state)' in dropped and 'state_dict.note (a str, not a tensor)' in dropped
    assert format_parameters(published['state_dict']) == '0.00M'
    plain, _ = strip_checkpoint({'w': torch.zeros(1)})  # already a state dict
    assert plain == {'state_dict': {'w': torch.zeros(1)}, 'meta': {}}
    with pytest.raises(ValueError, match='x.pth: no state_dict; its keys: optimizer'):
        strip_checkpoint({'optimizer': {}}, 'x.pth')


def test_frames_of_layouts_and_video(tmp_path):
    views = torch.zeros(3, 3, 4, 8, 10, dtype=torch.uint8)  # NCTHW: 3 views of 4 frames, 8x10
    views[1] = 255
    frames = frames_of(views)
    assert len(frames) == 4 and frames[0].shape == (16, 20, 3)  # a 2x2 grid, one cell black
    assert frames[0][0, 10:].min() == 255 and frames[0][8:, 10:].max() == 0
    flow = np.random.rand(6, 2, 8, 8).astype(np.float32)  # NCHW of 2-channel floats in [0, 1]
    frames = frames_of(flow, 'NCHW')
    assert len(frames) == 6 and frames[0].dtype == np.uint8 and frames[0][..., 2].max() == 0
    with pytest.raises(ValueError, match=r'shape \(2, 3\) in layout None'):
        frames_of(np.zeros((2, 3)))
    joined = side_by_side([[np.zeros((8, 8, 3), np.uint8)] * 2, [np.zeros((16, 8, 3), np.uint8)] * 3])
    assert len(joined) == 3 and joined[0].shape == (16, 24, 3)
    path = str(tmp_path / 'v.mp4')
    write_video(path, joined)
    assert count_frames(path) == 3
