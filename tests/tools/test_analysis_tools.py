"""tools/analysis/{analyze_logs,confusion_matrix,report_accuracy,eval_metric,print_config,publish_model,
browse_dataset}.py, in process, on a 1-epoch run of the tiny quick-start model and on dumps of known values."""
import hashlib
import importlib.util
import json
import os
import os.path as osp
import pickle
import re
from types import ModuleType

import numpy as np
import pytest
import torch
import yaml
from mmaction.structures import ActionDataSample
from mmengine.logging import HistoryBuffer

from videoalign.analysis.browse import count_frames
from videoalign.testing import R3D_CONFIG, REPO_ROOT, run_tool, tiny_run_options

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
CLASSES = ('walk', 'run', 'jump')
# (gt_label, pred_score) of a dump of 3 classes; sample 6 stands in for an unreadable video (a wrong prediction that
# must not count) and sample 5 has bf16 scores (an old autocast dump)
SAMPLES = [
    (0, [0.7, 0.2, 0.1]),  # right
    (0, [0.2, 0.5, 0.3]),  # predicted 1; 0 is third
    (1, [0.1, 0.8, 0.1]),  # right
    (2, [0.3, 0.3, 0.4]),  # right
    (2, [0.6, 0.1, 0.3]),  # predicted 0; 2 is second
    (1, [0.2, 0.7, 0.1]),  # right (bf16)
    (0, [0.0, 0.0, 1.0]),  # the stand-in
    (1, [0.5, 0.4, 0.1]),  # predicted 0; 1 is second
]
CONFUSION = [[1, 1, 0], [1, 2, 0], [1, 0, 1]]
TOP1, TOP2, MEAN_CLASS = 4 / 7, 6 / 7, (1 / 2 + 2 / 3 + 1 / 2) / 3


def load_tool(name: str) -> ModuleType:
    """A tool of tools/analysis as a module (its ``main(argv)`` runs in this process)."""
    spec = importlib.util.spec_from_file_location(f'analysis_{name}',
                                                  osp.join(REPO_ROOT, 'tools', 'analysis', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_dump(path: str, samples=SAMPLES, stand_in: int = 6) -> str:
    """A dump as tools/test.py --dump writes it: ActionDataSample.to_dict() of each sample."""
    dump = []
    for i, (label, score) in enumerate(samples):
        sample = ActionDataSample().set_gt_label(label)
        dtype = torch.bfloat16 if i == 5 else torch.float32
        sample.set_pred_score(torch.tensor(score, dtype=dtype)).set_pred_label(int(np.argmax(score)))
        sample.set_metainfo(dict(num_classes=3, img_shape=(56, 56)))
        if i == stand_in:
            sample.set_metainfo(dict(skipped_videos=['videos/unreadable.mp4']))
        dump.append(sample.to_dict())
    with open(path, 'wb') as f:
        pickle.dump(dump, f)
    return path


@pytest.fixture(scope='module')
def trained(tiny_synthetic, tmp_path_factory) -> str:
    """The work dir of a 1-epoch run of the tiny quick-start 3D ResNet (5 iterations, one validation)."""
    work_dir = str(tmp_path_factory.mktemp('analysis') / 'work')
    run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir', work_dir, '--seed', '0'] +
             tiny_run_options(tiny_synthetic, max_epochs=1))
    return work_dir


def test_plot_curve_of_a_training_run(trained, tmp_path, capsys):
    tool = load_tool('analyze_logs')
    out = str(tmp_path / 'curves' / 'out.png')
    tool.main(['plot_curve', trained, '--keys', 'loss', 'acc/top1', '--title', 'tiny', '--out', out])
    with open(out, 'rb') as f:
        assert f.read(8) == PNG_MAGIC
    assert os.path.getsize(out) > 1000
    printed = capsys.readouterr().out
    assert re.search(r'key loss: 5 points', printed) and re.search(r'key acc/top1: 1 points', printed)

    with pytest.raises(KeyError) as err:
        tool.main(['plot_curve', trained, '--keys', 'loss', 'acc/top9', '--out', str(tmp_path / 'x.png')])
    message = str(err.value)
    assert 'scalars.json' in message and "'acc/top9'" in message and 'acc/top1' in message and 'loss' in message
    assert not osp.exists(tmp_path / 'x.png')
    with pytest.raises(ValueError, match='--legend has 3 entries'):
        tool.main(['plot_curve', trained, '--legend', 'a', 'b', 'c', '--out', str(tmp_path / 'y.png')])


def _scalars(path) -> str:
    """A scalars.json of 2 epochs of 3 logged iterations each, with a validation line after each epoch."""
    times = {1: [1.0, 0.2, 0.2], 2: [0.5, 0.3, 0.3]}
    lines, step = [], 0
    for epoch, values in times.items():
        for value in values:
            step += 1
            lines.append(dict(lr=0.01, data_time=0.01, loss=2.0 / step, time=value, epoch=epoch, iter=step, step=step))
        lines.append({'acc/top1': 0.5 * epoch, 'data_time': 0.01, 'time': 9.0, 'step': epoch})
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(json.dumps(line) for line in lines) + '\n')
    return str(path)


def test_cal_train_time(tmp_path, capsys):
    tool = load_tool('analyze_logs')
    path = _scalars(tmp_path / 'run' / '20260101_000000' / 'vis_data' / 'scalars.json')
    tool.main(['cal_train_time', str(tmp_path / 'run')])  # a work dir stands for its newest run
    printed = capsys.readouterr().out
    assert path in printed
    assert 'slowest epoch 2, average time is 0.3000' in printed
    assert 'fastest epoch 1, average time is 0.2000' in printed
    assert 'time std over epochs is 0.0500' in printed
    assert 'average iter time: 0.2500 s/iter' in printed  # the first value of each epoch left out, not val times
    tool.main(['cal_train_time', path, '--include-outliers'])
    assert f'average iter time: {2.5 / 6:.4f} s/iter' in capsys.readouterr().out

    with open(path, 'a') as f:
        f.write('{"loss": 1.0, "iter": \n')
    with pytest.raises(ValueError, match=r'scalars.json, line 9: not a JSON object'):
        tool.main(['cal_train_time', path])


def test_confusion_matrix(tmp_path, capsys):
    tool = load_tool('confusion_matrix')
    dump = write_dump(str(tmp_path / 'preds.pkl'))
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('\n'.join(CLASSES) + '\n')
    out, out_csv = str(tmp_path / 'cm.png'), str(tmp_path / 'cm.csv')
    matrix = tool.main([dump, '--label-map', str(label_map), '--out', out, '--out-csv', out_csv])
    assert matrix.tolist() == CONFUSION
    printed = capsys.readouterr().out
    assert '1 unreadable video(s) left out: videos/unreadable.mp4' in printed
    assert f'7 samples, 3 classes, accuracy {TOP1:.4f}' in printed
    assert re.search(r'^run\s+1\s+2\s+0$', printed, re.M)  # the printed matrix, a row per true class
    with open(out, 'rb') as f:
        assert f.read(8) == PNG_MAGIC
    with open(out_csv) as f:
        rows = [line.strip() for line in f]
    assert rows == ['true \\ pred,walk,run,jump', 'walk,1,1,0', 'run,1,2,0', 'jump,1,0,1']

    normalized = tool.main([dump, '--normalize'])
    np.testing.assert_allclose(normalized, np.array(CONFUSION) / np.array(CONFUSION).sum(1, keepdims=True))
    label_map.write_text('walk\nrun\n')
    with pytest.raises(ValueError, match='labels.txt has 2 class names; the dump .*preds.pkl scores 3 classes'):
        tool.main([dump, '--label-map', str(label_map)])


def test_report_accuracy_fuses_dumps(tmp_path, capsys):
    tool = load_tool('report_accuracy')
    a = write_dump(str(tmp_path / 'a.pkl'))
    results = tool.main(['--preds', a, '--topk', '1', '2', '5'])
    printed = capsys.readouterr().out
    assert results == pytest.approx({'mean_class_accuracy': MEAN_CLASS, 'top1_accuracy': TOP1, 'top2_accuracy': TOP2})
    assert f'Mean Class Accuracy: {MEAN_CLASS:.4f}' in printed and f'Top 1 Accuracy: {TOP1:.4f}' in printed
    assert 'Top 5 Accuracy: n/a (only 3 classes)' in printed

    # a second view, uniform but for sample 1, where it is sure of the right class: it fixes sample 1 only when
    # its coefficient is large enough
    uniform = [(label, [1 / 3] * 3) for label, _ in SAMPLES]
    uniform[1] = (0, [1.0, 0.0, 0.0])
    b = write_dump(str(tmp_path / 'b.pkl'), uniform)
    assert tool.main(['--preds', a, b, '--coefficients', '1', '2'])['top1_accuracy'] == pytest.approx(5 / 7)
    assert tool.main(['--preds', a, b, '--coefficients', '1', '0.1'])['top1_accuracy'] == pytest.approx(TOP1)
    with pytest.raises(ValueError, match='--coefficients has 2 values for 1 --preds'):
        tool.main(['--preds', a, '--coefficients', '1', '2'])
    shuffled = write_dump(str(tmp_path / 'c.pkl'), SAMPLES[::-1], stand_in=1)
    with pytest.raises(ValueError, match='not in the same sample order'):
        tool.main(['--preds', a, shuffled])


def test_eval_metric(tmp_path, capsys):
    tool = load_tool('eval_metric')
    dump = write_dump(str(tmp_path / 'preds.pkl'))
    results = tool.main([R3D_CONFIG, dump])  # the config's test_evaluator: AccMetric
    printed = capsys.readouterr().out
    assert results['acc/top1'] == pytest.approx(TOP1) and results['acc/mean1'] == pytest.approx(MEAN_CLASS)
    assert f'"acc/top1": {round(TOP1, 4)}' in printed and '1 unreadable video(s) left out' in printed
    assert tool.main([dump, '--metrics', 'AccMetric'])['acc/top1'] == pytest.approx(TOP1)
    with pytest.raises(SystemExit):
        tool.main([dump])  # neither a config nor --metrics


def test_print_config(capsys):
    tool = load_tool('print_config')
    tool.main([R3D_CONFIG, '--cfg-options', 'train_dataloader.batch_size=3', 'model.backbone.base_channels=4'])
    printed = capsys.readouterr().out
    train = printed[printed.index('train_dataloader = dict('):]
    assert re.match(r'train_dataloader = dict\(\s+batch_size=3,', train)
    assert "default_scope = 'videoalign'" in printed  # from the base config
    assert 'base_channels=4' in printed and "type='Recognizer3D'" in printed


def runner_checkpoint(state_dict: dict) -> dict:
    """What mmengine's Runner saves: meta (with non-plain values), state_dict, optimizer, message_hub."""
    return {
        'meta': {
            'epoch': 3,
            'iter': 30,
            'seed': np.int64(0),
            'cfg': "model = dict(type='Recognizer3D')",
            'dataset_meta': {
                'classes': CLASSES
            }
        },
        'state_dict': state_dict,
        'optimizer': {
            'state': {
                0: {
                    'exp_avg': torch.zeros(3)
                }
            },
            'param_groups': [{
                'lr': 0.1,
                'params': [0]
            }]
        },
        'param_schedulers': [{
            'last_epoch': 3
        }],
        'message_hub': {
            'log_scalars': {
                'train/loss': HistoryBuffer([1.0, 0.5], [1, 1])
            },
            'runtime_info': {
                'epoch': 3
            }
        },
    }


def test_publish_model(tmp_path, capsys, monkeypatch):
    tool = load_tool('publish_model')
    state = {
        'backbone.weight': torch.randn(4, 3),
        'backbone.bn.running_mean': torch.zeros(4),
        'head.bias': torch.ones(2)
    }
    source = str(tmp_path / 'epoch_3.pth')
    torch.save(runner_checkpoint(state), source)
    final = tool.main([source, str(tmp_path / 'out' / 'r3d-tiny.pth'), '--name', 'mine/r3d-tiny'])
    with open(final, 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    assert osp.basename(final) == f'r3d-tiny-{sha256[:8]}.pth' and os.listdir(tmp_path / 'out') == [osp.basename(final)]
    published = torch.load(final, weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta'] == {'epoch': 3, 'iter': 30, 'dataset_meta': {'classes': list(CLASSES)}}
    assert published['state_dict'].keys() == state.keys()
    assert all(torch.equal(published['state_dict'][k], v) for k, v in state.items())

    captured = capsys.readouterr()
    report = captured.err
    assert 'left out: ' in report and 'optimizer' in report and 'message_hub' in report and 'meta.cfg' in report
    metafile = yaml.safe_load(captured.out)  # stdout is the metafile alone
    entry = metafile['Models'][0]
    assert entry == {
        'Name': 'mine/r3d-tiny',
        'In Collection': 'User models',
        'Metadata': {
            'Parameters': '0.00M',
            'Epochs': 3
        },
        'Weights': final,
        'SHA256': sha256
    }
    assert metafile['Collections'] == [{'Name': 'User models'}]
    with pytest.raises(ValueError, match='must end with .pth'):
        tool.main([source, str(tmp_path / 'r3d.ckpt')])


def test_published_run_loads_by_name(trained, tmp_path, capsys, monkeypatch):
    """A real Runner checkpoint, published; the printed metafile makes the hub find it by name."""
    from videoalign.hub import get_checkpoint, load_metafile
    tool = load_tool('publish_model')
    final = tool.main([
        osp.join(trained, 'epoch_1.pth'),
        str(tmp_path / 'r3d-tiny-ft.pth'), '--config', R3D_CONFIG, '--weights-url', 'https://example.com/models/'
    ])
    text = capsys.readouterr().out
    assert f'    Weights: https://example.com/models/{osp.basename(final)}\n' in text
    assert '    Config: configs/quickstart/r3d-tiny-8f_synthetic.py\n' in text
    local = text.replace(f'https://example.com/models/{osp.basename(final)}', final)
    metafile = tmp_path / 'my-metafile.yml'
    metafile.write_text(local)
    entry = load_metafile(str(metafile), strict_names=False)[1][0]
    assert entry.name == 'user/r3d-tiny-ft' and entry.local_file == final
    monkeypatch.setenv('VIDEOALIGN_HOME', str(tmp_path / 'hub'))
    monkeypatch.setenv('VIDEOALIGN_METAFILES', str(metafile))
    assert get_checkpoint('user/r3d-tiny-ft') == final
    meta = torch.load(final, weights_only=True)['meta']
    assert meta['epoch'] == 1 and len(meta['dataset_meta']['classes']) == 10


def test_browse_dataset(tiny_synthetic, tmp_path, capsys):
    tool = load_tool('browse_dataset')
    options = tiny_run_options(tiny_synthetic)
    out = str(tmp_path / 'browse')
    written = tool.main([R3D_CONFIG, '--output-dir', out, '--phase', 'val', '--show-number', '2'] + options)
    assert len(written) == 2 and sorted(os.listdir(out)) == [osp.basename(p) for p in written]
    assert all(p.endswith('.mp4') for p in written)
    assert [count_frames(p) for p in written] == [8, 8]  # one view of clip_len 8, NCTHW
    import cv2
    capture = cv2.VideoCapture(written[0])
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape == (56, 56, 3)  # the model's input size after Resize

    out = str(tmp_path / 'pipeline')
    written = tool.main([R3D_CONFIG, '--output-dir', out, '--mode', 'pipeline', '--show-number', '1'] + options)
    assert count_frames(written[0]) == 8
    assert 'DecordDecode, RandomResizedCrop, Resize, FormatShape, PackActionInputs' in capsys.readouterr().out
