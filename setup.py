"""Packaging of videoalign: ``pip install -e .`` or ``pip install -e .[tests]``; ``pip install .`` for a wheel.

A wheel (and an install from a wheel or an sdist) carries ``videoalign/.mim/``: copies of ``configs/``, ``tools/`` and
``model-index.yml``, as OpenMMLab packages ship them, so that the model hub (:mod:`videoalign.hub`) and OpenMMLab's
``mim`` (``mim search/download/train/test/run videoalign``) find the metafiles, configs and tools of the installed
package. An editable install has no ``.mim``: the hub reads the source tree itself.
"""
import os
import os.path as osp
import re
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
# what the wheel carries under videoalign/.mim (mmaction2's add_mim_extension copies the same; there is no
# dataset-index.yml: no data set is downloaded by mim)
MIM_FILES = ('configs', 'tools', 'model-index.yml')


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


def copy_mim_files(mim_dir: str) -> None:
    """Copy :data:`MIM_FILES` from the source tree (or the unpacked sdist) into ``mim_dir``, replacing what is there.

    Args:
        mim_dir (str): The ``videoalign/.mim`` folder of a build.

    Raises:
        FileNotFoundError: If one of them is missing (an sdist made without ``MANIFEST.in``).
    """
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if not osp.exists(src):
            raise FileNotFoundError(f'{src} is missing, so the package would have no {name} in videoalign/.mim; build '
                                    'from a source checkout or an sdist made with MANIFEST.in')
        if osp.isdir(dst) and not osp.islink(dst):
            shutil.rmtree(dst)
        elif osp.lexists(dst):
            os.remove(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


class BuildPyWithMim(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` into ``<build>/videoalign/.mim`` (not in editable mode)."""

    def run(self) -> None:
        """Build the package, then add ``.mim``."""
        super().run()
        if not getattr(self, 'editable_mode', False):
            copy_mim_files(osp.join(self.build_lib, 'videoalign', '.mim'))


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
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    license_expression='Apache-2.0',  # SPDX (setuptools >= 77; license classifiers are deprecated)
    install_requires=parse_requirements('runtime'),
    extras_require=dict(
        tests=parse_requirements('tests'),
        docs=parse_requirements('docs'),
        tensorboard=parse_requirements('tensorboard'),
        all=parse_requirements('tests') + parse_requirements('docs'),
    ),
    cmdclass={'build_py': BuildPyWithMim},
    zip_safe=False,
)
