"""Errors every deployment target raises on purpose, whatever its kind.

A target kind subclasses `TargetError` for its own failures (Docker + HAProxy:
`handoff.bluegreen.errors`); the tasks catch these, never a target SDK's exceptions.
"""

from __future__ import annotations

from handoff.errors import HandoffError


class TargetError(HandoffError):
    """Base of every error a deployment target raises on purpose."""


class InvalidState(TargetError):
    """The discovered state does not allow the operation (e.g. nothing to roll back to)."""


class CommandUnusable(TargetError):
    """A one-off command could not be run at all (not in the image, the target refused...)."""
