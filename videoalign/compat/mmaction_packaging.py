"""Work-arounds for packaging defects of mmaction2 1.2.0 and for NumPy 2 removals."""
import importlib.util
import os.path as osp
import sys
import types
import warnings

import numpy as np

DRN_PACKAGE = 'mmaction.models.localizers.drn'


class _MissingDRN:
    """Stand-in for mmaction2's DRN localizer, which the 1.2.0 wheel does not ship."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError('mmaction2 1.2.0 from PyPI does not ship mmaction/models/localizers/drn/ '
                          '(open-mmlab/mmaction2#2714); install mmaction2 from source to use DRN.')


def _drn_is_missing() -> bool:
    """Whether the installed mmaction2 lacks the DRN module (checked without importing mmaction.models)."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False  # mmaction2 is not installed: nothing to provide
    return not any(
        osp.isfile(osp.join(root, 'models', 'localizers', 'drn', 'drn.py')) for root in spec.submodule_search_locations)


def provide_missing_drn() -> bool:
    """Put a stand-in ``mmaction.models.localizers.drn`` package into ``sys.modules`` if the real one is absent.

    Returns:
        bool: Whether the stand-in was installed.
    """
    if DRN_PACKAGE in sys.modules or not _drn_is_missing():
        return False
    package = types.ModuleType(DRN_PACKAGE)
    package.__path__ = []  # a package, so that ``from .drn.drn import DRN`` resolves
    module = types.ModuleType(f'{DRN_PACKAGE}.drn')
    module.DRN = _MissingDRN
    package.drn = module
    sys.modules[DRN_PACKAGE] = package
    sys.modules[module.__name__] = module
    return True


def restore_numpy_aliases() -> list:
    """Restore ``np.Inf`` and ``np.NAN`` where NumPy 2 removed them.

    Returns:
        list: The names that were restored.
    """
    restored = []
    for name, value in (('Inf', np.inf), ('NAN', np.nan)):
        if name not in np.__dict__:
            setattr(np, name, value)
            restored.append(name)
    return restored


def quiet_mmcv_lite() -> None:
    """Silence mmcv-lite's import-time warning that its compiled ops are missing.

    ``mmcv.cnn.bricks.transformer`` warns on every import that ``MultiScaleDeformableAttention`` needs full mmcv;
    nothing in videoalign or in mmaction2's recognition path uses it, so the warning is noise in every log.
    """
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``', category=UserWarning)
