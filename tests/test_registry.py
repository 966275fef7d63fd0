"""Tests of videoalign's registries: scopes, parents, lookups through mmaction2 and mmengine, lazy locations."""
import importlib.util
import json
import subprocess
import sys
import warnings

import mmaction.registry
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.registry import DefaultScope

import videoalign.registry as registry

TINY_RECOGNIZER = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        depth=18,
        base_channels=4,
        pretrained=None,
        pretrained2d=False,
        inflate=(0, 0, 0, 0),
        norm_eval=False),
    cls_head=dict(type='I3DHead', num_classes=3, in_channels=32, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))


@pytest.fixture
def videoalign_scope():
    """'videoalign' as the default scope for one test, restoring the previous one afterwards."""
    with DefaultScope.overwrite_default_scope('videoalign'):
        assert DefaultScope.get_current_instance().scope_name == 'videoalign'
        yield


def _qualname(obj) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'


# videoalign's own registries, which mmaction2 has no counterpart of
OWN = ('CONVERTERS', )


def test_all_registries_are_videoalign_children_of_mmaction():
    assert len(registry.__all__) == 24
    for name in OWN:
        assert getattr(registry, name).scope == 'videoalign' and getattr(registry, name).parent is None
    for name in (n for n in registry.__all__ if n not in OWN):
        reg = getattr(registry, name)
        assert reg.scope == 'videoalign', name
        assert reg.parent is not None and reg.parent.scope == 'mmaction', name
        assert reg.parent in vars(mmaction.registry).values(), name
        assert reg.parent.name == reg.name, name


def test_registries_list_their_parents_locations():
    """mmengine imports only the searched registry's locations, so each must name mmaction2's as well."""
    checked = 0
    for name in (n for n in registry.__all__ if n not in OWN):
        reg = getattr(registry, name)
        for location in reg.parent._locations:
            if _module_exists(location):  # mmaction2's FUNCTION registry names a module that does not exist
                assert location in reg._locations, f'{name} lacks {location}'
                checked += 1
    assert checked == 22


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_build_mmaction_recognizer_from_videoalign_scope(videoalign_scope):
    model = registry.MODELS.build(TINY_RECOGNIZER)
    assert _qualname(type(model)) == 'mmaction.models.recognizers.recognizer3d.Recognizer3D'
    assert model.cls_head.num_classes == 3
    model.eval()
    data = dict(
        inputs=[torch.zeros(1, 3, 4, 32, 32, dtype=torch.uint8)], data_samples=[ActionDataSample().set_gt_label(2)])
    with torch.no_grad():
        predictions = model.test_step(data)
    assert len(predictions) == 1
    assert tuple(predictions[0].pred_score.shape) == (3, )
    assert float(predictions[0].pred_score.sum()) == pytest.approx(1.0, abs=1e-5)  # average_clips='prob'


def test_videoalign_components_take_precedence(videoalign_scope):
    from videoalign.datasets import VideoDataset
    from videoalign.engine.hooks import SkippedVideoHook
    from videoalign.evaluation import AccMetric
    assert registry.DATASETS.get('VideoDataset') is VideoDataset
    assert registry.METRICS.get('AccMetric') is AccMetric
    assert registry.HOOKS.get('SkippedVideoHook') is SkippedVideoHook
    assert mmaction.registry.DATASETS.get('VideoDataset') is not VideoDataset


def test_mmaction_and_mmengine_components_resolve(videoalign_scope):
    assert _qualname(registry.VISUALIZERS.get('ActionVisualizer')) == \
        'mmaction.visualization.action_visualizer.ActionVisualizer'
    assert registry.OPTIMIZERS.get('AdamW') is torch.optim.AdamW
    assert _qualname(registry.LOOPS.get('EpochBasedTrainLoop')) == 'mmengine.runner.loops.EpochBasedTrainLoop'
    assert _qualname(registry.HOOKS.get('VisualizationHook')).startswith('mmaction.engine.hooks')
    assert _qualname(registry.TRANSFORMS.get('DecordInit')).startswith('mmaction.datasets.transforms')


def test_build_swin_without_pretrained(videoalign_scope):
    backbone = registry.MODELS.build(
        dict(
            type='SwinTransformer3D',
            arch=dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1]),
            pretrained=None,
            patch_size=(2, 4, 4),
            window_size=(2, 2, 2)))
    assert type(backbone).__module__ == 'mmaction.models.backbones.swin'  # patched in place by videoalign.compat
    backbone.init_weights()  # mmaction2's class fails here with pretrained=None and pretrained2d=True
    out = backbone(torch.zeros(1, 3, 4, 32, 32))
    assert out.shape[:2] == (1, 64)


def test_register_all_modules_sets_videoalign_scope():
    from videoalign.utils import register_all_modules
    with DefaultScope.overwrite_default_scope('mmaction'):  # restores the scopes afterwards
        assert DefaultScope.get_current_instance().scope_name == 'mmaction'
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # it warns when a 'videoalign' scope was made before
            register_all_modules()
        assert DefaultScope.get_current_instance().scope_name == 'videoalign'
        assert {'videoalign.engine', 'videoalign.evaluation', 'videoalign.datasets'} <= set(sys.modules)
        model = registry.MODELS.build(TINY_RECOGNIZER)  # the default scope picks the registry
        assert model.cls_head.num_classes == 3


def test_unknown_type_names_videoalign_scope(videoalign_scope):
    with pytest.raises(KeyError) as excinfo:
        registry.MODELS.build(dict(type='NoSuchRecognizer'))
    assert 'NoSuchRecognizer' in str(excinfo.value)
    assert 'videoalign::model' in str(excinfo.value)


FRESH_CODE = r'''
import json, sys
import videoalign.registry as r
preloaded = {m: m in sys.modules for m in ('mmaction.visualization', 'mmaction.engine.hooks')}
out = {}
for reg, key in [('VISUALIZERS', 'ActionVisualizer'), ('HOOKS', 'VisualizationHook'), ('HOOKS', 'SkippedVideoHook'),
                 ('MODELS', 'Recognizer3D'), ('MODELS', 'SwinTransformer3D'), ('DATASETS', 'VideoDataset'),
                 ('METRICS', 'AccMetric'), ('OPTIMIZERS', 'AdamW'), ('LOOPS', 'EpochBasedTrainLoop'),
                 ('TRANSFORMS', 'DecordInit'), ('VISBACKENDS', 'LocalVisBackend')]:
    obj = getattr(r, reg).get(key)
    out[f'{reg}.{key}'] = obj and f'{obj.__module__}.{obj.__qualname__}'
print(json.dumps(dict(preloaded=preloaded, found=out)))
'''


def test_lookups_in_a_fresh_process():
    """Only ``import videoalign.registry``: each lookup imports the registry's locations, mmaction2's included."""
    proc = subprocess.run([sys.executable, '-c', FRESH_CODE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['preloaded'] == {'mmaction.visualization': False, 'mmaction.engine.hooks': False}
    assert result['found'] == {
        'VISUALIZERS.ActionVisualizer': 'mmaction.visualization.action_visualizer.ActionVisualizer',
        'HOOKS.VisualizationHook': 'mmaction.engine.hooks.visualization_hook.VisualizationHook',
        'HOOKS.SkippedVideoHook': 'videoalign.engine.hooks.skipped_video_hook.SkippedVideoHook',
        'MODELS.Recognizer3D': 'mmaction.models.recognizers.recognizer3d.Recognizer3D',
        'MODELS.SwinTransformer3D': 'mmaction.models.backbones.swin.SwinTransformer3D',
        'DATASETS.VideoDataset': 'videoalign.datasets.video_dataset.VideoDataset',
        'METRICS.AccMetric': 'videoalign.evaluation.metrics.acc_metric.AccMetric',
        'OPTIMIZERS.AdamW': 'torch.optim.adamw.AdamW',
        'LOOPS.EpochBasedTrainLoop': 'mmengine.runner.loops.EpochBasedTrainLoop',
        'TRANSFORMS.DecordInit': 'mmaction.datasets.transforms.loading.DecordInit',
        'VISBACKENDS.LocalVisBackend': 'mmaction.visualization.video_backend.LocalVisBackend',
    }


def test_only_the_listed_registrations_shadow_mmaction2(videoalign_scope):
    from videoalign.utils import register_all_modules
    register_all_modules()
    shadows = set()
    for name in (n for n in registry.__all__ if n not in OWN):
        reg = getattr(registry, name)
        try:
            reg.parent.import_from_location()
        except ModuleNotFoundError:  # mmaction2's FUNCTION registry names a module that does not exist
            pass
        shadows |= {(name, key) for key in reg.module_dict if reg.parent.get(key) is not None}
    assert shadows == set(registry.OVERRIDES)
