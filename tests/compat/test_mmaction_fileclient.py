"""Compat item 10: mmaction2's video loaders read files without mmengine's FileClient deprecation warnings."""
import glob
import logging
import os.path as osp
import warnings

import mmaction.datasets.transforms.loading as loading
from mmengine.dataset import Compose
from mmengine.fileio import FileClient
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import videoalign  # noqa: F401
from videoalign.compat.mmaction_fileclient import DEPRECATION_MESSAGES, QuietFileClient

SAMPLE = dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True)
PACK = [dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
# the test pipelines of the synthetic set (decord) and of mmaction2's OpenCV-reading configs
PIPELINES = {
    'decord': [dict(type='DecordInit', io_backend='disk'), SAMPLE,
               dict(type='DecordDecode')] + PACK,
    'opencv': [dict(type='OpenCVInit', io_backend='disk'), SAMPLE,
               dict(type='OpenCVDecode')] + PACK,
}


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _deprecations(messages) -> list:
    return [m for m in messages if str(m).startswith(DEPRECATION_MESSAGES)]


def test_test_pipeline_reads_a_video_without_deprecation_warnings(tiny_synthetic):
    video = sorted(glob.glob(osp.join(tiny_synthetic, 'videos', 'test', '*.mp4')))[0]
    init_default_scope('videoalign')
    logger, records = MMLogger.get_current_instance(), _Records()
    logger.addHandler(records)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            FileClient._instances.clear()  # as in a fresh process: the disk backend is built again
            for transforms in PIPELINES.values():
                packed = Compose(transforms)(dict(filename=video, label=0, start_index=0, modality='RGB'))
                assert tuple(packed['inputs'].shape) == (1, 3, 4, 32, 32)
        assert not _deprecations(str(w.message) for w in caught)
        assert not _deprecations(records.messages), records.messages
        assert loading.FileClient is QuietFileClient and QuietFileClient.__wrapped__ is FileClient
        # the defect, and the filter's reach: FileClient built anywhere else still warns, with both messages
        FileClient._instances.clear()
        FileClient('disk')
        assert len(_deprecations(records.messages)) == 2
        records.messages.clear()
        logger.info('an unrelated message')  # the filter is gone once the client is built
        assert records.messages == ['an unrelated message']
    finally:
        logger.removeHandler(records)
