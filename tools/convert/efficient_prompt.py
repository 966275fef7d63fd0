"""Convert an official Efficient-Prompt checkpoint (ju-chen/Efficient-Prompt) to videoalign's layout.

    python tools/convert/efficient_prompt.py HMDB_best.pth.tar checkpoints/efficient-prompt_vit-b16-16f_hmdb51.pth
    python tools/convert/efficient_prompt.py HMDB_best.pth.tar ep_features.pth --drop-visual  # cached-feature model

The official file is read without running any pickled code. CLIP's ``logit_scale`` is dropped (the official code
uses a fixed temperature of 0.07).
"""
import argparse
import os.path as osp
import sys

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from videoalign.models.converters import convert_efficient_prompt, load_official_checkpoint, save_converted


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an official Efficient-Prompt checkpoint to videoalign')
    parser.add_argument('src', help='official checkpoint (.pth.tar with a "state_dict" key)')
    parser.add_argument('dst', help='where to write the videoalign checkpoint')
    parser.add_argument('--drop-visual', action='store_true',
                        help='leave out the CLIP image encoder, for the configs that read cached frame features')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        sys.exit(f'error: {args.src} does not exist')
    state_dict = convert_efficient_prompt(load_official_checkpoint(args.src), drop_visual=args.drop_visual)
    save_converted(state_dict, args.dst, args.src, 'efficient_prompt')
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
