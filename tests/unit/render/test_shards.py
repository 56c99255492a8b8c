"""Loader shards: the file name declares the shard, and every file has exactly one owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.render.shards import Shard


def test_a_loader_name_declares_its_shard() -> None:
    assert Shard.of_loader("/x/dags/handoffs_2_of_3.py") == Shard(2, 3)
    assert Shard.of_loader("handoffs.py") == Shard(1, 1)
    assert Shard.of_loader("handoff_gates_e2e.py") == Shard(1, 1)


def test_a_shard_outside_its_range_is_refused() -> None:
    with pytest.raises(ValueError, match="shard 4 of 3 does not exist"):
        Shard.of_loader("handoffs_4_of_3.py")


def test_every_contract_has_exactly_one_owner_and_the_split_is_even() -> None:
    shards = [Shard(i, 4) for i in range(1, 5)]
    counts = [0, 0, 0, 0]
    for n in range(1000):
        owners = [s for s in shards if s.holds(Path(f"BENCH-{n:04d}.md"))]
        assert len(owners) == 1
        counts[owners[0].index - 1] += 1
    assert min(counts) > 200, counts  # 250 each when even


def test_the_owner_depends_on_the_name_only() -> None:
    shard = Shard(1, 2)
    assert shard.holds(Path("/a/X.md")) == shard.holds(Path("relative/X.md"))
