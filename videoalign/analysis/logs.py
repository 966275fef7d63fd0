"""Reading mmengine's scalar logs (``<work_dir>/<timestamp>/vis_data/scalars.json``) for the analysis tools.

mmengine's ``LocalVisBackend`` writes one JSON object per line:

- a training line per logging interval: ``epoch`` (epoch-based loops), ``iter`` and ``step`` (the global
  iteration), the losses (``loss``, ``loss_*``), ``lr``, ``time`` and ``data_time`` (seconds per iteration, averaged
  over the interval), ``grad_norm``, ...;
- a validation line per evaluation: the metrics (``acc/top1``, ``acc/top5``, ...), ``time`` and ``data_time`` of the
  validation loop, and ``step``: the epoch (epoch-based loops) or the iteration (iteration-based loops).

A training line is told from a validation one by its ``iter`` key. ``tools/analysis/analyze_logs.py`` is the command
line.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


@dataclass
class ScalarLog:
    """The lines of one ``scalars.json``, split into training and validation lines.

    Attributes:
        path (str): The file.
        train (list[dict]): The training lines, in file order.
        val (list[dict]): The validation lines, in file order.
    """

    path: str
    train: List[Dict] = field(default_factory=list)
    val: List[Dict] = field(default_factory=list)

    @property
    def train_keys(self) -> List[str]:
        """The keys of the training lines, sorted (``epoch``, ``iter`` and ``step`` left out)."""
        return sorted({k for line in self.train for k in line} - {'epoch', 'iter', 'step'})

    @property
    def val_keys(self) -> List[str]:
        """The keys of the validation lines, sorted (``step`` left out)."""
        return sorted({k for line in self.val for k in line} - {'step'})

    def series(self, key: str) -> Tuple[np.ndarray, np.ndarray, str]:
        """The values of a key against the x axis it is logged on.

        A key of the validation lines that is not a training key (a metric) is read from the validation lines,
        against ``step`` (the epoch, or the iteration of an iteration-based run); any other key from the training
        lines, against ``iter``. ``time`` and ``data_time``, in both, are the training ones.

        Args:
            key (str): The key, e.g. ``'loss'`` or ``'acc/top1'``.

        Returns:
            tuple[np.ndarray, np.ndarray, str]: The x values, the y values and the name of the x axis (``'iter'``,
            ``'epoch'`` or ``'step'``).

        Raises:
            KeyError: If no line has the key; the message names the file and lists the keys present.
        """
        if key in self.train_keys:
            lines = [line for line in self.train if key in line]
            return (np.array([line['iter'] for line in lines],
                             dtype=float), np.array([line[key] for line in lines], dtype=float), 'iter')
        if key in self.val_keys:
            lines = [line for line in self.val if key in line]
            x_name = 'epoch' if any('epoch' in line for line in self.train) else 'step'
            return (np.array([line['step'] for line in lines],
                             dtype=float), np.array([line[key] for line in lines], dtype=float), x_name)
        raise KeyError(f'{self.path}: no key {key!r}; the training lines have {", ".join(self.train_keys) or "none"}, '
                       f'the validation lines have {", ".join(self.val_keys) or "none"}')


def find_scalars(path: str) -> str:
    """The ``scalars.json`` that a path names: the file itself, or the newest one under a work dir or a run folder.

    Args:
        path (str): A ``scalars.json`` (or another mmengine JSON log), a ``<work_dir>/<timestamp>`` run folder or a
            work dir.

    Returns:
        str: The file.

    Raises:
        FileNotFoundError: If there is no such file or folder, or the folder holds no ``vis_data/scalars.json``.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'log {path} does not exist (expected a scalars.json, a run folder '
                                f'<work_dir>/<timestamp> or a work dir)')
    direct = osp.join(path, 'vis_data', 'scalars.json')
    if osp.isfile(direct):
        return direct
    runs = sorted(d for d in os.listdir(path) if osp.isfile(osp.join(path, d, 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'{path} holds no vis_data/scalars.json nor <timestamp>/vis_data/scalars.json')
    return osp.join(path, runs[-1], 'vis_data', 'scalars.json')  # timestamps sort in time order


def load_scalars(path: str) -> ScalarLog:
    """Read a ``scalars.json`` (or a work dir or run folder, see :func:`find_scalars`).

    Args:
        path (str): The file or folder.

    Returns:
        ScalarLog: Its lines.

    Raises:
        FileNotFoundError: If it is not there.
        ValueError: If a line is not a JSON object (the message names the file and the line), or if the file has
            no line.
    """
    path = find_scalars(path)
    log = ScalarLog(path)
    with open(path, encoding='utf-8') as f:
        for lineno, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {lineno}: not a JSON object ({err}): {text.strip()[:80]!r}') from None
            if not isinstance(line, dict):
                raise ValueError(f'{path}, line {lineno}: expected a JSON object, got {type(line).__name__}')
            if 'iter' in line:
                log.train.append(line)
            elif 'step' in line:
                log.val.append(line)
    if not log.train and not log.val:
        raise ValueError(f'{path}: no training or validation line (expected mmengine\'s scalars.json: one JSON object '
                         f'per line with "iter" or "step")')
    return log


@dataclass
class TrainTime:
    """Statistics of the iteration time of a run (seconds per iteration, as logged).

    Attributes:
        epochs (list[int]): The epochs (or 1 for an iteration-based run), in order.
        epoch_means (list[float]): The mean logged ``time`` of each epoch.
        mean (float): The mean over all kept values.
        slowest (int): The epoch of the largest mean.
        fastest (int): The epoch of the smallest mean.
        std_over_epochs (float): The standard deviation of the epoch means.
        num_values (int): How many logged values were averaged.
    """

    epochs: List[int]
    epoch_means: List[float]
    mean: float
    slowest: int
    fastest: int
    std_over_epochs: float
    num_values: int


def train_time(log: ScalarLog, include_outliers: bool = False) -> TrainTime:
    """The iteration time of a run from the ``time`` of its training lines.

    The first line of each epoch is usually slow (workers start, caches fill): it is left out, as in mmaction2, unless
    ``include_outliers``; an epoch with a single line keeps it.

    Args:
        log (ScalarLog): The log.
        include_outliers (bool): Keep the first line of each epoch. Defaults to False.

    Returns:
        TrainTime: The statistics.

    Raises:
        KeyError: If no training line has ``time``; the message names the file and lists the keys present.
    """
    lines = [line for line in log.train if 'time' in line]
    if not lines:
        raise KeyError(f'{log.path}: no training line has the key \'time\'; the training lines have '
                       f'{", ".join(log.train_keys) or "none (it has only validation lines)"}')
    by_epoch: Dict[int, List[float]] = {}
    for line in lines:
        by_epoch.setdefault(int(line.get('epoch', 1)), []).append(float(line['time']))
    epochs = sorted(by_epoch)
    kept = [by_epoch[e] if include_outliers or len(by_epoch[e]) == 1 else by_epoch[e][1:] for e in epochs]
    means = [float(np.mean(values)) for values in kept]
    return TrainTime(
        epochs=epochs,
        epoch_means=means,
        mean=float(np.mean(np.concatenate([np.asarray(v) for v in kept]))),
        slowest=epochs[int(np.argmax(means))],
        fastest=epochs[int(np.argmin(means))],
        std_over_epochs=float(np.std(means)),
        num_values=sum(len(v) for v in kept))


def format_train_time(stats: TrainTime) -> str:
    """The report of :func:`train_time`, as ``cal_train_time`` prints it.

    Args:
        stats (TrainTime): The statistics.

    Returns:
        str: Several lines.
    """
    return '\n'.join([
        f'slowest epoch {stats.slowest}, average time is {max(stats.epoch_means):.4f} s/iter',
        f'fastest epoch {stats.fastest}, average time is {min(stats.epoch_means):.4f} s/iter',
        f'time std over epochs is {stats.std_over_epochs:.4f}',
        f'average iter time: {stats.mean:.4f} s/iter (over {stats.num_values} logged values)',
    ])


def default_legend(logs: Sequence[ScalarLog], keys: Sequence[str]) -> List[str]:
    """Legend entries ``<run>_<key>`` for each log and key (log-major), the run being the timestamp folder.

    Args:
        logs (Sequence[ScalarLog]): The logs.
        keys (Sequence[str]): The keys.

    Returns:
        list[str]: ``len(logs) * len(keys)`` entries.
    """
    names = []
    for log in logs:
        vis = osp.dirname(osp.abspath(log.path))
        run = osp.basename(osp.dirname(vis)) if osp.basename(vis) == 'vis_data' else osp.basename(log.path)
        names.append(run)
    return [f'{name}_{key}' for name in names for key in keys]


def resolve_legend(legend: Optional[Sequence[str]], logs: Sequence[ScalarLog], keys: Sequence[str]) -> List[str]:
    """The legend entry of each (log, key) pair, log-major.

    Args:
        legend (Sequence[str], optional): ``--legend``: one entry per log and key (mmaction2's rule) or one per log.
        logs (Sequence[ScalarLog]): The logs.
        keys (Sequence[str]): The keys.

    Returns:
        list[str]: ``len(logs) * len(keys)`` entries.

    Raises:
        ValueError: If ``legend`` has another length.
    """
    if not legend:
        return default_legend(logs, keys)
    if len(legend) == len(logs) * len(keys):
        return list(legend)
    if len(legend) == len(logs):
        return [f'{name}_{key}' if len(keys) > 1 else name for name in legend for key in keys]
    raise ValueError(f'--legend has {len(legend)} entries; expected one per log ({len(logs)}) or one per log and key '
                     f'({len(logs)} x {len(keys)} = {len(logs) * len(keys)})')
