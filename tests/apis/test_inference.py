"""init_model / inference_video and demo/demo.py: closed-set and free-text labels."""
import glob
import os.path as osp
import re

import cv2
import decord
import numpy as np
import pytest
import torch

from videoalign.apis import inference_video, init_model
from videoalign.datasets.class_names import load_class_names
from videoalign.testing import R3D_CONFIG, XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS, run_tool
from videoalign.visualization import write_labelled_video


def _options(data_dir: str) -> dict:
    options = dict(o.split('=', 1) for o in XCLIP_TINY_OPTIONS)
    options = {k: int(v) for k, v in options.items()}
    options['test_dataloader.dataset.class_names'] = f'{data_dir}/label_map.txt'  # init_model's fallback
    return options


@pytest.fixture(scope='module')
def tiny_checkpoint(tiny_synthetic, tmp_path_factory):
    """A tiny X-CLIP checkpoint, as the Runner writes them (``state_dict`` + ``meta``)."""
    model = init_model(XCLIP_QUICKSTART_CONFIG, cfg_options=_options(tiny_synthetic))
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'xclip_tiny.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, path)
    return path


def test_closed_set_and_free_text(tiny_synthetic, tiny_checkpoint):
    video = sorted(glob.glob(osp.join(tiny_synthetic, 'videos', 'test', '*.mp4')))[0]
    model = init_model(XCLIP_QUICKSTART_CONFIG, tiny_checkpoint, cfg_options=_options(tiny_synthetic))
    closed = inference_video(model, video, topk=3)
    assert len(closed) == 3 and {name for name, _ in closed} <= set(model.cls_head.class_names)
    labels = ['a red circle moves to the left', 'a square grows larger', 'an arrow turns clockwise', 'nothing']
    free = inference_video(model, video, labels=labels, topk=10)
    assert sorted(name for name, _ in free) == sorted(labels)  # topk capped at the number of labels
    assert sum(score for _, score in free) == pytest.approx(1.0, abs=1e-4)
    assert [s for _, s in free] == sorted((s for _, s in free), reverse=True)
    with_amp = dict(inference_video(model, video, labels=labels, topk=10, amp=True))  # bf16 autocast on the CPU
    assert sorted(with_amp) == sorted(labels) and sum(with_amp.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(abs(with_amp[name] - score) for name, score in free) < 0.02 and with_amp != dict(free)
    assert model.cls_head.class_names == load_class_names(f'{tiny_synthetic}/label_map.txt')  # left as it was
    assert inference_video(model, video, topk=3) == closed
    # back to the closed set: the class text embeddings follow the class list
    again = inference_video(model, video, labels=[name for name, _ in closed], topk=3)
    assert {n for n, _ in again} == {n for n, _ in closed}


def test_full_size_model_by_name_from_anywhere_without_dataset_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ and no data/ here
    model = init_model('xclip/vit-b16-8f_k400')
    head = model.cls_head
    assert type(head).__name__ == 'TextPromptHead' and head.class_names == [] and model.dataset_meta == {}
    assert model.cfg.filename.endswith(osp.join('configs', 'xclip', 'vit-b16-8f_k400.py'))
    assert 190e6 < sum(p.numel() for p in model.parameters()) < 200e6  # X-CLIP B/16: 194.93M
    with pytest.raises(FileNotFoundError, match='neither a file nor the name of a model-zoo entry'):
        init_model('xclip/no-such-model')


def test_class_names_come_with_the_checkpoint(tiny_synthetic, tiny_checkpoint, tmp_path):
    names = [f'action {i}' for i in range(10)]
    checkpoint = torch.load(tiny_checkpoint, map_location='cpu', weights_only=False)
    checkpoint['meta']['dataset_meta'] = dict(classes=tuple(names))
    path = str(tmp_path / 'with_classes.pth')
    torch.save(checkpoint, path)
    options = {k: v for k, v in _options(tiny_synthetic).items() if 'class_names' not in k}
    model = init_model(XCLIP_QUICKSTART_CONFIG, path, cfg_options=options)
    assert model.cls_head.class_names == names and list(model.dataset_meta['classes']) == names


def test_fixed_head_takes_names_not_free_text(tiny_synthetic, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the config's label map (data/synthetic/label_map.txt) is not here: classes '0'..'9'
    model = init_model(R3D_CONFIG)
    video = sorted(glob.glob(osp.join(tiny_synthetic, 'videos', 'val', '*.mp4')))[0]
    assert {name for name, _ in inference_video(model, video, topk=10)} == {str(i) for i in range(10)}
    names = [f'name {i}' for i in range(10)]
    assert {name for name, _ in inference_video(model, video, labels=names, topk=10)} == set(names)
    with pytest.raises(ValueError, match='fixed set of 10 classes but got 2 labels.*text-prompt head'):
        inference_video(model, video, labels=['a', 'b'])
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        inference_video(model, '/nope.mp4')


def test_demo_script(tiny_synthetic, tiny_checkpoint, tmp_path):
    video = sorted(glob.glob(osp.join(tiny_synthetic, 'videos', 'test', '*.mp4')))[0]
    options = [f'{k}={v}' for k, v in _options(tiny_synthetic).items()]
    out = str(tmp_path / 'out' / 'labelled.mp4')
    proc = run_tool([
        'python', 'demo/demo.py', video, '--config', XCLIP_QUICKSTART_CONFIG, '--checkpoint', tiny_checkpoint,
        '--labels', 'three dogs pulling a sled', 'a shape moves right', '--topk', '2', '--amp', '--out-filename', out,
        '--target-resolution', '96', '-1', '--font-color', 'yellow', '--cfg-options'
    ] + options)
    rows = re.findall(r'^\s*(\d)\. ([0-9.]+)  (.+)$', proc.stdout, re.M)
    assert [r[0] for r in rows] == ['1', '2'], proc.stdout
    assert {r[2] for r in rows} == {'three dogs pulling a sled', 'a shape moves right'}
    # --out-filename: every frame of the video, resized, with the labels drawn (OpenCV reads it back)
    assert '"FileClient" will be deprecated' not in proc.stdout + proc.stderr  # compat item 10
    written, original = cv2.VideoCapture(out), decord.VideoReader(video)
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == len(original) == 16
    assert written.get(cv2.CAP_PROP_FPS) == pytest.approx(original.get_avg_fps())
    ok, frame = written.read()
    assert ok and frame.shape == (96, 96, 3)
    plain = cv2.resize(cv2.cvtColor(original[0].asnumpy(), cv2.COLOR_RGB2BGR), (96, 96), interpolation=cv2.INTER_LINEAR)
    assert np.abs(frame[:20].astype(int) - plain[:20]).mean() > 10  # the text at the top
    with pytest.raises(ValueError, match=r'a\.gif: the output must end with one of \.mp4'):
        write_labelled_video(video, str(tmp_path / 'a.gif'), ['x'])


def test_checkpoint_of_another_model_is_an_error(tiny_synthetic, tiny_checkpoint, tmp_path):
    state = torch.load(tiny_checkpoint, map_location='cpu', weights_only=False)['state_dict']
    other = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {k.replace('cls_head.', 'head.'): v for k, v in state.items()}}, other)
    with pytest.raises(
            RuntimeError,
            match=r'(?s)other\.pth does not fit the model.*unexpected key.* head\.logit_scale'
            r'.*missing keys.* cls_head\.logit_scale.*strict=False'):
        init_model(XCLIP_QUICKSTART_CONFIG, other, cfg_options=_options(tiny_synthetic))
    init_model(XCLIP_QUICKSTART_CONFIG, other, cfg_options=_options(tiny_synthetic), strict=False)
