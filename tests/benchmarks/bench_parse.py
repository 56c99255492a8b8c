"""Benchmark: parse 1,000 contracts and print milliseconds per contract.

The DAG loader parses every contract on every DAG-processor pass, so parsing must stay well
under the 2 ms per contract budget. Contracts are written to a temporary folder (the seed and
the other fixture forms, each with its own id) and parsed from disk, as the loader does.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))

from handoff.contract import parse_contract  # noqa: E402

SOURCES = [
    ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md",
    ROOT / "tests" / "fixtures" / "contracts" / "valid" / "inline_bold_report.md",
    ROOT / "tests" / "fixtures" / "contracts" / "valid" / "whole_file.json",
    ROOT / "tests" / "fixtures" / "contracts" / "valid" / "crlf_bom_no_final_newline.md",
]


def write_contracts(folder: Path, count: int) -> list[Path]:
    """Write `count` contracts cycling through the sources, each with a unique id."""
    paths = []
    for number in range(count):
        source = SOURCES[number % len(SOURCES)]
        data = source.read_bytes()
        for old in (
            b"PROD-DEPLOYMENT-001",
            b"CHECKOUT-REL-014",
            b"SEARCH-API-007",
            b"QUIRKS-CRLF-001",
        ):
            data = data.replace(old, f"BENCH-{number:04d}".encode())
        path = folder / f"bench-{number:04d}{source.suffix}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_contracts(Path(tmp), args.count)
        parse_contract(paths[0])  # warm the imports, as a long-lived DAG processor is
        timings: list[float] = []
        by_source: dict[str, list[float]] = {}
        started, cpu_started = time.perf_counter(), time.process_time()
        for path in paths:
            began = time.perf_counter()
            result = parse_contract(path)
            timings.append((time.perf_counter() - began) * 1000)
            source = SOURCES[(len(timings) - 1) % len(SOURCES)]  # as write_contracts cycles
            by_source.setdefault(source.name, []).append(timings[-1])
            if result.contract is None:
                raise SystemExit(f"{path}: did not parse: {result.diagnostics}")
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    timings.sort()
    print(f"parsed {len(paths)} contracts in {total:.2f} s wall, {cpu:.2f} s CPU")
    print(
        f"ms per contract (wall): mean {statistics.fmean(timings):.3f}  "
        f"p50 {timings[len(timings) // 2]:.3f}  p95 {timings[int(len(timings) * 0.95)]:.3f}  "
        f"max {timings[-1]:.3f}"
    )
    print(f"ms per contract (CPU): mean {cpu * 1000 / len(paths):.3f}  (budget 2 ms)")
    for name, values in by_source.items():
        values.sort()
        print(
            f"  {name:<32} mean {statistics.fmean(values):.3f}  p50 {values[len(values) // 2]:.3f}"
        )


if __name__ == "__main__":
    main()
