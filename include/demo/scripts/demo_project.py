"""The handoffs `make run` serves: a copy of include/handoffs/ whose expired demo acceptances
are renewed as of this start.

A committed sidecar records when the SRE team accepted the handoff, and the contract allows
the deployment only within its window after that (48 hours for the seed). The seed's
acceptance is history, so a run of the committed seed is refused at preflight, at any time
scale, as it must be. `make run` is the demo: as the SRE of the demo environment it accepts
again, as of its own start, every handoff of the `demo` environment whose window has
closed, in a git-ignored copy (`.airflow/demo-project/handoffs/`), and says so. The committed
files are never written; other environments' handoffs are copied unchanged.

The copy is kept in step with include/handoffs/ while `make run` runs (`sync` every few
seconds): a contract added, edited or deleted there is added, edited or deleted here.
`environments/` of the copy is a symlink to include/environments/, so environment files,
their report folder (include/reports/) and their hashes are the committed ones.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from handoff.catalog import is_contract_file, load_handoff, sidecar_path_for

log = logging.getLogger(__name__)

DEMO_ENVIRONMENT = "demo"
# The sidecar's own line, as written (a top-level key, never indented).
_ACCEPTED_AT = re.compile(r"^accepted_at:.*$", re.MULTILINE)


def project_of(home: Path) -> Path:
    """Return the folder of the copy under Airflow's home."""
    return home / "demo-project"


def renewed_sidecar(text: str, accepted_at: datetime, original: str) -> str:
    """Return the sidecar's text accepted again at `accepted_at`, the old date in a comment."""
    stamp = accepted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"accepted_at: {stamp}  # renewed by make run for the demo; committed: {original}"
    return _ACCEPTED_AT.sub(lambda _: line, text, count=1)


def _needs_renewal(contract: Path, now: datetime) -> str | None:
    """Return the committed acceptance time when a demo handoff's window has closed."""
    handoff = load_handoff(contract)
    acceptance, plan = handoff.acceptance, handoff.plan
    if acceptance is None or plan is None or acceptance.environment != DEMO_ENVIRONMENT:
        return None
    if plan.window_closes_at is None or plan.window_closes_at > now:
        return None
    if acceptance.deploy_at is not None:
        return None  # a fixed deploy time belongs to that acceptance: never moved silently
    return acceptance.accepted_at.isoformat().replace("+00:00", "Z")


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return True


class DemoProject:
    """The copy `make run` points Airflow at (HANDOFF_DIR), kept in step with the source."""

    def __init__(
        self, source: Path, home: Path, accepted_at: datetime, say: Callable[[str], None]
    ) -> None:
        self.source = source
        self.root = project_of(home)
        self.handoffs = self.root / "handoffs"
        self.accepted_at = accepted_at
        self.say = say
        self._announced: set[str] = set()

    def prepare(self) -> Path:
        """Create the copy with its environments link; return its handoffs folder."""
        self.handoffs.mkdir(parents=True, exist_ok=True)
        link = self.root / "environments"
        target = (self.source.parent / "environments").resolve()
        if link.is_symlink() and link.resolve() != target:
            link.unlink()
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link)
            link.symlink_to(target, target_is_directory=True)
        self.sync()
        return self.handoffs

    def sync(self) -> None:
        """Copy what changed in the source, renew expired demo acceptances, drop what went."""
        wanted: set[str] = set()
        for path in sorted(self.source.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            wanted.add(path.name)
            data = path.read_bytes()
            if is_contract_file(path):
                self._copy_contract(path, data)
            elif not path.name.endswith(".deploy.yaml"):
                _write_if_changed(self.handoffs / path.name, data)
        for path in self.handoffs.iterdir():
            if path.is_file() and not path.name.startswith(".") and path.name not in wanted:
                path.unlink()
                self.say(f"{path.name} was removed from {self.source}; removed from the demo copy")

    def _copy_contract(self, contract: Path, data: bytes) -> None:
        _write_if_changed(self.handoffs / contract.name, data)
        sidecar = sidecar_path_for(contract)
        if not sidecar.is_file():
            return
        text = sidecar.read_text(encoding="utf-8")
        committed = _needs_renewal(contract, self.accepted_at)
        if committed is not None:
            text = renewed_sidecar(text, self.accepted_at, committed)
            if contract.name not in self._announced:
                self._announced.add(contract.name)
                self.say(
                    f"{contract.name}: its acceptance of {committed} is past the contract's "
                    f"deployment window; the demo accepts it again as of "
                    f"{self.accepted_at:%Y-%m-%d %H:%M:%S} UTC (in {self.handoffs}, "
                    "never in include/handoffs/)"
                )
        _write_if_changed(self.handoffs / sidecar.name, text.encode("utf-8"))
