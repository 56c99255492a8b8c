"""Benchmark: parse 1,000 contracts and print milliseconds per contract.

The DAG loader parses every contract on every DAG-processor pass, so parsing must stay well
under the 2 ms per contract budget. Contracts are written to a temporary folder (the seed and
the other fixture forms, each with its own id) and parsed from disk, as the loader does.
Then the bad-input figures (issue 14): a line of 4k, 8k and 64k digits before the metric's
quantity, and files at the size cap built to be slow (alone: `--bad-input-only`).
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
from handoff.contract.limits import MAX_MARKDOWN_DEPTH  # noqa: E402
from handoff.contract.source import MAX_CONTRACT_BYTES  # noqa: E402

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


def _fill(seed: bytes, line: bytes) -> bytes:
    """Return the seed followed by copies of `line` up to the contract size cap."""
    room = MAX_CONTRACT_BYTES - len(seed) - 1
    return seed + b"\n" + (line * (room // len(line) + 1))[:room]


def bad_input_figures(folder: Path) -> None:
    """Print seconds to parse a long line (8,000 digits took 11.5 s) and max-size files."""
    seed = SOURCES[0].read_bytes()
    metric = b"- **Deployment Time**: <60 minutes"
    cases: list[tuple[str, bytes]] = [
        (
            f"{n // 1000}k digits on one line",
            seed.replace(metric, b"- **Deployment Time**: " + b"7" * n + b" <60 minutes"),
        )
        for n in (4_000, 8_000, 64_000)
    ]
    one_line = MAX_CONTRACT_BYTES - len(seed) - 64
    cases += [
        (
            "max-size file, one line of digits",
            seed.replace(metric, b"- **Deployment Time**: " + b"7" * one_line + b" <60 minutes"),
        ),
        (
            "max-size file, '1.' repeated",
            seed.replace(
                metric, b"- **Deployment Time**: " + b"1." * (one_line // 2) + b" <60 minutes"
            ),
        ),
        (
            "max-size file, quantity lines",
            _fill(seed, b"- Error rate < 1% within 48 hours, p95 <3s\n"),
        ),
        (
            "max-size file, quotes at the depth limit",
            _fill(seed, b"> " * MAX_MARKDOWN_DEPTH + b"x\n"),
        ),
        ("max-size file, bold labels", _fill(seed, b"- **Label**: *text* [link](u)\n\n")),
        ("max-size file, 50,000 '>' (refused)", _fill(seed, b">" * 50_000 + b"\n")),
    ]
    print("bad input (seconds per parse, best of 3):")
    for name, data in cases:
        path = folder / "bad-input.md"
        path.write_bytes(data)
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            result = parse_contract(path)
            best = min(best, time.perf_counter() - began)
        errors = sum(d.is_error for d in result.diagnostics)
        print(f"  {name:<42} {len(data) / 1024:7.0f} KiB  {best:7.3f} s  ({errors} error(s))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--bad-input-only", action="store_true", help="only the bad-input figures")
    args = parser.parse_args()
    if args.bad_input_only:
        with tempfile.TemporaryDirectory() as tmp:
            bad_input_figures(Path(tmp))
        return
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
    with tempfile.TemporaryDirectory() as tmp:
        bad_input_figures(Path(tmp))


if __name__ == "__main__":
    main()
