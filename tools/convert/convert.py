"""Convert an official checkpoint to videoalign's layout with a registered converter.

    python tools/convert/convert.py xclip k400_16_8.pth checkpoints/xclip_vit-b16-8f_k400.pth
    python tools/convert/convert.py aim vit_b_clip_8frame_k400.pth checkpoints/aim_vit-b16_k400.pth
    python tools/convert/convert.py efficient_prompt HMDB_best.pth.tar ep_features.pth --options drop_visual=True
    python tools/convert/convert.py --list

The official file is read without running any of its pickled code (X-CLIP's yacs config and DualPath's argparse
namespace become inert placeholders). The output holds ``{'state_dict', 'meta'}`` and is written atomically.
"""
import argparse
import os.path as osp
import sys

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from videoalign.models.converters import convert_checkpoint, converter_names
from videoalign.utils.cli import DictAction


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Convert an official checkpoint to videoalign')
    parser.add_argument('converter', nargs='?', help="the converter (the metafiles' Converter), e.g. xclip")
    parser.add_argument('src', nargs='?', help='the official checkpoint')
    parser.add_argument('dst', nargs='?', help='where to write the videoalign checkpoint')
    parser.add_argument(
        '--options',
        nargs='+',
        action=DictAction,
        default={},
        help='keyword arguments of the converter, e.g. drop_visual=True')
    parser.add_argument('--list', action='store_true', help='list the registered converters and exit')
    args = parser.parse_args()
    if not args.list and not (args.converter and args.src and args.dst):
        parser.error('CONVERTER, SRC and DST are required (or --list)')
    return args


def main() -> None:
    args = parse_args()
    if args.list:
        print('\n'.join(converter_names()))
        return
    if args.converter not in converter_names():
        sys.exit(f'error: no converter named {args.converter!r}; known: {", ".join(converter_names())}')
    try:
        state_dict = convert_checkpoint(args.converter, args.src, args.dst, args.options)
    except (FileNotFoundError, TypeError) as err:
        sys.exit(f'error: {err}')
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
