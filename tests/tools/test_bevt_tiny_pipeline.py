"""The BEVT flow through the command-line tools on a tiny synthetic set: joint pretraining (video + image batches
in every iteration, max_iters iterations), conversion with bevt_finetune, fine-tuning from the converted weights."""
import os.path as osp
import re

import torch

from videoalign.datasets.synthetic import generate_synthetic_images
from videoalign.testing import make_tiny_synthetic, run_tool

PRETRAIN = 'configs/bevt/swin-micro-8f_synthetic-pretrain.py'
FINETUNE = 'configs/bevt/swin-micro-8f_synthetic.py'


def loader_options(data: str, prefix: str, batch_size: int) -> list:
    return [f'{prefix}.batch_size={batch_size}', f'{prefix}.num_workers=0', f'{prefix}.persistent_workers=False']


def test_pretrain_convert_finetune(tmp_path):
    data = make_tiny_synthetic(str(tmp_path / 'data'), per_class=(1, 1, 1), size=64)  # 10 train clips
    generate_synthetic_images(data, frames_per_clip=2, show_progress=False)  # 20 images
    work = str(tmp_path / 'pretrain')
    video_loader, image_loader = 'train_dataloader', 'train_cfg.other_loaders.0'
    run_tool([
        'python', 'tools/train.py', PRETRAIN, '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=2',
        'param_scheduler.1.T_max=1', 'param_scheduler.1.end=2', 'default_hooks.logger.interval=1',
        f'{video_loader}.dataset.ann_file={data}/synthetic_train_list_videos.txt',
        f'{video_loader}.dataset.data_prefix.video={data}/videos',
        f'{image_loader}.dataset.ann_file={data}/synthetic_train_list_images.txt',
        f'{image_loader}.dataset.data_prefix.img={data}/images', *loader_options(data, video_loader, 4),
        *loader_options(data, image_loader, 8)
    ])
    log = open(
        next(
            osp.join(root, name) for root, _, names in __import__('os').walk(work) for name in names
            if name.endswith('.log'))).read()
    # 10 clips in batches of 4: 3 iterations an epoch, 6 in all; each logs both streams
    assert re.findall(r'Epoch\(train\) \[(\d)\]\[(\d)/3\]', log) == [('1', '1'), ('1', '2'), ('1', '3'), ('2', '1'),
                                                                     ('2', '2'), ('2', '3')]
    for key in ('loss_cls_3d', 'mask_acc_3d', 'loss_cls_2d', 'mask_acc_2d'):
        assert log.count(f'{key}: ') == 6, key
    checkpoint = osp.join(work, 'epoch_2.pth')
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    assert 'backbone.patch_embed_2d.proj.weight' in state and 'cls_head.vae_encoder.blocks.input.w' in state

    converted = str(tmp_path / 'finetune_init.pth')
    run_tool([
        'python', 'tools/convert/convert.py', 'bevt_finetune', checkpoint, converted, '--options',
        'pretrained_window_size=(2,2,2)'
    ])
    weights = torch.load(converted, map_location='cpu', weights_only=True)
    weights = weights.get('state_dict', weights)
    torch.testing.assert_close(weights['backbone.norm3.weight'], state['backbone.norm.weight'])
    assert not any('patch_embed_2d' in key or 'lm_down' in key or key.startswith('cls_head') for key in weights)

    out = run_tool([
        'python', 'tools/train.py', FINETUNE, '--work-dir',
        str(tmp_path / 'finetune'), '--cfg-options', f'load_from={converted}', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'param_scheduler.1.T_max=1', 'param_scheduler.1.end=2',
        f'train_dataloader.dataset.ann_file={data}/synthetic_train_list_videos.txt',
        f'val_dataloader.dataset.ann_file={data}/synthetic_val_list_videos.txt', *[
            f'{split}_dataloader.dataset.{key}' for split in ('train', 'val', 'test')
            for key in (f'data_prefix.video={data}/videos', f'class_names={data}/label_map.txt')
        ], *loader_options(data, 'train_dataloader', 4), *loader_options(data, 'val_dataloader', 4)
    ])
    output = out.stdout + out.stderr
    assert 'missing keys in source state_dict: cls_head.fc_cls.weight, cls_head.fc_cls.bias' in output
    assert 'unexpected key' not in output and 'acc/top1' in output
