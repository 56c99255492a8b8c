"""The acceptance sidecar `<contract>.deploy.yaml`: the SRE's acceptance and the service to deploy.

The contract says what must be true; the sidecar says who accepted it and when, what to
deploy where, and how to check it. The contract file stays untouched.
"""

from __future__ import annotations

import enum
import math
import re
from collections import Counter
from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from handoff.acceptance.types import SECRET_NAME, STRICT, Duration, Name, Port, UrlPath

# Values that are secrets whatever their key is called; each says what it looks like, and the
# value itself is never repeated in a message (lint output lands in CI logs).
_SECRET_VALUES = (
    ("a URL with a password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.I)),
    (
        "a Slack webhook URL",
        re.compile(r"hooks\.slack(?:-gov)?\.com/(?:services|workflows)/", re.I),
    ),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "a GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})"),
    ),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")),
)
# Random-looking runs: base64 and URL-safe alphabets, long enough to be a key.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_MIN_ENTROPY_BITS = 4.0  # per character; English words and hex digests stay below


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_kind(value: str) -> str | None:
    """Say what secret a setting's value looks like, or None when it looks like a setting."""
    for kind, pattern in _SECRET_VALUES:
        if pattern.search(value):
            return kind
    for run in _TOKEN_RUN.findall(value):
        classes = sum(
            any(test(ch) for ch in run) for test in (str.isupper, str.islower, str.isdigit)
        )
        if classes == 3 and _entropy(run) >= _MIN_ENTROPY_BITS:
            return f"a random key of {len(run)} characters"
    return None


class ServiceSpec(BaseModel):
    """The service being released: its name, the release image and how to reach it."""

    model_config = STRICT

    name: Name
    image: str = Field(min_length=1, description="release image, e.g. handoff-demo:2.0.0")
    port: Port = 8080
    health_path: UrlPath = "/health"
    version_path: UrlPath = "/version"
    env: dict[str, str] = Field(default_factory=dict, description="non-secret settings")
    volumes: dict[str, str] = Field(
        default_factory=dict, description="named volume -> mount path, shared by both colours"
    )
    # Unset: the service keeps its own store (the demo's SQLite file on its volume).
    database: DatabaseSpec | None = None

    @field_validator("env")
    @classmethod
    def _no_secrets(cls, env: dict[str, str]) -> dict[str, str]:
        leaked = sorted(key for key in env if SECRET_NAME.search(key))
        if leaked:
            raise ValueError(
                f"{', '.join(leaked)} look like secrets; keep secrets in Airflow connections"
            )
        valued = [f"{key} holds {kind}" for key in sorted(env) if (kind := secret_kind(env[key]))]
        if valued:
            raise ValueError(
                f"{'; '.join(valued)}: the value looks like a secret (not shown); "
                "keep secrets in Airflow connections"
            )
        return env


class EndpointCheck(BaseModel):
    """An endpoint whose p95 latency is held to a budget."""

    model_config = STRICT

    name: str
    path: UrlPath
    p95_ms: float = Field(gt=0)


class PageAudit(BaseModel):
    """A page audited for accessibility."""

    model_config = STRICT

    name: str
    path: UrlPath


class JourneyStep(BaseModel):
    """One HTTP step of a smoke journey and what it must answer."""

    model_config = STRICT

    method: str = Field(default="GET", pattern=r"^(GET|POST|PUT|DELETE|HEAD)$")
    path: UrlPath
    json_body: dict[str, object] | None = None
    # One status, or any of several (a repeated write may answer 200 instead of 201).
    expect_status: int | list[int] = 200
    expect_text: str | None = None


class Journey(BaseModel):
    """A smoke journey: steps a user would take."""

    model_config = STRICT

    name: str
    steps: list[JourneyStep] = Field(min_length=1)


class PerformanceSettings(BaseModel):
    """The bounded synthetic load the performance gate sends per endpoint and listener."""

    model_config = STRICT

    # Unset: the environment's probes.latency_samples.
    requests: int | None = Field(default=None, ge=5, le=2000)
    connections: int = Field(default=2, ge=1, le=16)
    # A p95 slower than the baseline by less than this is jitter, not a regression.
    noise_floor_ms: float = Field(default=50.0, ge=0)
    # A failing endpoint is measured again; it fails only if every attempt fails.
    attempts: int = Field(default=3, ge=1, le=5)


def _default_required_headers() -> dict[str, str | None]:
    return {"X-Content-Type-Options": "nosniff"}


class SecuritySettings(BaseModel):
    """What the security gate requires of every answer."""

    model_config = STRICT

    # Header name -> expected value (compared case-insensitively); null: any value.
    required_headers: dict[str, str | None] = Field(default_factory=_default_required_headers)


class AccessibilitySettings(BaseModel):
    """How strict the accessibility audit is beyond "no worse than the old colour"."""

    model_config = STRICT

    # Unset: only the old colour's count limits; 0: no violation at all.
    max_violations: int | None = Field(default=None, ge=0)


class MonitoringSettings(BaseModel):
    """Where the service exposes its metrics (checked on live after the switch)."""

    model_config = STRICT

    metrics_path: UrlPath | None = None


class WriteProbe(enum.Enum):
    """How the switch and the rollback prove that acknowledged writes survive them."""

    # The demo service's store API: POST /api/records {"key": ...} acknowledges a write and
    # GET /api/records?after=ID&limit=N lists what is stored (handoff.bluegreen.loadgen).
    STORE_API = "store_api"
    # No writes: the zero-downtime probe only reads the service's health path.
    NONE = "none"


# An integrity command is run as an argv (no shell); these bounds keep a typo or a pasted
# script from becoming a command line nobody can review.
MAX_COMMAND_ARGS = 32
MAX_ARG_CHARS = 512


def _argv(value: object) -> object:
    """Refuse a shell string before pydantic's generic "not a list" error."""
    if isinstance(value, str):
        raise ValueError(
            "must be a list of arguments (argv), e.g. [python3, /opt/app/check.py, --strict]; "
            f"it is never run by a shell, so a string like {value[:60]!r} is not accepted"
        )
    return value


def _bounded_argv(argv: list[str]) -> list[str]:
    """Refuse an empty program, too many or too long arguments, and NUL characters."""
    if not argv:
        raise ValueError("must name at least the program to run, e.g. [/opt/app/check]")
    if len(argv) > MAX_COMMAND_ARGS:
        raise ValueError(f"has {len(argv)} arguments; at most {MAX_COMMAND_ARGS}")
    if not argv[0].strip():
        raise ValueError("the program (first argument) is empty")
    for n, arg in enumerate(argv):
        if len(arg) > MAX_ARG_CHARS:
            raise ValueError(f"argument {n} has {len(arg)} characters; at most {MAX_ARG_CHARS}")
        if "\x00" in arg:
            raise ValueError(f"argument {n} contains a NUL character")
    return argv


class _BoundedCommand(BaseModel):
    """The checks every one-off command setting gets: an argv within bounds, a sane timeout.

    Subclasses declare `command` (an argv, maybe optional) and `timeout`.
    """

    model_config = STRICT

    @field_validator("command", mode="before", check_fields=False)
    @classmethod
    def _command_is_argv(cls, value: object) -> object:
        return _argv(value)

    @field_validator("command", check_fields=False)
    @classmethod
    def _command_bounds(cls, argv: list[str] | None) -> list[str] | None:
        return None if argv is None else _bounded_argv(argv)

    @field_validator("timeout", check_fields=False)
    @classmethod
    def _timeout_bounds(cls, timeout: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= timeout <= timedelta(hours=1):
            raise ValueError("must be between 1 second and 1 hour")
        return timeout


class MigrationSettings(_BoundedCommand):
    """The release's own migration command (docs/decisions/migrations.md).

    An argv run without a shell in a one-off container of the release image, with the
    colours' environment (the database URL included) on the service network. The deployment
    appends the subcommand: `status`, `apply expand`, `apply contract`, `down VERSION`.
    """

    model_config = STRICT

    command: list[str] = Field(
        description="argv of the release's migration command, e.g. [/opt/demo/migrate.py]"
    )
    timeout: Duration = Field(
        default=timedelta(minutes=2),
        description="how long one run may take (the lock wait included) before it is killed",
    )


class DatabaseSpec(BaseModel):
    """The service's database, shared by both colours; its password stays in the connection.

    The engine gives both colours the connection's URL in the variable `url_env` (never in
    the sidecar, a log or a file); preflight runs the migration command's `status`.
    """

    model_config = STRICT

    conn_id: Name = Field(description="Airflow connection (postgres) holding the database")
    url_env: str = Field(
        default="DATABASE_URL",
        pattern=r"^[A-Z][A-Z0-9_]{0,63}$",
        description="environment variable the colours read the database URL from",
    )
    migrations: MigrationSettings | None = None


class DataIntegritySettings(_BoundedCommand):
    """How the data-integrity criterion is judged after the switch and after a rollback.

    Neither a write probe nor a command: the criterion is reported "not verified".
    """

    model_config = STRICT

    write_probe: WriteProbe = Field(
        default=WriteProbe.NONE,
        description="store_api: write records through live during the switch and the "
        "rollback and require every acknowledged one to be listed afterwards (the demo "
        "service's POST/GET /api/records); none (default): send reads only",
    )
    command: list[str] | None = Field(
        default=None,
        description="argv run (no shell) in a one-off container of the live colour's image, "
        "with its environment, volumes and network; exit 0 means the data is intact",
    )
    timeout: Duration = Field(
        default=timedelta(minutes=2),
        description="how long the command may run before it is killed and judged failed",
    )

    @property
    def verified(self) -> bool:
        """Tell whether anything judges the criterion (else it is "not verified")."""
        return self.write_probe is WriteProbe.STORE_API or self.command is not None


class CapacitySettings(BaseModel):
    """What the engine must have free for a second colour beside the live one."""

    model_config = STRICT

    # Beyond the second colour's memory limit and the live colour's room to grow to its own.
    memory_headroom_mb: int = Field(default=256, ge=0)
    min_free_disk_mb: int = Field(default=1024, ge=0)
    min_engine_version: str = Field(default="20.10", pattern=r"^\d+(\.\d+){0,2}$")


class AccessSettings(BaseModel):
    """Airflow connections the handoff needs besides the Slack one (always checked)."""

    model_config = STRICT

    connections: list[Name] = Field(
        default_factory=list,
        description="connection ids that must exist; one with a host must accept a TCP "
        "connection (secrets are never read into a message)",
    )


class TlsSettings(BaseModel):
    """The certificate the router serves on the live listener for the service's domain."""

    model_config = STRICT

    domain: str = Field(
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="the host name users reach the service at; the certificate must name it",
    )
    # The certificate must outlive deploy time + the monitoring window + this margin.
    margin: Duration = timedelta(days=7)


# An absolute http(s) URL without credentials or whitespace (a password belongs in a
# connection: `secret_kind` refuses one anyway).
_SERVICE_URL = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$"


class ThirdPartyService(BaseModel):
    """A service the release calls, asked from inside the release's network at preflight."""

    model_config = STRICT

    name: Name
    url: str | None = Field(
        default=None, max_length=2000, pattern=_SERVICE_URL, description="http(s) URL to GET"
    )
    connection: Name | None = Field(
        default=None,
        description="an Airflow connection id whose scheme, host, port and path make the URL "
        "(its login, password and extra are never read)",
    )
    expect_status: int | list[int] = Field(
        default=200,
        description="one status, or any of several (an API answering 401 without its key "
        "is reachable)",
    )
    timeout: Duration = Field(
        default=timedelta(seconds=5), description="for the one GET: 0.1 s to 2 minutes"
    )

    @field_validator("timeout")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=0.1) <= value <= timedelta(minutes=2):
            raise ValueError("timeout must be between 0.1 s and 2 minutes")
        return value

    @property
    def expected(self) -> tuple[int, ...]:
        """Return the statuses that count as reachable."""
        wanted = self.expect_status
        return tuple(wanted) if isinstance(wanted, list) else (wanted,)

    @model_validator(mode="after")
    def _one_address(self) -> ThirdPartyService:
        if (self.url is None) == (self.connection is None):
            raise ValueError(f"third party {self.name}: give exactly one of url or connection")
        return self


class StaticAsset(BaseModel):
    """A static file the release serves: checked through the preview before the switch."""

    model_config = STRICT

    path: UrlPath
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the body's expected digest")
    cache_control: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="text the Cache-Control header must contain; unset: it must be present",
    )


class DependencySettings(BaseModel):
    """The contract's Dependencies proven at preflight, before anything is deployed."""

    model_config = STRICT

    capacity: CapacitySettings = Field(default_factory=lambda: CapacitySettings())
    access: AccessSettings = Field(default_factory=lambda: AccessSettings())
    # Unset: the router speaks plain HTTP and the Domain/SSL dependency is not verified.
    tls: TlsSettings | None = None
    # Asked from a one-off container of the release image on the service network.
    third_parties: list[ThirdPartyService] = Field(
        default_factory=list,
        description="GET once each at preflight from a container of the release image on "
        "the service network",
    )
    static_assets: list[StaticAsset] = Field(
        default_factory=list,
        description="GET through the preview before the switch (the pre_switch_gates."
        "static_assets gate)",
    )

    @field_validator("third_parties")
    @classmethod
    def _unique_names(cls, value: list[ThirdPartyService]) -> list[ThirdPartyService]:
        names = [service.name for service in value]
        if doubled := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"third party names must be unique: {', '.join(doubled)}")
        return value


class CheckSettings(BaseModel):
    """What the validation gates measure."""

    model_config = STRICT

    endpoints: list[EndpointCheck] = Field(default_factory=list)
    pages: list[PageAudit] = Field(default_factory=list)
    journeys: list[Journey] = Field(default_factory=list)
    performance: PerformanceSettings = Field(default_factory=lambda: PerformanceSettings())
    security: SecuritySettings = Field(default_factory=lambda: SecuritySettings())
    accessibility: AccessibilitySettings = Field(default_factory=lambda: AccessibilitySettings())
    monitoring: MonitoringSettings = Field(default_factory=lambda: MonitoringSettings())
    data_integrity: DataIntegritySettings = Field(default_factory=lambda: DataIntegritySettings())
    dependencies: DependencySettings = Field(default_factory=lambda: DependencySettings())


class PromotionMode(enum.Enum):
    """Whether the switch waits for a person's go/no-go."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


class OnTimeout(enum.Enum):
    """What an unanswered go/no-go leads to."""

    PROCEED = "proceed"
    ABORT = "abort"


class Promotion(BaseModel):
    """How the release is promoted to live traffic."""

    model_config = STRICT

    mode: PromotionMode = PromotionMode.AUTOMATIC
    response_timeout: Duration = timedelta(hours=1)
    on_timeout: OnTimeout = OnTimeout.ABORT


class Acceptance(BaseModel):
    """The sidecar as a whole."""

    model_config = STRICT

    handoff_id: str
    accepted_by: str = Field(min_length=1)
    accepted_at: AwareDatetime
    deploy_at: AwareDatetime | None = None
    environment: Name
    notice_lead: Duration | None = None
    service: ServiceSpec
    checks: CheckSettings = Field(default_factory=CheckSettings)
    slack_conn_id: str | None = None
    report_dir: str | None = None
    promotion: Promotion = Field(default_factory=lambda: Promotion())
    # Criterion name (as the contract writes it) -> the check that verifies it, by its
    # registry name (`python -m handoff schema` lists them), e.g. {"User Analytics":
    # "monitoring"}. Overrides the keyword rules; `lint` refuses unknown names on both sides.
    bindings: dict[str, str] = Field(
        default_factory=dict,
        description="criterion name -> check name (e.g. monitoring, smoke); overrides the "
        "keyword rules",
    )


# ServiceSpec names DatabaseSpec, defined further down beside the other argv settings.
ServiceSpec.model_rebuild()
