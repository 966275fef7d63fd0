"""Tests of videoalign's AccMetric, which leaves out the stand-ins for unreadable videos."""
import pytest
import torch
from mmaction.evaluation import AccMetric as MMActionAccMetric
from mmaction.structures import ActionDataSample
from mmengine.evaluator import Evaluator

from videoalign.evaluation import AccMetric

NUM_CLASSES = 5


def _sample(label: int, pred: int, skipped=None) -> ActionDataSample:
    """A predicted sample of class ``label`` whose highest score is class ``pred``."""
    sample = ActionDataSample()
    sample.set_gt_label(label)
    score = torch.full((NUM_CLASSES, ), 0.05)
    score[pred] = 0.8
    score[(pred + 1) % NUM_CLASSES] = 0.1
    sample.set_pred_score(score)
    if skipped is not None:
        sample.set_metainfo(dict(skipped_videos=skipped))
    return sample


def _dicts(samples) -> list:
    """What mmengine's Evaluator hands to the metric."""
    return [s.to_dict() for s in samples]


def _run(metric, samples, size=None) -> dict:
    metric.process(None, _dicts(samples))
    return metric.evaluate(len(samples) if size is None else size)


def test_sample_dict_format():
    data = _sample(3, 3, ['x.mp4']).to_dict()
    assert data['skipped_videos'] == ['x.mp4']
    assert data['gt_label'].tolist() == [3]
    assert data['pred_score'].shape == (NUM_CLASSES, )


def test_stand_in_is_not_scored():
    scored = [_sample(0, 0), _sample(1, 2), _sample(2, 2)]  # 2 of 3 right
    stand_in = _sample(3, 3, ['x.mp4'])  # right: scoring it would give 3 of 4
    metrics = _run(AccMetric(), scored[:2] + [stand_in] + scored[2:])
    assert metrics['acc/top1'] == pytest.approx(2 / 3)
    assert metrics['acc/mean1'] == pytest.approx(2 / 3)  # classes 0, 1, 2: 1, 0, 1
    assert metrics['acc/top5'] == pytest.approx(1.0)
    assert metrics['acc/skipped_videos'] == 1
    assert set(metrics) == {'acc/top1', 'acc/top5', 'acc/mean1', 'acc/skipped_videos'}


def test_scores_equal_mmaction_on_the_scored_samples():
    scored = [_sample(0, 0), _sample(1, 2), _sample(4, 4), _sample(2, 1)]
    ours = _run(AccMetric(), scored + [_sample(1, 1, ['x.mp4'])])
    reference = _run(MMActionAccMetric(), scored)
    assert ours.pop('acc/skipped_videos') == 1
    assert ours == pytest.approx(reference)
    assert reference['acc/top1'] == pytest.approx(0.5)


def test_without_skips_equals_mmaction():
    samples = [_sample(0, 0), _sample(1, 2), _sample(2, 2), _sample(3, 4), _sample(4, 4)]
    ours = _run(AccMetric(), samples)
    reference = _run(MMActionAccMetric(), samples)
    assert 'acc/skipped_videos' not in ours
    assert ours == reference
    assert ours['acc/top1'] == pytest.approx(0.6)


def test_empty_skip_list_counts_as_no_skip():
    metrics = _run(AccMetric(), [_sample(0, 0), _sample(1, 2, [])])
    assert metrics['acc/top1'] == pytest.approx(0.5)
    assert 'acc/skipped_videos' not in metrics


def test_skipped_count_is_of_distinct_paths():
    metric = AccMetric()
    # test mode: videos a and b unreadable; both indices evaluate video c in their place
    metric.process(None, _dicts([_sample(0, 0), _sample(2, 2, ['a.mp4', 'b.mp4'])]))
    metric.process(None, _dicts([_sample(2, 2, ['b.mp4']), _sample(2, 0)]))
    metrics = metric.compute_metrics(metric.results)
    assert metrics['skipped_videos'] == 2
    assert metrics['top1'] == pytest.approx(0.5)


def test_through_mmengine_evaluator():
    metric = AccMetric(metric_list='top_k_accuracy', metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
    evaluator = Evaluator([metric])
    evaluator.process([_sample(0, 0), _sample(1, 1, ['v/x.mp4']), _sample(1, 3)])
    assert evaluator.evaluate(3) == {'acc/top1': pytest.approx(0.5), 'acc/skipped_videos': 1}


def test_stand_in_for_two_videos_keeps_every_scored_sample():
    # test mode over [good, bad, bad, good]: index 1 and 2 both evaluate index 3 in their place
    samples = [_sample(0, 0), _sample(3, 0, ['v1.mp4', 'v2.mp4']), _sample(3, 0, ['v2.mp4']), _sample(3, 0)]
    metrics = _run(AccMetric(), samples, size=4)
    assert metrics['acc/skipped_videos'] == 2
    assert metrics['acc/top1'] == pytest.approx(0.5)  # index 0 right, index 3 wrong
