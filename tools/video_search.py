"""Text-to-video search over a folder of videos with a video-text retrieval model (ALPRO).

Index a folder once (the embeddings are cached in the index folder; a second run encodes only what is missing or
changed), then query it with free text::

    python tools/video_search.py index CONFIG CHECKPOINT VIDEO_DIR --out INDEX_DIR [--save-tokens]
    python tools/video_search.py query CONFIG CHECKPOINT INDEX_DIR "a dog catches a frisbee" [...] --topk 5 \
        [--rerank 16] [--json results.json]

Videos are ranked by the cosine similarity of their VTC features with the query's; ``--rerank K`` re-scores the ``K``
best of each query with the video-text matching head (``itm_logits[:, 1] + similarity``, as LAVIS), which needs an
index built with ``--save-tokens``. See docs/video_search.md.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Sequence

import torch

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
    import videoalign  # noqa: F401
from videoalign.apis import IndexMismatchError, VideoIndex, check_index, index_videos, init_model, rank_videos
from videoalign.apis.retrieval import VIDEO_EXTS, IndexBusyError
from videoalign.engine import load_config
from videoalign.utils.cli import DictAction
from videoalign.utils.fileio import atomic_write, check_writable


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='config file of the retrieval model (e.g. configs/alpro/...)')
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')


def _add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu', help='device (default: %(default)s)')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load a checkpoint whose keys do not all fit the model (by default missing or unexpected keys are an '
        'error)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; an index is only used with the settings it was '
        'built with')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Text-to-video search over a folder of videos with a video-text retrieval model (ALPRO)')
    commands = parser.add_subparsers(dest='command', metavar='{index,query}')
    commands.required = True

    index = commands.add_parser(
        'index',
        help='encode every video of a folder into an index folder (resumable)',
        description='Encode every video under VIDEO_DIR into INDEX_DIR. A second run encodes only the videos that '
        'are new or changed (size or modification time) and drops those gone from the folder.')
    _add_model_args(index)
    index.add_argument('video_dir', help='folder of the videos (searched recursively)')
    index.add_argument('--out', required=True, help='the index folder (manifest.json and shards/)')
    index.add_argument('--batch-size', type=int, default=8, help='videos per forward pass (default: %(default)s)')
    index.add_argument(
        '--num-workers',
        type=int,
        default=2,
        help='processes decoding videos; 0 decodes in this process '
        '(default: %(default)s)')
    index.add_argument(
        '--save-tokens',
        action='store_true',
        help='also save the video tokens, which query --rerank needs ((1 + patches) x width values a video)')
    index.add_argument(
        '--tokens-dtype',
        choices=('float16', 'float32'),
        default='float16',
        help='dtype of the saved video tokens (default: %(default)s)')
    index.add_argument(
        '--exts',
        nargs='+',
        default=list(VIDEO_EXTS),
        help='file extensions to index, case-insensitive (default: %(default)s)')
    index.add_argument(
        '--shard-size',
        type=int,
        default=256,
        help='videos per shard file; an interrupted run loses at most one shard of work (default: %(default)s)')
    index.add_argument(
        '--rebuild', action='store_true', help='discard the index in --out (e.g. one of another model) and start again')
    index.add_argument('--retry-failed', action='store_true', help='try again the videos that could not be read before')
    index.add_argument(
        '--amp', action='store_true', help='encode under autocast (bf16 on a CPU or a GPU that supports it, else fp16)')
    _add_common_args(index)

    query = commands.add_parser(
        'query',
        help='rank the videos of an index for free-text queries',
        description='Print, for each query, the videos of INDEX_DIR that match it best.')
    _add_model_args(query)
    query.add_argument('index_dir', help='an index folder written by the index command')
    query.add_argument('queries', nargs='+', metavar='QUERY', help='free-text queries (quote each one)')
    query.add_argument('--topk', type=int, default=5, help='videos shown per query (default: %(default)s)')
    query.add_argument(
        '--rerank',
        type=int,
        default=0,
        metavar='K',
        help='re-score the K most similar videos of each query with itm_logits[:, 1] + similarity (LAVIS); needs an '
        'index built with --save-tokens (default: 0, no re-ranking)')
    query.add_argument(
        '--batch-size', type=int, default=32, help='text-video pairs per matching forward pass (default: %(default)s)')
    query.add_argument('--json', metavar='FILE', help='also write the results to this json file')
    _add_common_args(query)
    return parser.parse_args(argv)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            sys.exit(f'error: --{name.replace("_", "-")} must be >= 1, got {value}')


def run_index(args: argparse.Namespace) -> dict:
    """The index command: check the index folder, load the model once, encode what is missing."""
    _check_positive(batch_size=args.batch_size, shard_size=args.shard_size)
    if args.num_workers < 0:
        sys.exit(f'error: --num-workers must be >= 0, got {args.num_workers}')
    if not osp.isdir(args.video_dir):
        sys.exit(f'error: VIDEO_DIR {args.video_dir} is not a folder')
    cfg = load_config(args.config, args.cfg_options)
    if not args.rebuild:  # before the model is loaded: an index of another model is refused at once
        check_index(args.out, cfg, args.checkpoint, args.video_dir)
    model = init_model(cfg, args.checkpoint, device=args.device, strict=not args.non_strict)
    return index_videos(
        model,
        args.video_dir,
        args.out,
        checkpoint=args.checkpoint,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        save_tokens=args.save_tokens,
        tokens_dtype=args.tokens_dtype,
        exts=args.exts,
        shard_size=args.shard_size,
        rebuild=args.rebuild,
        retry_failed=args.retry_failed,
        amp=args.amp)


def format_results(queries: Sequence[str], results: List[List[dict]], index: VideoIndex, rerank: int) -> str:
    """The results as a table per query."""
    lines = []
    for number, (query, matches) in enumerate(zip(queries, results), 1):
        lines.append(f'Query {number}/{len(queries)}: "{query}"  (top {len(matches)} of {len(index)} videos in '
                     f'{index.root})')
        if rerank:
            lines.append(f'  score = ITM logit + cosine similarity for the {min(rerank, len(index))} re-ranked '
                         f'videos (*), cosine similarity for the others')
            lines.append(f'  {"rank":>4}  {"score":>8}  {"cosine":>7}  video')
            for rank, match in enumerate(matches, 1):
                mark = '*' if match['reranked'] else ' '
                lines.append(f'  {rank:>4}  {match["score"]:>8.4f}{mark} {match["similarity"]:>7.4f}  {match["video"]}')
        else:
            lines.append(f'  {"rank":>4}  {"cosine":>7}  video')
            for rank, match in enumerate(matches, 1):
                lines.append(f'  {rank:>4}  {match["score"]:>7.4f}  {match["video"]}')
        lines.append('')
    return '\n'.join(lines)


def run_query(args: argparse.Namespace) -> List[List[dict]]:
    """The query command: check the index, load the model once, rank the videos for every query."""
    _check_positive(topk=args.topk, batch_size=args.batch_size)
    if args.rerank < 0:
        sys.exit(f'error: --rerank must be >= 0, got {args.rerank}')
    json_path = check_writable(args.json, '--json') if args.json else None
    cfg = load_config(args.config, args.cfg_options)
    if check_index(args.index_dir, cfg, args.checkpoint) is None:
        sys.exit(f'error: {args.index_dir} holds no index (no manifest.json); build it with '
                 f'python tools/video_search.py index CONFIG CHECKPOINT VIDEO_DIR --out {args.index_dir}')
    index = VideoIndex.load(args.index_dir)
    if not len(index):
        sys.exit(f'error: the index {args.index_dir} holds no video')
    if args.rerank and index.tokens is None:
        sys.exit(f'error: --rerank needs the video tokens, which {args.index_dir} does not hold: index the folder '
                 f'again with --save-tokens (the videos are encoded again)')
    model = init_model(cfg, args.checkpoint, device=args.device, strict=not args.non_strict)
    results = rank_videos(model, args.queries, index, topk=args.topk, rerank=args.rerank, batch_size=args.batch_size)
    print(format_results(args.queries, results, index, args.rerank))
    if json_path is not None:
        report = dict(
            index=osp.abspath(args.index_dir),
            video_dir=index.root,
            config=args.config,
            checkpoint=args.checkpoint,
            topk=args.topk,
            rerank=args.rerank,
            results=[
                dict(query=q, matches=[dict(rank=r, **m) for r, m in enumerate(matches, 1)])
                for q, matches in zip(args.queries, results)
            ])
        with atomic_write(json_path, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'results written to {json_path}')
    return results


def main(argv: Optional[Sequence[str]] = None):
    args = parse_args(argv)
    try:
        return run_index(args) if args.command == 'index' else run_query(args)
    except (IndexMismatchError, IndexBusyError, FileNotFoundError, FileExistsError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
