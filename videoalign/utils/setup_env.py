"""Registration of all videoalign modules and the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every videoalign module so that its components are registered.

    The registries import their ``locations`` lazily, so configs do not need this; scripts that build components
    directly (``MODELS.build(...)``) do.

    Args:
        init_default_scope (bool): Also make ``'videoalign'`` the default scope, so that registries search
            videoalign first and then mmaction2 and mmengine. Defaults to True.
    """
    import videoalign.compat  # noqa: F401
    import videoalign.datasets  # noqa: F401
    import videoalign.engine  # noqa: F401
    import videoalign.evaluation  # noqa: F401
    import videoalign.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('videoalign'):
        DefaultScope.get_instance('videoalign', scope_name='videoalign')
    elif current.scope_name != 'videoalign':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "videoalign"; '
                      'register_all_modules sets it to "videoalign".')
        DefaultScope.get_instance(f'videoalign-{datetime.datetime.now()}', scope_name='videoalign')
