"""Nesting limits for contract text, checked before any parser sees it.

The markdown parser (Rust) builds and frees its tree recursively: 50,000 nested blockquotes
crash the process (a stack overflow, not an exception), and the tree conversion and readers
recurse in Python. JSON nests in `json.loads` and the JSON reader. A contract is a page of
prose: a few levels are all it ever needs, so anything deeper is refused up front with the
line where the limit is crossed. Every check here is one pass over the text, without
recursion and without backtracking patterns, so its cost is linear in the file size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Blockquotes and lists nested on one line ("> > > ...", "- - - ...", or list items indented
# deeper and deeper). A contract uses two or three.
MAX_MARKDOWN_DEPTH = 32
# Nodes from the document root to the deepest leaf once parsed: each list level is two nodes
# (list, item) and inline emphasis, links and images add one each.
MAX_MARKDOWN_TREE_DEPTH = 4 * MAX_MARKDOWN_DEPTH
# Emphasis, link and image delimiters in one block of non-blank lines, outside code fences.
# They bound how deep inline nesting can go in the parser's own tree, which must stay far
# below the depth where freeing it overflows the stack (20,000 was measured safe).
MAX_INLINE_DELIMITERS = 10_000
# Arrays and objects nested in a JSON contract (or a fenced JSON block).
MAX_JSON_DEPTH = 32
# Digits of a JSON integer: Python refuses more than 4,300 with a ValueError, and no
# contract value needs more than a few.
MAX_JSON_INT_DIGITS = 100

# A line's container prefix: blockquote markers and list markers with their spacing.
_PREFIX = re.compile(r"(?:[ \t]*+(?:>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))++")
_MARKER = re.compile(r">|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)")
# A line that may nest more than the limit: 17 tabs of indentation, or 33 prefix characters.
_CANDIDATE = re.compile(r"^[ \t>*+\-\d.)]{17,}", re.MULTILINE)
_FENCE = re.compile(r"(`{3,}|~{3,})")
_INLINE = re.compile(r"[*_\[~]")
# A JSON string (unterminated ones end at the line end) or a bracket; nothing else matters.
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*+"?|[\[\]{}]')


@dataclass(frozen=True)
class TooDeep:
    """Where a text crosses a nesting limit, and what was found."""

    line: int
    message: str
    hint: str


def _columns(indent: str) -> int:
    return sum(4 if ch == "\t" else 1 for ch in indent)


def markdown_too_deep(text: str) -> TooDeep | None:
    """Return the first line that nests blocks or inline markup beyond the limits, if any."""
    return _containers_too_deep(text) or _inline_too_deep(text)


def _containers_too_deep(text: str) -> TooDeep | None:
    # Only lines with a long run of prefix characters can nest that deep: found in C, then
    # counted exactly. Fenced code is not told apart here; a line nested that deep is refused
    # wherever it is.
    for candidate in _CANDIDATE.finditer(text):
        start = candidate.start()
        line = text[start : text.find("\n", start) % (len(text) + 1)]
        prefix = _PREFIX.match(line)
        if prefix is None:
            continue
        found = prefix.group(0)
        indent = len(found) - len(found.lstrip(" \t"))
        depth = len(_MARKER.findall(found)) + _columns(found[:indent]) // 2
        if depth > MAX_MARKDOWN_DEPTH:
            return TooDeep(
                text.count("\n", 0, start) + 1,
                f"blockquotes or lists nest {depth} levels deep; at most "
                f"{MAX_MARKDOWN_DEPTH} are read",
                "a contract needs a few levels; flatten the nesting",
            )
    return None


def _inline_too_deep(text: str) -> TooDeep | None:
    if sum(map(text.count, "*_[~")) <= MAX_INLINE_DELIMITERS:
        return None  # the whole file has fewer: no paragraph can have more
    fence: str | None = None
    delimiters = 0
    block_start = 1
    for number, line in enumerate(text.split("\n"), start=1):
        prefix = _PREFIX.match(line)
        opened = _FENCE.match(line[prefix.end() :].lstrip(" \t") if prefix else line.lstrip())
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if not line.strip():
            delimiters, block_start = 0, number + 1
            continue
        delimiters += len(_INLINE.findall(line))
        if delimiters > MAX_INLINE_DELIMITERS:
            return TooDeep(
                block_start,
                f"over {MAX_INLINE_DELIMITERS} emphasis or link characters (*, _, [, ~) in one "
                "paragraph; they could nest deeper than any reader can follow",
                "split the paragraph with blank lines, or put such text in a code block",
            )
    return None


def json_too_deep(text: str, first_line: int = 1) -> TooDeep | None:
    """Return the line where JSON text nests beyond the limit, if it does."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return None  # cannot nest that deep: skip the scan
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group(0)
        if mark in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return TooDeep(
                    first_line + text.count("\n", 0, token.start()),
                    f"JSON nests more than {MAX_JSON_DEPTH} arrays or objects deep",
                    "a contract's JSON needs a few levels; flatten the nesting",
                )
        elif mark in "]}":
            depth = max(0, depth - 1)
    return None


class JsonIntTooLong(ValueError):
    """A JSON integer with more digits than any contract value has."""

    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def bounded_int(digits: str) -> int:
    """Read a JSON integer, refusing one too long to mean anything (json's parse_int hook)."""
    if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise JsonIntTooLong(digits)
    return int(digits)


def int_too_long(problem: JsonIntTooLong, text: str, first_line: int = 1) -> TooDeep:
    """Locate a refused JSON integer in its text."""
    position = max(text.find(problem.digits), 0)
    return TooDeep(
        first_line + text.count("\n", 0, position),
        f"a JSON number with {len(problem.digits.lstrip('-'))} digits; at most "
        f"{MAX_JSON_INT_DIGITS} are read",
        "write the value as a string, or check the file is the one meant",
    )
