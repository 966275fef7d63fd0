"""Packaging of videoalign: ``pip install -e .`` or ``pip install -e .[tests]``."""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    """Read ``__version__`` from ``videoalign/version.py`` without importing it."""
    with open(osp.join(HERE, 'videoalign', 'version.py'), encoding='utf-8') as f:
        match = re.search(r"^__version__ = '([^']+)'", f.read(), re.M)
    if match is None:
        raise RuntimeError('videoalign/version.py defines no __version__')
    return match.group(1)


def parse_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` (comments and ``-r`` skipped)."""
    path = osp.join(HERE, 'requirements', f'{name}.txt')
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


setup(
    name='videoalign',
    version=get_version(),
    description='OpenMMLab-style toolkit for adapting image-language models to video '
    'and for video-language pretraining',
    long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    keywords='video understanding, CLIP, video-language, mmaction2',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    include_package_data=True,
    python_requires='>=3.9',
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    license='Apache License 2.0',
    install_requires=parse_requirements('runtime'),
    extras_require=dict(
        tests=parse_requirements('tests'),
        docs=parse_requirements('docs'),
        all=parse_requirements('tests') + parse_requirements('docs'),
    ),
    zip_safe=False,
)
