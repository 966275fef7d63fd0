"""videoalign's registries, each a child of mmaction2's (and so of mmengine's).

With ``default_scope = 'videoalign'`` a config names videoalign components and, through the parents, mmaction2 and
mmengine components alike (``type='Recognizer3D'``, ``type='AdamW'``). ``locations`` lists the modules imported
lazily the first time a registry is searched, so a config does not need ``custom_imports`` for videoalign itself.
mmengine imports only the ``locations`` of the registry searched, not those of its parents, so each registry also
lists the mmaction2 modules that fill its parent.

Two registrations shadow mmaction2's, on purpose: they are supersets that an mmaction2 config should get without a
change (:data:`OVERRIDES`, checked by ``tests/test_registry.py``). Every other videoalign name is new.
"""
from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
from mmaction.registry import FUNCTION as MMACTION_FUNCTION
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import INFERENCERS as MMACTION_INFERENCERS
from mmaction.registry import LOG_PROCESSORS as MMACTION_LOG_PROCESSORS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMACTION_OPTIM_WRAPPER_CONSTRUCTORS
from mmaction.registry import OPTIM_WRAPPERS as MMACTION_OPTIM_WRAPPERS
from mmaction.registry import OPTIMIZERS as MMACTION_OPTIMIZERS
from mmaction.registry import PARAM_SCHEDULERS as MMACTION_PARAM_SCHEDULERS
from mmaction.registry import RUNNER_CONSTRUCTORS as MMACTION_RUNNER_CONSTRUCTORS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TASK_UTILS as MMACTION_TASK_UTILS
from mmaction.registry import TOKENIZER as MMACTION_TOKENIZER
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmaction.registry import WEIGHT_INITIALIZERS as MMACTION_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS', 'FUNCTIONS', 'TOKENIZERS', 'CONVERTERS'
]

#: The videoalign registrations that take the name of an mmaction2 component, and why.
OVERRIDES = {
    ('DATASETS', 'VideoDataset'):
    'the same annotation format, plus errors that name file:line, unreadable videos '
    'reported and skipped instead of fatal, line numbers for the label check, few-shot subsets (num_shots)',
    ('METRICS', 'AccMetric'):
    'the same metrics; the stand-ins of unreadable videos are left out and counted, and '
    'predictions are scored in float32 (bf16 runs)',
}


def _child(name: str, parent: Registry, *locations: str) -> Registry:
    """A videoalign registry under ``parent``, importing ``locations`` lazily."""
    return Registry(name, parent=parent, locations=list(locations))


RUNNERS = _child('runner', MMACTION_RUNNERS, 'videoalign.engine', 'mmaction.engine.runner')
RUNNER_CONSTRUCTORS = _child('runner constructor', MMACTION_RUNNER_CONSTRUCTORS, 'videoalign.engine',
                             'mmaction.engine.runner')
LOOPS = _child('loop', MMACTION_LOOPS, 'videoalign.engine', 'mmaction.engine.runner')
HOOKS = _child('hook', MMACTION_HOOKS, 'videoalign.engine', 'mmaction.engine.hooks')

DATASETS = _child('dataset', MMACTION_DATASETS, 'videoalign.datasets', 'mmaction.datasets')
DATA_SAMPLERS = _child('data sampler', MMACTION_DATA_SAMPLERS, 'videoalign.datasets', 'mmaction.datasets')
TRANSFORMS = _child('transform', MMACTION_TRANSFORMS, 'videoalign.datasets', 'mmaction.datasets.transforms')

MODELS = _child('model', MMACTION_MODELS, 'videoalign.models', 'mmaction.models')
MODEL_WRAPPERS = _child('model_wrapper', MMACTION_MODEL_WRAPPERS, 'videoalign.models', 'mmaction.models')
WEIGHT_INITIALIZERS = _child('weight initializer', MMACTION_WEIGHT_INITIALIZERS, 'videoalign.models', 'mmaction.models')
TASK_UTILS = _child('task util', MMACTION_TASK_UTILS, 'videoalign.models', 'mmaction.models')
# mmaction2's tokenizer registry has no parent; videoalign's is its child so mmaction2's tokenizers stay reachable.
TOKENIZERS = _child('tokenizer', MMACTION_TOKENIZER, 'videoalign.models', 'mmaction.models')

OPTIMIZERS = _child('optimizer', MMACTION_OPTIMIZERS, 'videoalign.engine', 'mmaction.engine.optimizers')
OPTIM_WRAPPERS = _child('optim_wrapper', MMACTION_OPTIM_WRAPPERS, 'videoalign.engine', 'mmaction.engine.optimizers')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor', MMACTION_OPTIM_WRAPPER_CONSTRUCTORS,
                                    'videoalign.engine', 'mmaction.engine.optimizers')
PARAM_SCHEDULERS = _child('parameter scheduler', MMACTION_PARAM_SCHEDULERS, 'videoalign.engine', 'mmaction.engine')
LOG_PROCESSORS = _child('log_processor', MMACTION_LOG_PROCESSORS, 'videoalign.engine', 'mmaction.engine')
FUNCTIONS = _child('function', MMACTION_FUNCTION, 'videoalign.engine')

METRICS = _child('metric', MMACTION_METRICS, 'videoalign.evaluation', 'mmaction.evaluation')
EVALUATOR = _child('evaluator', MMACTION_EVALUATOR, 'videoalign.evaluation', 'mmaction.evaluation')

VISUALIZERS = _child('visualizer', MMACTION_VISUALIZERS, 'mmaction.visualization')
VISBACKENDS = _child('vis_backend', MMACTION_VISBACKENDS, 'mmaction.visualization')
INFERENCERS = _child('inferencer', MMACTION_INFERENCERS, 'mmaction.apis.inferencers')

# Converters of official checkpoints to videoalign's layout, by name (``Converter`` in the metafiles, the first
# argument of tools/convert/convert.py); registered with ``videoalign.models.converters.register_converter``.
CONVERTERS = Registry('converter', scope='videoalign', locations=['videoalign.models.converters'])
