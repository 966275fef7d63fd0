"""Command-line helpers shared by the tools."""
import argparse
from typing import Any, Optional, Sequence

from mmengine.config import DictAction as _MMEngineDictAction


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
