"""The demo service's server and store settings that keep a switch from stalling."""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType

from tests.support.scripts import load

APP = Path(__file__).resolve().parents[3] / "include" / "demo" / "service" / "app.py"


def load_app() -> ModuleType:
    return load(APP, "demo_app_under_test")


def test_the_server_queues_a_switch_worth_of_handshakes() -> None:
    # socketserver's default backlog of 5 dropped the handshakes of 16-256 sessions moved at
    # once; they came back after TCP's retransmission backoff (1 s, 3 s, 7 s, 15 s).
    load_app()
    import http_loop

    assert http_loop.LISTEN_BACKLOG >= 1024


def test_concurrent_writers_share_a_few_connections_and_lose_nothing(tmp_path: Path) -> None:
    app = load_app()
    store = app.Store(str(tmp_path / "records.db"))
    writers, each = 32, 20

    def write(n: int) -> None:
        for i in range(each):
            store.add(f"k{n}-{i}", "{}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == writers * each
    assert store.add("k0-0", "{}")[1] is False  # a repeated key is still idempotent
    # One connection per thread before: 32 writer threads opened 32 connections at once.
    assert store.pool.qsize() < writers
    # Group commit: writers that waited while another committed went in one transaction.
    assert store.commits < writers * each


def test_a_failed_commit_acknowledges_none_of_its_group(tmp_path: Path) -> None:
    app = load_app()
    store = app.Store(str(tmp_path / "records.db"))
    with store.borrowed() as db:
        db.execute(
            "CREATE TRIGGER no_bad BEFORE INSERT ON records WHEN NEW.key = 'bad'"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    try:
        store.add("bad", "{}")
    except Exception as exc:  # the handler turns it into a 500
        assert "refused" in str(exc)
    else:
        raise AssertionError("a write the store refused was acknowledged")
    assert store.add("good", "{}")[1] is True
    assert store.count() == 1
