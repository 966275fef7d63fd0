"""VideoQAAccuracy: ALPRO's exact-match accuracy, overall and per answer type, with unreadable videos left out."""
import pytest
from mmaction.structures import ActionDataSample
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope

from videoalign.datasets.video_dataset import SKIPPED_KEY
from videoalign.evaluation.metrics import VideoQAAccuracy
from videoalign.evaluation.metrics.qa_accuracy import ALPRO_ANSWER_TYPES


def _sample(pred: str, gt, answer_type=None, skipped=None) -> dict:
    sample = ActionDataSample()
    sample.set_field(pred, 'pred_answer')
    sample.set_field(gt, 'gt_answer')
    if answer_type is not None:
        sample.set_field(answer_type, 'answer_type')
    if skipped:
        sample.set_metainfo({SKIPPED_KEY: skipped})
    return sample.to_dict()


SAMPLES = [
    _sample('couch', 'couch', 'what'),
    _sample('man', 'woman', 'who'),
    _sample('dance', 'dance', 'how'),
    _sample('car', 'piano', 'what'),  # 'piano' may be outside the vocabulary: wrong either way
    _sample('man', 'man', 'who'),
]


def _compute(metric: VideoQAAccuracy, samples: list) -> dict:
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def test_overall_and_per_type_as_alpro():
    metrics = _compute(VideoQAAccuracy(answer_types=ALPRO_ANSWER_TYPES), SAMPLES)
    assert metrics['acc'] == pytest.approx(60.0)
    assert metrics['what_acc'] == pytest.approx(50.0) and metrics['who_acc'] == pytest.approx(50.0)
    assert metrics['how_acc'] == pytest.approx(100.0)
    assert metrics['where_acc'] == 0.0 and metrics['when_acc'] == 0.0  # no question of these types: 0, as ALPRO
    assert list(metrics) == ['acc', 'what_acc', 'who_acc', 'how_acc', 'where_acc', 'when_acc']


def test_types_found_in_the_data_and_no_types():
    metrics = _compute(VideoQAAccuracy(), SAMPLES)
    assert list(metrics) == ['acc', 'how_acc', 'what_acc', 'who_acc']
    untyped = _compute(VideoQAAccuracy(), [_sample('a', 'a'), _sample('a', 'b')])
    assert untyped == {'acc': 50.0}


def test_exact_match_and_lists_of_answers():
    metrics = _compute(VideoQAAccuracy(), [_sample('Couch', 'couch'), _sample('sofa', ['couch', 'sofa'])])
    assert metrics['acc'] == 50.0  # case matters, as in ALPRO's string comparison; any answer of a list counts


def test_stand_ins_of_unreadable_videos_are_left_out_and_counted():
    samples = SAMPLES + [_sample('man', 'man', 'who', skipped=['videos/broken.mp4'])]
    metrics = _compute(VideoQAAccuracy(), samples)
    assert metrics['acc'] == pytest.approx(60.0) and metrics[SKIPPED_KEY] == 1


def test_prefix_through_the_evaluator():
    init_default_scope('videoalign')
    evaluator = Evaluator(dict(type='VideoQAAccuracy', answer_types=('what', )))
    evaluator.process(SAMPLES)
    assert evaluator.evaluate(len(SAMPLES)) == {'qa/acc': pytest.approx(60.0), 'qa/what_acc': pytest.approx(50.0)}


def test_clear_errors():
    metric = VideoQAAccuracy()
    with pytest.raises(KeyError, match='pred_answer'):
        metric.process(None, [dict(gt_answer='a')])
    with pytest.raises(KeyError, match='PackActionInputs'):
        metric.process(None, [dict(pred_answer='a')])
    with pytest.raises(TypeError, match='pred_answer must be a str'):
        metric.process(None, [dict(pred_answer=3, gt_answer='a')])
    with pytest.raises(ValueError, match='no QA sample'):
        metric.compute_metrics([])
    with pytest.raises(ValueError, match='answer_types'):
        VideoQAAccuracy(answer_types=[])
