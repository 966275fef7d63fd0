"""Convert an official AIM checkpoint (taoyang1122/adapt-image-models) to videoalign's layout.

    python tools/convert/aim.py vit_b_clip_8frame_k400.pth checkpoints/aim_vit-b16_k400.pth

The official file (mmcv's ``{'meta', 'state_dict', 'optimizer', 'amp'}``) is read without running any pickled code;
only its ``state_dict`` is kept, with the adapters renamed (``T_Adapter.D_fc1`` -> ``t_adapter.down_proj``, ...).
"""
import argparse
import os.path as osp
import sys

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from videoalign.models.converters import convert_aim, load_official_checkpoint, save_converted


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an official AIM checkpoint to videoalign')
    parser.add_argument('src', help='official checkpoint (.pth with a "state_dict" key, or a bare state dict)')
    parser.add_argument('dst', help='where to write the videoalign checkpoint')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        sys.exit(f'error: {args.src} does not exist')
    state_dict = convert_aim(load_official_checkpoint(args.src))
    save_converted(state_dict, args.dst, args.src, 'aim')
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
