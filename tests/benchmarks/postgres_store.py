"""The benchmarks' PostgreSQL store for the demo: one database on the service network.

Both colours share it by URL (a secret: never printed). Each release's own expand steps are
applied before the first deploy, as the DAG's deploy.expand_schema would (1.1.0 writes a
column 1.0.0 does not know). `tear_down` removes the database before the engine's teardown,
which removes the service network a database still attached to it would hold.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine
from handoff.bluegreen.oneoff import run_release
from handoff.bluegreen.postgres import (
    PORT,
    PostgresSpec,
    ensure_postgres,
    new_password,
    remove_postgres,
)

MIGRATE_EXPAND = ["/opt/demo/migrate.py", "apply", "expand"]


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """The benchmarks' --store option: which store the demo service runs on."""
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the demo's store: its SQLite file, or PostgreSQL on the service network",
    )


@dataclass
class BenchDatabase:
    """A demo database for one benchmark service."""

    service: str
    spec: PostgresSpec = field(init=False)

    def __post_init__(self) -> None:
        self.spec = PostgresSpec(self.service, f"{self.service}-net", password=new_password())

    @property
    def url(self) -> str:
        s = self.spec
        return f"postgresql://{s.user}:{s.password}@{s.container}:{PORT}/{s.database}"

    def configure(self, config: BlueGreenConfig) -> BlueGreenConfig:
        """The service's config, on the database's network and with its URL as a secret."""
        return dataclasses.replace(
            config,
            network=self.spec.network,
            secret_environment=(("DEMO_DATABASE_URL", self.url),),
        )

    def start(self, engine: BlueGreenEngine, releases: Sequence[str]) -> None:
        """Start the database and apply each release's expand steps, in order."""
        ensure_postgres(engine.client, self.spec)
        for release in releases:
            done = run_release(engine.client, engine.config, release, MIGRATE_EXPAND, 120)
            if done.exit_code != 0:
                raise SystemExit(f"{release}: migrations failed: {done.output[-5:]}")


def tear_down(engine: BlueGreenEngine, database: BenchDatabase | None) -> None:
    """Remove the service, and its database first when it has one."""
    if database is not None:
        remove_postgres(engine.client, database.spec, data=True)
    engine.teardown(remove_data=True, force=True)
    if database is not None:  # the network, if the engine's teardown left it
        for network in engine.client.networks.list(names=[database.spec.network]):
            network.remove()
