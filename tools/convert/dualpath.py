"""Convert an official DualPath checkpoint (park-jungin/DualPath) to videoalign's layout.

    python tools/convert/dualpath.py checkpoint-49.pth checkpoints/dualpath_vit-b16-16f_hmdb51.pth

The official file is read without running any pickled code: its ``args`` (an ``argparse.Namespace``) becomes an inert
placeholder whose plain values (``data_set``, ``num_frames``, ``nb_classes``, ...) are kept in the output's ``meta``.
The unused CLIP text tower is dropped.
"""
import argparse
import os.path as osp
import sys

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from videoalign.models.converters import (convert_dualpath, dualpath_state_dict, load_official_checkpoint,
                                         save_converted)

_PLAIN = (str, int, float, bool, type(None))


def official_args(checkpoint) -> dict:
    """The plain values of the official ``args`` Namespace (as unpickled inertly), or an empty dict."""
    args = checkpoint.get('args') if isinstance(checkpoint, dict) else None
    state = getattr(args, 'state', None)
    if not isinstance(state, dict):
        return {}
    return {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, _PLAIN)}


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an official DualPath checkpoint to videoalign')
    parser.add_argument('src', help='official checkpoint (.pth with a "model" or "module" key, or a state dict)')
    parser.add_argument('dst', help='where to write the videoalign checkpoint')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        sys.exit(f'error: {args.src} does not exist')
    checkpoint = load_official_checkpoint(args.src)
    state_dict = convert_dualpath(checkpoint)
    dropped = len(dualpath_state_dict(checkpoint)) - len(state_dict)
    save_converted(state_dict, args.dst, args.src, 'dualpath', official_args=official_args(checkpoint))
    print(f'{len(state_dict)} tensors written to {args.dst} ({dropped} text-tower tensors dropped)')


if __name__ == '__main__':
    main()
