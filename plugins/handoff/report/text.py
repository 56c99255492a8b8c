"""Small formatting helpers shared by the renderers: times, durations and measured values.

Measured values are shown to people as short readable text, never as a Python repr: the
common kinds (a journey's steps, a container's posture, an endpoint's latency, an audit's
rules) get their own phrasing, anything else a bounded generic rendering. The JSON report
keeps the values themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from handoff.report.model import EvidenceRow

MAX_CHARS = 300  # a measured-values cell longer than this is cut, with an ellipsis
_MAX_ITEMS = 8  # list items shown before "and N more"
_MAX_DEPTH = 3  # nested values deeper than this are summarised by their size
_DIGEST = re.compile(r"^(sha256:)?([0-9a-f]{12})[0-9a-f]{52}$")  # shown by its first 12 digits
_UNITS = (("_pct", " %"), ("_ms", " ms"), ("_seconds", " s"), ("_s", " s"), ("_bytes", " B"))
_CAPACITY = ("available_memory", "total_memory", "free_disk", "colour_limit")


def when(value: datetime | None) -> str:
    """Return a time as the report shows it (UTC, to the millisecond), or '-'."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC" if value else "-"


def seconds(value: float | None) -> str:
    """Return a duration in seconds, or '-'."""
    return f"{value:.2f} s" if value is not None else "-"


def figures(values: Mapping[str, Any]) -> str:
    """Return measured values or thresholds as readable text, at most MAX_CHARS long."""
    text = _specific(values) or _mapping(values, 0)
    return clip(text or "none")


def evidence_sentence(record: EvidenceRow, criterion_status: str) -> str:
    """Return a record's summary, led by its own status when it differs from its criterion's."""
    if record.status == criterion_status:
        return record.summary
    return f"{record.status}: {record.summary}"


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """Return text cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _label(key: str) -> tuple[str, str]:
    """Return a key as words and the unit its suffix names, e.g. p95_ms -> ('p95', ' ms')."""
    for suffix, unit in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)].replace("_", " "), unit
    return key.replace("_", " "), ""


def size(value: float) -> str:
    """Return a number of bytes in binary units, e.g. 536870912 -> '512 MiB'."""
    for unit, power in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if abs(value) >= 2**power:
            return f"{value / 2**power:.3g} {unit}"
    return f"{value:g} B"


def _with_unit(value: Any, unit: str) -> str:
    """Return a number with its unit (bytes in binary units), anything else as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _scalar(value)
    return size(value) if unit == " B" else f"{_number(value)}{unit}"


def _scalar(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number(value)
    text = " ".join(str(value).split())
    return _DIGEST.sub(r"\1\2…", text)


def _value(value: Any, depth: int, unit: str = "") -> str:
    """Return a value as text; a unit named by its key applies to the numbers inside it too."""
    if isinstance(value, Mapping):
        if depth >= _MAX_DEPTH:
            return f"{len(value)} values"
        return f"({_mapping(value, depth + 1, unit)})" if value else "none"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            return "none"
        if depth >= _MAX_DEPTH:
            return f"{len(value)} items"
        shown = [_value(v, depth + 1, unit) for v in value[:_MAX_ITEMS]]
        more = f" and {len(value) - _MAX_ITEMS} more" if len(value) > _MAX_ITEMS else ""
        return ", ".join(shown) + more
    return _with_unit(value, unit)


def _mapping(values: Mapping[str, Any], depth: int, inherited: str = "") -> str:
    parts = []
    for key in sorted(values, key=str):
        words, unit = _label(str(key))
        parts.append(f"{words} {_value(values[key], depth, unit or inherited)}")
    return "; ".join(parts)


def _steps(steps: Sequence[Any]) -> str | None:
    timed = [s for s in steps if isinstance(s, Mapping) and isinstance(s.get("ms"), int | float)]
    if not timed or len(timed) != len(steps):
        return None
    slowest = max(timed, key=lambda s: float(s["ms"]))
    statuses = ", ".join(dict.fromkeys(_scalar(s.get("status")) for s in timed))
    count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}"
    return (
        f"{count} (HTTP {statuses}), slowest {_scalar(slowest.get('method', ''))} "
        f"{_scalar(slowest.get('path', ''))} {_number(slowest['ms'])} ms"
    )


def _ports(values: Sequence[Any]) -> str:
    return ", ".join(_scalar(v) for v in values) if values else "none"


def _posture(posture: Mapping[str, Any]) -> str:
    caps = posture.get("added_capabilities") or ()
    return (
        f"exposed ports {_ports(posture.get('exposed_ports') or ())}, "
        f"published ports {_ports(posture.get('published_ports') or ())}, "
        f"{'privileged' if posture.get('privileged') else 'not privileged'}, "
        + (f"added capabilities {_ports(caps)}" if caps else "no added capabilities")
    )


def _as_posture(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) and "exposed_ports" in value else None


def _postures(values: Mapping[str, Any]) -> str | None:
    release, old = _as_posture(values.get("release")), _as_posture(values.get("old"))
    if release is None and old is None:
        return _posture(values) if _as_posture(values) else None
    parts = []
    if release is not None:
        parts.append(f"release: {_posture(release)}")
    if old is not None:
        same = release is not None and _posture(old) == _posture(release)
        parts.append("old colour: the same" if same else f"old colour: {_posture(old)}")
    elif "old" in values:
        parts.append("no old colour")
    return "; ".join(parts)


def _latency(values: Mapping[str, Any]) -> str | None:
    if not isinstance(values.get("p95_ms"), int | float):
        return None
    text = f"p95 {_number(values['p95_ms'])} ms"
    if isinstance(values.get("baseline_p95_ms"), int | float):
        text += f" (live baseline {_number(values['baseline_p95_ms'])} ms"
        if isinstance(values.get("change_pct"), int | float):
            text += f", {values['change_pct']:+g} %"
        text += ")"
    if "requests" in values:
        text += f", {_scalar(values.get('errors', 0))} errors of {_scalar(values['requests'])}"
        text += " requests"
    if isinstance(values.get("attempts"), int) and values["attempts"] > 1:
        text += f", {values['attempts']} attempts"
    return text


def _rules(rules: Any) -> str:
    if not isinstance(rules, Mapping) or not rules:
        return "none"
    return ", ".join(f"{_scalar(rule)} x{_scalar(n)}" for rule, n in sorted(rules.items()))


def _audit(values: Mapping[str, Any]) -> str | None:
    if "violations" not in values or "rules" not in values:
        return None
    count = values["violations"]
    text = f"{_scalar(count)} violation{'' if count == 1 else 's'} ({_rules(values['rules'])})"
    if values.get("old_violations") is not None:
        text += f"; old colour {_scalar(values['old_violations'])}"
        text += f" ({_rules(values.get('old_rules'))})"
    return text


def _capacity(values: Mapping[str, Any]) -> str | None:
    """Phrase an engine's capacity for a second colour (bytes throughout)."""
    if not all(isinstance(values.get(k), int | float) for k in _CAPACITY):
        return None
    text = (
        f"memory {size(values['available_memory'])} available of "
        f"{size(values['total_memory'])}, disk {size(values['free_disk'])} free; a colour "
        f"gets {size(values['colour_limit'])}"
    )
    if isinstance(values.get("live_usage"), int | float) and values.get("live_limit"):
        text += f"; live uses {size(values['live_usage'])} of {size(values['live_limit'])}"
    if values.get("engine_version"):
        text += f"; engine {_scalar(values['engine_version'])}"
    return text


def _certificate(values: Mapping[str, Any]) -> str | None:
    """Phrase a certificate: its names, validity, issuer and serial."""
    if not all(k in values for k in ("not_before", "not_after", "issuer")):
        return None
    names = values.get("names") or [values.get("domain", "")]
    text = (
        f"{_value(names, 1)}: valid {_scalar(values['not_before'])} to "
        f"{_scalar(values['not_after'])}"
    )
    if values.get("chain_expires") and values["chain_expires"] != values["not_after"]:
        text += f" (chain until {_scalar(values['chain_expires'])})"
    text += f"; issuer {_scalar(values['issuer'])}"
    return text + (f"; serial {_scalar(values['serial'])}" if values.get("serial") else "")


def _connections(values: Mapping[str, Any]) -> str | None:
    """Phrase the Airflow connections a handoff needs: each one's type, presence, answer."""
    found = values.get("connections")
    if not isinstance(found, Mapping) or not found or len(values) != 1:
        return None
    parts = []
    for conn_id, c in sorted(found.items()):
        if not isinstance(c, Mapping):
            return None
        state = "present" if c.get("exists") else "missing"
        answered = c.get("answered")
        heard = "" if answered is None else ("answered" if answered else "did not answer")
        kind = f" ({_scalar(c['type'])})" if c.get("type") else ""
        parts.append(f"{_scalar(conn_id)}{kind} {state}" + (f", {heard}" if heard else ""))
    return "; ".join(parts)


def _specific(values: Mapping[str, Any]) -> str | None:
    """Return the phrasing of a common kind of measured values, or None."""
    steps = values.get("steps")
    if isinstance(steps, Sequence) and not isinstance(steps, str) and steps:
        return _steps(steps)
    return (
        _postures(values)
        or _latency(values)
        or _audit(values)
        or _capacity(values)
        or _certificate(values)
        or _connections(values)
    )
