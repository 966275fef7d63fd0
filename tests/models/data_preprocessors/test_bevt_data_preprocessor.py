"""BEVTDataPreprocessor: stacking, view flattening, normalisation, the DALL-E pixel map and the masks."""
import pytest
import torch
from mmaction.structures import ActionDataSample

from videoalign.models.data_preprocessors import BEVTDataPreprocessor
from videoalign.registry import MODELS

MEAN, STD = torch.tensor([123.675, 116.28, 103.53]), torch.tensor([58.395, 57.12, 57.375])


def _video_batch(batch: int = 2, views: int = 2, frames: int = 4, size: int = 8, seed: int = 0) -> dict:
    """What pseudo_collate makes of ``batch`` video samples of ``views`` clips."""
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        mask = torch.rand(views, frames // 2, 2, 2, generator=g) > 0.5
        samples.append(
            dict(
                imgs=torch.randint(0, 256, (views, 3, frames, size, size), generator=g, dtype=torch.uint8),
                imgs_second=torch.randint(
                    0, 256, (views, 3, frames, size // 2, size // 2), generator=g, dtype=torch.uint8),
                mask=mask,
                target_mask=mask.repeat_interleave(2, dim=1)))
    inputs = {key: [s[key] for s in samples] for key in samples[0]}
    return dict(inputs=inputs, data_samples=[ActionDataSample() for _ in range(batch)])


def _image_batch(batch: int = 3, size: int = 8, seed: int = 1) -> dict:
    """What pseudo_collate makes of ``batch`` image samples (BEiTMaskGenerator's (h, w) int masks)."""
    g = torch.Generator().manual_seed(seed)
    inputs = dict(
        imgs=[torch.randint(0, 256, (1, 3, size, size), generator=g, dtype=torch.uint8) for _ in range(batch)],
        imgs_second=[
            torch.randint(0, 256, (1, 3, size // 2, size // 2), generator=g, dtype=torch.uint8) for _ in range(batch)
        ],
        mask=[torch.randint(0, 2, (2, 2), generator=g) for _ in range(batch)])
    return dict(inputs=inputs, data_samples=[ActionDataSample() for _ in range(batch)])


def test_tuple_of_video_and_image_batches():
    video, image = _video_batch(), _image_batch()
    out = BEVTDataPreprocessor()((video, image), training=True)
    assert isinstance(out, tuple) and len(out) == 2
    v, i = out[0]['inputs'], out[1]['inputs']
    assert set(v) == set(i) == {'imgs', 'imgs_second', 'mask', 'target_mask'}
    assert v['imgs'].shape == (4, 3, 4, 8, 8) and v['imgs'].dtype == torch.float32
    assert v['imgs_second'].shape == (4, 3, 4, 4, 4) and v['imgs_second'].dtype == torch.float32
    assert v['mask'].shape == (4, 2, 2, 2) and v['mask'].dtype == torch.bool
    assert v['target_mask'].shape == (4, 4, 2, 2) and v['target_mask'].dtype == torch.bool
    assert i['imgs'].shape == (3, 3, 8, 8) and i['imgs_second'].shape == (3, 3, 4, 4)
    assert i['mask'].shape == i['target_mask'].shape == (3, 2, 2) and i['mask'].dtype == torch.bool
    assert torch.equal(i['target_mask'], i['mask'])  # images: the loss is taken where the input is masked
    assert len(out[0]['data_samples']) == 2 and len(out[1]['data_samples']) == 3


def test_values_normalised_mapped_and_views_flattened_in_order():
    video = _video_batch()
    out = BEVTDataPreprocessor()(video)
    assert isinstance(out, dict)
    raw = torch.stack(video['inputs']['imgs']).float()  # (B, N, C, T, H, W)
    expected = (raw - MEAN.view(1, 1, 3, 1, 1, 1)) / STD.view(1, 1, 3, 1, 1, 1)
    torch.testing.assert_close(out['inputs']['imgs'], expected.flatten(0, 1), rtol=0, atol=1e-5)
    # sample 1, view 0 is row 2 of the flattened batch
    assert torch.equal(out['inputs']['mask'][2], video['inputs']['mask'][1][0])
    assert torch.equal(out['inputs']['target_mask'][3], video['inputs']['target_mask'][1][1])
    second = torch.stack(video['inputs']['imgs_second']).float().flatten(0, 1)
    torch.testing.assert_close(out['inputs']['imgs_second'], second / 255 * 0.8 + 0.1, rtol=0, atol=1e-6)


def test_dalle_map_end_points():
    image = _image_batch(batch=1)
    image['inputs']['imgs_second'] = [
        torch.tensor([0, 255, 51, 204], dtype=torch.uint8).view(1, 1, 2, 2).expand(1, 3, 2, 2).contiguous()
    ]
    image['inputs']['imgs'] = [torch.zeros(1, 3, 4, 4, dtype=torch.uint8)]
    out = BEVTDataPreprocessor()(image)['inputs']
    torch.testing.assert_close(
        out['imgs_second'][0, 0].flatten(), torch.tensor([0.1, 0.9, 0.26, 0.74]), rtol=0, atol=1e-6)
    torch.testing.assert_close(out['imgs'][0, :, 0, 0], -MEAN / STD)
    out = BEVTDataPreprocessor(second_eps=0., mean=(0., 0., 0.), std=(255., 255., 255.))(image)['inputs']
    torch.testing.assert_close(out['imgs_second'][0, 0].flatten(), torch.tensor([0., 1., 0.2, 0.8]), rtol=0, atol=1e-6)


def test_list_of_batches_and_stacked_tensors_and_mask_with_view_axis():
    image = _image_batch()
    image['inputs'] = {key: torch.stack(value) for key, value in image['inputs'].items()}  # default_collate
    image['inputs']['mask'] = image['inputs']['mask'].unsqueeze(1)  # (B, 1, h, w)
    image['inputs']['target_mask'] = torch.ones_like(image['inputs']['mask'])
    out = MODELS.build(dict(type='BEVTDataPreprocessor'))([image])
    assert isinstance(out, tuple) and len(out) == 1
    assert out[0]['inputs']['mask'].shape == (3, 2, 2) and out[0]['inputs']['target_mask'].all()


def test_half_precision_inputs_come_out_float32():
    video = _video_batch(batch=1, views=1)
    video['inputs']['imgs'] = [x.half() for x in video['inputs']['imgs']]
    assert BEVTDataPreprocessor()(video)['inputs']['imgs'].dtype == torch.float32


def test_moves_every_batch_to_the_preprocessors_device():
    preprocessor = BEVTDataPreprocessor().to('meta')  # a device without data: only the placement is checked
    for out in preprocessor((_video_batch(), _image_batch())):
        assert all(value.device.type == 'meta' for value in out['inputs'].values())


@pytest.mark.parametrize('edit, error, match', [
    (lambda b: b['inputs'].pop('target_mask'), KeyError, 'video batch needs inputs\\["target_mask"\\]'),
    (lambda b: b['inputs'].pop('imgs_second'), KeyError, 'must hold'),
    (lambda b: b['inputs'].update(label=[torch.zeros(1)] * 2), KeyError, "'label'"),
    (lambda b: b['inputs']['imgs'].__setitem__(1, torch.zeros(2, 3, 4, 8, 6, dtype=torch.uint8)), ValueError,
     'different shapes'),
    (lambda b: b['inputs'].update(mask=[m[0] for m in b['inputs']['mask']]), ValueError,
     r"inputs\['mask'\] has shape \(2, 2, 2, 2\)"),
    (lambda b: b['inputs'].update(imgs=[x[:, :2] for x in b['inputs']['imgs']]), ValueError, '2 channels'),
    (lambda b: b['inputs'].update(imgs=[x[0, :, 0] for x in b['inputs']['imgs']]), ValueError, 'clips or'),
    (lambda b: b['inputs'].update(imgs=[]), TypeError, 'non-empty list'),
])
def test_bad_batches_raise(edit, error, match):
    batch = _video_batch()
    edit(batch)
    with pytest.raises(error, match=match):
        BEVTDataPreprocessor()(batch)


def test_bad_containers_and_arguments_raise():
    with pytest.raises(TypeError, match='tuple / list of batch dicts, got list of'):
        BEVTDataPreprocessor()([torch.zeros(1)])
    with pytest.raises(TypeError, match='must be a dict'):
        BEVTDataPreprocessor()(dict(inputs=torch.zeros(1, 3, 4, 4), data_samples=[]))
    with pytest.raises(ValueError, match='second_eps must be in \\[0, 0.5\\), got 0.5'):
        BEVTDataPreprocessor(second_eps=0.5)
    with pytest.raises(ValueError, match='one value per channel'):
        BEVTDataPreprocessor(mean=(0., 0.))
    with pytest.raises(ValueError, match='std must be positive'):
        BEVTDataPreprocessor(std=(1., 0., 1.))
