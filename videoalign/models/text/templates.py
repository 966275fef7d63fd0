"""Prompt templates that turn class names into the texts fed to a text encoder.

A template holds one ``{}`` where the class name goes. Named sets:

- ``'bare'``: the class name alone, as X-CLIP (``utils/tools.py`` ``generate_text``);
- ``'video'``: ``'a video of a person {}.'``;
- ``'photo'``: ``'a photo of {}.'``, CLIP's default image template;
- ``'ensemble'``: 16 action templates, in the style of CLIP's Kinetics prompts and ActionCLIP's, whose text
  embeddings are averaged (prompt ensembling).
"""
from typing import Dict, List, Sequence, Tuple, Union

TEMPLATES: Dict[str, Tuple[str, ...]] = {
    'bare': ('{}', ),
    'video': ('a video of a person {}.', ),
    'photo': ('a photo of {}.', ),
    'ensemble': (
        '{}',
        'a photo of {}.',
        'a photo of a person {}.',
        'a video of {}.',
        'a video of a person {}.',
        'a clip of a person {}.',
        'a person is {}.',
        'a person doing {}.',
        'a person performing {}.',
        'a person practicing {}.',
        'human action of {}.',
        'an action of {}.',
        'an example of {}.',
        'a demonstration of {}.',
        'look, a person is {}.',
        'a video classified as {}.',
    ),
}


def get_templates(templates: Union[str, Sequence[str]]) -> List[str]:
    """A template list by name, or a list of templates checked.

    Args:
        templates (str | Sequence[str]): A name of :data:`TEMPLATES`, or templates that each hold one ``{}``.

    Returns:
        list[str]: The templates (a new list).

    Raises:
        KeyError: If the name is unknown.
        ValueError: If the list is empty or a template does not hold exactly one ``{}``.
    """
    if isinstance(templates, str):
        if templates not in TEMPLATES:
            raise KeyError(f'unknown template set {templates!r}; the named sets are {sorted(TEMPLATES)} (or pass a '
                           f'list of templates, each with one "{{}}")')
        return list(TEMPLATES[templates])
    templates = list(templates)
    if not templates:
        raise ValueError('templates is empty')
    for template in templates:
        if not isinstance(template, str) or template.count('{}') != 1:
            raise ValueError(f'a template must be a str with exactly one "{{}}", got {template!r}')
    return templates


def format_prompts(class_names: Sequence[str],
                   templates: Union[str, Sequence[str]],
                   replace_underscores: bool = True) -> List[List[str]]:
    """The prompt texts of every class under every template.

    Args:
        class_names (Sequence[str]): The class names.
        templates (str | Sequence[str]): A name of :data:`TEMPLATES` or a list of templates with one ``{}`` each.
        replace_underscores (bool): Whether underscores in the class names are written as spaces
            (``'playing_guitar'`` -> ``'playing guitar'``), as the names of some label files are. Defaults to True.

    Returns:
        list[list[str]]: ``prompts[k][m]`` is class ``k`` under template ``m``.
    """
    templates = get_templates(templates)
    prompts = []
    for name in class_names:
        if replace_underscores:
            name = name.replace('_', ' ')
        prompts.append([template.replace('{}', name) for template in templates])
    return prompts
