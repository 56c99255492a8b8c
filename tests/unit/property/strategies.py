"""Hypothesis strategies for bad input: contract text, sidecar YAML, shell metacharacters."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[3]
SEED_TEXT = (ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md").read_text(encoding="utf-8")
SIDECAR_TEXT = (ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.deploy.yaml").read_text()

# Lines a contract is made of, so generated text reaches deep into the parser, not just its
# first "this is not a contract" check.
CONTRACT_LINES = [
    "# HANDOFF/V1",
    "## HANDOFF/V1 Contract",
    "## Handoff Details",
    "- **Handoff ID**: X-1",
    "- **From**: dev (2026-11-27T10:00:00Z)",
    "- **To**: sre",
    "- **Timestamp**: 2026-11-27T10:00:00.000Z",
    "**From**: a",
    "**To**: b",
    "**Objective**: ship it",
    "**Acceptance Criteria**:",
    "## Acceptance Criteria",
    "### Functional",
    "- [ ] **Zero-Downtime Deployment**: 0 minutes",
    "- [x] **Health Checks**: all green",
    "## Success Metrics",
    "- Error rate < 1%",
    "- Deploy time < 60 minutes",
    "- Performance within ±10% tolerance",
    "- Â±10%",
    "## Timeline",
    "- Deploy within 48 hours of acceptance",
    "- 24-hour validation period",
    "## Rollback",
    "- Rollback < 30 minutes",
    "```json",
    '{"schema": "HANDOFF/V1", "handoff_id": 5, "from": [1, {"mode": null}], "to": {}}',
    "```",
    "```",
    "",
    "\t",
    "- ",
    "**",
]

SHELL_PAYLOADS = [
    "$(touch {marker})",
    "`touch {marker}`",
    "; touch {marker}",
    "&& touch {marker}",
    "| touch {marker}",
    '$(python3 -c \'open("{marker}", "w")\')',
    "{{{{ ''.__class__ }}}} $(touch {marker})",
    "'; touch {marker}; echo '",
    '"; touch {marker}; echo "',
    "\n`touch {marker}`\n",
    "$IFS$(touch${{IFS}}{marker})",
    "{{% raw %}}$(touch {marker}){{% endraw %}}",
]


def contract_text() -> st.SearchStrategy[str]:
    """Text that mixes contract lines, mutated seed slices and arbitrary unicode."""
    lines = st.lists(
        st.one_of(st.sampled_from(CONTRACT_LINES), st.text(max_size=60)), max_size=40
    ).map("\n".join)
    seed_slice = st.tuples(
        st.integers(0, len(SEED_TEXT)), st.integers(0, len(SEED_TEXT)), st.text(max_size=30)
    ).map(lambda t: SEED_TEXT[: min(t[0], t[1])] + t[2] + SEED_TEXT[max(t[0], t[1]) :])
    return st.one_of(lines, seed_slice, st.text(max_size=400))


def contract_bytes() -> st.SearchStrategy[bytes]:
    """Bytes as files arrive: any encoding, BOMs, CR/LF mixes, invalid sequences."""
    encoded = st.tuples(contract_text(), st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]))
    as_bytes = encoded.map(lambda t: t[0].encode(t[1], errors="replace"))
    decorated = st.tuples(
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"]),
        as_bytes,
        st.binary(max_size=8),
    ).map(lambda t: t[0] + t[1].replace(b"\n", b"\r\n") + t[2])
    return st.one_of(as_bytes, decorated, st.binary(max_size=300))


# YAML values that reach every validator of the sidecar: wrong types, nesting, odd scalars.
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["24h", "30 minutes", "-5s", "2026-11-27T09:00:00Z", "/x", "../..", "~"]),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)

SIDECAR_KEYS = [
    "handoff_id",
    "accepted_by",
    "accepted_at",
    "deploy_at",
    "environment",
    "notice_lead",
    "service",
    "checks",
    "slack_conn_id",
    "report_dir",
    "promotion",
]
SERVICE_KEYS = ["name", "image", "port", "health_path", "version_path", "env", "volumes"]


def sidecar_documents() -> st.SearchStrategy[object]:
    """Whole sidecar documents: right keys with random values, plus random extra keys."""
    service = st.dictionaries(
        st.one_of(st.sampled_from(SERVICE_KEYS), st.text(max_size=8)), yaml_values, max_size=8
    )
    top = st.dictionaries(
        st.one_of(st.sampled_from(SIDECAR_KEYS), st.text(max_size=8)),
        st.one_of(yaml_values, service),
        max_size=12,
    )
    return st.one_of(top, yaml_values)


def sidecar_text_mutations() -> st.SearchStrategy[str]:
    """The seed sidecar with a slice replaced by arbitrary text (indentation, tabs, anchors)."""
    noise = st.one_of(
        st.text(max_size=30),
        st.sampled_from(["\t", ": :", "&a", "*a", "!!python/object:os.system", "[", "{", "- -"]),
    )
    return st.tuples(
        st.integers(0, len(SIDECAR_TEXT)), st.integers(0, len(SIDECAR_TEXT)), noise
    ).map(lambda t: SIDECAR_TEXT[: min(t[0], t[1])] + t[2] + SIDECAR_TEXT[max(t[0], t[1]) :])
