"""Score a video against a model's classes or free-text labels, print the top-k and optionally write the video with
them drawn on it (mmaction2's ``--out-filename``).

Example::

    python demo/demo.py video.mp4 --config configs/xclip/... --checkpoint ckpt.pth \
        --labels "three dogs pulling a sled" "dunking a basketball" "changing a wheel" --out-filename out.mp4
"""
import argparse
import os
import sys
from typing import Optional

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from videoalign.apis import inference_video, init_model
from videoalign.utils.cli import DictAction
from videoalign.visualization import FOURCC, parse_color, score_lines, write_labelled_video


def check_output_options(out_filename: str, fps: Optional[float], font_color: str) -> None:
    """Raise ``ValueError`` for an output the demo cannot write, before the model is built.

    Args:
        out_filename (str): The output video.
        fps (float, optional): Its frame rate.
        font_color (str): The text colour.
    """
    if os.path.splitext(out_filename)[1].lower() not in FOURCC:
        raise ValueError(f'--out-filename {out_filename}: give a {", ".join(FOURCC)} file (OpenCV writes it)')
    if fps is not None and fps <= 0:
        raise ValueError(f'--fps must be positive, got {fps}')
    parse_color(font_color)


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Score a video with a videoalign model')
    parser.add_argument('video', help='video file')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument('--checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--labels',
        nargs='+',
        help='free-text labels to score (open vocabulary); for a model with a fixed set of classes, '
        'the names of its classes in order')
    parser.add_argument('--label-file', help='file of labels, one per line or id,name CSV (instead of --labels)')
    parser.add_argument('--topk', type=int, default=5, help='how many labels to print')
    parser.add_argument('--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='run the model under autocast (bf16 on a CPU or a GPU that has it, else fp16)')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load a checkpoint whose keys do not all fit the model (by default an error)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    parser.add_argument(
        '--out-filename',
        help='write the video with the top-k labels and scores drawn on every frame (.mp4, .m4v, .mov or .avi)')
    parser.add_argument(
        '--fps', type=float, default=None, help='frame rate of --out-filename (default: that of the input video)')
    parser.add_argument(
        '--font-scale', type=float, default=None, help='OpenCV font scale of the text (default: from the frame size)')
    parser.add_argument(
        '--font-color', default='white', help='text colour: a name, a hex code (#ff8800) or R,G,B (default: white)')
    parser.add_argument(
        '--target-resolution',
        nargs=2,
        type=int,
        metavar=('WIDTH', 'HEIGHT'),
        help='size of --out-filename; -1 for one of them keeps the aspect ratio (default: the input\'s size)')
    args = parser.parse_args()
    if args.out_filename is None and (args.fps is not None or args.font_scale is not None
                                      or args.target_resolution is not None):
        parser.error('--fps, --font-scale and --target-resolution apply to --out-filename')
    if args.out_filename is not None:
        try:
            check_output_options(args.out_filename, args.fps, args.font_color)
        except ValueError as err:
            parser.error(str(err))
    return args


def main() -> None:
    args = parse_args()
    labels = args.labels
    if args.label_file:
        from videoalign.datasets.class_names import load_class_names
        labels = load_class_names(args.label_file)
    model = init_model(
        args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options, strict=not args.non_strict)
    results = inference_video(model, args.video, labels=labels, topk=args.topk, amp=args.amp)
    print(f'top-{len(results)} for {args.video}:')
    for rank, (label, score) in enumerate(results, 1):
        print(f'{rank:2d}. {score:.4f}  {label}')
    if args.out_filename:
        num_frames = write_labelled_video(
            args.video,
            args.out_filename,
            score_lines(results),
            fps=args.fps,
            font_scale=args.font_scale,
            font_color=args.font_color,
            target_resolution=args.target_resolution)
        print(f'wrote {args.out_filename} ({num_frames} frames)')


if __name__ == '__main__':
    main()
