"""The documentation site (``bash tools/build_docs.sh``) without building it: every page is reachable from a toctree,
every method README and ``model_zoo.md`` has a page, and the API reference documents every public name of every
subpackage exactly once."""
import importlib
import os.path as osp
import pkgutil
import re
import runpy
from glob import glob

import videoalign

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DOCS = osp.join(ROOT, 'docs')
# helpers for tests, not part of the documented API
UNDOCUMENTED_PACKAGES = ('videoalign.testing', )


def _read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def _toctree_entries(path: str) -> list:
    """The entries of the toctrees of a Markdown (```{toctree}``` fences) or reST page."""
    text = _read(path)
    if path.endswith('.md'):
        blocks = re.findall(r'^```\{toctree\}\n(.*?)^```', text, flags=re.M | re.S)
    else:
        blocks = re.findall(r'^\.\. toctree::\n((?:^(?:[ \t]+.*)?\n)*)', text, flags=re.M)
    entries = []
    for block in blocks:
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(':'):
                entries.append(line)
    return entries


def _sources() -> list:
    """The source files of docs/ (not its build output)."""
    paths = glob(osp.join(DOCS, '**', '*.md'), recursive=True) + glob(osp.join(DOCS, '**', '*.rst'), recursive=True)
    return [p for p in paths if '_build' not in osp.relpath(p, DOCS).split(osp.sep)]


def _all_toctree_docnames() -> set:
    docnames = set()
    for path in _sources():
        folder = osp.dirname(osp.relpath(path, DOCS))
        for entry in _toctree_entries(path):
            docnames.add(osp.normpath(osp.join(folder, entry)).replace(osp.sep, '/'))
    return docnames


def _conf() -> dict:
    return runpy.run_path(osp.join(DOCS, 'conf.py'))


def test_conf_imports():
    conf = _conf()
    assert conf['version'] == videoalign.__version__
    assert {'myst_parser', 'sphinx.ext.autodoc', 'sphinx.ext.napoleon'} <= set(conf['extensions'])
    assert 'suppress_warnings' not in conf


def test_every_page_is_in_a_toctree():
    listed = _all_toctree_docnames()
    conf = _conf()
    optional = set(conf['OPTIONAL_PAGES'])
    pages = [osp.splitext(osp.relpath(p, DOCS))[0].replace(osp.sep, '/') for p in _sources()]
    missing = sorted(set(pages) - listed - {'index'})
    assert not missing, f'pages in no toctree (add them to docs/index.md or docs/api/): {missing}'
    # the optional pages are listed (their lines are dropped while the file is missing)
    assert optional <= listed


def test_every_method_readme_and_the_model_zoo_have_a_page():
    conf = _conf()
    included = {}
    for stub in glob(osp.join(DOCS, 'methods', '*.md')):
        for target in re.findall(r'^```\{include\} (\S+)', _read(stub), flags=re.M):
            included[osp.normpath(osp.join(osp.dirname(stub), target))] = stub
    readmes = glob(osp.join(ROOT, 'configs', '*', 'README.md')) + [osp.join(ROOT, 'model_zoo.md')]
    missing = [osp.relpath(p, ROOT) for p in readmes if osp.normpath(p) not in included]
    assert not missing, f'no docs/methods/<name>.md includes {missing}'
    for readme in readmes:
        page = osp.splitext(osp.relpath(included[osp.normpath(readme)], DOCS))[0].replace(osp.sep, '/')
        assert conf['PAGES_OF_FILES'][osp.relpath(readme, ROOT).replace(osp.sep, '/')] == page


def test_links_of_included_files_are_rebased():
    conf = _conf()
    rebase = conf['rebase_links']
    text = ('[cfg](vit-b16_k400.py) [zoo](../../model_zoo.md#x-clip) [use](../../docs/model_zoo.md) '
            '[web](https://example.com/a.md) [here](#usage) ![img](fig.png "title")')
    out = rebase(text, osp.join(ROOT, 'configs', 'xclip'), 'methods/xclip')
    assert out == ('[cfg](../../configs/xclip/vit-b16_k400.py) [zoo](model_zoo.md#x-clip) [use](../model_zoo.md) '
                   '[web](https://example.com/a.md) [here](#usage) ![img](../../configs/xclip/fig.png "title")')
    # docs' own pages: a link to the top-level model_zoo.md goes to its page, other links stay as written
    out = rebase('[z](../model_zoo.md) [g](get_started.md#installation) [x](../configs/xclip/README.md)', DOCS,
                 'model_zoo')
    assert out == '[z](methods/model_zoo.md) [g](get_started.md#installation) [x](methods/xclip.md)'


def _automodule_directives() -> list:
    """``(module, members, excluded)`` of each ``.. automodule::`` of docs/api; ``members`` is None for all of
    ``__all__``, an empty list for the module's docstring only."""
    directives = []
    for path in sorted(glob(osp.join(DOCS, 'api', '**', '*.rst'), recursive=True)):
        for match in re.finditer(r'^\.\. automodule:: (\S+)\n((?:^[ \t]+:.*\n)*)', _read(path), flags=re.M):
            options = dict(re.findall(r'^[ \t]+:([\w-]+):[ \t]*(.*)$', match.group(2), flags=re.M))
            members = options.get('members')
            if members is None:
                members = []
            elif members.strip():
                members = [m.strip() for m in members.split(',')]
            else:
                members = None
            excluded = [m.strip() for m in options.get('exclude-members', '').split(',') if m.strip()]
            directives.append((match.group(1), members, excluded))
    return directives


def _subpackages() -> list:
    names = ['videoalign']
    for info in pkgutil.walk_packages(videoalign.__path__, 'videoalign.'):
        if info.ispkg and not info.name.startswith(UNDOCUMENTED_PACKAGES):
            names.append(info.name)
    return names


def test_api_reference_documents_every_public_name_once():
    directives = _automodule_directives()
    named = {module for module, _, _ in directives}
    missing = sorted(set(_subpackages()) - {'videoalign'} - named)
    assert not missing, f'subpackages without an automodule in docs/api: {missing}'

    documented = {}  # id of the object -> where
    for module_name, members, excluded in directives:
        module = importlib.import_module(module_name)
        if members is None:
            public = getattr(module, '__all__', None)
            if public is None:
                continue  # a module without __all__ (its own definitions are documented)
            members = [name for name in public if name not in excluded]
        for name in members:
            obj = getattr(module, name)
            if isinstance(obj, (str, int, float, tuple, list, dict, frozenset)):
                continue  # constants: equal values are not the same documented object
            where = f'{module_name}.{name}'
            assert id(obj) not in documented, f'{where} is documented twice (also as {documented[id(obj)]})'
            documented[id(obj)] = where

    undocumented = []
    for package_name in _subpackages():
        package = importlib.import_module(package_name)
        for name in getattr(package, '__all__', ()):
            obj = getattr(package, name)
            if isinstance(obj, (str, int, float, tuple, list, dict, frozenset)):
                continue
            if id(obj) not in documented:
                undocumented.append(f'{package_name}.{name}')
    assert not undocumented, f'public names in no automodule of docs/api: {undocumented}'
