"""The text of the synthetic dataset: the captions of a clip (:func:`make_captions`), the WordPiece vocabulary
(:func:`make_vocab`) and the questions with their answers (:func:`make_questions`, :func:`make_ans2label`).

Part of :mod:`videoalign.datasets.synthetic`, which re-exports its public names.
"""
import re
import string
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from .synthetic_render import PALETTE, PLAIN_SHAPES, ROTATION_SHAPES, SYNTHETIC_CLASSES, ClipParams, _label_index

_CAPTIONS = {
    'move_left': ('{a} {color} {shape} moves to the left', '{a} {color} {shape} slides from right to left'),
    'move_right': ('{a} {color} {shape} moves to the right', '{a} {color} {shape} slides from left to right'),
    'move_up': ('{a} {color} {shape} moves up', '{a} {color} {shape} rises toward the top'),
    'move_down': ('{a} {color} {shape} moves down', '{a} {color} {shape} sinks toward the bottom'),
    'grow': ('a small {color} {shape} grows larger', '{a} {color} {shape} gets bigger'),
    'shrink': ('a large {color} {shape} shrinks', '{a} {color} {shape} gets smaller'),
    'rotate_clockwise': ('{a} {color} {shape} rotates clockwise', '{a} {color} {shape} turns clockwise'),
    'rotate_counterclockwise':
    ('{a} {color} {shape} rotates counterclockwise', '{a} {color} {shape} turns anticlockwise'),
    'appear': ('{a} {color} {shape} appears', '{a} {color} {shape} shows up'),
    'disappear': ('{a} {color} {shape} disappears', '{a} {color} {shape} vanishes'),
}


def make_captions(label: Union[int, str], params: ClipParams, rng: np.random.Generator) -> List[str]:
    """Write one or two English captions for a clip.

    Args:
        label (int | str): Class label or name.
        params (ClipParams): Clip parameters.
        rng (np.random.Generator): Source of randomness (how many captions, which wording).

    Returns:
        list[str]: The captions.
    """
    name = SYNTHETIC_CLASSES[_label_index(label)]
    templates = _CAPTIONS[name]
    order = [int(i) for i in rng.permutation(len(templates))][:int(rng.integers(1, 3))]
    article = 'an' if params.color_name[0] in 'aeiou' else 'a'
    captions = []
    for i in order:
        text = templates[i].format(a=article, color=params.color_name, shape=params.shape)
        if rng.random() < 0.3:
            text += f' on a {params.background_name} background'
        captions.append(text)
    return captions


SPECIAL_TOKENS: Tuple[str, ...] = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')
"""BERT's special tokens in ``bert-base-uncased``'s order (ids 0, 100, 101, 102, 103 there; 0 to 4 in
:func:`make_vocab`'s vocabulary)."""

QUESTION_WORDS: Tuple[str, ...] = ('what', 'color', 'is', 'the', 'shape', 'moving', 'does', 'do', '?')
"""The words of the synthetic questions ("what color is the circle?", "what shape is moving?", "what does the red
circle do?"), in :func:`make_vocab`'s vocabulary."""


def text_words(text: str) -> List[str]:
    """The words of ``text`` as BERT's basic tokenizer splits an ASCII text: lower-cased, split at white space and
    around each punctuation character.

    Args:
        text (str): A text.

    Returns:
        list[str]: Its words and punctuation characters, in order.
    """
    return re.findall(r'[^\s' + re.escape(string.punctuation) + r']+|[' + re.escape(string.punctuation) + ']',
                      text.lower())


def _possible_caption_words() -> List[str]:
    """Every word :func:`make_captions` can write (all templates, colours, shapes, articles and backgrounds)."""
    words = set(text_words(' on a dark light background'))
    for templates in _CAPTIONS.values():
        for template in templates:
            for color in PALETTE:
                for shape in PLAIN_SHAPES + ROTATION_SHAPES:
                    for article in ('a', 'an'):
                        words.update(text_words(template.format(a=article, color=color, shape=shape)))
    return sorted(words)


def make_vocab(captions: Sequence[str] = ()) -> List[str]:
    """A small WordPiece vocabulary (the lines of a ``vocab.txt``) that holds every word of the synthetic data.

    The lines are :data:`SPECIAL_TOKENS` (so ``[PAD]`` is id 0 as in BERT), the ASCII punctuation characters
    (``string.punctuation``), then, sorted, every word :func:`make_captions` can write, the words of
    ``captions``, :data:`QUESTION_WORDS` and the words of the class names (the answers of the questions). All
    words are whole (no ``##`` pieces) and lower case, for an uncased tokenizer. The captions of a generated
    dataset add no word, so its vocabulary is the same for every seed and size.

    Args:
        captions (Sequence[str]): Further texts whose words to include. Defaults to ().

    Returns:
        list[str]: The vocabulary, a token per entry; the index is the id.
    """
    words = set(_possible_caption_words()) | set(QUESTION_WORDS)
    for text in list(captions) + [name.replace('_', ' ') for name in SYNTHETIC_CLASSES]:
        words.update(text_words(text))
    punctuation = list(string.punctuation)
    return list(SPECIAL_TOKENS) + punctuation + sorted(words - set(punctuation) - set(SPECIAL_TOKENS))


QA_ANSWER_TYPES: Tuple[str, ...] = ('color', 'shape', 'motion')
"""The ``answer_type`` of the synthetic questions, one question of each per clip (:func:`make_questions`)."""

QA_TEMPLATES: Dict[str, str] = {
    'color': 'what color is the {shape}?',
    'shape': 'what shape is moving?',
    'motion': 'what does the {color} {shape} do?',
}
"""The question of each answer type; their words are :data:`QUESTION_WORDS` and the colours and shapes."""


def motion_answer(label: Union[int, str]) -> str:
    """The answer to the motion question of a clip of class ``label``: the class name in words ("move left").

    Args:
        label (int | str): Class label or name.

    Returns:
        str: The class name with spaces for underscores.
    """
    return SYNTHETIC_CLASSES[_label_index(label)].replace('_', ' ')


def make_questions(label: Union[int, str], params: ClipParams) -> List[Dict[str, str]]:
    """The three questions of a clip, one per :data:`QA_ANSWER_TYPES`, in that order.

    - ``color``: "what color is the {shape}?", answered by the object's colour (a key of :data:`PALETTE`);
    - ``shape``: "what shape is moving?", answered by its shape;
    - ``motion``: "what does the {color} {shape} do?", answered by :func:`motion_answer` ("move left", ...). The
      two classes of a temporal pair differ only in frame order, so this question needs the order of the frames.

    Args:
        label (int | str): Class label or name.
        params (ClipParams): The clip's parameters.

    Returns:
        list[dict]: ``{question, answer, answer_type}`` dicts.
    """
    answers = dict(color=params.color_name, shape=params.shape, motion=motion_answer(label))
    return [
        dict(
            question=QA_TEMPLATES[kind].format(color=params.color_name, shape=params.shape),
            answer=answers[kind],
            answer_type=kind) for kind in QA_ANSWER_TYPES
    ]


def make_ans2label(answers: Sequence[str]) -> Dict[str, int]:
    """ALPRO's ``ans2label`` of a list of answers: each distinct answer and its label, the answers sorted.

    Args:
        answers (Sequence[str]): Answers (e.g. of the training questions), repeated or not.

    Returns:
        dict[str, int]: ``{answer: label}`` with labels ``0 .. N - 1`` in sorted order of the answers.
    """
    return {answer: label for label, answer in enumerate(sorted(set(answers)))}
