"""Cache the frozen CLIP image embedding of every frame of every video, for models that train on frame features.

    python tools/data/extract_clip_features.py configs/efficient_prompt/vit-b16-16f_hmdb51.py \
        --out-dir data/hmdb51/clip_features_vit-b16

As Efficient-Prompt's ``feat/visfeat.py`` (efficient_prompt.md §2.1): every frame is resized (short side, bicubic, PIL)
to the backbone's input size, centre-cropped, normalised with the config's mean and std (CLIP's), and encoded by the
config's backbone (the frozen CLIP ViT with its ``init_cfg`` weights). ``<out-dir>/<path>.npy`` of shape
``(T_video, D)`` is written for each ``<path>.<ext>`` listed in the config's train, val and test annotation files
(or in ``--ann-file``), so a config reading the features uses the same lists with ``data_prefix`` set to
``--out-dir`` (see configs/efficient_prompt/vit-b16-16f_hmdb51-features.py).

The run can be resumed: an existing ``.npy`` is kept (files are written under a temporary name and renamed, so an
interrupted run leaves none half-written). Videos that cannot be decoded are skipped and listed at the end and in
``<out-dir>/unreadable_videos.txt``.

The official extraction reads frames with OpenCV, whose BGR arrays it hands to PIL as RGB, so its features were
computed on frames with red and blue swapped; ``--bgr-as-rgb`` reproduces that. It also runs CLIP in fp16
(``--fp16``). By default the frames are RGB and CLIP runs in float32.
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar
from PIL import Image

try:
    import videoalign  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != 'videoalign':
        raise
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from videoalign.engine import load_config  # noqa: E402
from videoalign.registry import MODELS  # noqa: E402
from videoalign.structures import VideoFeatures  # noqa: E402
from videoalign.utils import register_all_modules  # noqa: E402
from videoalign.utils.cli import quiet_mmengine  # noqa: E402
from videoalign.utils.precision import amp_dtype  # noqa: E402

CLIP_MEAN = (0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255)
CLIP_STD = (0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Cache the CLIP image embedding of every frame of every video')
    parser.add_argument('config', help='a config whose model.backbone is the frozen CLIP image encoder')
    parser.add_argument('--out-dir', required=True, help='where to write <path>.npy per video')
    parser.add_argument(
        '--ann-file',
        nargs='+',
        default=None,
        help='annotation files to read instead of those of the config\'s train/val/test loaders')
    parser.add_argument('--video-root', default=None, help='folder of the videos of --ann-file')
    parser.add_argument('--batch-size', type=int, default=256, help='frames per forward pass (default: %(default)s)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument(
        '--amp',
        action='store_true',
        help='run the encoder under autocast (bf16 on a CPU or a GPU that has it, else fp16)')
    precision.add_argument(
        '--fp16',
        action='store_true',
        help='run the encoder under fp16 autocast, as the official extraction (CUDA only)')
    parser.add_argument('--save-dtype', choices=('float32', 'float16'), default='float32')
    parser.add_argument(
        '--bgr-as-rgb',
        action='store_true',
        help='swap red and blue before encoding, as the official OpenCV-based extraction does')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override settings of the config')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='also print how each parameter of the backbone was initialised (mmengine\'s init_weights log)')
    return parser.parse_args(argv)


def video_lists(cfg: Config, ann_files: Optional[List[str]], video_root: Optional[str]) -> List[Tuple[str, str]]:
    """``(annotation file, video folder)`` pairs: those given, or those of the config's loaders (without repeats)."""
    if ann_files:
        if video_root is None:
            raise ValueError('--ann-file needs --video-root')
        return [(ann_file, video_root) for ann_file in ann_files]
    pairs = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg.get(loader, {}).get('dataset')
        if dataset is None or 'ann_file' not in dataset:
            continue
        pair = (dataset['ann_file'], dataset.get('data_prefix', {}).get('video', ''))
        if pair not in pairs:
            pairs.append(pair)
    if not pairs:
        raise ValueError(f'{cfg.filename}: no train/val/test dataset with an ann_file; give --ann-file')
    return pairs


def read_video_paths(ann_file: str) -> List[str]:
    """The video paths (first field of each non-empty line, relative to the video folder) of an annotation file."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file} does not exist')
    with open(ann_file, encoding='utf-8-sig') as f:
        paths = [line.split()[0] for line in f if line.strip()]
    for path in paths:
        if osp.isabs(path):
            raise ValueError(f'{ann_file}: {path} is an absolute path; the features are written to --out-dir under '
                             f'the paths of the list, so they must be relative (to the video folder)')
    return paths


class FramePreprocessor:
    """Resize the short side to ``size`` (PIL bicubic), centre-crop ``size`` x ``size``, normalise.

    The sizes and rounding are torchvision's ``Resize(size)`` and ``CenterCrop(size)`` on PIL images, as the official
    extraction.

    Args:
        size (int): Output height and width.
        mean (Sequence[float]): Per-channel mean on the 0-255 scale.
        std (Sequence[float]): Per-channel std on the 0-255 scale.
        bgr_as_rgb (bool): Swap the first and last channels of the frames first.
    """

    def __init__(self, size: int, mean: Sequence[float], std: Sequence[float], bgr_as_rgb: bool = False) -> None:
        self.size = size
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1, 1)
        self.bgr_as_rgb = bgr_as_rgb

    def crop(self, frame: np.ndarray) -> np.ndarray:
        """One ``(H, W, 3)`` uint8 frame -> ``(size, size, 3)`` uint8."""
        if self.bgr_as_rgb:
            frame = frame[..., ::-1]
        image = Image.fromarray(np.ascontiguousarray(frame))
        width, height = image.size
        short, long = (width, height) if width <= height else (height, width)
        new_long = int(self.size * long / short)
        new_size = (self.size, new_long) if width <= height else (new_long, self.size)
        image = image.resize(new_size, Image.BICUBIC)
        top = int(round((new_size[1] - self.size) / 2.0))
        left = int(round((new_size[0] - self.size) / 2.0))
        return np.asarray(image.crop((left, top, left + self.size, top + self.size)))

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        """``(N, H, W, 3)`` uint8 RGB frames -> a clip ``(1, 3, N, size, size)`` for the backbone."""
        crops = torch.from_numpy(np.stack([self.crop(frame) for frame in frames]))
        clip = crops.permute(3, 0, 1, 2).float()  # (3, N, size, size)
        return ((clip - self.mean) / self.std).unsqueeze(0)


class UnreadableVideo(Exception):
    """A video that cannot be opened or decoded."""


def encode_video(path: str, backbone: torch.nn.Module, preprocess: FramePreprocessor, batch_size: int,
                 device: torch.device, dtype: Optional[torch.dtype]) -> np.ndarray:
    """The backbone's embedding of every frame of the video at ``path``: ``(T_video, D)`` float32.

    The backbone runs under autocast in ``dtype``, or in its own precision where ``dtype`` is None.

    Raises:
        UnreadableVideo: If decord cannot open the video or decode one of its frames.
    """
    import decord
    try:
        reader = decord.VideoReader(path, num_threads=1)
        num_frames = len(reader)
    except Exception as err:  # decord raises DECORDError, RuntimeError or others depending on the damage
        raise UnreadableVideo(f'{type(err).__name__}: {err}') from err
    if num_frames == 0:
        raise UnreadableVideo('no frames')
    feats = []
    for start in range(0, num_frames, batch_size):
        try:
            frames = reader.get_batch(list(range(start, min(start + batch_size, num_frames)))).asnumpy()
        except Exception as err:
            raise UnreadableVideo(f'frames {start}..: {type(err).__name__}: {err}') from err
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            out = frame_embeds(backbone(preprocess(frames).to(device)))
        feats.append(out[0].float().cpu().numpy())
    return np.concatenate(feats)


def frame_embeds(output) -> torch.Tensor:
    """The per-frame embeddings ``(B, T, D)`` of a backbone output (``VideoFeatures.frame_embeds``, or a tensor)."""
    return VideoFeatures.wrap(output, tensor_field='frame_embeds').require('frame_embeds', 'extract_clip_features.py')


def check_backbone(backbone: torch.nn.Module, device: torch.device) -> None:
    """Raise unless ``backbone`` maps a clip ``(1, 3, T, S, S)`` to per-frame embeddings ``(1, T, D)``."""
    size = backbone.image_size
    with torch.inference_mode():
        out = frame_embeds(backbone(torch.zeros(1, 3, 2, size, size, device=device)))
    if out.dim() != 3 or out.shape[:2] != (1, 2):
        raise ValueError(f'the backbone returned frame_embeds of shape {tuple(out.shape)} for a clip of 2 frames; '
                         f'expected per-frame embeddings (1, 2, D): use a CLIPViT')


def save_atomic(path: str, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy) through a temporary file, so that ``path`` is never half-written."""
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        np.save(f, array)
    os.replace(tmp, path)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.batch_size < 1:
        sys.exit(f'error: --batch-size must be positive, got {args.batch_size}')
    cfg = load_config(args.config, args.cfg_options)
    register_all_modules()
    backbone = MODELS.build(cfg.model.backbone)
    if not hasattr(backbone, 'image_size'):
        sys.exit(f'error: model.backbone of {args.config} is {type(backbone).__name__}, not a CLIP image encoder '
                 f'(run this tool with the config that decodes videos, not the one that reads features)')
    with contextlib.nullcontext() if args.verbose else quiet_mmengine():
        backbone.init_weights()
    device = torch.device(args.device)
    if args.fp16 and device.type != 'cuda':
        sys.exit(f'error: --fp16 runs on CUDA only (--device {args.device}); use --amp for bf16 on a CPU')
    dtype = torch.float16 if args.fp16 else amp_dtype(device) if args.amp else None
    backbone.to(device).eval().requires_grad_(False)
    check_backbone(backbone, device)
    preprocessor_cfg = cfg.model.get('data_preprocessor', {})
    preprocess = FramePreprocessor(
        backbone.image_size,
        preprocessor_cfg.get('mean') or CLIP_MEAN,
        preprocessor_cfg.get('std') or CLIP_STD,
        bgr_as_rgb=args.bgr_as_rgb)

    jobs = []
    for ann_file, video_root in video_lists(cfg, args.ann_file, args.video_root):
        for rel_path in read_video_paths(ann_file):
            jobs.append((osp.join(video_root, rel_path), osp.join(args.out_dir, osp.splitext(rel_path)[0] + '.npy')))
    jobs = list(dict(jobs).items())  # a video listed in several files is encoded once
    todo = [(video, out) for video, out in jobs if not osp.isfile(out)]
    print(f'{len(jobs)} videos, {len(jobs) - len(todo)} already done; encoding {len(todo)} on {device}')

    progress = ProgressBar(len(todo)) if todo else None
    unreadable = []
    with torch.inference_mode():
        for video, out in todo:
            try:
                feats = encode_video(video, backbone, preprocess, args.batch_size, device, dtype)
            except UnreadableVideo as err:
                unreadable.append(f'{video}\t{str(err).splitlines()[0] if str(err) else ""}')
            else:
                os.makedirs(osp.dirname(out) or '.', exist_ok=True)
                save_atomic(out, feats.astype(args.save_dtype))
            progress.update()
    if progress is not None:
        print()
    if unreadable:
        os.makedirs(args.out_dir, exist_ok=True)
        report = osp.join(args.out_dir, 'unreadable_videos.txt')
        with open(report, 'w', encoding='utf-8') as f:
            f.write(''.join(line + '\n' for line in unreadable))
        print(f'{len(unreadable)} unreadable videos skipped (listed in {report}):', file=sys.stderr)
        for line in unreadable[:20]:
            print(f'  {line}', file=sys.stderr)
    print(f'{len(todo) - len(unreadable)} feature files written to {args.out_dir}')


if __name__ == '__main__':
    main()
