"""Fetch model-zoo files by name: download (or take a file downloaded by hand), verify, convert and cache them.

    python tools/download.py xclip/vit-b16-8f_k400 clip/vit-b16     # download, verify, convert
    python tools/download.py 'xclip/*_k400'                          # shell patterns (quoted)
    python tools/download.py --file ~/Downloads/vit_b_clip_8frame_k400.pth aim/vit-b16_k400   # downloaded by hand
    python tools/download.py --list                                  # every entry, and what is cached
    python tools/download.py --cache-dir /data/videoalign NAME       # the same as VIDEOALIGN_HOME=/data/videoalign
    python tools/download.py --force NAME                            # download again, record its hash anew, convert

Names are those of ``model_zoo.md``. Files on Google Drive or Baidu Pan need a browser: the tool prints where to get
them, and ``--file`` adds the downloaded file. ``--force`` fetches the published file again (downloads it, or takes
``--file``; an entry downloaded by hand takes its cached file again), replaces its recorded hash where no official one
is published, and converts it again. It exits with 1 if any requested name did not end in a cached file.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

try:
    import videoalign  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from videoalign.hub import ENV_HOME, HubError, MetafileError, get_checkpoint, get_hub_dir, get_model_info, list_models
from videoalign.hub.api import cached_file, host_of
from videoalign.hub.cache import download_path


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Download, verify and convert model-zoo files by name')
    parser.add_argument('names', nargs='*', help='entry names or shell patterns (see model_zoo.md or --list)')
    parser.add_argument('--file', help='the published file, downloaded by hand, for the given name(s)')
    parser.add_argument('--list', action='store_true', help='list the entries (matching NAMES) and what is cached')
    parser.add_argument('--cache-dir', help=f'the cache folder (default: ${ENV_HOME} or ~/.cache/videoalign)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='fetch the published file again (download, or take --file), record its hash anew where no official one is '
        'published (replacing the record), and convert again')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args()


def expand(patterns: List[str]) -> List[str]:
    """Entry names for names and shell patterns, in the order given; unknown names raise ``KeyError``."""
    names = []
    for pattern in patterns:
        if any(c in pattern for c in '*?['):
            matches = list_models(pattern)
            if not matches:
                raise KeyError(f'no entry matches {pattern!r}')
            names += [m for m in matches if get_model_info(m).weights is not None]
        else:
            names.append(get_model_info(pattern).name)
    return list(dict.fromkeys(names))


def print_list(patterns: List[str]) -> None:
    """A table of the entries: where the file is, its converter, and the cached file if there is one."""
    names = sorted({n for p in patterns for n in list_models(p)}) if patterns else list_models()
    print(f'cache: {get_hub_dir()}')
    width = max((len(n) for n in names), default=4)
    print(f'{"name":<{width}}  {"weights":<28}  {"converter":<16}  cached')
    for name in names:
        entry = get_model_info(name)
        weights = host_of(entry) + (' (by hand)' if entry.manual else '') if entry.weights else '-'
        cached = cached_file(entry) or '-'
        print(f'{name:<{width}}  {weights:<28}  {entry.converter or "-":<16}  {cached}')


def fetch(names: List[str], file: str, force: bool, progress: bool) -> int:
    """Fetch each name; report each result; return the number of failures.

    With ``force``, a published file shared by several names is fetched again once, for the first of them; the others
    take that fresh copy (as with ``--file``) and are converted again.
    """
    failures = 0
    refetched = {}  # published address -> its cached file, fetched again by --force in this run
    for name in names:
        entry = get_model_info(name)
        if entry.weights is None:
            print(f'{name}: no published weights. {entry.note or ""}'.rstrip())
            failures += 1
            continue
        try:
            path = get_checkpoint(name, file=file or refetched.get(entry.weights), progress=progress, force=force)
            if force:
                refetched[entry.weights] = download_path(entry.method, entry.weights, entry.file_name)
        except (HubError, OSError) as err:
            print(f'{name}: {type(err).__name__}: {err}', file=sys.stderr)
            failures += 1
            continue
        if entry.converter is None:
            print(f'{name}: {path} (as published{": " + entry.note if entry.note else ""})')
        else:
            print(f'{name}: {path} (converted with {entry.converter!r})')
    return failures


def main() -> None:
    args = parse_args()
    if args.cache_dir:
        os.environ[ENV_HOME] = osp.abspath(osp.expanduser(args.cache_dir))
    try:
        if args.list:
            print_list(args.names)
            return
        if not args.names:
            sys.exit('error: name the entries to fetch (see --list), e.g. python tools/download.py clip/vit-b16')
        names = expand(args.names)
    except (KeyError, MetafileError) as err:
        sys.exit(f'error: {err.args[0] if isinstance(err, KeyError) else err}')
    if args.file:
        sources = {get_model_info(n).weights for n in names}
        if len(sources) != 1:
            sys.exit(f'error: --file is one published file, but the names come from {len(sources)} different files: '
                     f'{", ".join(sorted(str(s) for s in sources))}')
    failures = fetch(names, args.file, args.force, not args.no_progress)
    if failures:
        sys.exit(f'{failures} of {len(names)} entries are not in the cache (see above)')


if __name__ == '__main__':
    main()
