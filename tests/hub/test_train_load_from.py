"""``tools/train.py CONFIG --cfg-options load_from=videoalign://...`` against a loopback server."""
import os.path as osp

import torch

from videoalign.testing import XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS, run_tool, tiny_run_options


def test_train_loads_a_model_zoo_name(hub_home, loopback, use_metafile, tiny_synthetic, tiny_official, xclip_entry,
                                      tmp_path):
    model, _, data, sha, marker = tiny_official  # the size XCLIP_TINY_OPTIONS give the quick-start X-CLIP
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry(sha256=sha)])

    work_dir = str(tmp_path / 'work')
    options = tiny_run_options(tiny_synthetic, max_epochs=1, batch_size=10, model_options=XCLIP_TINY_OPTIONS)
    options += ['optim_wrapper.optimizer.lr=0.', 'load_from=videoalign://loopback/xclip-tiny']
    proc = run_tool(
        ['python', 'tools/train.py', XCLIP_QUICKSTART_CONFIG, '--work-dir', work_dir] + options, timeout=300)
    assert 'Load checkpoint from videoalign://loopback/xclip-tiny' in proc.stdout + proc.stderr
    assert loopback.files.count('/xclip/tiny_official.pth') == 1
    assert not osp.exists(marker)

    # with lr 0 the trained weights are the loaded ones: the run started from the converted official file
    trained = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=False)['state_dict']
    expected = model.state_dict()
    assert set(expected) <= set(trained)
    assert all(torch.equal(trained[k], v) for k, v in expected.items())
