"""Only the Docker + HAProxy implementation imports Docker's SDK or Airflow's Docker provider.

Everything else reaches the engine through `handoff.target.DeploymentTarget`, so a second
target kind needs no change to the tasks, checks or watch windows.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "plugins" / "handoff"
IMPLEMENTATION = PACKAGE / "bluegreen"
FORBIDDEN = ("docker", "airflow.providers.docker")


def _imports(source: str) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _docker_imports(source: str) -> list[str]:
    return [
        name
        for name in _imports(source)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]


def test_no_module_outside_the_implementation_imports_docker() -> None:
    found = {
        str(path.relative_to(PACKAGE)): _docker_imports(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if IMPLEMENTATION not in path.parents
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_the_scan_sees_docker_imports_at_any_depth() -> None:
    source = (
        "import docker.errors\ndef f():\n    from airflow.providers.docker.operators import x\n"
    )
    assert _docker_imports(source) == ["docker.errors", "airflow.providers.docker.operators"]
    assert _docker_imports("import dockerfile_parse\nfrom handoff import docker_url") == []
