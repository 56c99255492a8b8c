"""The DAG's tasks, their callables, arguments and wiring stay as they were.

The golden file was written from the DAGs main built before the checks' gates came from the
registry (`python -m tests.unit.render.test_dag_layout_pinned` rewrites it). Each variant of
the seed changes what decides which gates exist: settings missing (not-verified records), an
integrity command (a pre-switch data-integrity gate), manual promotion, no scanner; and a
contract with no criteria at all.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from handoff.catalog import load_handoff
from handoff.render.dag import build_dag
from tests.conftest import FIXTURES
from tests.support.handoffs import SEED_SIDECAR, make_handoffs

GOLDEN = FIXTURES / "bindings" / "dag_layout.json"
GATE_GROUPS = ("pre_switch_gates", "post_switch_verification")


def _block(key: str) -> str:
    """Return the seed sidecar's `checks.<key>` block as written (to replace it)."""
    lines = SEED_SIDECAR.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {key}:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(("    ", "\n")))
    return "".join(lines[start:end])


def _variants() -> dict[str, dict[str, dict[str, str]]]:
    return {
        "seed": {},
        "no_settings": {
            "sidecar": {
                _block("endpoints"): "  endpoints: []\n",
                _block("pages"): "  pages: []\n",
                _block("journeys"): "  journeys: []\n",
                "write_probe: store_api": "write_probe: none",
            }
        },
        "integrity_command": {
            "sidecar": {"command: null": "command: [/opt/demo/integrity_check.py]"}
        },
        "manual_promotion": {"sidecar": {"mode: automatic": "mode: manual"}},
        "no_scanner": {"environment": {"scanner_image: handoff-scanner:latest": ""}},
    }


def _callable_name(task: Any) -> str:
    callable_ = getattr(task, "python_callable", None)
    return f"{callable_.__module__}:{callable_.__qualname__}" if callable_ else ""


def _layout(dag: Any) -> dict[str, Any]:
    tasks = {}
    for task in dag.tasks:
        kwargs = {k: v for k, v in (getattr(task, "op_kwargs", None) or {}).items()}
        kwargs.pop("contract_path", None)
        tasks[task.task_id] = {
            "type": type(task).__name__,
            "callable": _callable_name(task),
            "op_kwargs": kwargs,
            "trigger_rule": str(task.trigger_rule),
            "upstream": sorted(task.upstream_task_ids),
        }
    order = {
        group: [t.task_id for t in dag.tasks if t.task_id.startswith(f"{group}.")]
        for group in GATE_GROUPS
    }
    return {"tasks": dict(sorted(tasks.items())), "gate_order": order}


def current() -> dict[str, Any]:
    """Return the layout of each variant's DAG as the code builds it today."""
    layouts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, edits in _variants().items():
            folder = make_handoffs(
                Path(tmp) / name,
                ["PROD-DEPLOYMENT-001"],
                sidecar_edits=edits.get("sidecar"),
                environment_edits=edits.get("environment"),
            )
            handoff = load_handoff(folder / "PROD-DEPLOYMENT-001.md")
            assert handoff.deployable, (name, handoff.problems)
            layouts[name] = _layout(build_dag(handoff, register=False))
    # A contract with no acceptance criteria: only the gates that run in every DAG.
    handoff = load_handoff(FIXTURES / "acceptance" / "handoffs" / "accepted.md")
    layouts["no_criteria"] = _layout(build_dag(handoff, register=False))
    return layouts


def test_every_variant_keeps_its_dag_layout() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = current()
    assert now.keys() == golden.keys()
    for name in golden:
        assert now[name]["gate_order"] == golden[name]["gate_order"], name
        assert now[name]["tasks"] == golden[name]["tasks"], name


def test_the_variants_differ_where_they_should() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    seed, bare = golden["seed"]["tasks"], golden["no_settings"]["tasks"]
    assert seed["pre_switch_gates.performance"]["callable"].endswith(":performance_gate")
    assert bare["pre_switch_gates.performance"]["callable"].endswith(":not_verified")
    assert "pre_switch_gates.data_integrity" in golden["integrity_command"]["tasks"]
    assert "pre_switch_gates.security_scan" not in golden["no_scanner"]["tasks"]
    assert "go_no_go" in golden["manual_promotion"]["tasks"]


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(current(), indent=1) + "\n", encoding="utf-8")
