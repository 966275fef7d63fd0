"""Print a config with its bases and ``--cfg-options`` merged: ``python tools/analysis/print_config.py CONFIG``.

Usage::

    python tools/analysis/print_config.py configs/quickstart/r3d-tiny-8f_synthetic.py
    python tools/analysis/print_config.py configs/quickstart/r3d-tiny-8f_synthetic.py \\
        --cfg-options train_dataloader.batch_size=4 model.cls_head.dropout_ratio=0.5

The config is read as ``tools/train.py`` and ``tools/test.py`` read it (:func:`videoalign.engine.load_config`: its
keys and those of ``--cfg-options`` are checked, an option naming a key that does not exist is an error), and printed
as mmengine's ``Config.pretty_text``: the text ``tools/train.py`` would run, which can be saved and used as a config.
"""
import argparse
import os
import sys
from typing import List, Optional

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.utils.cli import DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Print the fully merged config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; e.g. train_dataloader.batch_size=4')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    from videoalign.engine import load_config

    cfg = load_config(args.config, args.cfg_options)
    text = cfg.pretty_text
    print(f'Config:\n{text}')
    return text


if __name__ == '__main__':
    main()
