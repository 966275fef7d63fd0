"""Versions of the stack, printed at the start of every run."""
from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env


def collect_env() -> dict:
    """Collect the versions of the running environment, videoalign and its OpenMMLab dependencies included.

    Returns:
        dict: Name to version.
    """
    import decord
    import mmaction
    import open_clip

    import videoalign

    env = collect_base_env()
    env['videoalign'] = f'{videoalign.__version__}+{get_git_hash(digits=7)}'
    env['MMAction2'] = mmaction.__version__
    env['open_clip'] = open_clip.__version__
    env['decord'] = decord.__version__
    try:
        import mmcv
        env['MMCV'] = mmcv.__version__
    except ImportError:
        env['MMCV'] = 'not installed'
    return env


if __name__ == '__main__':
    for name, value in collect_env().items():
        print(f'{name}: {value}')
