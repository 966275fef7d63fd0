"""Score a video against a model's classes or free-text labels and print the top-k.

Example::

    python demo/demo.py video.mp4 --config configs/xclip/... --checkpoint ckpt.pth \
        --labels "three dogs pulling a sled" "dunking a basketball" "changing a wheel"
"""
import argparse
import os
import sys

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from videoalign.apis import inference_video, init_model
from videoalign.utils.cli import DictAction


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
    return parser.parse_args()


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


if __name__ == '__main__':
    main()
