"""Errors of the blue-green engine: each says what failed, what it means, what to do."""

from __future__ import annotations

from handoff.target import errors as target_errors


class BlueGreenError(target_errors.TargetError):
    """Base of every error the blue-green engine raises on purpose."""


class EngineUnreachable(BlueGreenError):
    """The Docker engine does not answer at the configured URL."""


class ImageMissing(BlueGreenError):
    """The release (or router) image is not present on the engine."""


class PortTaken(BlueGreenError):
    """A host port the router must publish is already used by something else."""


class RouterConfigRejected(BlueGreenError):
    """`haproxy -c` refused a rendered configuration; the old one stays in place."""


class RouterUnreachable(BlueGreenError):
    """The router container is not running or its admin socket does not answer."""


class ReleaseNeverReady(BlueGreenError):
    """The new colour did not become ready before its deadline; it has been removed."""


class VerificationFailed(BlueGreenError):
    """After a switch the live listener did not answer from the expected colour."""


class DeploymentLocked(BlueGreenError):
    """Another deployment of the same service holds the lock."""


class InvalidState(BlueGreenError, target_errors.InvalidState):
    """The discovered state does not allow the operation (e.g. nothing to roll back to)."""


class IntegrityCommandUnusable(BlueGreenError, target_errors.CommandUnusable):
    """A one-off command (integrity, migration) could not be run at all (not in the image...)."""
