"""Put the demo release live behind the router for every deployable handoff (profile "demo").

What `make run` does on one machine: each handoff's service gets its router and the demo's
first release (HANDOFF_DEMO_RELEASE, default handoff-demo:1.0.0) in blue, live, so a
rehearsal triggered from the UI deploys the next release over it. A service that already has
a live colour is left alone, so the one-shot can run on every `up`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import Handoff, find_contracts, load_handoff
from handoff.runtime.engine_factory import engine_config

INCLUDE = Path(__file__).resolve().parent.parent


def handoffs_folder() -> Path:
    """Return the folder the DAG loader reads (HANDOFF_DIR, else include/handoffs)."""
    return Path(os.environ.get("HANDOFF_DIR") or INCLUDE / "handoffs")


def put_live(handoff: Handoff, release: str) -> str:
    """Deploy ``release`` and switch to it unless the service already serves users."""
    assert handoff.acceptance is not None and handoff.environment is not None
    config = engine_config(handoff.acceptance, handoff.environment)
    # The sidecar's environment belongs to the release being handed over, not the baseline.
    engine = BlueGreenEngine(dataclasses.replace(config, environment=()))
    live = engine.status().live
    if live is not None:
        return f"{config.service}: {live.release} already live ({live.colour.value})"
    engine.deploy(release)
    engine.switch(release)
    return f"{config.service}: {release} live on 127.0.0.1:{config.live_port}"


def main() -> int:
    """Put every deployable handoff's service live; return non-zero if one could not be."""
    release = os.environ.get("HANDOFF_DEMO_RELEASE") or "handoff-demo:1.0.0"
    failures = 0
    for contract in find_contracts([handoffs_folder()]):
        handoff = load_handoff(contract)
        if not handoff.deployable:
            print(f"demo: {contract.name} is not deployable; skipped", flush=True)
            continue
        try:
            print(f"demo: {put_live(handoff, release)}", flush=True)
        except Exception as error:  # one service's failure must not hide the others'
            failures += 1
            print(f"demo: {contract.name}: {error}", file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
