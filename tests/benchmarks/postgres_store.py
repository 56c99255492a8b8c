"""The benchmarks' PostgreSQL store for the demo: one database on the service network.

Both colours share it by URL (a secret: never printed). Each release's own expand steps are
applied before the first deploy, as the DAG's deploy.expand_schema would (1.1.0 writes a
column 1.0.0 does not know). Removal is in two steps because the engine's teardown removes
the service network, which a database still attached to it would hold.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field

import docker

from handoff.bluegreen import BlueGreenConfig
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

    def config_fields(self) -> dict[str, object]:
        """What the service's BlueGreenConfig needs to reach the database."""
        return {
            "network": self.spec.network,
            "secret_environment": (("DEMO_DATABASE_URL", self.url),),
        }

    def start(
        self, client: docker.DockerClient, config: BlueGreenConfig, releases: Sequence[str]
    ) -> None:
        """Start the database and apply each release's expand steps, in order."""
        ensure_postgres(client, self.spec)
        for release in releases:
            done = run_release(client, config, release, MIGRATE_EXPAND, 120)
            if done.exit_code != 0:
                raise SystemExit(f"{release}: migrations failed: {done.output[-5:]}")

    def remove_database(self, client: docker.DockerClient) -> None:
        """Before the engine's teardown: the database and its data."""
        remove_postgres(client, self.spec, data=True)

    def remove_network(self, client: docker.DockerClient) -> None:
        """After the engine's teardown, if it left the network."""
        for network in client.networks.list(names=[self.spec.network]):
            network.remove()
