"""No import cycles among the modules of bot/.

The graph is read with `ast` from every bot/**/*.py: an edge for each module-level import of a bot.*
module, including those under `if TYPE_CHECKING:` (a type-only loop is still two modules that need each
other). Imports inside functions and classes' methods do not count: they run late, on purpose.
`from bot.x import y` points at bot.x (its __init__ runs) and at bot.x.y when that is a module.
"""
from __future__ import annotations

import ast
from pathlib import Path

from bot import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"

# Cycles known and accepted, each as the sorted tuple of its modules, with the reason. None today.
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_level_imports(tree: ast.Module, package: str) -> list[str]:
    """Dotted names imported at module level (also inside if/try/with blocks, not inside functions)."""
    names: list[str] = []

    def visit(nodes) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                names.extend(f"{base}.{alias.name}" for alias in node.names)
                names.append(base)
            else:
                visit(ast.iter_child_nodes(node))

    visit(tree.body)
    return names


def import_graph(root: Path = BOT) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for imported in module_level_imports(ast.parse(path.read_text(encoding="utf-8")), package):
            if imported in paths:
                targets.add(imported)
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[str, ...]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_modules_of_bot_import_each_other_without_cycles():
    graph = import_graph()
    assert len(graph) > 50 and "bot.store.repository" in graph  # the walk found the package
    assert set(cycles(graph)) - KNOWN_CYCLES == set()


def test_a_module_level_cycle_is_found_and_a_function_level_import_is_not(tmp_path):
    package = tmp_path / "bot"
    (package / "store").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "store" / "__init__.py").write_text("")
    (package / "a.py").write_text("from bot.store import b\n")
    (package / "store" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.c import C\n")
    (package / "c.py").write_text("from . import a\n\ndef late():\n    from bot.store import b\n")
    (package / "d.py").write_text("import bot.a\n\ndef late():\n    import bot.d2\n")
    (package / "d2.py").write_text("from bot.d import x\n")
    graph = import_graph(package)
    assert graph["bot.a"] == {"bot.store", "bot.store.b"}
    assert graph["bot.c"] == {"bot", "bot.a"}
    assert cycles(graph) == [("bot.a", "bot.c", "bot.store.b")]
