"""Load a handoff's alert rules into the running Prometheus, and take them out again.

Prometheus reads every ``*.yml`` of one folder (``rule_files`` in its configuration): a host
folder mounted read-only into its container (include/observability/stack.py), or in
docker-compose a volume shared with the Airflow containers. This module writes the handoff's
file there atomically (0644 in a 0755 folder: rules hold no secret), asks Prometheus to
reload (``POST /-/reload``, the lifecycle API the stack enables on its loopback port), and
trusts only what Prometheus then says: the reload's answer, and ``/api/v1/rules`` listing
the group with every rule. The file is checked for its structure before it is written
(promtool is not in the Airflow image; the integration tests run it in the Prometheus
container); a file Prometheus refuses anyway is taken back at once, so one handoff's file
never breaks the reload of the others.

Both calls are idempotent: loading the same rules again rewrites nothing and confirms; removing
rules that are not there still reloads and confirms they are gone. Synchronous on purpose:
they run in a task at the start and end of a watch, not in the triggerer.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from handoff.analysis.alert_rules import RuleThresholds, rules_file_name, rules_yaml
from handoff.analysis.queries import Target

log = logging.getLogger(__name__)

DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:19090"
DEFAULT_ALERTMANAGER_URL = "http://127.0.0.1:19093"
#: ``for`` values as Prometheus writes durations (``1m``, ``90s``, ``0s``).
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AlertingError(RuntimeError):
    """Prometheus or Alertmanager is unreachable, refused what was sent, or did not confirm it."""


class Unreachable(AlertingError):
    """No answer from Prometheus or Alertmanager."""


class Refused(AlertingError):
    """Prometheus or Alertmanager answered with an error."""


def default_rules_dir() -> Path:
    """Return the default rules folder (as include/observability/stack.py mounts it)."""
    state = os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    return Path(state).expanduser() / "handoff" / "prometheus-rules"


@dataclass(frozen=True)
class AlertingSettings:
    """Where Prometheus, Alertmanager and the rules folder are, and how long to wait.

    Parameters: ``prometheus_url`` and ``alertmanager_url`` (configuration, never a
    contract); ``rules_dir`` (the folder Prometheus reads its rule files from);
    ``timeout_s`` bounds each HTTP call; ``load_deadline_s`` how long a reload may take to
    show in ``/api/v1/rules``; ``notify_deadline_s`` how long a test alert may take to reach
    Slack; ``poll_s`` the pause between two looks.
    """

    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    alertmanager_url: str = DEFAULT_ALERTMANAGER_URL
    rules_dir: Path = field(default_factory=default_rules_dir)
    timeout_s: float = 5.0
    load_deadline_s: float = 30.0
    notify_deadline_s: float = 30.0
    poll_s: float = 0.25

    @classmethod
    def from_env(cls) -> AlertingSettings:
        """Return the settings of the environment (the stack's own variables)."""
        env = os.environ
        bind = env.get("HANDOFF_OBS_BIND", "127.0.0.1")
        prometheus = f"http://{bind}:{env.get('HANDOFF_PROMETHEUS_PORT', '19090')}"
        alertmanager = f"http://{bind}:{env.get('HANDOFF_ALERTMANAGER_PORT', '19093')}"
        return cls(
            prometheus_url=env.get("HANDOFF_PROMETHEUS_URL", prometheus).rstrip("/"),
            alertmanager_url=env.get("HANDOFF_ALERTMANAGER_URL", alertmanager).rstrip("/"),
            rules_dir=Path(env.get("HANDOFF_PROMETHEUS_RULES_DIR") or default_rules_dir()),
        )

    def client(self, base_url: str, transport: httpx.BaseTransport | None = None) -> httpx.Client:
        """Return an HTTP client of one component (no proxy from the environment)."""
        return httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(self.timeout_s),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
        )


@dataclass(frozen=True)
class LoadedRule:
    """One rule as Prometheus loaded it: its name, its query (Prometheus' own rendering)."""

    name: str
    expr: str
    health: str


@dataclass(frozen=True)
class RulesLoaded:
    """Evidence of a load: the group, its file, its rules, and how long until Prometheus had it."""

    handoff_id: str
    group: str
    file: str
    rules: tuple[LoadedRule, ...]
    load_ms: float
    rewritten: bool  # False: the same file was there already


@dataclass(frozen=True)
class RulesRemoved:
    """Evidence of a removal: the group, whether a file was there, how long until it was gone."""

    handoff_id: str
    group: str
    file: str
    file_removed: bool
    unload_ms: float


def validate_rules(text: str, where: str) -> list[str]:
    """Check a rules file's structure; return its alert names, or raise a located error."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AlertingError(f"{where}: not YAML: {exc}") from exc

    def need(ok: bool, at: str, expected: str, found: object) -> None:
        if not ok:
            raise AlertingError(f"{where}: {at}: expected {expected}, found {found!r}")

    need(
        isinstance(document, dict) and set(document) == {"groups"},
        "top",
        "{groups: [...]}",
        document,
    )
    groups = document["groups"]
    need(isinstance(groups, list) and len(groups) == 1, "groups", "one group", groups)
    group = groups[0]
    need(
        isinstance(group, dict) and isinstance(group.get("name"), str),
        "groups[0]",
        "a named group",
        group,
    )
    rules = group.get("rules")
    need(isinstance(rules, list) and bool(rules), "groups[0].rules", "a non-empty list", rules)
    names = []
    for n, rule in enumerate(rules):
        at = f"groups[0].rules[{n}]"
        need(isinstance(rule, dict), at, "a mapping", rule)
        need(
            set(rule) <= {"alert", "expr", "for", "labels", "annotations"},
            at,
            "known keys",
            sorted(rule),
        )
        need(
            isinstance(rule.get("alert"), str) and bool(ALERT_NAME.match(rule["alert"])),
            f"{at}.alert",
            "an alert name",
            rule.get("alert"),
        )
        need(
            isinstance(rule.get("expr"), str) and bool(rule["expr"].strip()),
            f"{at}.expr",
            "a PromQL expression",
            rule.get("expr"),
        )
        need(
            bool(DURATION.match(str(rule.get("for", "0s")))),
            f"{at}.for",
            "a duration such as 1m",
            rule.get("for"),
        )
        for key in ("labels", "annotations"):
            values = rule.get(key, {})
            need(
                isinstance(values, dict)
                and all(
                    isinstance(k, str) and LABEL_NAME.match(k) and isinstance(v, str)
                    for k, v in values.items()
                ),
                f"{at}.{key}",
                "label names mapped to strings",
                values,
            )
        names.append(rule["alert"])
    return names


def write_atomically(path: Path, text: str) -> bool:
    """Write a file through a temporary sibling and a rename; False if it held this already.

    The temporary name does not end in ``.yml``, so Prometheus' glob never sees half a file.
    """
    if path.exists() and path.read_text() == text:
        return False
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o644)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _rules_dir(settings: AlertingSettings) -> Path:
    folder = settings.rules_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # Prometheus' user reads it; rules hold no secret
    return folder


def _reload(settings: AlertingSettings, transport: httpx.BaseTransport | None) -> None:
    """Ask Prometheus to reload; raise AlertingError with its answer when it refuses."""
    url = settings.prometheus_url
    try:
        with settings.client(url, transport) as client:
            answer = client.post("/-/reload")
    except httpx.HTTPError as exc:
        raise Unreachable(
            f"Prometheus at {url} unreachable for POST /-/reload ({type(exc).__name__}: {exc})"
        ) from exc
    if answer.status_code != 200:
        hint = " (is --web.enable-lifecycle on?)" if answer.status_code in (403, 404, 405) else ""
        raise Refused(
            f"Prometheus at {url} refused to reload: HTTP {answer.status_code}: "
            f"{answer.text.strip()[:500]}{hint}"
        )


def _groups(settings: AlertingSettings, transport: httpx.BaseTransport | None) -> dict[str, Any]:
    """Return Prometheus' loaded rule groups by name."""
    url = settings.prometheus_url
    try:
        with settings.client(url, transport) as client:
            answer = client.get("/api/v1/rules", params={"type": "alert"})
        data = answer.json()
        return {str(g["name"]): g for g in data["data"]["groups"]}
    except httpx.HTTPError as exc:
        raise Unreachable(
            f"Prometheus at {url} unreachable for GET /api/v1/rules ({type(exc).__name__}: {exc})"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise AlertingError(f"Prometheus at {url}: unexpected /api/v1/rules answer: {exc}") from exc


def _wait_for_group(
    settings: AlertingSettings,
    group: str,
    names: list[str] | None,
    transport: httpx.BaseTransport | None,
) -> dict[str, Any] | None:
    """Poll until the group holds exactly ``names`` (None: until it is gone); return it."""
    deadline = time.monotonic() + settings.load_deadline_s
    while True:
        found: dict[str, Any] | None = _groups(settings, transport).get(group)
        if names is None and found is None:
            return None
        loaded = [] if found is None else sorted(str(r["name"]) for r in found["rules"])
        if names is not None and found is not None and loaded == sorted(names):
            return found
        if time.monotonic() > deadline:
            state = "still loaded" if names is None else "not loaded with its rules"
            raise AlertingError(
                f"Prometheus at {settings.prometheus_url}: rule group {group} {state} "
                f"{settings.load_deadline_s:g}s after the reload"
            )
        time.sleep(settings.poll_s)


def load_rules(
    handoff_id: str,
    target: Target,
    thresholds: RuleThresholds,
    settings: AlertingSettings,
    *,
    transport: httpx.BaseTransport | None = None,
) -> RulesLoaded:
    """Write the handoff's rules, reload Prometheus, and return once it lists them."""
    started = time.monotonic()
    text = rules_yaml(handoff_id, target, thresholds)
    path = _rules_dir(settings) / rules_file_name(handoff_id)
    names = validate_rules(text, str(path))
    group = f"handoff-{handoff_id}"
    previous = path.read_text() if path.exists() else None
    rewritten = write_atomically(path, text)
    try:
        _reload(settings, transport)
    except Unreachable as exc:
        raise Unreachable(f"{exc}; {path} stays and loads when Prometheus starts") from exc
    except Refused as exc:
        # Take the file back so that the next reload (any handoff's) succeeds again.
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            write_atomically(path, previous)
        _reload_quietly(settings, transport)
        raise Refused(f"rules file {path} of handoff {handoff_id}: {exc}") from exc
    loaded = _wait_for_group(settings, group, names, transport)
    assert loaded is not None
    rules = tuple(
        LoadedRule(str(r["name"]), str(r["query"]), str(r.get("health", "")))
        for r in loaded["rules"]
    )
    evidence = RulesLoaded(
        handoff_id,
        group,
        str(path),
        rules,
        round((time.monotonic() - started) * 1000, 1),
        rewritten,
    )
    log.info(
        "alert rules: group %s loaded into %s with %s rules (%s) in %.0f ms",
        group,
        settings.prometheus_url,
        len(rules),
        ", ".join(sorted({r.name for r in rules})),
        evidence.load_ms,
    )
    return evidence


def _reload_quietly(settings: AlertingSettings, transport: httpx.BaseTransport | None) -> None:
    try:
        _reload(settings, transport)
    except AlertingError as exc:
        log.warning("alert rules: reload after taking a refused file back failed too: %s", exc)


def remove_rules(
    handoff_id: str,
    settings: AlertingSettings,
    *,
    transport: httpx.BaseTransport | None = None,
) -> RulesRemoved:
    """Remove the handoff's rules file, reload Prometheus, and return once they are gone."""
    started = time.monotonic()
    path = _rules_dir(settings) / rules_file_name(handoff_id)
    group = f"handoff-{handoff_id}"
    existed = path.exists()
    path.unlink(missing_ok=True)
    _reload(settings, transport)  # also when no file was there: a retried removal confirms
    _wait_for_group(settings, group, None, transport)
    evidence = RulesRemoved(
        handoff_id, group, str(path), existed, round((time.monotonic() - started) * 1000, 1)
    )
    log.info(
        "alert rules: group %s %s and gone from %s in %.0f ms",
        group,
        "removed" if existed else "was not loaded",
        settings.prometheus_url,
        evidence.unload_ms,
    )
    return evidence
