"""The package's sub-packages import each other without a cycle.

A cycle between packages means neither can be understood, tested or replaced without the
other; the layers of docs/architecture.md are only true while this test passes.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "handoff"


def _unit_of(path: Path) -> str:
    """Return the sub-package (or top-level module) a file belongs to."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported_units(path: Path) -> Iterator[str]:
    """Yield the sub-packages of `handoff` that one file imports, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "handoff" and len(parts) > 1:
                yield parts[1]


def import_graph() -> dict[str, dict[str, set[str]]]:
    """Return unit -> imported unit -> the files that make that import."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit_of(path)
        for target in _imported_units(path):
            if target != unit:
                graph.setdefault(unit, {}).setdefault(target, set()).add(
                    str(path.relative_to(PACKAGE))
                )
    return graph


def _cycle_from(graph: dict[str, dict[str, set[str]]], start: str) -> list[str] | None:
    """Return one import path from `start` back to itself, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        unit, path = stack.pop()
        for target in sorted(graph.get(unit, {})):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_no_import_cycle_between_packages() -> None:
    graph = import_graph()
    cycles = []
    for unit in sorted(graph):
        cycle = _cycle_from(graph, unit)
        if cycle:
            hops = [
                f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})"
                for a, b in itertools.pairwise(cycle)
            ]
            cycles.append("; ".join(hops))
    assert cycles == [], "import cycles between packages:\n" + "\n".join(cycles)


def test_the_cycle_check_sees_a_cycle() -> None:
    graph = {"a": {"b": {"a/x.py"}}, "b": {"a": {"b/y.py"}}}
    assert _cycle_from(graph, "a") == ["a", "b", "a"]
    assert _cycle_from({"a": {"b": {"a/x.py"}}}, "a") is None
