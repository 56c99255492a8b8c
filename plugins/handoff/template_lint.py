"""Lint: point out template syntax (``{{``, ``{%``, ``{#``) in a contract or its sidecar.

Contract and sidecar text is data: gates, messages and tasks show it as written and Airflow
never renders it (see docs/security.md, "Contract text is data"). A line that looks like a
Jinja template is still worth a warning: whoever wrote it may expect it to be filled in, and
a reviewer should see a ``{{ conn.<id>.password }}`` in a handed-over file before it merges.
"""

from __future__ import annotations

import re
from pathlib import Path

from handoff.errors import Diagnostic, Severity

# Jinja's default delimiters: expression, statement, comment.
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")
# A few lines are enough to point at; more would drown the lint output.
_MAX_REPORTED = 5
# The contract reader refuses larger files; the lint does not read past it either.
_MAX_BYTES = 1024 * 1024
_HINT = "shown as written, never rendered; write the value itself if a placeholder was meant"


def _text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace")


def template_syntax_warnings(*paths: Path) -> list[Diagnostic]:
    """Return the warnings of every file given; files that do not exist are skipped."""
    return [found for path in paths if path.is_file() for found in _file_warnings(path)]


def _file_warnings(path: Path) -> list[Diagnostic]:
    """Return one warning per line of ``path`` (up to a few) that holds template syntax."""
    found: list[Diagnostic] = []
    if _TEMPLATE_SYNTAX.search(path.name):
        found.append(
            Diagnostic(Severity.WARNING, path, None, "the file name holds template syntax", _HINT)
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES)
    except OSError:
        return found  # the reader reports unreadable files
    lines = [
        (number, match.group())
        for number, line in enumerate(_text(data).split("\n"), 1)
        if (match := _TEMPLATE_SYNTAX.search(line))
    ]
    more = len(lines) - _MAX_REPORTED
    for index, (number, syntax) in enumerate(lines[:_MAX_REPORTED], 1):
        message = f"template syntax {syntax!r} in the text"
        if index == _MAX_REPORTED and more > 0:
            message += f" ({more} more line{'s' if more > 1 else ''} with it after this one)"
        found.append(Diagnostic(Severity.WARNING, path, number, message, _HINT))
    return found
