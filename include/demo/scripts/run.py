#!/usr/bin/env python3
"""`make run`: the demo service, a local Slack receiver and `airflow standalone`, until Ctrl-C.

Called by the Makefile after the venv, the Docker engine and the demo images are in place:

1. the seed's demo service: blue runs handoff-demo:1.0.0 live behind the router on the demo
   environment's ports (left as it is when it already runs);
2. the Slack connection of the seed's environment (``handoff_slack``): when the user has
   configured none (connection in Airflow, or ``AIRFLOW_CONN_HANDOFF_SLACK``), a local
   receiver is started and the connection is created pointing at it;
3. `airflow standalone` (SQLite, LocalExecutor) with AIRFLOW_HOME in .airflow/, the project's
   dags/ and plugins/, no examples; it prints the UI address and the admin login.

Ctrl-C (or SIGTERM) stops what this run started, and only that. ``run.py reset`` puts the
demo service back to blue 1.0.0 live (after a rehearsal made green live).

Settings: HANDOFF_UI_HOST (127.0.0.1), HANDOFF_UI_PORT (8080), HANDOFF_SLACK_PORT (18089).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psutil
import requests

from handoff.bluegreen import BlueGreenEngine
from handoff.bluegreen.origin import ORIGIN_ENV, origin_of, sweep_leftovers
from handoff.catalog import Handoff, load_handoff
from handoff.runtime.engine_factory import engine_config

ROOT = Path(__file__).resolve().parents[3]
HOME = ROOT / ".airflow"
SEED = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md"
SEED_DAG = "handoff_prod_deployment_001"
BLUE_RELEASE = "handoff-demo:1.0.0"
VENV_BIN = Path(sys.executable).parent
RECEIVER = Path(__file__).with_name("slack_receiver.py")
# Marks the connection this script created, so it is never mistaken for the user's own.
RECEIVER_MARK = "local Slack receiver started by make run"
WEBHOOK_PATH = "services/local/receiver"
START_DEADLINE_S = 180
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
# Airflow CLI calls whose output carries a connection's password or URL: never logged.
SECRET_OUTPUT = (("connections", "get"), ("connections", "list"), ("connections", "export"))
# Options whose value is a secret: logged as "***".
SECRET_OPTIONS = ("--conn-password", "--conn-uri", "--conn-extra", "--password")


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str
    port: int
    slack_port: int

    @property
    def url(self) -> str:
        shown = "localhost" if self.host in ("127.0.0.1", "0.0.0.0") else self.host
        return f"http://{shown}:{self.port}"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("HANDOFF_UI_HOST", "127.0.0.1"),
            port=int(os.environ.get("HANDOFF_UI_PORT", "8080")),
            slack_port=int(os.environ.get("HANDOFF_SLACK_PORT", "18089")),
        )


def say(message: str) -> None:
    """Print a line; a closed stdout (`make run | tee`, the tee gone) never stops the clean-up."""
    try:
        print(f"make run: {message}", flush=True)
    except (BrokenPipeError, ValueError, OSError):
        stdout_gone()


def stdout_gone() -> None:
    """Send what is still to print to /dev/null: the reader of our stdout has gone."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # also quiets the flush at interpreter exit
        os.close(devnull)


def stdout_closed() -> bool:
    """Tell whether the reader of our stdout has gone (a pipe whose other end closed)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLERR | select.POLLHUP)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (OSError, ValueError):
        return True


def seed_handoff(contract: Path = SEED) -> Handoff:
    handoff = load_handoff(contract)
    if handoff.acceptance is None or handoff.environment is None:
        sys.exit(f"make run: the seed handoff does not load; run `make lint` ({contract})")
    return handoff


def baseline_engine(handoff: Handoff) -> BlueGreenEngine:
    """The seed's service with the current release's settings (no release-specific env)."""
    assert handoff.acceptance is not None and handoff.environment is not None
    config = engine_config(handoff.acceptance, handoff.environment)
    return BlueGreenEngine(dataclasses.replace(config, environment=()))


def start_demo_service(engine: BlueGreenEngine) -> bool:
    """Make blue 1.0.0 live unless the service already serves; return whether we started it."""
    config = engine.config
    live = engine.status().live
    if live is not None:
        say(f"demo service {config.service}: already up, {live.colour.value} runs {live.release}")
        if live.release != BLUE_RELEASE:
            say(f"  (to rehearse again from {BLUE_RELEASE}: make demo-reset)")
        return False
    say(f"demo service {config.service}: starting blue {BLUE_RELEASE} behind the router")
    engine.deploy(BLUE_RELEASE)
    engine.switch(BLUE_RELEASE)
    return True


def watch_demo_router() -> None:
    """Have Prometheus scrape the router just created (`make observability` ran before it)."""
    sync = [sys.executable, str(ROOT / "include" / "observability" / "stack.py"), "sync"]
    try:
        done = subprocess.run(sync, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        say(f"warning: Prometheus does not watch the demo router yet: {exc}")
        return
    if done.returncode != 0:  # monitoring is a help here, never a reason not to run
        say("warning: Prometheus does not watch the demo router yet: " + done.stderr.strip())


def reset_demo_service() -> None:
    """Remove the seed's demo service (data included) and start blue 1.0.0 live again."""
    engine = baseline_engine(seed_handoff())
    engine.teardown(remove_data=True, force=True)
    start_demo_service(engine)
    watch_demo_router()
    say(f"demo service reset: blue runs {BLUE_RELEASE} live on :{engine.config.live_port}")


def prepare_home(home: Path) -> None:
    """Create AIRFLOW_HOME for this user only: it holds the admin password and the JWT secret.

    An existing folder is tightened too (runs before this one left it 0755, its files 0644).
    """
    home.mkdir(mode=0o700, exist_ok=True)
    home.chmod(0o700)
    for name in (PASSWORD_FILE, "jwt_secret", "make-run.log", "standalone.log"):
        with contextlib.suppress(FileNotFoundError):
            (home / name).chmod(0o600)


def private_append(path: Path) -> int:
    """Open ``path`` for appending, created 0600: logs may quote what the tools print."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def masked(args: tuple[str, ...] | list[str]) -> str:
    """Return a CLI call as text with the values of secret options replaced by ***."""
    shown, hide_next = [], False
    for arg in args:
        option = arg.split("=", 1)[0]
        if hide_next:
            shown.append("***")
        elif option in SECRET_OPTIONS and "=" in arg:
            shown.append(f"{option}=***")
        else:
            shown.append(arg)
        hide_next = not hide_next and arg in SECRET_OPTIONS
    return "airflow " + " ".join(shown)


def loggable(args: tuple[str, ...] | list[str], stdout: str, stderr: str) -> str:
    """Return what the log keeps of one CLI call: secret options masked, secret output withheld."""
    if tuple(args[:2]) in SECRET_OUTPUT:
        stdout = f"(output withheld: {len(stdout)} characters, may hold connection secrets)\n"
    return f"$ {masked(args)}\n{stdout}{stderr}\n"


def jwt_secret() -> str:
    """One secret per AIRFLOW_HOME, kept across runs so UI sessions survive a restart."""
    path = HOME / "jwt_secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def airflow_env(settings: Settings) -> dict[str, str]:
    """The components' environment: this project's dags and plugins, nothing from examples.

    PYTHONPATH is dropped: every component puts plugins/ on sys.path itself, as in production.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__API__HOST": settings.host,
            "AIRFLOW__API__PORT": str(settings.port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{settings.port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        }
    )
    return env


def airflow_cli(env: dict[str, str], *args: str, check: bool = True) -> str:
    """Run the Airflow CLI; its output goes to the log unless the caller reads it."""
    done = subprocess.run(
        [str(VENV_BIN / "airflow"), *args], env=env, capture_output=True, text=True, check=False
    )
    with open(private_append(HOME / "make-run.log"), "a") as log:
        log.write(loggable(args, done.stdout, done.stderr))
    if check and done.returncode != 0:
        sys.exit(f"make run: `{masked(args)}` failed, see {HOME / 'make-run.log'}")
    return done.stdout


def slack_connection(env: dict[str, str], conn_id: str, receiver_url: str) -> bool:
    """Point ``conn_id`` at the local receiver unless the user configured it; True if we do."""
    if f"AIRFLOW_CONN_{conn_id.upper()}" in env:
        say(f"slack: connection {conn_id} from the environment (AIRFLOW_CONN_{conn_id.upper()})")
        return False
    airflow_cli(env, "db", "migrate")
    found = airflow_cli(env, "connections", "get", conn_id, "-o", "json", check=False)
    existing: list[dict[str, Any]] = json.loads(found) if found.strip().startswith("[") else []
    if existing and existing[0].get("description") != RECEIVER_MARK:
        say(f"slack: connection {conn_id} configured by you is used (no local receiver)")
        return False
    if existing and existing[0].get("host") == receiver_url:
        return True
    if existing:
        airflow_cli(env, "connections", "delete", conn_id)
    airflow_cli(
        env,
        "connections",
        "add",
        conn_id,
        "--conn-type",
        "slackwebhook",
        "--conn-host",
        receiver_url,
        "--conn-password",
        WEBHOOK_PATH,
        "--conn-description",
        RECEIVER_MARK,
    )
    return True


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def start(args: list[str], log: Path | None, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a process in its own session, so Ctrl-C reaches it only through us."""
    out = open(private_append(log), "ab") if log else None  # noqa: SIM115 (closed below)
    try:
        return subprocess.Popen(
            args,
            cwd=HOME,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
    finally:
        if out:
            out.close()


def stop(process: subprocess.Popen[bytes], descendants: set[int]) -> None:
    """Stop a process's group, then any descendant that left it, each by pid."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    for pid in [process.pid, *descendants]:
        with contextlib.suppress(psutil.Error):
            child = psutil.Process(pid)
            if child.status() != psutil.STATUS_ZOMBIE:
                child.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def descendants_of(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


@contextlib.contextmanager
def running(process: subprocess.Popen[bytes], name: str) -> Iterator[set[int]]:
    """Stop the process and its descendants when the block ends, however it ends."""
    seen: set[int] = set()
    try:
        yield seen
    finally:
        say(f"stopping {name}")
        seen.update(descendants_of(process.pid))
        stop(process, seen)


def wait_for_api(url: str, process: subprocess.Popen[bytes], seen: set[int]) -> None:
    end = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < end:
        seen.update(descendants_of(process.pid))
        if process.poll() is not None:
            sys.exit(f"make run: airflow standalone exited; see {HOME / 'standalone.log'}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).ok:
                return
        time.sleep(1)
    sys.exit(f"make run: Airflow did not answer in {START_DEADLINE_S} s; see standalone.log")


def admin_password() -> str:
    """The password standalone generated for admin (kept in AIRFLOW_HOME across runs)."""
    path = HOME / PASSWORD_FILE
    end = time.monotonic() + 30
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.2)
    path.chmod(0o600)  # standalone writes it 0644
    return str(json.loads(path.read_text())["admin"])


def wait_for_seed_dag(url: str, password: str) -> None:
    """Wait until the dag-processor parsed the seed DAG; say so when it does not in time."""
    login = requests.post(
        f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30
    )
    if not login.ok:
        say(f"could not log in to check the seed DAG (HTTP {login.status_code}); go on anyway")
        return
    token = login.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    end = time.monotonic() + 90
    while time.monotonic() < end:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/api/v2/dags/{SEED_DAG}", headers=headers, timeout=30).ok:
                return
        time.sleep(2)
    say(f"the seed DAG {SEED_DAG} is not parsed yet: see Dag import errors in the UI")


def banner(settings: Settings, handoff: Handoff, receiver: bool) -> None:
    assert handoff.environment is not None
    router = handoff.environment.router
    slack = (
        f"local receiver http://127.0.0.1:{settings.slack_port}: messages print here and go "
        f"to .airflow/slack-messages.jsonl"
        if receiver
        else "your connection"
    )
    lines = [
        "",
        # The password stays in its 0600 file: a terminal's output ends up in CI logs.
        f"  Airflow UI     {settings.url}    login: admin, password in {HOME / PASSWORD_FILE}",
        f"  Seed handoff   {settings.url}/dags/{SEED_DAG}  (Trigger: rehearsal time scale)",
        f"  Demo service   live http://{router.host}:{router.live_port}   "
        f"preview http://{router.host}:{router.preview_port}",
        f"  Slack          {slack}",
        f"  Airflow logs   {HOME / 'standalone.log'}",
        "",
        "  Ctrl-C stops Airflow, the receiver and the demo service this run started.",
        "",
    ]
    print("\n".join(lines), flush=True)


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings) -> None:
    """Start everything, wait until Ctrl-C or until Airflow exits, stop what we started."""
    prepare_home(HOME)
    for port in (settings.port, settings.slack_port):
        if not port_free("127.0.0.1", port):
            sys.exit(
                f"make run: port {port} is in use (another `make run`?); "
                "set HANDOFF_UI_PORT / HANDOFF_SLACK_PORT to use others"
            )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from demo_project import DemoProject

    project = DemoProject(ROOT / "include" / "handoffs", HOME, datetime.now(UTC), say)
    handoffs = project.prepare()
    handoff = seed_handoff(handoffs / SEED.name)
    assert handoff.environment is not None and handoff.acceptance is not None
    env = airflow_env(settings)
    env["HANDOFF_DIR"] = str(handoffs)
    conn_id = handoff.acceptance.slack_conn_id or handoff.environment.slack_conn_id
    stack = contextlib.ExitStack()
    try:
        engine = baseline_engine(handoff)
        if start_demo_service(engine):
            stack.callback(engine.teardown, remove_data=False, force=True)
            stack.callback(say, f"removing the demo service {engine.config.service}")
            watch_demo_router()
        say("preparing Airflow's database in .airflow/ (the first time takes a minute)")
        receiver_url = f"http://127.0.0.1:{settings.slack_port}"
        receiver = slack_connection(env, conn_id, receiver_url)
        if receiver:
            process = start(
                [
                    sys.executable,
                    str(RECEIVER),
                    "--port",
                    str(settings.slack_port),
                    "--log",
                    str(HOME / "slack-messages.jsonl"),
                ],
                None,
                env,
            )
            stack.enter_context(running(process, "the Slack receiver"))
        say(f"starting airflow standalone on {settings.url} (log: .airflow/standalone.log)")
        airflow = start([str(VENV_BIN / "airflow"), "standalone"], HOME / "standalone.log", env)
        seen = stack.enter_context(running(airflow, "Airflow"))
        wait_for_api(f"http://127.0.0.1:{settings.port}", airflow, seen)
        password = admin_password()
        wait_for_seed_dag(f"http://127.0.0.1:{settings.port}", password)
        try:
            banner(settings, handoff, receiver)
        except (BrokenPipeError, OSError):
            stdout_gone()
        while airflow.poll() is None:
            seen.update(descendants_of(airflow.pid))
            project.sync()
            if stdout_closed():
                # Nobody reads us any more (the terminal or the tee went): stop, as on Ctrl-C.
                stdout_gone()
                raise KeyboardInterrupt
            time.sleep(1)
        say(f"airflow standalone exited with {airflow.returncode}; see .airflow/standalone.log")
    finally:
        # A second Ctrl-C, a SIGHUP after the terminal closed, must not cut the clean-up short.
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, signal.SIG_IGN)
        stack.close()


def main() -> int:
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGHUP, on_sigterm)
    # Containers this run creates carry its pid (handoff.bluegreen.origin): a later sweep
    # removes them only once this process is gone, never while it runs.
    os.environ[ORIGIN_ENV] = origin_of("make-run")
    try:
        if sys.argv[1:] == ["reset"]:
            for name in sweep_leftovers(("make-run", "pytest")):
                say(f"removed leftover container {name} of a run that was killed")
            reset_demo_service()
        else:
            serve(Settings.from_env())
    except KeyboardInterrupt:
        say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
