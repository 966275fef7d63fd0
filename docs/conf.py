"""Sphinx configuration of videoalign's documentation (``bash tools/build_docs.sh``).

Sources: the pages of ``docs/`` (Markdown, through myst-parser), the method READMEs ``configs/<method>/README.md`` and
the generated ``model_zoo.md`` (pulled in by the ``{include}`` stubs of ``docs/methods/``), and the API reference
``docs/api/`` (autodoc + napoleon, from the docstrings).

The READMEs and ``model_zoo.md`` are written to be read on a code host, so their relative links are relative to their
own folder and point at files outside ``docs/``. :func:`rebase_links` rewrites them as they are read: a link to a
README or ``model_zoo.md`` that has a page here goes to that page, a link to another file of the repository (a config)
becomes a download, relative to the page that includes the text. The files themselves are left as they are.
"""
import os
import os.path as osp
import re
import sys

DOCS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(DOCS)
sys.path.insert(0, ROOT)  # autodoc imports the checkout, also when videoalign is not installed in editable mode

from videoalign.version import __version__  # noqa: E402

project = 'videoalign'
author = 'videoalign contributors'
copyright = 'videoalign contributors'  # noqa: A001  (Sphinx's name)
version = release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]

source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']
templates_path = []

# Markdown
myst_heading_anchors = 4  # GitHub-style `#section-title` links between and within pages

# API reference: each object is documented once, where docs/api/ names it (see tests/test_docs.py)
autodoc_default_options = {'show-inheritance': True}
autodoc_member_order = 'bysource'
autodoc_class_signature = 'separated'
autoclass_content = 'class'  # the class docstring; __init__'s signature is shown separately
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # `Attributes:` as fields: autodoc documents the attributes themselves (no duplicates)

html_theme = 'furo'
html_title = f'videoalign {release}'
html_static_path = []

# Pages that are listed in index.md before they are written: their toctree lines are dropped while the file is
# missing, so that the build neither warns about them nor needs a placeholder.
OPTIONAL_PAGES = ('benchmark', 'analysis_tools')

# Files outside docs/ that have a page here, by their path relative to the repository root.
PAGES_OF_FILES = {'model_zoo.md': 'methods/model_zoo'}
for _method in sorted(os.listdir(osp.join(DOCS, 'methods'))):
    _stem = osp.splitext(_method)[0]
    if _method.endswith('.md') and osp.isfile(osp.join(ROOT, 'configs', _stem, 'README.md')):
        PAGES_OF_FILES[f'configs/{_stem}/README.md'] = f'methods/{_stem}'

# an inline Markdown link or image target: ](target) or ](target "title")
_LINK = re.compile(r'(\]\()([^)\s]+)')
_EXTERNAL = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*:|#|/)')


def rebase_links(text: str, source_dir: str, docname: str) -> str:
    """Rewrite the relative link targets of Markdown ``text`` for the page ``docname``.

    Args:
        text (str): Markdown whose links are relative to ``source_dir``.
        source_dir (str): The absolute folder the links of ``text`` are relative to.
        docname (str): The page that shows ``text`` (e.g. ``'methods/xclip'``).

    Returns:
        str: ``text`` with every relative target made relative to ``docname``'s folder, and pointed at the page of a
        file that has one here; URLs, anchors and absolute paths unchanged. Line breaks are kept, so
        warnings still point at the right line.
    """
    page_dir = osp.dirname(osp.join(DOCS, docname))

    def rebase(match: 're.Match') -> str:
        target = match.group(2)
        if _EXTERNAL.match(target):
            return match.group(0)
        path, sep, anchor = target.partition('#')
        full = osp.normpath(osp.join(source_dir, path))
        rel_to_root = osp.relpath(full, ROOT).replace(os.sep, '/')
        if rel_to_root in PAGES_OF_FILES:
            full = osp.join(DOCS, PAGES_OF_FILES[rel_to_root] + '.md')
        new = osp.relpath(full, page_dir).replace(os.sep, '/')
        return match.group(1) + new + sep + anchor

    return _LINK.sub(rebase, text)


def _on_source_read(app, docname: str, source: list) -> None:
    if docname == root_doc:
        for page in OPTIONAL_PAGES:
            if not osp.isfile(osp.join(DOCS, page + '.md')):
                source[0] = re.sub(rf'^{page}\n', '', source[0], flags=re.M)
    # docs' own pages link to ../model_zoo.md and ../configs/<method>/README.md: send those to their pages here
    source[0] = rebase_links(source[0], osp.dirname(osp.join(DOCS, docname)), docname)


def _on_include_read(app, relative_path, parent_docname: str, content: list) -> None:
    included = osp.normpath(osp.join(app.srcdir, str(relative_path)))
    docname = getattr(getattr(app.env, 'current_document', None), 'docname', None) or app.env.docname
    content[0] = rebase_links(content[0], osp.dirname(included), docname)


def _skip_namedtuple_fields(app, what: str, name: str, obj, skip: bool, options) -> bool:
    # a NamedTuple's fields are described by its docstring's `Attributes:`; autodoc would add "Alias for field number N"
    if what == 'class' and (getattr(obj, '__doc__', None) or '').startswith('Alias for field number'):
        return True
    return skip


def setup(app):
    app.connect('autodoc-skip-member', _skip_namedtuple_fields)
    app.connect('source-read', _on_source_read)
    app.connect('include-read', _on_include_read)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
