"""The synthetic dataset's extra files for ALPRO's pretraining: its frames as captioned images, and a unigram list.

ALPRO pretrains on video-caption pairs (WebVid2M) and image-caption pairs (CC3M), and PEM needs an entity list (the
first token of each line of ``data/unigrams.txt``). For the synthetic dataset, :func:`generate_synthetic_pretrain_files`
adds, from the files of :func:`~videoalign.datasets.synthetic.generate_synthetic_dataset` and
:func:`~videoalign.datasets.synthetic.generate_synthetic_images`:

- ``synthetic_train_image_captions.json``: ALPRO's CC3M format, ``[{"image": <path>, "caption": [<str>, ...]}]``, each
  saved frame with the captions of its clip, paths relative to ``images/`` (read by
  :class:`~videoalign.datasets.ImageTextDataset`). A still frame shows the colour and the shape of its clip's
  caption, not the motion: a smoke test of the image stream, not meaningful image captions.
- ``synthetic_unigrams.txt``: ``<word> <count>`` lines, the words of the training captions without
  :data:`STOP_WORDS`, most frequent first (ties alphabetically).

Like the rest of the generator, this module needs numpy, OpenCV and mmengine only (no mmaction2).
"""
import collections
import json
import os
import os.path as osp
import re
from typing import Dict, List, Union

from .synthetic import _atomic_write_text, _image_files, _output_files, text_words

#: Words left out of the unigram list (articles, prepositions, the background phrase).
STOP_WORDS = frozenset({'a', 'an', 'the', 'to', 'from', 'on', 'toward', 'of', 'background'})

_FRAME_NAME = re.compile(r'(.+)_\d+\.(png|jpg)')


def make_unigrams(captions: List[str]) -> List[str]:
    """``<word> <count>`` lines of the words of ``captions``, most frequent first, without :data:`STOP_WORDS`.

    Args:
        captions (list[str]): Texts.

    Returns:
        list[str]: The lines, without line ends.
    """
    counts = collections.Counter(
        word for text in captions for word in text_words(text) if word.isalnum() and word not in STOP_WORDS)
    return [f'{word} {count}' for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def generate_synthetic_pretrain_files(out_dir: Union[str, os.PathLike]) -> Dict:
    """Write the image-caption list and the unigram list of the synthetic dataset in ``out_dir`` (see the module).

    Both are derived from files already there (``synthetic_train_captions.json`` and the image list of
    :func:`~videoalign.datasets.synthetic.generate_synthetic_images`), so they are rewritten every time (cheap,
    deterministic).

    Args:
        out_dir (str): The folder of a synthetic dataset with its image set.

    Returns:
        dict: ``image_caption_file``, ``unigram_file``, ``num_images`` and ``num_unigrams``.

    Raises:
        FileNotFoundError: If the captions or the image list are missing.
        ValueError: If an image of the list belongs to no clip with captions.
    """
    out_dir = str(out_dir)
    caption_file = _output_files(out_dir)['caption_files']['train']
    image_list = _image_files(out_dir)['ann_file']
    for path in (caption_file, image_list):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} is missing: generate the synthetic dataset and its images first '
                                    f'(tools/data/synthetic/generate.py --frames-as-images)')
    with open(caption_file, encoding='utf-8') as f:
        captions: Dict[str, List[str]] = json.load(f)
    items = []
    with open(image_list, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            name = line.split()[0]
            match = _FRAME_NAME.fullmatch(name)
            clip = f'{match.group(1)}.mp4' if match else None
            if clip not in captions:
                raise ValueError(f'{image_list}: {name} is a frame of no clip of {caption_file}')
            items.append(dict(image=name, caption=captions[clip]))
    unigrams = make_unigrams([text for texts in captions.values() for text in texts])
    files = dict(
        image_caption_file=osp.join(out_dir, 'synthetic_train_image_captions.json'),
        unigram_file=osp.join(out_dir, 'synthetic_unigrams.txt'))
    _atomic_write_text(files['image_caption_file'], json.dumps(items, indent=1) + '\n')
    _atomic_write_text(files['unigram_file'], ''.join(f'{line}\n' for line in unigrams))
    return dict(files, num_images=len(items), num_unigrams=len(unigrams))
