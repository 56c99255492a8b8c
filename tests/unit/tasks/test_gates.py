"""The gates' use of the target: postures and pinning, the integrity command, the scanner."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from handoff.checks.integrity import COMMAND_FIELD
from handoff.target import Colour, CommandResult, CommandUnusable, ScanResult
from handoff.tasks import check_gates, data_integrity
from handoff.tasks.context import handoff_from
from handoff.tasks.scanner_gate import ScannerGate
from tests.support.fake_target import FakeTarget, FakeTI, posture
from tests.unit.tasks.conftest import RELEASE

IMAGE = "sha256:" + "b" * 64


def _deployed(ti: FakeTI, target: FakeTarget) -> None:
    target.running(Colour.BLUE, "v1", live=True).running(Colour.GREEN, RELEASE)
    ti.xcoms[check_gates.DEPLOY_TASK] = {"colour": "green", "release": RELEASE}


def test_postures_come_from_the_target_with_the_tag_it_names_now(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    _deployed(ti, target)
    target.postures[Colour.GREEN] = posture(IMAGE, privileged=True)
    target.tags[RELEASE] = IMAGE
    tag_id, new, old = check_gates._colour_postures(handoff_from(contract))
    assert (tag_id, new.image_id, new.privileged) == (IMAGE, IMAGE, True)
    assert old == posture()
    assert ("image_id", (RELEASE,)) in target.calls


def test_a_tag_that_names_nothing_now_is_no_pin(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    _deployed(ti, target)
    assert check_gates._colour_postures(handoff_from(contract))[0] == ""


def test_a_release_colour_without_an_instance_fails_the_gate(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    ti.xcoms[check_gates.DEPLOY_TASK] = {"colour": "green", "release": RELEASE}
    with pytest.raises(AirflowFailException, match="colour green has no container"):
        check_gates._colour_postures(handoff_from(contract))


def _with_command(contract: str) -> None:
    """Make the sidecar name an integrity command (the seed's has none)."""
    sidecar = Path(contract).with_suffix(".deploy.yaml")
    text = sidecar.read_text(encoding="utf-8")
    assert "    command: null\n" in text
    text = text.replace("    command: null\n", "    command: [/opt/demo/integrity_check.py]\n")
    sidecar.write_text(text, encoding="utf-8")


def test_the_integrity_command_runs_beside_the_release(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    _with_command(contract)
    _deployed(ti, target)
    target.command = CommandResult(
        ("/opt/demo/integrity_check.py",), RELEASE, "green", 0, 0.2, ("store ok",)
    )
    finding = data_integrity.finding_on_release(handoff_from(contract), target)
    assert not finding.failed
    _op, (colour, argv, _timeout) = next(c for c in target.calls if c[0] == "run_beside")
    assert colour is Colour.GREEN and argv == ("/opt/demo/integrity_check.py",)


def test_an_unusable_command_is_a_failed_finding_never_an_exception(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    _with_command(contract)
    _deployed(ti, target)
    target.command = CommandUnusable(f"{COMMAND_FIELD}: not in the image")
    finding = data_integrity.finding_on_release(handoff_from(contract), target)
    assert finding.failed and "not in the image" in finding.summary


def test_no_live_colour_to_run_beside_is_a_failed_finding(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    _with_command(contract)
    findings = data_integrity.findings_after(handoff_from(contract), target, "switch", set(), None)
    assert any("no live colour" in f.summary for f in findings)


def _scanner(contract: str) -> ScannerGate:
    return ScannerGate(
        task_id="security_scan", contract_path=contract, image="scan:1", timeout=timedelta(1)
    )


def test_the_scanner_runs_beside_the_preview_and_streams_its_lines(
    contract: str, target: FakeTarget, ti: FakeTI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    assert _scanner(contract).execute({}) == "no findings"
    _op, (image, environment, _timeout) = next(c for c in target.calls if c[0] == "scan_preview")
    assert (image, environment) == ("scan:1", {"HANDOFF_SCAN_IMAGE": RELEASE})
    assert "scanner | scanning" in caplog.text


def test_a_scanner_finding_fails_the_gate(contract: str, target: FakeTarget, ti: FakeTI) -> None:
    target.scan = ScanResult(3, "2 critical findings")
    with pytest.raises(AirflowFailException, match="exited 3: 2 critical findings"):
        _scanner(contract).execute({})
