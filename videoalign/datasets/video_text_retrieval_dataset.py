"""Video-text retrieval annotations (mmaction2/MSR-VTT json, ALPRO jsonl, synthetic captions) as pairs or videos."""
import json
import logging
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

from mmaction.datasets.msrvtt_datasets import pre_text as mmaction_pre_text
from mmengine.logging import print_log

from ..registry import DATASETS
from .video_dataset import VideoDataset

#: What each annotation format looks like, for error messages.
FORMATS = ('a json list [{"video": <path>, "caption": <str> | [<str>, ...]}, ...] (mmaction2 / MSR-VTT), '
           'json lines {"clip_name": <name>, "caption": <str>} (ALPRO), '
           'or a json dict {<path>: [<str>, ...], ...} (the synthetic captions)')


@DATASETS.register_module()
class VideoTextRetrievalDataset(VideoDataset):
    """Videos and their captions for text-video retrieval: (video, caption) pairs to train, videos to evaluate.

    The annotation format is recognised from the content:

    - mmaction2's ``MSRVTTRetrieval`` json: a list ``[{"video": <path>, "caption": <str> | [<str>, ...]}, ...]``
      (an item with ``"clip_name"`` instead of ``"video"`` is read as in ALPRO's format);
    - ALPRO's json lines (``txt_db/*.jsonl``): one ``{"clip_name": <name>, "caption": <str>}`` per line, a video
      repeated over lines for its captions; the path is ``clip_name + video_ext`` (not added when ``clip_name``
      already ends with it);
    - the synthetic captions (``synthetic_<split>_captions.json``): a dict ``{<path>: [<str>, ...]}``.

    Anything else raises an error naming the file (and line or item) and the expected formats. Paths are joined
    to ``data_prefix['video']``. The captions of a video are grouped, videos in the order of their first
    appearance and captions in file order; with ``paragraph=True`` (DiDeMo) they are joined with spaces into one
    text per video. Captions are kept as written (ALPRO's tokenizer lower-cases them); ``pre_text=True`` applies
    mmaction2's ``pre_text`` instead (lower case, punctuation removed).

    Videos are numbered ``0 .. num_videos - 1`` and texts ``0 .. num_texts - 1`` in that order, in both modes:

    - training (``test_mode=False``): one sample per (video, caption) pair, with ``text`` (str), ``video_id`` and
      ``text_id`` (int); an unreadable video is reported and another pair is drawn, as in
      :class:`~videoalign.datasets.VideoDataset`. mmaction2's ``PackActionInputs`` puts ``video_id`` in the
      metainfo (it is one of its default ``meta_keys``); list it in ``algorithm_keys`` only with ``meta_keys``
      that leave it out (mmaction2 refuses a key that is both);
    - test mode: one sample per video, with ``text`` (list of str), ``gt_video_id`` (the video's id, once per
      text) and ``gt_text_id`` (list), and the dataset attributes ``num_videos`` and ``num_texts``: the contract
      of mmaction2's ``MSRVTTRetrieval`` and ``RetrievalValLoop`` / ``RetrievalTestLoop``. Every video must be
      scored against every text, so no video can stand in for another: the videos are checked at load
      (``check_videos``, the default in test mode) and an unreadable one is left out with a warning that lists
      them, together with its captions, before the ids are given (the ids stay contiguous and the metrics are
      over the readable videos; :attr:`dropped_videos` lists the others). Without the check, a video that fails
      in the pipeline raises an error that names it.

    Args:
        ann_file (str): Path to the annotation file.
        pipeline (list): Data transforms.
        video_ext (str): Extension added to ALPRO's ``clip_name``. Defaults to ``'.mp4'``.
        paragraph (bool): Join the captions of a video into one text (DiDeMo's paragraph retrieval). Defaults to
            False.
        pre_text (bool): Clean the captions with mmaction2's ``pre_text``. Defaults to False (as ALPRO).
        check_videos (bool, optional): Check at load that decord reads each video (first and last frame) and
            leave out those it cannot read. None means in test mode only. Defaults to None.
        source (str, optional): A ``source`` given to every sample, e.g. ``'video'`` for ALPRO's pretraining, which
            picks the video or image entity prompts by it. None adds no key. Defaults to None.
        **kwargs: Other arguments of :class:`~videoalign.datasets.VideoDataset` (``data_prefix``, ``test_mode``,
            ``max_skips``, ``start_index``, ``modality``; not ``class_names``, ``num_shots``, ``multi_class``).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 video_ext: str = '.mp4',
                 paragraph: bool = False,
                 pre_text: bool = False,
                 check_videos: Optional[bool] = None,
                 source: Optional[str] = None,
                 **kwargs) -> None:
        for key in ('class_names', 'num_shots', 'multi_class'):
            if kwargs.get(key):
                raise ValueError(f'{key} does not apply to {self.__class__.__name__}')
        self.video_ext = video_ext
        self.paragraph = paragraph
        self.pre_text = pre_text
        self.check_videos = kwargs.get('test_mode', False) if check_videos is None else check_videos
        self.source = source
        self.dropped_videos: List[str] = []
        self._num_videos = self._num_texts = 0
        super().__init__(ann_file, pipeline, **kwargs)

    @property
    def num_videos(self) -> int:
        """Number of videos (after any left out as unreadable)."""
        if not self._fully_initialized:
            self.full_init()
        return self._num_videos

    @property
    def num_texts(self) -> int:
        """Number of texts: captions, or one paragraph per video with ``paragraph=True``."""
        if not self._fully_initialized:
            self.full_init()
        return self._num_texts

    def load_data_list(self) -> List[dict]:
        """Read the annotation file into samples: pairs to train, videos in test mode."""
        videos = self._read_annotations()
        if self.check_videos:
            videos = self._drop_unreadable(videos)
        data_list = []
        text_id = 0
        for video_id, (filename, captions) in enumerate(videos):
            if self.pre_text:
                captions = [mmaction_pre_text(c) for c in captions]
            if self.paragraph:
                captions = [' '.join(captions)]
            text_ids = list(range(text_id, text_id + len(captions)))
            text_id += len(captions)
            if self.test_mode:
                data_list.append(
                    dict(filename=filename, text=captions, gt_video_id=[video_id] * len(captions), gt_text_id=text_ids))
            else:
                data_list.extend(
                    dict(filename=filename, text=c, video_id=video_id, text_id=t) for c, t in zip(captions, text_ids))
        self._num_videos, self._num_texts = len(videos), text_id
        if self.source is not None:
            for info in data_list:
                info['source'] = self.source
        return data_list

    def filter_data(self) -> List[dict]:
        """All samples (few-shot subsets do not apply)."""
        return self.data_list

    def _read_annotations(self) -> List[Tuple[str, List[str]]]:
        """``(path, captions)`` of each video, in the order of first appearance."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file {self.ann_file} does not exist (expected {FORMATS})')
        with open(self.ann_file, encoding='utf-8-sig') as f:
            content = f.read()
        try:
            data = json.loads(content)
        except ValueError:
            data = None  # json lines, or not json at all
        if isinstance(data, list):
            pairs = [self._list_item(item, i) for i, item in enumerate(data)]
        elif isinstance(data, dict) and 'clip_name' not in data:
            pairs = self._dict_items(data)
        else:  # json lines (one line parses as a dict with "clip_name")
            pairs = self._json_lines(content)
        grouped: Dict[str, List[str]] = {}
        for name, captions in pairs:
            if self.data_prefix.get('video') is not None:
                name = osp.join(self.data_prefix['video'], name)
            grouped.setdefault(name, []).extend(captions)
        if not grouped:
            raise ValueError(f'annotation file {self.ann_file} lists no videos')
        return list(grouped.items())

    def _error(self, where: str, message: str) -> ValueError:
        """An error that names the file, the place in it and the expected formats."""
        return ValueError(f'{self.ann_file}{where}: {message}; expected {FORMATS}')

    def _captions(self, value: Any, where: str) -> List[str]:
        """A caption or a list of captions as a list of str."""
        captions = [value] if isinstance(value, str) else value
        if not isinstance(captions, list) or not captions or not all(isinstance(c, str) for c in captions):
            raise self._error(where, f'a caption must be a str or a non-empty list of str, got {value!r}')
        return captions

    def _clip_path(self, clip_name: Any, where: str) -> str:
        """ALPRO's ``clip_name`` as a path: ``video_ext`` added unless present."""
        if not isinstance(clip_name, str) or not clip_name:
            raise self._error(where, f'"clip_name" must be a non-empty str, got {clip_name!r}')
        return clip_name if clip_name.endswith(self.video_ext) else clip_name + self.video_ext

    def _list_item(self, item: Any, index: int) -> Tuple[str, List[str]]:
        """One item of a json list: mmaction2's ``{video, caption}`` (or ALPRO's ``{clip_name, caption}``)."""
        where = f' item {index}'
        if not isinstance(item, dict) or 'caption' not in item or not ({'video', 'clip_name'} & set(item)):
            raise self._error(where, f'cannot read {item!r}')
        if 'video' in item:
            if not isinstance(item['video'], str) or not item['video']:
                raise self._error(where, f'"video" must be a non-empty str, got {item["video"]!r}')
            path = item['video']
        else:
            path = self._clip_path(item['clip_name'], where)
        return path, self._captions(item['caption'], where)

    def _dict_items(self, data: dict) -> List[Tuple[str, List[str]]]:
        """The synthetic ``{path: [captions]}``."""
        return [(path, self._captions(captions, f' entry {path!r}')) for path, captions in data.items()]

    def _json_lines(self, content: str) -> List[Tuple[str, List[str]]]:
        """ALPRO's json lines ``{"clip_name": ..., "caption": ...}``."""
        pairs = []
        for lineno, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            where = f':{lineno}'
            try:
                item = json.loads(line)
            except ValueError as err:
                raise self._error(where, f'cannot parse {line.strip()[:200]!r} ({err})') from None
            if not isinstance(item, dict) or 'clip_name' not in item or 'caption' not in item:
                raise self._error(where, f'cannot read {line.strip()[:200]!r}')
            pairs.append((self._clip_path(item['clip_name'], where), self._captions(item['caption'], where)))
        return pairs

    def _drop_unreadable(self, videos: List[Tuple[str, List[str]]]) -> List[Tuple[str, List[str]]]:
        """The videos decord can read; the others are listed in :attr:`dropped_videos` and a warning."""
        readable = [self.is_readable(path) for path, _ in videos]
        kept = [video for video, ok in zip(videos, readable) if ok]
        self.dropped_videos = [path for (path, _), ok in zip(videos, readable) if not ok]
        if not kept:
            raise RuntimeError(f'none of the {len(videos)} videos listed in {self.ann_file} could be read; check '
                               f'the videos under {self.data_prefix.get("video")}')
        if self.dropped_videos:
            num_captions = sum(len(c) for (_, c), ok in zip(videos, readable) if not ok)
            print_log(
                f'{self.ann_file}: left out {len(self.dropped_videos)} of {len(videos)} videos that cannot be read, '
                f'with their {num_captions} caption(s): {", ".join(self.dropped_videos)}',
                logger='current',
                level=logging.WARNING)
        return kept

    def _stand_in(self, idx: int, num_skipped: int) -> int:
        """Training: another pair stands in for an unreadable video. Test mode: an error that names it."""
        if self.test_mode:
            raise RuntimeError(f'cannot read the video {self.get_data_info(idx)["filename"]} (listed in '
                               f'{self.ann_file}); retrieval scores every video against every text, so none can '
                               f'stand in: build the dataset with check_videos=True to leave unreadable videos out')
        return super()._stand_in(idx, num_skipped)
