"""Convert an official X-CLIP checkpoint (microsoft/VideoX) to videoalign's layout.

    python tools/convert/xclip.py k400_16_8.pth checkpoints/xclip_vit-b16-8f_k400.pth

The official file is read without running any pickled code (its yacs config becomes an inert placeholder).
"""
import argparse
import os.path as osp
import sys

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from videoalign.models.converters import convert_xclip, load_official_checkpoint, save_converted


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an official X-CLIP checkpoint to videoalign')
    parser.add_argument('src', help='official checkpoint (.pth with a "model" key)')
    parser.add_argument('dst', help='where to write the videoalign checkpoint')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        sys.exit(f'error: {args.src} does not exist')
    state_dict = convert_xclip(load_official_checkpoint(args.src))
    save_converted(state_dict, args.dst, args.src, 'xclip')
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
