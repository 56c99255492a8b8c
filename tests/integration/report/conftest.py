"""The rehearsal fixtures of tests/integration/dags (own service, ports, volume, Slack receiver)."""

from tests.integration.dags.test_rehearsal import demo_images, rehearsal, slack  # noqa: F401
