"""The docs stay true: every public name documented, api.md current, every code block runs.

- every name of the three public ``__all__`` lists appears in docs/api.md, and
  ``docs/make_api.py --check`` finds api.md up to date;
- every ```python block of docs/*.md and README.md runs, in order, one namespace per file, in a
  temporary working directory; a block preceded by ``<!-- skip-test: reason -->`` is skipped;
- the Examples sections of the package's docstrings pass as doctests.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import matplotlib
import pytest

import infoalign_sklearn
import infoalign_sklearn.graph
import infoalign_sklearn.readers

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKDOWN = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
PUBLIC = {
    "infoalign_sklearn": infoalign_sklearn.__all__,
    "infoalign_sklearn.readers": infoalign_sklearn.readers.__all__,
    "infoalign_sklearn.graph": infoalign_sklearn.graph.__all__,
}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"<!--\s*skip-test:\s*(.+?)\s*-->\s*$")


def _load_make_api():
    spec = importlib.util.spec_from_file_location("make_api", DOCS / "make_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(path: Path) -> list[tuple[int, str, str | None]]:
    """(line number, code, skip reason or None) of each ```python block, in order."""
    text = path.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1) != "python":
            continue
        line = text.count("\n", 0, match.start()) + 1
        before = [ln for ln in text[:match.start()].splitlines() if ln.strip()]
        skip = SKIP.search(before[-1]) if before else None
        blocks.append((line, match.group(2), skip.group(1) if skip else None))
    return blocks


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_public_name_is_in_api_md(package):
    api = (DOCS / "api.md").read_text()
    missing = [name for name in PUBLIC[package] if f"### `{name}`" not in api]
    assert not missing, f"{package} names missing from docs/api.md: {missing}"


def test_api_md_is_up_to_date(capsys):
    assert _load_make_api().main(["--check"]) == 0, capsys.readouterr().out


def test_block_parser_sees_skip_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\na = 1\n```\n\n<!-- skip-test: needs data -->\n"
                    "```python\nraise SystemExit\n```\n\n```bash\nls\n```\n")
    assert [(code, skip) for _, code, skip in python_blocks(page)] == [
        ("a = 1\n", None), ("raise SystemExit\n", "needs data")]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_markdown_code_blocks_run(path, tmp_path, monkeypatch):
    blocks = python_blocks(path)
    if not blocks:
        pytest.skip(f"{path.name} has no python blocks")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    for line, code, skip in blocks:
        if skip:
            continue
        try:
            exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"the code block at {path.name}:{line} failed: {exc!r}") from exc


def _package_modules() -> list[str]:
    # importing a __main__ module runs the command line
    return ["infoalign_sklearn"] + [
        m.name for m in pkgutil.walk_packages(infoalign_sklearn.__path__, "infoalign_sklearn.")
        if not m.name.endswith(".__main__")
    ]


@pytest.mark.parametrize("module_name", _package_modules())
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    # examples that need ../shared data are marked `# doctest: +SKIP` in the docstrings
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=True)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
