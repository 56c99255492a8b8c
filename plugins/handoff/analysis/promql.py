"""PromQL literals built from names: escaped, so no value can leave its string.

A service or colour name ends up inside a label matcher (``service="..."``). Names are
validated where they come from, but the query text never relies on that: every value is
written as a PromQL string literal with its quotes, backslashes and control characters
escaped, so ``"}`` or a newline stays part of the value.
"""

from __future__ import annotations

import json
import re

#: Label names: Prometheus' own rule (the matcher's left side is never escaped, so check it).
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Metric names: Prometheus' rule, colons included (recording rules use them).
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class PromQLError(ValueError):
    """A name or value that cannot be written into a PromQL query."""


def string_literal(value: str) -> str:
    """Return ``value`` as a double-quoted PromQL string literal.

    PromQL strings take Go's escapes; JSON's escapes (``\\"``, ``\\\\``, ``\\n``, ``\\uXXXX``
    for other control characters) are a subset of them, so a JSON string is a valid PromQL
    string with the same value. Lone surrogates cannot be encoded as UTF-8 and are refused.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PromQLError(f"value {value!r} is not valid Unicode text") from exc
    return json.dumps(value, ensure_ascii=False)


def label_name(name: str) -> str:
    """Return a label name, or raise PromQLError if Prometheus would not accept it."""
    if not LABEL_NAME.fullmatch(name) or name.startswith("__"):
        raise PromQLError(f"label name {name!r}: expected letters, digits and '_', not '__'")
    return name


def metric_name(name: str) -> str:
    """Return a metric name, or raise PromQLError if Prometheus would not accept it."""
    if not METRIC_NAME.fullmatch(name):
        raise PromQLError(f"metric name {name!r}: expected letters, digits, '_' and ':'")
    return name


def matchers(labels: dict[str, str], regex: dict[str, str] | None = None) -> str:
    """Return ``{a="x",b=~"y"}``: exact matchers, then regex ones, every value escaped.

    A regex value is escaped as a string, not as a pattern: only this package's own
    constants are written there, never a name from a contract.
    """
    exact = [f"{label_name(k)}={string_literal(v)}" for k, v in labels.items()]
    pattern = [f"{label_name(k)}=~{string_literal(v)}" for k, v in (regex or {}).items()]
    return "{" + ",".join(exact + pattern) + "}"


def selector(metric: str, labels: dict[str, str], regex: dict[str, str] | None = None) -> str:
    """Return a series selector: a checked metric name and escaped matchers."""
    return metric_name(metric) + matchers(labels, regex)


def duration(seconds: float) -> str:
    """Return a PromQL range duration (whole seconds, at least 1s)."""
    whole = int(seconds)
    if whole < 1 or whole != seconds:
        raise PromQLError(f"duration {seconds!r}: expected a whole number of seconds >= 1")
    return f"{whole}s"
