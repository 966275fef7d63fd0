"""The model hub: model-zoo entries by name (``videoalign://<method>/<name>``), downloaded, verified and converted.

See ``docs/model_zoo.md``. The public functions are re-exported by :mod:`videoalign.apis`.
"""
from .api import fetch_published, get_checkpoint, load_checkpoint
from .cache import ENV_HOME, ENV_OFFLINE, get_hub_dir
from .errors import (ChecksumError, DownloadError, FormatError, HubError, ManualDownloadError, MetafileError,
                     OfflineError)
from .index import ENV_METAFILES, SCHEME, get_config_path, get_model_info, list_models, register_metafile
from .metafile import Collection, ModelEntry, load_metafile
from .scheme import register_hub_schemes

__all__ = [
    'list_models', 'get_model_info', 'get_config_path', 'get_checkpoint', 'load_checkpoint', 'fetch_published',
    'register_metafile', 'register_hub_schemes', 'load_metafile', 'get_hub_dir', 'ModelEntry', 'Collection', 'SCHEME',
    'ENV_HOME', 'ENV_OFFLINE', 'ENV_METAFILES', 'HubError', 'DownloadError', 'OfflineError', 'ManualDownloadError',
    'ChecksumError', 'FormatError', 'MetafileError'
]
