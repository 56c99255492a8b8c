"""Build outcomes: recorded under each contract's cache key, read back by the errors file."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff import handoff_cache
from handoff.errors import Diagnostic, Severity
from handoff.render import outcomes
from handoff.render.outcomes import OutcomeLog, recorded
from handoff.render.shards import Shard


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(handoff_cache.CACHE_DIR_ENV, str(folder))
    return folder


def loaded(tmp_path: Path, name: str, text: str = "x") -> Path:
    """Write a contract and give it a cache key, as loading it through the catalog does."""
    path = tmp_path / name
    path.write_text(text)
    handoff_cache.handoff_key(path, path.with_suffix(".deploy.yaml"), "env")
    return path


def failure(path: Path) -> Diagnostic:
    return Diagnostic(Severity.ERROR, path, None, "unexpected ZeroDivisionError while building")


def test_the_shards_outcomes_are_read_back_by_key(cache: Path, tmp_path: Path) -> None:
    good, bad = loaded(tmp_path, "A.md"), loaded(tmp_path, "B.md")
    for index, (path, outcome) in enumerate([(good, None), (bad, failure(bad))], start=1):
        log = OutcomeLog.for_shard(tmp_path, Shard(index, 2))
        log.record(path, outcome)
        log.finish()
    found = recorded(tmp_path).outcomes
    assert found == {
        handoff_cache.key_loaded_under(good): None,
        handoff_cache.key_loaded_under(bad): failure(bad),
    }
    assert recorded(tmp_path / "elsewhere").outcomes == {}  # records belong to one handoffs folder


def test_an_edited_contract_has_no_outcome_until_it_is_built_again(
    cache: Path, tmp_path: Path
) -> None:
    path = loaded(tmp_path, "A.md")
    log = OutcomeLog.for_shard(tmp_path, Shard())
    log.record(path, None)
    log.finish()
    loaded(tmp_path, "A.md", "edited")
    assert handoff_cache.key_loaded_under(path) not in recorded(tmp_path).outcomes


def test_a_parse_keeps_the_last_record_readable_until_it_finishes(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outcomes, "WRITE_EVERY", 1)
    first, second = loaded(tmp_path, "A.md"), loaded(tmp_path, "B.md")
    log = OutcomeLog.for_shard(tmp_path, Shard())
    log.record(first, None)
    log.record(second, None)
    log.finish()
    again = OutcomeLog.for_shard(tmp_path, Shard())
    again.record(first, None)  # written at once (WRITE_EVERY = 1): the second is still known
    assert handoff_cache.key_loaded_under(second) in recorded(tmp_path).outcomes
    again.finish()  # B.md is gone from this parse: its outcome goes with it
    assert set(recorded(tmp_path).outcomes) == {handoff_cache.key_loaded_under(first)}


def test_records_of_another_airflow_or_damaged_ones_are_ignored(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = loaded(tmp_path, "A.md")
    log = OutcomeLog.for_shard(tmp_path, Shard())
    log.record(path, None)
    log.finish()
    monkeypatch.setattr(outcomes, "_VERSIONS", "airflow 9.9.9, task-sdk 9.9.9")
    assert recorded(tmp_path).outcomes == {}
    (cache / f"{log.key}.pickle").write_bytes(b"not a pickle")
    assert recorded(tmp_path).outcomes == {}


def test_a_contract_not_loaded_here_is_not_recorded(cache: Path, tmp_path: Path) -> None:
    log = OutcomeLog.for_shard(tmp_path, Shard())
    log.record(tmp_path / "never-loaded.md", None)
    log.finish()
    assert recorded(tmp_path).outcomes == {}


def test_without_a_cache_nothing_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(handoff_cache.CACHE_DIR_ENV, "off")
    path = loaded(tmp_path, "A.md")
    log = OutcomeLog.for_shard(tmp_path, Shard())
    log.record(path, None)
    log.finish()
    assert recorded(tmp_path).outcomes == {}


def test_a_shard_that_is_building_is_awaited_for_its_own_contracts_only(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shard = Shard(1, 2)
    mine = next(p for p in (tmp_path / f"C-{n}.md" for n in range(20)) if shard.holds(p))
    theirs = next(p for p in (tmp_path / f"C-{n}.md" for n in range(20)) if not shard.holds(p))
    log = OutcomeLog.for_shard(tmp_path, shard)
    log.record(loaded(tmp_path, mine.name), None)  # the first build is written at once
    building = recorded(tmp_path)
    assert building.awaited(mine) and not building.awaited(theirs)
    monkeypatch.setattr(outcomes, "LIVE_FOR_SECONDS", 0.0)  # written long ago: a dead shard
    assert not recorded(tmp_path).awaited(mine)
    monkeypatch.undo()
    monkeypatch.setenv(handoff_cache.CACHE_DIR_ENV, str(cache))
    log.finish()
    assert not recorded(tmp_path).awaited(mine)  # complete: nothing more will come
