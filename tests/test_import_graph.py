"""The import graph of the package: no cycles, and the layering the architecture page describes.

Every ``import`` statement of every module counts, at module level or inside a function (a lazy import is still a
dependency). ``videoalign.<pkg>`` packages are nodes at the level of their modules.
"""
import ast
import os
import os.path as osp
from typing import Dict, Set

from videoalign.testing import REPO_ROOT

PACKAGE = osp.join(REPO_ROOT, 'videoalign')


def _module_name(path: str) -> str:
    rel = osp.relpath(path, REPO_ROOT)[:-len('.py')].replace(os.sep, '.')
    return rel[:-len('.__init__')] if rel.endswith('.__init__') else rel


def _imports(path: str, name: str) -> Set[str]:
    """The videoalign modules that the module ``name`` (file ``path``) imports."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith('__init__.py') else name.rsplit('.', 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f'{target}.{alias.name}' for alias in node.names)  # `from pkg import module`
    return {m for m in found if m == 'videoalign' or m.startswith('videoalign.')}


def import_graph() -> Dict[str, Set[str]]:
    """Module -> the videoalign modules it imports (only names that are modules of the package)."""
    files = {}
    for root, _, names in os.walk(PACKAGE):
        for file in names:
            if file.endswith('.py'):
                path = osp.join(root, file)
                files[_module_name(path)] = path
    return {name: {m for m in _imports(path, name) if m in files and m != name} for name, path in files.items()}


def _cycle(graph: Dict[str, Set[str]]) -> list:
    """One import cycle of ``graph`` (a list of modules), or [] if there is none."""
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == 'open':
                return stack[stack.index(child):] + [child]
            if child not in state:
                found = visit(child)
                if found:
                    return found
        stack.pop()
        state[node] = 'done'
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + '.')


def test_no_import_cycle():
    # a package's __init__ importing its own modules is not a cycle of the code: leave those edges out
    graph = {
        name: {m
               for m in deps if not (_under(name, m) and m != 'videoalign')}
        for name, deps in import_graph().items()
    }
    assert _cycle(graph) == []


def test_layering():
    graph = import_graph()
    for name, deps in graph.items():
        if _under(name, 'videoalign.models'):
            bad = {m for m in deps if _under(m, 'videoalign.hub') or _under(m, 'videoalign.apis')}
            assert not bad, f'{name} imports {sorted(bad)}: models load weights through mmengine\'s CheckpointLoader'
        if _under(name, 'videoalign.compat'):
            bad = {m for m in deps if not _under(m, 'videoalign.compat')}
            assert not bad, f'{name} imports {sorted(bad)}: compat imports nothing of videoalign'
    # tools/ is not a package: nothing in videoalign may reach it
    for path in (p for p in os.popen(f'grep -rl "tools\\." {PACKAGE} --include=*.py').read().split() if p):
        with open(path, encoding='utf-8') as f:
            assert 'import tools' not in f.read() and 'from tools' not in f.read(), path


def test_the_checker_sees_a_cycle():
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert _cycle({'a': {'b'}, 'b': set()}) == []
