"""Typed quantities read from contract prose: durations, percentages and their bounds.

Contracts say "<60 minutes", "0 minutes", "<1% error rate", "±10% tolerance", "24-hour
notification", "within 48 hours". Each becomes a `Threshold`: a bound, a value in a base unit
(seconds or percent) and the words it came from. A regular expression over one value string
is the right tool here; document structure is the markdown parser's job.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import timedelta


class Unit(enum.Enum):
    """Base unit of a threshold's value."""

    SECONDS = "s"
    PERCENT = "%"


class Bound(enum.Enum):
    """How a measured value is compared with a threshold's value."""

    AT_MOST = "at most"
    AT_LEAST = "at least"
    EXACTLY = "exactly"
    TOLERANCE = "within ±"


_UNIT_SECONDS = {
    "ms": 0.001,
    "millisecond": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
}

_BOUND_WORDS = {
    "<": Bound.AT_MOST,
    "<=": Bound.AT_MOST,
    "≤": Bound.AT_MOST,
    "under": Bound.AT_MOST,
    "below": Bound.AT_MOST,
    "less than": Bound.AT_MOST,
    "at most": Bound.AT_MOST,
    "up to": Bound.AT_MOST,
    "within": Bound.AT_MOST,
    "max": Bound.AT_MOST,
    ">": Bound.AT_LEAST,
    ">=": Bound.AT_LEAST,
    "≥": Bound.AT_LEAST,
    "at least": Bound.AT_LEAST,
    "over": Bound.AT_LEAST,
    "more than": Bound.AT_LEAST,
    "min": Bound.AT_LEAST,
    "±": Bound.TOLERANCE,
    "+/-": Bound.TOLERANCE,
    "+-": Bound.TOLERANCE,
}

_DIGIT = re.compile(r"\d")
# Linear on any text: possessive quantifiers (`++`, `*+`) never give back what they took, and
# a match without a bound word may not start inside a run of digits or spaces. The old pattern
# tried every start in a run of N digits and every split of it: 8,000 digits took 11.5 s.
# Neither changes what matches: a number or space run ends where the next part must begin,
# and a match starting later in the same run is found from the run's first character.
_QUANTITY = re.compile(
    r"(?:(?P<bound><=|>=|≤|≥|<|>|±|\+/-|\+-|\b(?:at most|at least|less than|more than|up to|"
    r"under|below|over|within|max|min)\b)|(?<![\s\d]))\s*+"
    r"(?P<number>\d++(?:\.\d++)?+)\s*+-?\s*+"
    r"(?P<unit>%|(?:milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|"
    r"days?|d|weeks?|w)\b)",
    re.IGNORECASE,
)
# A duration a deployment can mean: longer ones are typos or attacks, and a timedelta or a
# deploy time beyond year 9999 would overflow while the plan is derived.
MAX_DURATION_SECONDS = 100 * 365 * 86400.0


class QuantityError(ValueError):
    """A quantity in a contract that cannot be used, e.g. a duration of 10^23 hours."""


@dataclass(frozen=True)
class Threshold:
    """A bound on a measured quantity, e.g. at most 60 minutes, within ±10 %."""

    bound: Bound
    value: float
    unit: Unit
    text: str

    @property
    def duration(self) -> timedelta:
        """Return the value as a timedelta; only meaningful for durations."""
        if self.unit is not Unit.SECONDS:
            raise ValueError(f"{self.text!r} is a percentage, not a duration")
        return timedelta(seconds=self.value)

    def allows(self, measured: float) -> bool:
        """Tell whether a measured value (in this threshold's unit) meets the threshold."""
        if self.bound is Bound.AT_MOST:
            return measured <= self.value
        if self.bound is Bound.AT_LEAST:
            return measured >= self.value
        if self.bound is Bound.TOLERANCE:
            return abs(measured) <= self.value
        return measured == self.value

    def describe(self) -> str:
        """Return the threshold as a person reads it, e.g. 'at most 60 min'."""
        amount = format_seconds(self.value) if self.unit is Unit.SECONDS else _percent(self.value)
        if self.bound is Bound.TOLERANCE:
            return f"within ±{amount}"
        return f"{self.bound.value} {amount}"


def _percent(value: float) -> str:
    return f"{value:g} %"


def format_seconds(seconds: float) -> str:
    """Return a duration in a whole unit: '72 h', '60 min', '30 min', '3 s', '250 ms'."""
    # Hours from two on: "60 min" reads as the contract wrote it, "1 h" does not.
    for size, name in ((3600.0, "h"), (60.0, "min"), (1.0, "s")):
        if seconds >= 2 * size and (seconds / size).is_integer():
            return f"{seconds / size:g} {name}"
    if 0 < seconds < 1:
        return f"{seconds * 1000:g} ms"
    return f"{seconds:g} s"


def _unit_seconds(unit: str) -> float:
    word = unit.lower().rstrip("s") if len(unit) > 2 else unit.lower()
    return _UNIT_SECONDS.get(word, _UNIT_SECONDS.get(unit.lower(), 1.0))


def _threshold_from(match: re.Match[str], default: Bound) -> Threshold:
    bound_word = (match.group("bound") or "").lower()
    bound = _BOUND_WORDS.get(bound_word, default)
    number = float(match.group("number"))
    unit = match.group("unit")
    text = match.group(0).strip()
    if unit == "%":
        return Threshold(bound, number, Unit.PERCENT, text)
    return Threshold(bound, _seconds(number, unit, text), Unit.SECONDS, text)


def _seconds(number: float, unit: str, text: str) -> float:
    seconds = number * _unit_seconds(unit)
    if not seconds <= MAX_DURATION_SECONDS:  # also refuses inf and nan
        raise QuantityError(
            f"duration {_clip(text)!r} is out of range: at most "
            f"{MAX_DURATION_SECONDS / (365 * 86400):g} years"
        )
    return seconds


def _clip(text: str, limit: int = 40) -> str:
    """Return text short enough for a message: a 5,000-digit number is not worth printing."""
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]}"


def find_thresholds(text: str, default: Bound = Bound.EXACTLY) -> list[Threshold]:
    """Return every quantity in `text`, in order; a bare number gets `default` as its bound.

    Raises `QuantityError` for a duration out of range.
    """
    return [_threshold_from(m, default) for m in _QUANTITY.finditer(text)]


def find_threshold(text: str, unit: Unit | None = None) -> Threshold | None:
    """Return the first quantity in `text` (of `unit` when given), or None."""
    if not _DIGIT.search(text):
        return None  # most prose has no number: skip the large pattern
    for match in _QUANTITY.finditer(text):
        if unit is None or (match.group("unit") == "%") == (unit is Unit.PERCENT):
            return _threshold_from(match, Bound.EXACTLY)
    return None


def parse_duration(text: str) -> timedelta:
    """Read a whole string as one duration: '24h', '30 minutes', '90s', '1.5 hours'."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None or match.group("bound") or match.group("unit") == "%":
        raise ValueError(f"expected a duration such as '24h', '30 minutes' or '90s', got {text!r}")
    seconds = _seconds(float(match.group("number")), match.group("unit"), text.strip())
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class NamedTarget:
    """A target stated in prose: '<3s dashboard loads' -> ('dashboard loads', at most 3 s)."""

    name: str
    threshold: Threshold


def find_named_targets(text: str) -> list[NamedTarget]:
    """Split a list like '(<3s dashboard loads, <2s AI optimization)' into named targets."""
    inner = text[text.find("(") + 1 : text.rfind(")")] if "(" in text and ")" in text else text
    targets: list[NamedTarget] = []
    for part in re.split(r"[,;]", inner):
        match = _QUANTITY.search(part)
        if match is None:
            continue
        name = (part[: match.start()] + part[match.end() :]).strip(" .:-")
        if name:
            targets.append(NamedTarget(name, _threshold_from(match, Bound.AT_MOST)))
    return targets
