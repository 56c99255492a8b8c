"""Write the acceptance sidecar skeleton of a contract: `python -m handoff accept CONTRACT`.

A module of its own, above both the acceptance and the plan packages: it reads a contract
and the plan's binding rules and writes acceptance settings.

The skeleton lints clean as written: every criterion is listed with the check the plan will
bind it to (the plan's own rules, handoff.plan.bindings), values the contract states are
filled in (the service name from its id, latency budgets from its performance targets), and
every value a person must decide carries a `# DECIDE:` comment, with a placeholder that
still validates (the release image above all).

Contract text reaches the file two ways only: values, each written by the YAML emitter on
one line, and comments, cut to one line with every line break YAML knows turned into a
space. The text is read back before it is returned and must give exactly the values meant.
"""

from __future__ import annotations

import math
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from handoff.acceptance.environment import Environment
from handoff.contract.model import Contract, Criterion, WindowKind
from handoff.contract.quantities import Bound, Threshold, Unit, find_named_targets
from handoff.plan.bindings import check_kind
from handoff.plan.model import CheckKind

DECIDE = "DECIDE:"  # the mark of every line a person must look at before the first run
DEFAULT_PORT = 8080
DEFAULT_BUDGET_MS = 1000.0  # an endpoint budget when the contract states none
_COMMENT_CHARS = 300
_WIDTH = 96  # comments are wrapped to this width
_NAME_CHARS = re.compile(r"[^a-z0-9_.-]+")

# What each check reads from the sidecar (or the environment), as the comments say it.
_SETTINGS = {
    CheckKind.ZERO_DOWNTIME: "probes service.health_path through live during the switch",
    CheckKind.HEALTH: "service.health_path, through the preview and then live",
    CheckKind.PERFORMANCE: "checks.endpoints (p95 budgets), against the live colour",
    CheckKind.SECURITY: "checks.security and the environment's scanner",
    CheckKind.ACCESSIBILITY: "checks.pages (axe-core, WCAG 2.1 A/AA)",
    CheckKind.SMOKE: "checks.journeys",
    CheckKind.MONITORING: "checks.monitoring.metrics_path and the watch windows",
    CheckKind.ROLLBACK_READINESS: "nothing to set: the old colour is kept warm",
    CheckKind.DATA_INTEGRITY: "checks.data_integrity",
    CheckKind.CONFIGURATION: "nothing to set: the run records its inputs' hashes",
    CheckKind.COMMUNICATION: "the environment's Slack connection (slack_conn_id)",
    CheckKind.DEPENDENCIES: "checks.dependencies (capacity, access, tls), at preflight",
}
# Criteria whose check has nothing to measure with the skeleton's settings.
_UNVERIFIED_UNTIL = {
    CheckKind.DATA_INTEGRITY: "not verified until checks.data_integrity sets "
    "write_probe: store_api or an integrity command",
    CheckKind.NOT_VERIFIED: "not verified: no automatic check matches its name or text, and "
    "no setting here can bind one; the report lists it as not verified for a person to judge",
}


class SkeletonError(ValueError):
    """A skeleton that could not be written safely (never expected: a guard, not a path)."""


@dataclass(frozen=True)
class Budget:
    """An endpoint to hold to a p95 budget; `stated` tells whether the contract gave it."""

    name: str
    p95_ms: float
    stated: bool

    @property
    def basis(self) -> str:
        """Say where the budget comes from, as the skeleton's comment tells it."""
        return "from the contract" if self.stated else f"{DECIDE} the contract states none"


def comment(text: str) -> str:
    """Return text fit for a YAML comment: one line (no break YAML knows), at most ~300 chars."""
    flat = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch == "\ufeff" else ch
        for ch in text
    )
    line = " ".join(flat.split())
    return line if len(line) <= _COMMENT_CHARS else line[: _COMMENT_CHARS - 1] + "…"


def emit(value: Any) -> str:
    """Return a value as YAML on one line, by the YAML emitter (strings quoted when needed)."""
    for style in (None, '"'):  # double quotes escape every line break, if plain style breaks
        text = yaml.safe_dump(
            value,
            default_flow_style=True,
            default_style=style,
            allow_unicode=False,
            width=math.inf,
            sort_keys=False,
        )
        text = text.removesuffix("\n").removesuffix("\n...").strip()
        if "\n" not in text and "\r" not in text:
            return text
    raise SkeletonError(f"value {value!r} does not fit on one line")


def service_name(handoff_id: str) -> str:
    """Return a service name (the sidecar's Name pattern) made from a contract id."""
    name = _NAME_CHARS.sub("-", handoff_id.lower()).strip("-_.")[:63].rstrip("-_.")
    return name or "service"


def _milliseconds(threshold: Threshold) -> float | None:
    if threshold.unit is not Unit.SECONDS or threshold.bound is not Bound.AT_MOST:
        return None
    return round(threshold.value * 1000, 3)


def budgets(contract: Contract, performance: Sequence[Criterion]) -> list[Budget]:
    """Return the endpoint budgets the contract states: its performance targets, else those
    named in the text of its performance criteria; one undecided budget if it states none."""
    found = [(t.name, _milliseconds(t.threshold)) for t in contract.performance_targets]
    if not found:
        found = [
            (t.name, _milliseconds(t.threshold))
            for criterion in performance
            for t in find_named_targets(criterion.text)
        ]
    stated = [Budget(" ".join(name.split()), ms, True) for name, ms in found if ms is not None]
    return stated or [Budget("home page", DEFAULT_BUDGET_MS, False)]


def placeholder_image(name: str, environment: Environment | None) -> str:
    """Return a release image that validates and says it must be replaced."""
    tag = "replace-with-the-release-tag"
    prefixes = environment.releases.allowed_prefixes if environment else []
    if not prefixes:
        return f"{name}:{tag}"
    prefix = prefixes[0]
    return f"{prefix}{name}:{tag}" if prefix.endswith("/") else f"{prefix}:{tag}"


@dataclass
class _Writer:
    """Lines of the skeleton, and the values they must read back as."""

    lines: list[str]
    data: dict[str, Any]

    def note(self, text: str, indent: int = 0, hang: int = 0) -> None:
        """Write a comment, wrapped to the width of the file; `hang` indents its own lines."""
        lead = f"{' ' * indent}# {' ' * hang}"
        for line in textwrap.wrap(comment(text), width=_WIDTH - len(lead)) or [""]:
            self.lines.append(f"{lead}{line}".rstrip())

    def blank(self) -> None:
        self.lines.append("")

    def key(self, path: tuple[str, ...], value: Any, why: str = "") -> None:
        """Write `key: value` at the nesting of path, with an end-of-line comment."""
        indent = "  " * (len(path) - 1)
        tail = f"  # {comment(why)}" if why else ""
        self.lines.append(f"{indent}{path[-1]}: {emit(value)}{tail}")
        target = self.data
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value

    def section(self, path: tuple[str, ...]) -> None:
        """Open a mapping key whose children follow."""
        self.lines.append(f"{'  ' * (len(path) - 1)}{path[-1]}:")
        target = self.data
        for part in path:
            target = target.setdefault(part, {})


def _criteria_notes(out: _Writer, kinds: list[tuple[Criterion, CheckKind]]) -> None:
    out.note("Acceptance criteria of the contract and the check each is bound to (by the plan's")
    out.note("rules, from the criterion's name, else its text). Bindings are not set here: to")
    out.note("see them as the run will, `python -m handoff show` the contract.")
    for criterion, kind in kinds:
        label = f"{criterion.group} / {criterion.name}" if criterion.group else criterion.name
        if kind in _UNVERIFIED_UNTIL:
            bound = _UNVERIFIED_UNTIL[kind]
            if kind is not CheckKind.NOT_VERIFIED:
                bound = f"{kind.value}: {bound}"
        else:
            bound = f"{kind.value}: {_SETTINGS[kind]}"
        out.note(f"- {label} (contract line {criterion.line})", hang=2)
        out.note(f"-> {bound}", hang=6)


def _identity(out: _Writer, contract: Contract, now: datetime) -> None:
    out.note("Who accepted the handoff, and when: the deployment window counts from accepted_at.")
    out.key(("handoff_id",), contract.handoff_id, "the contract's id")
    out.key(("accepted_by",), "DECIDE who accepts", f"{DECIDE} the person or team accepting")
    out.key(
        ("accepted_at",),
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "when this was written: set the time of acceptance",
    )
    window = contract.window(WindowKind.DEPLOYMENT_WINDOW)
    stated = f' (the contract: "{window.text}")' if window else ""
    out.note(f"deploy_at unset: the deployment starts when the DAG is triggered{stated}.")
    out.note("To schedule it, set deploy_at: 2026-01-02T09:00:00Z inside that window.")


def _service(out: _Writer, contract: Contract, name: str, environment: Environment | None) -> None:
    out.note("The service handed over: what to deploy and how to reach it.")
    out.section(("service",))
    out.key(("service", "name"), name, "from the contract id; containers and volumes carry it")
    out.key(
        ("service", "image"),
        placeholder_image(name, environment),
        f"{DECIDE} the release (a tag or digest the environment allows)",
    )
    out.key(("service", "port"), DEFAULT_PORT, f"{DECIDE} the port the service listens on")
    out.key(("service", "health_path"), "/health", f"{DECIDE} the path that answers 200 when up")
    out.note("Named data volumes shared by both colours (volume: mount path); none by default.", 2)


def _checks(out: _Writer, kinds: list[tuple[Criterion, CheckKind]], contract: Contract) -> None:
    needed = {kind for _, kind in kinds}
    out.note("What the validation gates measure. Paths are guesses until someone decides them.")
    out.section(("checks",))
    opened = len(out.lines) - 1
    if CheckKind.PERFORMANCE in needed:
        performance = [c for c, kind in kinds if kind is CheckKind.PERFORMANCE]
        out.note("p95 budgets, from the contract's performance targets:", 2)
        endpoints = []
        lines = []
        for budget in budgets(contract, performance):
            entry = {"name": budget.name, "path": "/", "p95_ms": budget.p95_ms}
            endpoints.append(entry)
            lines.append(f"    - {emit(entry)}  # {DECIDE} the path; budget {budget.basis}")
        out.lines.append("  endpoints:")
        out.lines += lines
        out.data["checks"]["endpoints"] = endpoints
    if CheckKind.ACCESSIBILITY in needed:
        out.lines.append("  pages:")
        page = {"name": "home page", "path": "/"}
        out.lines.append(f"    - {emit(page)}  # {DECIDE} the pages to audit")
        out.data["checks"]["pages"] = [page]
    if CheckKind.SMOKE in needed:
        out.lines.append("  journeys:")
        out.lines.append(f"    - name: open the home page  # {DECIDE} the steps a user takes")
        out.lines.append("      steps:")
        out.lines.append("        - {path: /, expect_status: 200}")
        out.data["checks"]["journeys"] = [
            {"name": "open the home page", "steps": [{"path": "/", "expect_status": 200}]}
        ]
    if CheckKind.MONITORING in needed:
        out.section(("checks", "monitoring"))
        out.key(
            ("checks", "monitoring", "metrics_path"),
            None,
            f"{DECIDE} e.g. /metrics (null: not checked)",
        )
    if CheckKind.DATA_INTEGRITY in needed:
        out.note("Data integrity after the switch and a rollback: unset, it is not verified.", 2)
        out.note(
            f"{DECIDE} an integrity command, an argv run without a shell in a one-off "
            "container of the release image (exit 0: intact), e.g.",
            2,
        )
        out.note("data_integrity: {command: [/opt/app/check-data]}", 2)
        out.note("(the demo service's store API: data_integrity: {write_probe: store_api})", 2)
    if not out.data["checks"]:
        out.lines[opened] = "checks: {}"  # no criterion needs settings: a mapping, not null


def render_skeleton(
    contract: Contract,
    now: datetime,
    environment_name: str,
    environment: Environment | None,
    environments: Sequence[str] = (),
) -> str:
    """Return the sidecar skeleton of a contract as YAML text with comments."""
    kinds = [(c, check_kind(c)) for c in contract.acceptance_criteria]
    out = _Writer([], {})
    out.note(f"Acceptance of {contract.handoff_id}: a skeleton `python -m handoff accept` wrote")
    out.note(f"from {contract.source.path.name}. The contract stays byte for byte what was")
    out.note("handed over; what the SRE team decides about it lives here. No secrets in this")
    out.note(f"file: keep them in Airflow connections. Every `{DECIDE}` line needs a person.")
    out.blank()
    _criteria_notes(out, kinds)
    out.blank()
    _identity(out, contract, now)
    others = ", ".join(e for e in environments if e != environment_name)
    out.key(
        ("environment",),
        environment_name,
        f"{DECIDE} where to deploy" + (f" (also known: {others})" if others else ""),
    )
    out.blank()
    _service(out, contract, service_name(contract.handoff_id), environment)
    out.blank()
    out.note("Whether the switch waits for a person's go/no-go: automatic or manual.")
    out.section(("promotion",))
    out.key(("promotion", "mode"), "automatic", f"{DECIDE} manual asks a person before the switch")
    out.blank()
    _checks(out, kinds, contract)
    text = "\n".join(out.lines) + "\n"
    if yaml.safe_load(text) != out.data:  # the guard: the text means what was written
        raise SkeletonError(f"the skeleton of {contract.handoff_id} does not read back as written")
    return text


def skeleton_path(contract_path: Path) -> Path:
    """Return where the skeleton of a contract goes: `<name>.deploy.yaml` beside it."""
    return contract_path.with_name(contract_path.stem + ".deploy.yaml")
