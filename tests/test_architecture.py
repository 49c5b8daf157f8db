"""The package's layers import only downward, without cycles or private names across modules.

docs/architecture.md draws the layers; this test keeps the code to the drawing. Imports inside
functions count too (a lazy import is still a dependency).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "infoalign_sklearn"

# lowest first; a module may import from its own layer or any layer below
LAYERS = [
    {"_utils", "_version"},
    {"chem", "metrics"},
    {"graph", "fingerprints", "model_selection", "datasets"},
    {"readers", "nn"},
    {"embedders", "estimators"},
    {"matching", "benchmark"},
    {"cli", "distributed"},
]
# the package root (lazy re-exports) and modules kept only so older pickles find their classes
EXEMPT = {"infoalign_sklearn", "infoalign_sklearn.__main__", "infoalign_sklearn.contrastive",
          "infoalign_sklearn._torch_base"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    top = module.split(".")[1]
    return next(i for i, names in enumerate(LAYERS) if top in names)


def _imports(module: str):
    """(imported module, imported name) for every from-import of the package in ``module``."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target.split(".")[0] != "infoalign_sklearn":
            continue
        for alias in node.names:
            candidate = f"{target}.{alias.name}"
            yield (candidate if candidate in MODULES else target), alias.name


def test_every_module_has_a_layer():
    for module in MODULES:
        if module not in EXEMPT:
            _layer(module)


@pytest.mark.parametrize("module", sorted(set(MODULES) - EXEMPT))
def test_imports_go_downward_and_name_no_private_objects(module):
    for target, name in _imports(module):
        if target in EXEMPT or target.startswith(module + "."):
            continue
        assert _layer(target) <= _layer(module), f"{module} imports upward: {target}.{name}"
        if name.startswith("_") and not name.startswith("__") and f"{target}.{name}" not in MODULES:
            assert target == module, f"{module} imports the private {target}.{name}"


def test_no_import_cycles():
    graph = {m: {t for t, _ in _imports(m) if t in MODULES and t != m
                 and not t.startswith(m + ".") and not m.startswith(t + ".")}
             for m in MODULES if m not in EXEMPT}
    state: dict = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])
