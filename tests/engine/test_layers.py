"""The engine's layers (README "The engine"): every import in graders/deepgrade/, at module level
or inside a function, read with ``ast``; none may reach a higher layer, and no two modules may
import each other, directly or around a loop."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "graders" / "deepgrade"

# low to high; a module may import from its own layer or a lower one
LAYERS = [
    {"portable"},
    {"settings", "quiet"},
    {"course"},
    {"sandbox"},
    {"grading"},
    {"reports"},
    {"batch"},
    {"publish"},
    {"authoring"},
    {"cli"},
]


def module_name(path: Path, engine: Path) -> str:
    parts = list(path.relative_to(engine.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    """The layer index of ``deepgrade.<top>...``; None for the package itself (deepgrade/__init__.py)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for i, names in enumerate(LAYERS):
        if parts[1] in names:
            return i
    raise AssertionError(f"{module}: not in any layer of LAYERS (add its folder there and to the README)")


def import_graph(engine: Path) -> dict[str, set[str]]:
    """{module: the deepgrade modules it imports}, every import statement counted."""
    modules = {module_name(p, engine): p for p in sorted(engine.rglob("*.py")) if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` the module
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `import deepgrade.x.y` -> the module that exists
                    target = target.rpartition(".")[0]
                if target.startswith("deepgrade") and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = layer(target), layer(source)
            if low is not None and high is not None and low > high:
                out.append(f"{source} imports {target} (layer {low} > {high})")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_from_a_higher_layer():
    assert upward_imports(import_graph(ENGINE)) == []


def test_no_import_cycle():
    assert cycles(import_graph(ENGINE)) == []


def test_every_module_is_in_a_layer():
    graph = import_graph(ENGINE)
    assert len(graph) > 40  # the whole engine was read, not an empty folder
    for name in graph:
        layer(name)  # raises for a folder the layers do not name


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path):
    """The two checks above fail on a tree that breaks them (and only there)."""
    engine = tmp_path / "deepgrade"
    for folder in ("course", "sandbox", "portable"):
        (engine / folder).mkdir(parents=True)
        (engine / folder / "__init__.py").write_text("")
    (engine / "__init__.py").write_text("")
    (engine / "course" / "a.py").write_text("def f():\n    from ..sandbox import b\n")  # lazy, still counted
    (engine / "sandbox" / "b.py").write_text("from . import c\n")
    (engine / "sandbox" / "c.py").write_text("from .b import X\nimport deepgrade.portable.w\n")
    (engine / "portable" / "w.py").write_text("import numpy\n")
    graph = import_graph(engine)
    assert graph["deepgrade.course.a"] == {"deepgrade.sandbox.b"}
    assert graph["deepgrade.sandbox.c"] == {"deepgrade.sandbox.b", "deepgrade.portable.w"}
    assert upward_imports(graph) == ["deepgrade.course.a imports deepgrade.sandbox.b (layer 3 > 2)"]
    assert cycles(graph) == [["deepgrade.sandbox.b", "deepgrade.sandbox.c"]]
