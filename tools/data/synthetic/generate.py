"""Generate the synthetic temporal-order video dataset (mp4 videos, mmaction2 annotation files, caption files and a
WordPiece ``vocab.txt``), and frames of its training clips as an image set (``--frames-as-images``, on by default)
with their clips' captions and a unigram list for ALPRO's pretraining.

Run from the repository root, no installation needed::

    python tools/data/synthetic/generate.py --out-dir data/synthetic
"""
import argparse
import os.path as osp
import sys
import time

try:
    import videoalign  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != 'videoalign':
        raise
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..')))

import videoalign.datasets.synthetic as synthetic  # noqa: E402
import videoalign.datasets.synthetic_pretrain as synthetic_pretrain  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Generate the synthetic video dataset whose classes need temporal order '
        f'({len(synthetic.SYNTHETIC_CLASSES)} classes in 5 time-reversed pairs).')
    parser.add_argument('--out-dir', default='data/synthetic', help='output folder (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: %(default)s)')
    parser.add_argument('--num-train', type=int, default=80, help='training clips per class (default: %(default)s)')
    parser.add_argument('--num-val', type=int, default=10, help='validation clips per class (default: %(default)s)')
    parser.add_argument('--num-test', type=int, default=10, help='test clips per class (default: %(default)s)')
    parser.add_argument('--num-frames', type=int, default=16, help='frames per clip (default: %(default)s)')
    parser.add_argument('--size', type=int, default=64, help='frame height and width (default: %(default)s)')
    parser.add_argument('--fps', type=int, default=8, help='frame rate of the videos (default: %(default)s)')
    parser.add_argument(
        '--frames-as-images',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='also save frames of the training clips as images with an image list (an image set, e.g. for BEVT); '
        'on by default')
    parser.add_argument(
        '--frames-per-clip',
        type=int,
        default=1,
        help='frames saved as images per training clip (default: %(default)s)')
    parser.add_argument(
        '--image-ext', choices=synthetic.IMAGE_EXTENSIONS, default='png', help='image format (default: %(default)s)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a dataset in --out-dir that was generated with other parameters')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Generate the dataset and print where it is.

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = synthetic.generate_synthetic_dataset(
            args.out_dir,
            num_train_per_class=args.num_train,
            num_val_per_class=args.num_val,
            num_test_per_class=args.num_test,
            num_frames=args.num_frames,
            size=args.size,
            fps=args.fps,
            seed=args.seed,
            overwrite=args.overwrite)
        images = None
        if args.frames_as_images:
            images = synthetic.generate_synthetic_images(
                args.out_dir, frames_per_clip=args.frames_per_clip, ext=args.image_ext, overwrite=args.overwrite)
            pretrain = synthetic_pretrain.generate_synthetic_pretrain_files(args.out_dir)
    except (ValueError, FileExistsError) as error:
        sys.exit(f'error: {error}')
    elapsed = time.perf_counter() - start
    reused = summary['reused'] and (images is None or images['reused'])
    state = 'already present, reused' if reused else f'generated in {elapsed:.1f} s'
    print(f'Synthetic dataset in {summary["out_dir"]} ({state})')
    print(f'  classes:   {len(summary["classes"])} (label map: {summary["label_map"]})')
    print(f'  vocab:     {summary["vocab_file"]} (WordPiece vocabulary of the captions and questions)')
    print(f'  videos:    {summary["video_root"]}')
    for split, count in summary['num_clips'].items():
        print(f'  {split + ":":<10} {count:5d} clips  {summary["ann_files"][split]}')
        print(f'  {"":<10} {"":5}        {summary["caption_files"][split]}')
    if images is not None:
        print(f'  images:    {images["num_images"]:5d} frames of the train clips  {images["ann_file"]}')
        print(f'  {"":<10} {"":5}        {images["image_root"]}')
        print(f'  {"":<10} {pretrain["num_images"]:5d} captioned  {pretrain["image_caption_file"]} (ALPRO pretraining)')
        print(f'  unigrams:  {pretrain["num_unigrams"]:5d} words      {pretrain["unigram_file"]}')


if __name__ == '__main__':
    main()
