"""Restart this machine's Docker daemon the way include/demo/scripts/ensure-docker.sh starts it.

Only a dockerd our script started is restarted: exactly one dockerd, its output going to the
script's log. It is stopped with SIGTERM (dockerd stops its containers and exits), started
again with the same arguments (`setsid nohup dockerd ARGS >>LOG 2>&1 </dev/null`, as the
script does), and the restart is not over until `docker info` answers. Whatever happens, the
engine answers again before `restarted_daemon` returns: as a last resort the script itself
runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.demo import SCRIPTS

LOG = Path(os.environ.get("HANDOFF_DOCKERD_LOG", "/var/log/handoff-dockerd.log"))
STOP_DEADLINE_S = 90.0
ANSWER_DEADLINE_S = 60.0


class NotOurDaemon(Exception):
    """The running dockerd was not started by the project's script: leave it alone."""


@dataclass
class DaemonRestart:
    """What the restart did and how long the engine was gone."""

    old_pid: int
    new_pid: int = 0
    args: tuple[str, ...] = ()
    stopped_at: float = 0.0
    exited_s: float = 0.0
    answering_s: float = 0.0


def engine_answers() -> bool:
    """Tell whether `docker info` answers, as the script checks it."""
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def our_dockerd() -> tuple[int, tuple[str, ...]]:
    """Return the pid and arguments of the dockerd our script started, or raise NotOurDaemon."""
    found = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True, check=False)
    pids = [int(p) for p in found.stdout.split()]
    if len(pids) != 1:
        raise NotOurDaemon(f"expected one dockerd, found {pids or 'none'}")
    pid = pids[0]
    try:
        output = str(Path(f"/proc/{pid}/fd/1").readlink())
        args = tuple(Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1])
    except OSError as exc:
        raise NotOurDaemon(f"cannot inspect dockerd {pid}: {exc}") from exc
    if output != str(LOG) or not args or Path(args[0]).name != "dockerd":
        raise NotOurDaemon(f"dockerd {pid} writes to {output}, not {LOG}: not started by us")
    return pid, args


def _start(args: tuple[str, ...]) -> int:
    with LOG.open("ab") as log:
        process = subprocess.Popen(
            ["setsid", "nohup", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the engine outlives this test, like the script's
        )
    return process.pid


def _wait_gone(pid: int, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if not Path(f"/proc/{pid}").exists():
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def restarted_daemon() -> Iterator[DaemonRestart]:
    """Restart our dockerd once; the block runs after it answers again. Always leaves it up."""
    pid, args = our_dockerd()
    restart = DaemonRestart(old_pid=pid, args=args)
    try:
        restart.stopped_at = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, STOP_DEADLINE_S):
            raise RuntimeError(f"dockerd {pid} did not exit within {STOP_DEADLINE_S:g} s")
        restart.exited_s = time.monotonic() - restart.stopped_at
        restart.new_pid = _start(args)
        end = time.monotonic() + ANSWER_DEADLINE_S
        while not engine_answers() and time.monotonic() < end:
            time.sleep(0.5)
        restart.answering_s = time.monotonic() - restart.stopped_at
        with contextlib.suppress(NotOurDaemon):
            restart.new_pid = our_dockerd()[0]  # setsid may fork: report dockerd's own pid
        yield restart
    finally:
        if not engine_answers():
            subprocess.run([str(SCRIPTS / "ensure-docker.sh")], check=False, timeout=180)
