"""The layers of bench/ and the arrows between them, checked on the real import graph.

    utilities (errors, registry, fsutil, the catalogues) <- spec <- pipeline -> results <- reporting
    spec.schema <- attacks <- pipeline;   commands and the cli -> everything

A layer imports itself, the layers its arrows point at, and the utilities; nothing
else, and there is no list of exceptions. The catalogues of attacks, architectures
and datasets (``bench.catalogue``) are utilities: torch-free maps of keys to lazily
imported code, so the spec checks keys without importing the pipeline or the attacks.
results, reporting and attacks see the spec only through its vocabulary, ``spec.schema``.
Every ``import`` in every module counts, also those inside functions: a lazy
import is still a dependency. A wrong-way import fails here with the module
and the line that made it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from helpers.imports import HEAVY

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bench"
UTILITIES = ("bench.errors", "bench.registry", "bench.fsutil", "bench.catalogue")
# Each layer: its packages, and what it may import besides itself and the utilities.
LAYERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "utilities": (UTILITIES, (), "the utilities import nothing else of bench"),
    "spec.schema": (("bench.spec.schema",), (), "spec.schema is a leaf"),
    "spec": (("bench.spec",), (), "spec sees only itself and the utilities"),
    "attacks": (("bench.attacks",), ("bench.spec.schema",), "attacks import spec.schema only"),
    "results": (("bench.results",), ("bench.spec.schema",), "results are computed from records alone"),
    "reporting": (("bench.reporting",), ("bench.results", "bench.spec.schema"), "reporting reads results only"),
    "pipeline": (("bench.pipeline",), ("bench.attacks", "bench.results", "bench.spec"), "the pipeline never draws a report"),
}
# Torch and the attack libraries: never in these layers.
NO_TORCH = ("bench.spec", "bench.results", "bench.reporting")


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where, and whether it runs when the module is imported."""

    module: str
    target: str
    line: int
    top_level: bool


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> list[Import]:
    """Every import in ``source``, resolved to absolute module names (``from x import y`` counts x and x.y).

    ``top_level`` means it runs when the module is imported: anywhere outside a
    function body (inside ``try:`` or ``if`` at module level too). Only the body of
    an ``if TYPE_CHECKING:`` block is skipped, never its ``else``.
    """
    tree = ast.parse(source)
    out: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import):
            out.extend(Import(module, a.name, node.lineno, not in_function) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append(Import(module, target, node.lineno, not in_function))
            out.extend(Import(module, f"{target}.{a.name}", node.lineno, not in_function) for a in node.names)
        nested = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, False)
    return out


def graph(root: Path = PACKAGE) -> list[Import]:
    """All imports of every module under ``root``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        out += imports_of(path.read_text(encoding="utf-8"), module_name(path, root), path.name == "__init__.py")
    return out


def known_modules(root: Path = PACKAGE) -> set[str]:
    return {module_name(p, root) for p in root.rglob("*.py")}


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@cache
def lazy_torch_modules() -> set[str]:
    """Modules that import torch only inside functions: the catalogues, and every module the attack catalogue hands out
    (with the contract, ``bench.attacks.base``), because ``bench ls`` and ``bench validate`` import them."""
    from bench.catalogue.attacks import ATTACKS

    named = {ATTACKS.get(key).__module__ for key in ATTACKS.keys()}
    return named | {"bench.attacks.base", "bench.attacks"} | known_modules_under("bench.catalogue")


def known_modules_under(prefix: str) -> set[str]:
    return {m for m in known_modules() if within(m, prefix)}


def layer_of(module: str) -> str | None:
    """The layer a module belongs to (the most specific match), or None for commands, the cli and ``bench`` itself."""
    matches = [
        (max(len(p) for p in prefixes if within(module, p)), name) for name, (prefixes, _, _) in LAYERS.items() if within(module, *prefixes)
    ]
    return max(matches)[1] if matches else None


def allowed(imp: Import, known: set[str]) -> str | None:
    """None when the import respects the layers, else why it does not."""
    src, dst = imp.module, imp.target
    if not within(dst, "bench"):
        if within(dst, *HEAVY) and within(src, *NO_TORCH):
            return "this layer never imports torch or an attack library"
        if within(dst, *HEAVY) and imp.top_level and src in lazy_torch_modules():
            return "attacks and catalogues import torch only inside functions, so listing and validating stay light"
        return None
    if dst == "bench" or (dst not in known and dst.rsplit(".", 1)[0] in known):
        return None  # `bench` is __version__; `from bench.x import name` also yields bench.x.name, and bench.x is checked
    if dst not in known:
        return "no such bench module"
    layer = layer_of(src)
    if layer is None:
        return None  # commands, the cli and __main__ may import anything
    prefixes, targets, why = LAYERS[layer]
    return None if within(dst, *prefixes, *targets, *UTILITIES) else why


def violations(imports: list[Import], known: set[str]) -> list[str]:
    return [f"{i.module}:{i.line} imports {i.target}: {why}" for i in imports if (why := allowed(i, known))]


def test_imports_point_one_way():
    assert violations(graph(), known_modules()) == []


def cycles(imports: list[Import], known: set[str]) -> list[list[str]]:
    edges: dict[str, set[str]] = {}
    for i in imports:
        if i.target in known and i.target != i.module and not within(i.module, i.target):
            edges.setdefault(i.module, set()).add(i.target)
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycles():
    assert cycles(graph(), known_modules()) == []


@pytest.mark.parametrize(
    "source, module, why",
    [
        ("import torch\n", "bench.reporting.figures.plots", "never imports torch"),
        ("def f():\n    import torch\n", "bench.results.metrics", "never imports torch"),
        ("from bench.reporting.report.run_report import write_report\n", "bench.pipeline.runner", "never draws a report"),
        ("from bench.pipeline.data.bundle import load_data\n", "bench.results.flags", "computed from records alone"),
        ("from bench.spec.load import load_suite\n", "bench.attacks.cw", "spec.schema only"),
        ("import torch\n", "bench.attacks.cw", "only inside functions"),
        ("from ..results import metrics\n", "bench.spec.plan", "only itself and the utilities"),
    ],
)
def test_the_checker_catches_wrong_way_imports(source, module, why):
    imports = imports_of(source, module, is_package=False)
    found = violations(imports, known_modules())
    assert found and why in found[0]


def test_the_checker_finds_a_cycle():
    a = imports_of("from bench.results import metrics\n", "bench.results.records", False)
    b = imports_of("from bench.results import records\n", "bench.results.metrics", False)
    assert cycles(a + b, {"bench.results.records", "bench.results.metrics"})
