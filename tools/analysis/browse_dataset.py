"""Videos of what a config's data pipeline yields: ``python tools/analysis/browse_dataset.py CONFIG --output-dir DIR``.

Usage::

    # the clips the model gets (the inputs after PackActionInputs) of the first 5 training samples
    python tools/analysis/browse_dataset.py configs/quickstart/r3d-tiny-8f_synthetic.py --output-dir browse \\
        --show-number 5
    # the decoded frames, before any crop or resize, of the test set
    python tools/analysis/browse_dataset.py CONFIG --output-dir browse --phase test --mode original
    # every step of the pipeline side by side (decoded, cropped, resized, packed...)
    python tools/analysis/browse_dataset.py CONFIG --output-dir browse --mode pipeline

One mp4 (OpenCV, mp4v codec) per sample, ``<index>_<video name>.mp4``: ``transformed`` shows the ``inputs`` tensor
after ``PackActionInputs`` (several views of an NCTHW clip tiled in a grid; NCHW frames one after the other; clips are
shown as the pipeline yields them, since normalisation is the data preprocessor's), ``original`` the frames of the
first step that yields ``imgs`` (the decoder), ``pipeline`` each step that yields frames, side by side. Each written
file is read back with OpenCV and its frame count checked. Frames are drawn by :mod:`videoalign.analysis.browse`.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, List, Optional, Tuple

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis.browse import count_frames, frames_of, side_by_side, write_video
from videoalign.utils.cli import DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Write videos of what the data pipeline of a config yields')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', required=True, help='folder of the videos')
    parser.add_argument('--phase', default='train', choices=['train', 'val', 'test'], help='the dataset (its loader)')
    parser.add_argument('--show-number', type=int, default=sys.maxsize, help='number of samples (default: all)')
    parser.add_argument(
        '--mode',
        default='transformed',
        choices=['original', 'transformed', 'pipeline'],
        help='original: the decoded frames; transformed: the model inputs; pipeline: every step side by side')
    parser.add_argument('--fps', type=float, default=4, help='frames per second of the videos')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; e.g. train_dataloader.dataset.ann_file=...')
    return parser.parse_args(argv)


def build_dataset(cfg: Any, phase: str) -> Any:
    """The dataset of ``<phase>_dataloader`` (a wrapper's inner dataset: its pipeline is the one shown)."""
    from videoalign.registry import DATASETS
    from videoalign.utils import register_all_modules

    register_all_modules()
    loader = cfg.get(f'{phase}_dataloader')
    if not loader or 'dataset' not in loader:
        raise KeyError(f'the config has no {phase}_dataloader.dataset; choose another --phase')
    dataset = DATASETS.build(loader['dataset'])
    while not hasattr(dataset, 'pipeline') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset  # RepeatDataset, ClassBalancedDataset...
    if not hasattr(dataset, 'pipeline'):
        raise TypeError(f'{type(dataset).__name__} of {phase}_dataloader has no pipeline to browse')
    return dataset


def run_pipeline(dataset: Any, index: int) -> Tuple[dict, List[Tuple[str, List[Any]]]]:
    """Run the pipeline on sample ``index`` step by step; the frames after each step that yields some.

    Returns:
        tuple[dict, list]: The sample's annotation and ``(step name, frames)`` pairs in pipeline order.
    """
    info = dataset.get_data_info(index)
    results, steps, layout = dict(info), [], None
    for transform in dataset.pipeline.transforms:
        name = type(transform).__name__
        results = transform(results)
        if results is None:
            raise RuntimeError(f'{name} returned None for sample {index} ({info.get("filename")})')
        layout = getattr(transform, 'input_format', layout)
        if 'inputs' in results:
            steps.append((name, frames_of(results['inputs'], layout)))
        elif 'imgs' in results:
            steps.append((name, frames_of(results['imgs'], layout if not isinstance(results['imgs'], list) else None)))
    if not steps:
        raise RuntimeError(f'no step of the pipeline yields imgs or inputs for sample {index}')
    return info, steps


def sample_frames(steps: List[Tuple[str, List[Any]]], mode: str) -> List[Any]:
    """The frames of a sample in a ``--mode``."""
    if mode == 'original':
        return steps[0][1]
    if mode == 'transformed':
        return steps[-1][1]
    return side_by_side([frames for _, frames in steps])


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    from mmengine.utils import ProgressBar

    from videoalign.engine import load_config

    cfg = load_config(args.config, args.cfg_options)
    dataset = build_dataset(cfg, args.phase)
    number = min(args.show_number, len(dataset))
    os.makedirs(args.output_dir, exist_ok=True)
    written, printed_steps = [], False
    bar = ProgressBar(number)
    for index in range(number):
        info, steps = run_pipeline(dataset, index)
        if args.mode == 'pipeline' and not printed_steps:
            print('\npanels, left to right: ' + ', '.join(name for name, _ in steps))
            printed_steps = True
        frames = sample_frames(steps, args.mode)
        stem = osp.splitext(osp.basename(str(info.get('filename', 'sample'))))[0]
        path = osp.join(args.output_dir, f'{index:04d}_{stem}.mp4')
        write_video(path, frames, args.fps)
        read = count_frames(path)
        if read != len(frames):
            raise RuntimeError(f'{path}: {len(frames)} frames written, {read} read back by OpenCV')
        written.append(path)
        bar.update()
    print(f'\n{len(written)} videos ({args.mode}, {args.phase}) written to {args.output_dir}')
    return written


if __name__ == '__main__':
    main()
