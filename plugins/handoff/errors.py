"""Diagnostics and exceptions shared by every layer of the package.

A diagnostic names the file, the line (or field) and says what was expected and what was
found, so a person can act on it without reading code. Parsers collect diagnostics instead of
stopping at the first problem; callers that need a value raise `HandoffError` with all of them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class Severity(enum.Enum):
    """How much a diagnostic matters: errors block a DAG, warnings and notes do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about one input file."""

    severity: Severity
    path: Path
    line: int | None
    message: str
    hint: str | None = None

    def render(self) -> str:
        """Return the `file:line: severity: message (hint)` form used by lint and errors."""
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        text = f"{where}: {self.severity.value}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def is_error(self) -> bool:
        """Tell whether this diagnostic blocks the handoff."""
        return self.severity is Severity.ERROR


class HandoffError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(HandoffError):
    """A contract, sidecar or environment file cannot be used; carries every diagnostic."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error] or list(self.diagnostics)
        super().__init__("\n".join(d.render() for d in errors))


def errors_in(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Return the diagnostics that block the handoff."""
    return [d for d in diagnostics if d.is_error]


def unexpected(path: Path, error: BaseException, doing: str) -> Diagnostic:
    """Return the diagnostic for an exception nobody foresaw while reading one file.

    The last resort of every reader: the file fails on its own with the exception's type and
    message (shown wherever its errors are: lint, the DAG's import error, the page), and the
    other files are read as usual.
    """
    message = str(error).replace("\n", " ")
    if len(message) > 300:
        message = f"{message[:300]}..."
    return Diagnostic(
        Severity.ERROR,
        path,
        None,
        f"unexpected {type(error).__name__} while {doing}: {message}",
        "the handoff package did not foresee this input; please report it with the file",
    )
