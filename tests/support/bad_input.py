"""The bad-input reproducers of issue 14 (fixtures under tests/fixtures/) and how to plant them.

Each case names its fixture, the file that must carry the error once planted beside good
handoffs, and the located error lint, the loader and the page must show for it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.support.handoffs import SEED_ID, SEED_SIDECAR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BAD_CONTRACTS = FIXTURES / "contracts" / "broken" / "bad_input"
BAD_SIDECARS = FIXTURES / "acceptance" / "handoffs"


@dataclass(frozen=True)
class BadInput:
    """One reproducer: its fixture, the file the error names, its line and message."""

    name: str
    fixture: Path
    line: int | None
    message: str
    sidecar_fixture: bool = False  # the sidecar is the bad file (else the contract)

    @property
    def bad_name(self) -> str:
        """Return the name of the file that carries the error."""
        if self.sidecar_fixture:
            return self.fixture.name.removesuffix(".md") + ".deploy.yaml"
        return self.fixture.name

    def plant(self, folder: Path) -> Path:
        """Copy the reproducer into a handoffs folder; return the file its error names."""
        shutil.copyfile(self.fixture, folder / self.fixture.name)
        sidecar = folder / (self.fixture.stem + ".deploy.yaml")
        if self.sidecar_fixture:
            shutil.copyfile(self.fixture.with_name(sidecar.name), sidecar)
        else:
            # An accepted contract, so the loader would build its DAG if it could.
            found = re.search(
                r'(?:Handoff ID\*\*: |"handoff_id": ")([A-Z0-9-]+)', _head(self.fixture)
            )
            handoff_id = found.group(1) if found else "UNKNOWN"
            sidecar.write_text(SEED_SIDECAR.read_text().replace(SEED_ID, handoff_id))
        return folder / self.bad_name


def _head(path: Path) -> str:
    with path.open(encoding="utf-8") as file:
        return file.read(4096)


CASES = (
    BadInput(
        "impossible_date",
        BAD_SIDECARS / "impossible_date.md",
        3,
        "invalid value: '2026-02-30' is not a real date or time: day is out of range for month",
        sidecar_fixture=True,
    ),
    BadInput(
        "huge_yaml_int",
        BAD_SIDECARS / "huge_yaml_int.md",
        8,
        "invalid value: integer 99999999999999999999...9999999999 (5000 chars) is too large",
        sidecar_fixture=True,
    ),
    BadInput(
        "huge_json_int",
        BAD_CONTRACTS / "huge_int.json",
        7,
        "a JSON number with 5000 digits; at most 100 are read",
    ),
    BadInput(
        "deep_json",
        BAD_CONTRACTS / "deep_nesting.json",
        4,
        "JSON nests more than 32 arrays or objects deep",
    ),
    BadInput(
        "deep_blockquote",
        BAD_CONTRACTS / "deep_blockquote.md",
        18,
        "blockquotes or lists nest 500 levels deep; at most 32 are read",
    ),
    BadInput(
        "deep_blockquote_50k",
        BAD_CONTRACTS / "deep_blockquote_50k.md",
        18,
        "blockquotes or lists nest 50000 levels deep; at most 32 are read",
    ),
    BadInput(
        "huge_duration",
        BAD_CONTRACTS / "huge_duration.md",
        16,
        "duration 'within 99999999999999999999999 hours' is out of range: at most 100 years",
    ),
    BadInput(
        "secret_url_value",
        BAD_SIDECARS / "secret_url_value.md",
        9,
        "service.env: Value error, DATABASE_URL holds a URL with a password: "
        "the value looks like a secret (not shown)",
        sidecar_fixture=True,
    ),
    BadInput(
        "secret_webhook_value",
        BAD_SIDECARS / "secret_webhook_value.md",
        9,
        "service.env: Value error, NOTIFY_TARGET holds a Slack webhook URL: "
        "the value looks like a secret (not shown)",
        sidecar_fixture=True,
    ),
)
# A valid contract whose text ends in ".md": only Airflow (doc_md) ever failed on it.
ENDS_IN_DOT_MD = FIXTURES / "contracts" / "valid" / "ends_in_dot_md.md"
