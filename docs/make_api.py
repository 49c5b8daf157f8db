"""Generate docs/api.md from the package's docstrings, so the reference follows the code.

    python docs/make_api.py            # (re)write docs/api.md
    python docs/make_api.py --check    # exit 1 when docs/api.md is out of date

Covers every name in ``infoalign_sklearn.__all__``, ``infoalign_sklearn.readers.__all__`` and
``infoalign_sklearn.graph.__all__``: its signature and the first paragraphs of its docstring
(summary and the prose before the first numpydoc section). Classes also list their own public
methods and properties with a one-line summary. Constants have no docstring; their description
is the ``#:`` / ``#`` comment right above their definition in the source, else a short note
kept below in ``CONSTANT_NOTES``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

API_PATH = Path(__file__).resolve().parent / "api.md"
PACKAGES = ("infoalign_sklearn", "infoalign_sklearn.readers", "infoalign_sklearn.graph")
INTRO = {
    "infoalign_sklearn": "The top-level package: estimators, splitters, metrics, loaders, "
                         "matching, and the most used graph and reader names.",
    "infoalign_sklearn.readers": "Readers for the public formats behind a context graph "
                                 "(Cell Painting, L1000 GCT / GCTX / CSV, compound and gene "
                                 "annotations, identifiers). See [own_data.md](own_data.md).",
    "infoalign_sklearn.graph": "The context graph, its builders, random walks, files and the "
                               "SIMULATED-biology generator. See [concepts.md](concepts.md) and "
                               "[graph.md](graph.md).",
}
# Constants whose definition has no comment in the source (better: a ``#:`` comment there).
CONSTANT_NOTES = {
    "MODALITIES": "Names of the feature blocks a graph can carry, in storage order.",
    "NODE_KINDS": "Node kinds of a context graph; ``ContextGraph.node_kinds`` holds codes "
                  "into this tuple.",
    "EDGE_KINDS": "Edge kinds of a context graph; ``ContextGraph.edge_kinds`` holds codes into "
                  "this tuple.",
    "GENE_PREFIX": "Prefix of gene node ids (``gene:<SYMBOL>``).",
    "MOLECULE_PREFIX": "Prefix of molecule node ids (``mol:<InChIKey skeleton>``).",
    "L1000_CONTROL_TYPES": "CMap ``pert_type`` values of control samples, left out of "
                           "expression nodes by default.",
}
SECTION = re.compile(r"^[A-Z][A-Za-z ]+\n-{3,}\s*$", re.MULTILINE)


def rst_to_markdown(text: str) -> str:
    """The bits of reStructuredText used in our docstrings, as Markdown."""
    text = re.sub(r":[a-z]+:`([^`]+)`", _role, text)
    return text.replace("``", "`")


def _role(match: re.Match) -> str:
    target = match.group(1)
    return "`" + (target.split(".")[-1] if target.startswith("~") else target) + "`"


def description(doc: str | None) -> str:
    """Summary line plus the prose before the first numpydoc section, one paragraph each."""
    if not doc:
        return ""
    head = SECTION.split(doc, maxsplit=1)[0]
    paragraphs = [p for p in re.split(r"\n\s*\n", head.strip()) if p.strip()]
    keep = []
    for paragraph in paragraphs[:3]:
        lines = [line.strip() for line in paragraph.splitlines()]
        if lines[0].startswith((">>>", "..")):
            break
        if all(line.startswith("- ") for line in lines if line):
            keep.append("\n".join(lines))
        else:
            keep.append(" ".join(lines))
    return rst_to_markdown("\n\n".join(keep))


def first_line(doc: str | None) -> str:
    return rst_to_markdown(description(doc).split("\n\n")[0]) if doc else ""


class _Annotation:
    """Shows a string annotation (``from __future__ import annotations``) without quotes."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature(obj, name: str, bound: bool = False) -> str:
    """``name(params) -> return``; ``bound`` drops the leading self / cls of a method."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"

    def unquote(annotation):
        return _Annotation(annotation) if isinstance(annotation, str) else annotation

    params = [p.replace(annotation=unquote(p.annotation)) for p in sig.parameters.values()]
    if bound and params and params[0].name in ("self", "cls"):
        params = params[1:]
    sig = sig.replace(parameters=params, return_annotation=unquote(sig.return_annotation))
    return f"{name}{sig}"


def constant_note(package: str, name: str) -> str:
    """The comment block right above ``NAME = ...`` in the package's sources."""
    root = Path(importlib.import_module("infoalign_sklearn").__file__).parent
    sub = Path(importlib.import_module(package).__file__).parent
    files = sorted(sub.rglob("*.py")) + sorted(root.rglob("*.py"))
    pattern = re.compile(rf"^{re.escape(name)}\s*[:=]")
    for path in files:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if pattern.match(line):
                comments = []
                j = i - 1
                while j >= 0 and lines[j].lstrip().startswith("#"):
                    comments.insert(0, lines[j].lstrip().lstrip("#:").strip())
                    j -= 1
                if comments:
                    text = " ".join(comments)
                    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return CONSTANT_NOTES.get(name, "")


def members(cls) -> list[str]:
    """Public methods / properties defined in this package (sklearn machinery left out)."""
    out, seen = [], set()
    own = [k for k in cls.__mro__ if k.__module__.startswith("infoalign_sklearn")]
    for attr, value in ((a, v) for k in own for a, v in vars(k).items()):
        if attr.startswith("_") or attr in seen:
            continue
        seen.add(attr)
        if isinstance(value, (classmethod, staticmethod)):
            func = value.__func__
        elif isinstance(value, property):
            func = value.fget
        elif hasattr(value, "func") and hasattr(value, "attrname"):  # cached_property
            func = value.func
        elif inspect.isfunction(value):
            func = value
        else:
            continue
        if isinstance(value, property) or (hasattr(value, "attrname")):
            head = f"`{attr}` (property)"
        else:
            head = f"`{signature(func, attr, bound=True)}`"
        out.append(f"- {head}: {first_line(inspect.getdoc(func))}".rstrip(": "))
    return out


def entry(package: str, name: str, obj, seen: dict) -> str:
    anchor = f"### `{name}`"
    if id(obj) in seen and not isinstance(obj, (str, tuple, dict, int, float)):
        first = seen[id(obj)]
        return (f"{anchor}\n\nThe same object as [`{first[0]}.{name}`](#{_slug(name)}), "
                "described above.\n")
    if not isinstance(obj, (str, tuple, dict, int, float)):
        seen[id(obj)] = (package, name)
    if inspect.ismodule(obj):
        return (f"{anchor}\n\nModule `{obj.__name__}`. {description(inspect.getdoc(obj))} "
                f"Its names are listed under [{obj.__name__}](#{_slug(obj.__name__)}).\n")
    if inspect.isclass(obj):
        bases = ", ".join(b.__name__ for b in obj.__bases__ if b is not object)
        kind = "exception" if issubclass(obj, BaseException) else "class"
        parts = [anchor, "", "```text", signature(obj, name), "```", "",
                 f"*{kind}* (`{obj.__module__}`, bases: {bases or 'object'})", "",
                 description(inspect.getdoc(obj))]
        listed = members(obj)
        if listed:
            parts += ["", "Members:", "", *listed]
        return "\n".join(parts) + "\n"
    if inspect.isfunction(obj):
        return "\n".join([anchor, "", "```text", signature(obj, name), "```", "",
                          f"*function* (`{obj.__module__}`)", "",
                          description(inspect.getdoc(obj))]) + "\n"
    if callable(obj) and "__doc__" in vars(obj):  # a scorer instance with its own docstring
        return "\n".join([anchor, "", "```text", signature(obj, name), "```", "",
                          f"*{type(obj).__name__} instance*", "",
                          rst_to_markdown(obj.__doc__)]) + "\n"
    value = repr(obj)
    if len(value) > 300:
        value = value[:297] + "..."
    return "\n".join([anchor, "", f"*constant* (`{type(obj).__name__}`)", "",
                      rst_to_markdown(constant_note(package, name)), "", "```text",
                      value, "```"]) + "\n"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_ -]", "", text.lower()).replace(" ", "-")


def render() -> str:
    parts = [
        "# API reference",
        "",
        "<!-- generated by docs/make_api.py from the docstrings; do not edit by hand. -->",
        "",
        "Every public name of `infoalign_sklearn`, `infoalign_sklearn.readers` and "
        "`infoalign_sklearn.graph`, with its signature and the opening of its docstring. The "
        "full docstrings (parameters, returns, examples) are one `help(name)` away. "
        "Regenerate with `python docs/make_api.py`; `tests/test_docs.py` fails when this file "
        "is out of date.",
        "",
    ]
    for package in PACKAGES:
        module = importlib.import_module(package)
        parts.append(f"- [{package}](#{_slug(package)}): " + ", ".join(
            f"[`{n}`](#{_slug(n)})" if package == PACKAGES[0] else f"`{n}`"
            for n in sorted(module.__all__, key=str.lower)))
    parts.append("")
    seen: dict = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        parts += [f"## {package}", "", INTRO[package], ""]
        for name in sorted(module.__all__, key=str.lower):
            parts.append(entry(package, name, getattr(module, name), seen))
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare: exit 1 when docs/api.md is out of date")
    parser.add_argument("--out", type=Path, default=API_PATH)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run: python docs/make_api.py")
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
