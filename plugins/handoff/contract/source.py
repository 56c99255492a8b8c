"""Turn a contract file's bytes into clean text, keeping line numbers stable.

Contracts arrive with a BOM, CRLF line ends, no final newline, in UTF-16 from Windows editors,
and with mojibake (`Â±10%` for `±10%`). The file itself stays byte for byte what was handed
over; this module only decides how to read it and reports every repair it made.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import ftfy

from handoff.errors import Diagnostic, Severity

# A contract is a page of prose; anything far larger is the wrong file, and reading it would
# cost the DAG processor its parse budget.
MAX_CONTRACT_BYTES = 1024 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Control bytes never found in text (tab, line feed, form feed and carriage return are fine).
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")


@dataclass(frozen=True)
class SourceText:
    """A contract's text after decoding and repair, with the hash of its exact bytes."""

    path: Path
    sha256: str
    text: str


class LineIndex:
    """Map UTF-8 byte offsets (as the markdown parser reports them) to 1-based lines."""

    def __init__(self, text: str) -> None:
        data = text.encode("utf-8")
        self._starts = [0]
        position = data.find(b"\n")
        while position != -1:
            self._starts.append(position + 1)
            position = data.find(b"\n", position + 1)

    def line_of(self, byte_offset: int) -> int:
        """Return the 1-based line holding a byte offset."""
        return bisect.bisect_right(self._starts, byte_offset)


def _error(
    path: Path, message: str, line: int | None = None, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(Severity.ERROR, path, line, message, hint)


def _decode(path: Path, data: bytes, problems: list[Diagnostic]) -> str | None:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            line = data[: e.start].decode("utf-16", errors="replace").count("\n") + 1
            problems.append(
                _error(path, f"starts with a UTF-16 byte order mark but {e.reason}", line)
            )
            return None
    found = _CONTROL_BYTE.search(data, 0, 65536)
    if found is not None:
        control = found.start()
        line = data.count(b"\n", 0, control) + 1
        problems.append(
            _error(
                path,
                f"binary content, not text: byte 0x{data[control]:02x} at offset {control}",
                line,
                "a contract is a markdown (.md) or JSON (.json) text file",
            )
        )
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        problems.append(
            Diagnostic(
                Severity.WARNING,
                path,
                line,
                f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
                "read as Windows-1252",
                "save the file as UTF-8",
            )
        )
        return data.decode("cp1252", errors="replace")


def _repair_mojibake(path: Path, text: str, problems: list[Diagnostic]) -> str:
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if line.isascii():
            continue
        fixed = ftfy.fix_encoding(line)
        if fixed != line:
            lines[number] = fixed
            problems.append(
                Diagnostic(
                    Severity.NOTE,
                    path,
                    number + 1,
                    f"repaired mojibake: read {line.strip()!r} as {fixed.strip()!r}",
                )
            )
    return "\n".join(lines)


def read_source(path: Path) -> tuple[SourceText | None, list[Diagnostic]]:
    """Read, decode and repair a contract file; return None with errors when it is unusable."""
    problems: list[Diagnostic] = []
    try:
        data = path.read_bytes()
    except OSError as e:
        return None, [_error(path, f"cannot read the file: {e.strerror or e}")]
    if not data.strip():
        return None, [_error(path, "the file is empty", 1, "expected a HANDOFF/V1 contract")]
    if len(data) > MAX_CONTRACT_BYTES:
        size = len(data) / (1024 * 1024)
        return None, [
            _error(
                path,
                f"the file is {size:.1f} MiB; a contract is at most "
                f"{MAX_CONTRACT_BYTES // (1024 * 1024)} MiB",
                1,
                "is this the right file?",
            )
        ]
    text = _decode(path, data, problems)
    if text is None:
        return None, problems
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _repair_mojibake(path, text, problems)
    return SourceText(path, hashlib.sha256(data).hexdigest(), text), problems
