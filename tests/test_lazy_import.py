"""The package is lazy: light layers import no torch, torch_geometric or skorch.

Checked by what an import puts in ``sys.modules`` in a fresh interpreter, not with a timer
(``benchmarks/import_time.py`` measures the seconds).
"""

import json
import subprocess
import sys

import pytest

import infoalign_sklearn

HEAVY = ("torch", "torch_geometric", "skorch")


def _modules_after(code: str) -> set:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(modules: set) -> list:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.parametrize("code", [
    "import infoalign_sklearn",
    "import infoalign_sklearn.chem",
    "import infoalign_sklearn.graph",
    "import infoalign_sklearn.readers",
    "import infoalign_sklearn.metrics",
    "from infoalign_sklearn import MorganFingerprint, ScaffoldKFold, ContextGraph",
    "from infoalign_sklearn.cli import build_parser; build_parser().format_help()",
])
def test_light_imports_load_no_torch(code):
    assert _heavy(_modules_after(code)) == []


def test_bare_import_loads_nothing_heavy_at_all():
    modules = _modules_after("import infoalign_sklearn")
    assert not {"rdkit", "sklearn", "pandas", "numpy"} & {m.split(".")[0] for m in modules}


def test_embedder_import_loads_torch_on_demand():
    modules = _modules_after("from infoalign_sklearn import InfoAlignEmbedder")
    assert "torch" in modules


def test_every_public_name_resolves_and_is_listed():
    for name in infoalign_sklearn.__all__:
        assert getattr(infoalign_sklearn, name) is not None, name
    assert set(infoalign_sklearn.__all__) <= set(dir(infoalign_sklearn))
    assert infoalign_sklearn.readers.read_l1000 is infoalign_sklearn.read_l1000
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        infoalign_sklearn.NoSuchThing  # noqa: B018


def test_version_needs_no_import():
    modules = _modules_after("from infoalign_sklearn import __version__; print(__version__)")
    assert _heavy(modules) == []
    assert isinstance(json.loads(json.dumps(infoalign_sklearn.__version__)), str)
