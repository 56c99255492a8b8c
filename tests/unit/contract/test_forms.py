"""Every written form and quirk of HANDOFF/V1 contracts reads into the same typed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.contract import load_contract, parse_contract
from handoff.contract.model import CommunicationKind, ContractForm, MetricKind, WindowKind
from handoff.errors import Severity
from tests.conftest import FIXTURES, SEED

VALID = FIXTURES / "contracts" / "valid"


def test_crlf_bom_no_final_newline_reads_like_the_seed() -> None:
    path = VALID / "crlf_bom_no_final_newline.md"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and not raw.endswith(b"\n")
    quirky, seed = load_contract(path), load_contract(SEED)
    assert quirky.handoff_id == "QUIRKS-CRLF-001"
    assert quirky.acceptance_criteria == seed.acceptance_criteria
    assert quirky.success_metrics == seed.success_metrics
    assert quirky.timeline == seed.timeline
    assert quirky.next_steps == seed.next_steps


def test_inline_bold_form_reads_only_the_contract_part() -> None:
    contract = load_contract(VALID / "inline_bold_report.md")
    assert contract.source.form is ContractForm.INLINE_BOLD
    # **Contract ID:** (colon inside the bold) is the handoff id; the appendix's is not.
    assert contract.handoff_id == "CHECKOUT-REL-014"
    assert contract.sender.name == "Release Orchestrator"
    assert [p.name for p in contract.recipients] == ["SRE On-Call", "Payments Team", "Platform Ops"]
    assert contract.timestamp == datetime(2026, 3, 2, 14, 5, tzinfo=UTC)
    assert contract.objective == "Deploy checkout v14 to production without downtime ✅"
    names = [(c.name, c.checked) for c in contract.acceptance_criteria]
    assert names == [
        ("Health Checks", False),
        ("Performance Validation", True),
        ("Smoke journeys pass for guest checkout", False),
    ]
    error_rate = contract.metric(MetricKind.ERROR_RATE)
    assert error_rate and error_rate.threshold and error_rate.threshold.value == 0.5
    notice = contract.message(CommunicationKind.PRE_DEPLOY_NOTICE)
    assert notice and notice.offset == timedelta(hours=12)
    monitoring = contract.window(WindowKind.MONITORING_PERIOD)
    assert monitoring and monitoring.duration == timedelta(hours=48)


def test_inline_bold_fenced_code_is_not_contract_content() -> None:
    contract = load_contract(VALID / "inline_bold_report.md")
    everything = " ".join(c.text for c in contract.acceptance_criteria) + contract.objective
    assert "k6" not in everything and "replicas" not in everything


def test_whole_json_file() -> None:
    contract = load_contract(VALID / "whole_file.json")
    assert contract.source.form is ContractForm.JSON
    assert contract.handoff_id == "SEARCH-API-007"
    assert contract.title == "Search API v7 rollout"
    # `from` as an object with mode/role/timestamp; its timestamp stands in for the header's.
    assert contract.sender.role == "Search Platform Orchestrator"
    assert contract.sender.mode == "sparc-orchestrator"
    assert contract.timestamp == datetime(2026, 4, 10, 8, tzinfo=UTC)
    assert [p.name for p in contract.recipients] == ["SRE Engineer", "Data Platform"]
    groups = contract.criterion_groups
    assert groups == ("Deployment Success Criteria", "Rollback Readiness Criteria")
    health = next(c for c in contract.acceptance_criteria if c.name == "Health Checks")
    assert health.checked and health.line == 11
    assert contract.rollback_target and contract.rollback_target.threshold.duration == timedelta(
        minutes=10
    )
    performance = contract.metric(MetricKind.PERFORMANCE)
    assert performance and performance.threshold and performance.threshold.value == 5
    assert contract.risks[0].impact and contract.risks[0].impact.value == "MEDIUM"


def test_whole_json_reports_unknown_keys_with_their_line() -> None:
    result = parse_contract(VALID / "whole_file.json")
    notes = [
        d for d in result.diagnostics if d.severity is Severity.NOTE and "owner_notes" in d.message
    ]
    assert notes and notes[0].line == 35


def test_fenced_json_block_in_markdown() -> None:
    contract = load_contract(VALID / "fenced_json.md")
    assert contract.source.form is ContractForm.EMBEDDED_JSON
    assert contract.handoff_id == "BILLING-042"  # "contract_id" is a synonym
    assert contract.source.id_line == 8  # line in the markdown file, not in the block
    assert [p.name for p in contract.recipients] == ["SRE Engineer", "Finance Ops"]
    # Milliseconds and a +02:00 offset, normalised to UTC.
    assert contract.timestamp == datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    names = [c.name for c in contract.acceptance_criteria]
    assert names == ["Health Checks pass", "Security Verification"]


def test_h3_sections_emoji_headings_and_missing_sections() -> None:
    result = parse_contract(VALID / "h3_sections_missing.md")
    contract = result.contract
    assert contract is not None
    assert contract.handoff_id == "CONFIG-PATCH-3"
    assert contract.title == "Config Service Patch"
    assert contract.objective == "Patch the config service."
    assert [c.group for c in contract.acceptance_criteria] == ["Deployment"] * 3
    assert contract.communication_plan == () and contract.timeline == ()
    warnings = [d.message for d in result.diagnostics if d.severity is Severity.WARNING]
    assert "no communication plan: project defaults apply" in warnings
    assert "no timeline: project defaults apply" in warnings
    # A value that cannot be typed stays text and is warned about; nothing is guessed.
    error_rate = contract.metric(MetricKind.ERROR_RATE)
    assert error_rate and error_rate.threshold is None and error_rate.text == "low, hopefully"
    assert any("'Error Rate': no threshold" in w for w in warnings)


def test_mojibake_repair_is_reported_with_its_line() -> None:
    result = parse_contract(SEED)
    notes = [d for d in result.diagnostics if "mojibake" in d.message]
    assert len(notes) == 1 and notes[0].line == 84
    assert "'- **Performance**: All targets maintained (±10% tolerance)'" in notes[0].message


def test_utf16_contract(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "windows.md"
    path.write_bytes(SEED.read_text(encoding="utf-8").encode("utf-16"))
    assert load_contract(path).handoff_id == "PROD-DEPLOYMENT-001"
