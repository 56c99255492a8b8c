"""Every criterion of every fixture contract keeps the check it is bound to.

The golden file was written from the bindings as they were before the checks moved into a
registry (`python -m tests.unit.plan.test_bindings_pinned` rewrites it): a change of rule,
rule order, phase or missing-settings note shows here as a diff, criterion by criterion.
Besides the contracts, every pair of rule words is bound as a criterion name, which pins the
order in which the rules are tried (first match wins, specific before general).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from handoff.catalog import load_handoff
from handoff.contract.model import Criterion
from handoff.contract.parser import parse_contract
from handoff.plan.bindings import bind_checks, check_kind
from tests.conftest import FIXTURES, ROOT

GOLDEN = FIXTURES / "bindings" / "bindings.json"
CONTRACT_DIRS = (ROOT / "include" / "handoffs", FIXTURES)
# The words of the rules as they stood: one criterion name per word group, and per pair.
RULE_WORDS = (
    "zero downtime", "downtime", "blue green", "security monitoring", "performance monitoring",
    "monitoring", "tracking", "analytics", "observability", "alerting", "health", "performance",
    "latency", "security", "vulnerab", "accessibility", "wcag", "user acceptance", "smoke",
    "functional", "journey", "rollback", "data integrity", "configuration", "communication",
    "notification", "crawler", "nothing matches",
)  # fmt: skip


def _contracts() -> list[Path]:
    paths = [
        p
        for folder in CONTRACT_DIRS
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".md", ".json") and p.is_file()
    ]
    return sorted(set(paths))


def _bindings_of(path: Path) -> list[list[Any]] | None:
    """Return [criterion name, kind, phases, note] per criterion, or None if no contract."""
    handoff = load_handoff(path)
    if handoff.plan is not None:
        bindings = handoff.plan.checks
    else:
        parsed = parse_contract(path)
        if parsed.contract is None:
            return None
        bindings = bind_checks(parsed.contract.acceptance_criteria, None)
    return [[b.criterion.name, b.kind.name, [p.name for p in b.phases], b.note] for b in bindings]


def current() -> dict[str, Any]:
    """Return the bindings of today's code: per contract file, and per rule-word name."""
    contracts = {}
    for path in _contracts():
        bindings = _bindings_of(path)
        if bindings is not None:
            contracts[str(path.relative_to(ROOT))] = bindings
    names = list(RULE_WORDS) + [f"{a} {b}" for a, b in itertools.permutations(RULE_WORDS, 2)]
    by_name = {n: check_kind(Criterion("", n, "", False, 1)).name for n in names}
    by_text = {n: check_kind(Criterion("", "Item", n, False, 1)).name for n in RULE_WORDS}
    return {"contracts": contracts, "by_name": by_name, "by_text": by_text}


def test_every_fixture_criterion_keeps_its_binding() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = current()
    assert now["contracts"].keys() == golden["contracts"].keys()
    for path, bindings in golden["contracts"].items():
        assert now["contracts"][path] == bindings, path
    assert len(golden["contracts"]) >= 10


def test_rule_order_is_unchanged() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = current()
    changed = {
        n: (k, now["by_name"][n]) for n, k in golden["by_name"].items() if now["by_name"][n] != k
    }
    assert changed == {}
    assert now["by_text"] == golden["by_text"]


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(current(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
