"""Imports point one way: models -> explain -> evaluation -> stats (no cycles)."""
import ast
import os.path as osp
from glob import glob

import pytest

PACKAGE = osp.join(osp.dirname(__file__), '..', '..', 'osteo_mm')
# What each package may not import (anything later in the chain may not import earlier ones).
FORBIDDEN = {
    'explain': ('osteo_mm.models', ),
    'evaluation': ('osteo_mm.models', 'osteo_mm.explain'),
    'stats': ('osteo_mm.models', 'osteo_mm.explain', 'osteo_mm.evaluation'),
}


def _imports(path: str, package: str):
    """Absolute module names imported by one file (relative imports resolved)."""
    module = osp.relpath(path, osp.dirname(PACKAGE))[:-3].replace(osp.sep, '.')
    parts = module.split('.')
    if parts[-1] == '__init__':
        parts = parts[:-1] + ['__init__']
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[:len(parts) - node.level]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name
            yield from (f'{name}.{alias.name}' for alias in node.names)


@pytest.mark.parametrize('package', sorted(FORBIDDEN))
def test_package_does_not_import_upstream(package):
    bad = []
    for path in glob(osp.join(PACKAGE, package, '**', '*.py'), recursive=True):
        for name in _imports(path, package):
            if name.startswith(FORBIDDEN[package]):
                bad.append(f'{osp.relpath(path, PACKAGE)} imports {name}')
    assert not bad, bad
