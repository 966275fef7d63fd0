"""Make a trained checkpoint publishable: ``python tools/analysis/publish_model.py IN_FILE OUT_FILE [options]``.

Usage::

    python tools/analysis/publish_model.py work_dirs/r3d/epoch_20.pth published/r3d-tiny-finetuned.pth \\
        --config configs/quickstart/r3d-tiny-8f_synthetic.py --name mine/r3d-tiny-finetuned
    # writes published/r3d-tiny-finetuned-<first 8 hex of its sha256>.pth and prints a metafile that lists it
    python tools/analysis/publish_model.py epoch_20.pth r3d-tiny-finetuned.pth --weights-url https://example.com/m/
    # the same, with Weights the address the file will be uploaded to (the file name is appended to a folder)

The optimizer, the parameter schedulers, the message hub (its history) and the rest of the training state are
dropped; the weights (``state_dict``, tensors only) and a minimal ``meta`` (``dataset_meta``, ``epoch``, ``iter``)
are kept, so that the file loads with ``torch.load(path, weights_only=True)``. The file name gets the first 8 hex
digits of the file's sha256 (OpenMMLab's ``publish_model`` rule). The input is read with
:func:`videoalign.compat.checkpoint.load_checkpoint_safely` (nothing pickled runs).

The printed YAML is a metafile of your own in the format of ``configs/*/metafile.yml`` (:mod:`videoalign.hub.metafile`):
one ``Collections`` entry and one ``Models`` entry with ``Name``, ``In Collection``, ``Config``, ``Metadata``
(``Parameters``, ``Epochs``), ``Weights`` (by default the published file's absolute path, which the hub uses where it
is) and ``SHA256``. Save it and give it to the hub (``VIDEOALIGN_METAFILES=my-metafile.yml`` or
``videoalign.hub.register_metafile``); the model then loads by name, e.g.
``init_model('mine/r3d-tiny-finetuned', 'videoalign://mine/r3d-tiny-finetuned')``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis.publish import format_parameters, metafile_lines, save_published, strip_checkpoint
from videoalign.hub.metafile import NAME_PATTERN

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Strip a checkpoint to its weights and name it by its sha256')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument('out_file', help='output checkpoint filename (.pth); the hash is added before .pth')
    parser.add_argument('--config', help='the config of the model, for the Config and Name of the metafile entry')
    parser.add_argument('--name', help='the entry name <method>/<name> (default: user/<OUT_FILE stem>)')
    parser.add_argument('--collection', default='User models', help='the In Collection of the entry')
    parser.add_argument(
        '--weights-url',
        help='the Weights of the entry once uploaded: the file\'s http(s) address, or a folder address ending with / '
        '(the file name is appended); default: the published file\'s absolute path (a local file the hub uses where '
        'it is)')
    return parser.parse_args(argv)


def entry_name_and_config(args: argparse.Namespace) -> Tuple[str, Optional[str]]:
    """The entry's ``Name`` and ``Config`` (relative to the repository root when inside it, else absolute)."""
    config = None
    if args.config:
        if not osp.isfile(args.config):
            raise FileNotFoundError(f'--config {args.config} does not exist')
        config = osp.abspath(args.config)
        if config.startswith(REPO_ROOT + os.sep):
            config = osp.relpath(config, REPO_ROOT)
    name = args.name or f'user/{osp.splitext(osp.basename(args.out_file))[0]}'
    if not NAME_PATTERN.match(name):
        raise ValueError(f'the entry name {name!r} is not of the form <method>/<name> (a lower-case method, then '
                         f'letters, digits, _ . - @); pass --name')
    return name, config


def warn_if_listed(name: str) -> None:
    """Warn when the model index already has ``name``: the hub refuses a second entry of that name."""
    from videoalign.hub.index import get_model_info
    try:
        entry = get_model_info(name)
    except KeyError:
        return
    except Exception as err:  # a malformed metafile elsewhere in the index: not this tool's business
        print(f'warning: the model index could not be read to check the name {name}: {err}', file=sys.stderr)
        return
    print(
        f'warning: the model index already lists {name} (in {entry.metafile}); the hub refuses a second entry of '
        f'that name: pass another --name',
        file=sys.stderr)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    from videoalign.compat.checkpoint import load_checkpoint_safely

    name, config = entry_name_and_config(args)  # its errors before any work
    checkpoint = load_checkpoint_safely(args.in_file, map_location='cpu')
    published, dropped = strip_checkpoint(checkpoint, args.in_file)
    final, sha256 = save_published(published, args.out_file)
    state_dict = published['state_dict']
    parameters = format_parameters(state_dict)
    # the report goes to stderr, so that stdout is the metafile alone (publish_model.py ... > my-metafile.yml)
    print(
        f'{args.in_file}: kept {len(state_dict)} tensors ({parameters} parameters) and meta '
        f'{", ".join(published["meta"]) or "(none)"}',
        file=sys.stderr)
    if dropped:
        print('left out: ' + ', '.join(dropped), file=sys.stderr)
    print(f'published {final} (sha256 {sha256})', file=sys.stderr)

    if args.weights_url is None:
        url = osp.abspath(final)  # a local file: the hub uses it where it is
    else:
        url = args.weights_url + osp.basename(final) if args.weights_url.endswith('/') else args.weights_url
    metadata = {'Parameters': parameters}
    if isinstance(published['meta'].get('epoch'), int) and published['meta']['epoch'] > 0:
        metadata['Epochs'] = published['meta']['epoch']
    warn_if_listed(name)
    print('# a metafile that lists it: save it as e.g. my-metafile.yml and use the model by name with '
          'VIDEOALIGN_METAFILES=my-metafile.yml (see docs/analysis_tools.md)')
    print(metafile_lines(name, args.collection, url, sha256, config, metadata), end='')
    return final


if __name__ == '__main__':
    main()
