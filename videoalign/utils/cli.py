"""Command-line helpers shared by the tools."""
import argparse
import logging
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

from mmengine.config import DictAction as _MMEngineDictAction
from mmengine.logging import MMLogger


class DictAction(_MMEngineDictAction):
    """mmengine's ``--cfg-options KEY=VALUE ...`` action; a malformed pair is a usage error, not a traceback.

    mmengine's action raises ``ValueError: not enough values to unpack`` for an option without ``=``; here argparse
    prints the usage and names the option that has no value.
    """

    def __call__(self,
                 parser: argparse.ArgumentParser,
                 namespace: argparse.Namespace,
                 values: Sequence[str],
                 option_string: Optional[str] = None) -> Any:
        for value in values:
            if '=' not in value:
                parser.error(f'{option_string} {value}: expected KEY=VALUE (e.g. train_dataloader.batch_size=4)')
        try:
            return super().__call__(parser, namespace, values, option_string)
        except (ValueError, SyntaxError) as err:
            parser.error(f'{option_string} {" ".join(values)}: {err}')


@contextmanager
def quiet_mmengine() -> Iterator[None]:
    """Show only warnings and errors of mmengine's current logger inside the ``with`` block.

    For INFO records a tool's user did not ask for: the optimizer's parameter groups, or the one record per parameter
    that ``BaseModule.init_weights`` logs when no log file is open (about 130 lines for a CLIP ViT).
    """
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
