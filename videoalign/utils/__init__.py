"""Utilities: module registration, config checks and environment collection."""
from .collect_env import collect_env
from .config_check import check_cfg_options, check_config_keys
from .setup_env import register_all_modules

__all__ = ['register_all_modules', 'collect_env', 'check_config_keys', 'check_cfg_options']
