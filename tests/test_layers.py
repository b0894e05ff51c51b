"""The import-layer contract: imports run only down the chain of DESIGN.md section 1.

spinbase (leaf) -> golden -> quantize -> hdl -> boards -> tb -> spintwin -> bench: a module may
import its own package and any package below it, never one above (nothing imports bench/).
golden/, quantize/ and spinbase/ never import amaranth or cocotb. Every import counts, at module
level or inside a function (the project defers heavy imports into functions, and a deferred
upward import is as much a cycle in the design as a top-level one). ``make lint`` runs this
file; :func:`check_tree` is the checker, :func:`test_upward_import_fails` shows it can fail.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["LAYERS", "FORBIDDEN", "Violation", "check_tree"]

#: The project's packages, lowest first.
LAYERS = ("spinbase", "golden", "quantize", "hdl", "boards", "tb", "spintwin", "bench")
#: Third-party packages a layer must not import (the models stay free of the RTL stack).
FORBIDDEN = {layer: ("amaranth", "cocotb", "cocotb_tools") for layer in ("spinbase", "golden", "quantize")}

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Violation:
    """One import that breaks the contract."""

    path: str
    line: int
    importer: str
    imported: str
    module: str

    def __str__(self) -> str:
        if self.imported in LAYERS:
            return (f"{self.path}:{self.line}: {self.importer} (layer {LAYERS.index(self.importer)}) imports "
                    f"{self.module} from {self.imported} (layer {LAYERS.index(self.imported)}), an upward import")
        return f"{self.path}:{self.line}: {self.importer} imports {self.module} ({self.imported} is forbidden there)"


def _imported(node: ast.AST, package: tuple[str, ...]) -> list[str]:
    """Absolute dotted names an import node brings in; ``package`` is the importing module's
    package path (to resolve relative imports)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            return [node.module or ""]
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        return [".".join((*base, node.module)) if node.module else ".".join(base)]
    return []


def check_tree(root: Path | str, layers=LAYERS, forbidden=None) -> list[Violation]:
    """Every contract violation under ``root`` (a checkout: one folder per layer).

    Parameters
    ----------
    root : path
        The folder holding the layer packages.
    layers : sequence of str
        Package names, lowest first.
    forbidden : dict, optional
        Layer -> top-level names it must not import (default :data:`FORBIDDEN`).

    Returns
    -------
    list of Violation
        In file and line order; empty when the tree keeps the contract.
    """
    root = Path(root)
    forbidden = FORBIDDEN if forbidden is None else forbidden
    rank = {name: i for i, name in enumerate(layers)}
    out = []
    for layer in layers:
        for path in sorted((root / layer).rglob("*.py")):
            rel = path.relative_to(root)
            package = rel.parent.parts  # "golden/x.py" -> ("golden",)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
            for node in ast.walk(tree):
                for name in _imported(node, package):
                    top = name.split(".")[0]
                    if top in rank and rank[top] > rank[layer] or top in forbidden.get(layer, ()):
                        out.append(Violation(str(rel), node.lineno, layer, top, name))
    return sorted(out, key=lambda v: (v.path, v.line))


def test_layers_hold():
    bad = check_tree(ROOT)
    assert not bad, f"{len(bad)} import(s) break the layer contract (DESIGN.md section 1):\n" + "\n".join(
        map(str, bad))


def _tree(tmp_path: Path, files: dict) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


@pytest.mark.parametrize("text, module", [
    ("import spintwin.flow\n", "spintwin.flow"),                        # module level
    ("def f():\n    from bench import networks\n", "bench"),            # deferred, nothing imports bench
    ("def f():\n    if True:\n        import hdl.core as c\n", "hdl.core"),
])
def test_upward_import_fails(tmp_path, text, module):
    """A deliberately upward import in a synthetic tree is found, with file:line and both layers."""
    root = _tree(tmp_path, {"golden/__init__.py": "", "golden/ok.py": "import numpy\nfrom spinbase import data\n",
                            "golden/bad.py": "from . import ok\n" + text, "spinbase/data.py": ""})
    bad = check_tree(root)
    assert [(v.path, v.importer, v.module) for v in bad] == [("golden/bad.py", "golden", module)]
    line = text.count("\n") + 1  # the import is the last line of ``text``, after "from . import ok"
    assert bad[0].line == line
    msg = str(bad[0])
    assert msg.startswith(f"golden/bad.py:{line}: golden (layer 1) imports {module} from ") and "upward" in msg


def test_relative_and_forbidden(tmp_path):
    """Relative imports resolve inside their package; the models never import the RTL stack."""
    root = _tree(tmp_path, {"quantize/sub/__init__.py": "from .. import fixed\nfrom ..fixed import x\n",
                            "quantize/fixed.py": "from amaranth import Signal\n",
                            "hdl/a.py": "from amaranth import Signal\nfrom quantize import fixed\n"})
    bad = check_tree(root)
    assert [(v.path, v.line, v.module) for v in bad] == [("quantize/fixed.py", 1, "amaranth")]
    assert "forbidden" in str(bad[0])


def test_real_copy_with_upward_import_fails(tmp_path):
    """The real checkout, copied, with one upward import added to golden/: the checker names it."""
    import shutil

    for layer in LAYERS:
        shutil.copytree(ROOT / layer, tmp_path / layer, ignore=shutil.ignore_patterns("__pycache__", "*.npz",
                                                                                        "results", "weights"))
    before = {(v.path, v.line) for v in check_tree(tmp_path)}
    with open(tmp_path / "golden" / "constants.py", "a") as f:
        f.write("\n\ndef _upward():\n    from tb import runner  # deliberately upward\n")
    new = [v for v in check_tree(tmp_path) if (v.path, v.line) not in before]
    assert [(v.path, v.importer, v.imported) for v in new] == [("golden/constants.py", "golden", "tb")]


#: Private names a module may still import from another module: (importing module, name), each
#: with its reason in a comment. None today.
PRIVATE_IMPORTS_ALLOWED: set = set()


def private_imports(root: Path | str, layers=LAYERS) -> list[str]:
    """``path:line: module imports other._name`` for every import of another module's private
    (underscore, not dunder) name under ``root``. A private module of the importer's own
    package (``from golden import _stdp_kernels``) is that package's own business and allowed."""
    root = Path(root)
    out = []
    for layer in layers:
        for path in sorted((root / layer).rglob("*.py")):
            rel = path.relative_to(root)
            module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
            package = rel.parent.parts
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
            modules = _module_names(tree, package, root)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                        and node.attr.startswith("_") and not node.attr.startswith("__")):
                    source = modules[node.value.id]
                    if (module, f"{source}.{node.attr}") not in PRIVATE_IMPORTS_ALLOWED:
                        out.append(f"{rel}:{node.lineno}: {module} uses {source}.{node.attr}")
                if not isinstance(node, ast.ImportFrom):
                    continue
                source = _imported(node, package)[0]
                for alias in node.names:
                    name = alias.name
                    if not name.startswith("_") or name.startswith("__"):
                        continue
                    own_module = source == ".".join(package) and (root / Path(*package) / f"{name}.py").is_file()
                    if not own_module and (module, f"{source}.{name}") not in PRIVATE_IMPORTS_ALLOWED:
                        out.append(f"{rel}:{node.lineno}: {module} imports {source}.{name}")
    return out


def _module_names(tree: ast.AST, package: tuple[str, ...], root: Path) -> dict[str, str]:
    """Local names bound to another project module (``from golden import snn``,
    ``import golden.snn as snn``): name -> the module's dotted path."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _imported(node, package)[0]
            for alias in node.names:
                if (root / Path(*source.split("."), f"{alias.name}.py")).is_file() and not alias.name.startswith("_"):
                    names[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and (root / Path(*alias.name.split("."))).with_suffix(".py").is_file():
                    names[alias.asname] = alias.name
    return names


def test_no_module_imports_another_modules_private_name():
    """A name another module uses is public (in its home's ``__all__``, with a docstring); tests
    may reach into privates, the packages may not."""
    bad = private_imports(ROOT)
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def test_private_import_is_found(tmp_path):
    """The checker names a private import, relative or absolute, deferred or not, and lets a
    package import its own private module."""
    root = _tree(tmp_path, {"golden/__init__.py": "", "golden/_kern.py": "_B = 1\n",
                            "golden/a.py": "from . import _kern\nfrom ._kern import _B\n",
                            "quantize/b.py": "def f():\n    from golden.a import _x, y\n",
                            "quantize/c.py": "from golden import a\nimport golden.a as ga\nz = a._x + ga._y + a.y\n"})
    assert private_imports(root) == ["golden/a.py:2: golden.a imports golden._kern._B",
                                     "quantize/b.py:2: quantize.b imports golden.a._x",
                                     "quantize/c.py:3: quantize.c uses golden.a._x",
                                     "quantize/c.py:3: quantize.c uses golden.a._y"]
