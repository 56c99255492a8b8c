"""Paths named in settings files must stay inside the project, and volumes must be volumes.

A sidecar is checked in beside a contract by whoever accepts it; it must not be able to make
a deployment read or write outside the project: a report folder like ``../../etc`` or
``/var/lib``, or a "volume" like ``/`` or ``../secrets`` that Docker would bind-mount from the
host. The fields that name paths:

- ``report_dir`` (sidecar): relative to the project (the folder above the handoffs folder),
  and it must resolve inside it; absolute paths are refused. Each of its folders must be a
  plain name (letters, digits, ``_ . -``, no leading dot: no ``..``, no ``.airflow`` or
  ``.git``) and none may be a symlink, so a committed link cannot point the reports, which
  the Handoffs page serves, at another folder of the project.
- ``report_dir`` (environment): owned by the platform team, so an absolute path is allowed;
  a relative one must resolve inside the project.
- ``service.volumes`` keys: Docker named volumes only; anything that looks like a host path
  is refused. The values are mount points inside the container: absolute, without ``..``.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from handoff.acceptance.environment import Environment
from handoff.acceptance.sidecar import Acceptance
from handoff.acceptance.yaml_files import Loaded
from handoff.errors import Diagnostic, Severity
from handoff.safe_paths import COMPONENT

# Docker's own rule for volume names; a name that fails it is taken as a host path to bind.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def project_root_of(settings_file: Path) -> Path:
    """Return the project a settings file belongs to: the folder above its own folder."""
    return settings_file.resolve().parent.parent


def escapes(root: Path, relative: str) -> bool:
    """Tell whether ``relative`` (joined to ``root``, symlinks followed) leaves ``root``."""
    target = (root / relative).resolve()
    return not target.is_relative_to(root.resolve())


def bad_folder_name(relative: str) -> str | None:
    """Return the first folder of ``relative`` that is not a plain name (``..``, ``.git``)."""
    for part in PurePosixPath(relative.replace("\\", "/")).parts:
        if not COMPONENT.fullmatch(part):
            return part
    return None


def symlink_in(root: Path, relative: str) -> Path | None:
    """Return the first existing folder of ``relative`` under ``root`` that is a symlink."""
    current = root.resolve()
    for part in PurePosixPath(relative).parts:
        current = current / part
        try:
            if stat.S_ISLNK(current.lstat().st_mode):
                return current
        except OSError:
            return None
    return None


def sidecar_path_problems(sidecar: Loaded[Acceptance]) -> list[Diagnostic]:
    """Return a located error for every path in the sidecar that leaves the project."""
    root = project_root_of(sidecar.path)
    problems = []

    def error(location: tuple[Any, ...], message: str, hint: str) -> None:
        problems.append(
            Diagnostic(Severity.ERROR, sidecar.path, sidecar.line(*location), message, hint)
        )

    report_dir = sidecar.value.report_dir
    if report_dir is not None:
        if Path(report_dir).is_absolute() or report_dir.startswith("~"):
            error(
                ("report_dir",),
                f"report_dir {report_dir!r} is absolute; a sidecar's paths are relative to the "
                f"project {root}",
                "use a folder inside the project, e.g. reports",
            )
        elif escapes(root, report_dir):
            error(
                ("report_dir",),
                f"report_dir {report_dir!r} leaves the project {root}",
                "use a folder inside the project, e.g. reports",
            )
        elif (bad := bad_folder_name(report_dir)) is not None:
            error(
                ("report_dir",),
                f"report_dir {report_dir!r} holds the folder name {bad!r}; expected plain "
                "names of letters, digits and _ . -, not starting with '.'",
                "use a folder inside the project, e.g. reports",
            )
        elif (link := symlink_in(root, report_dir)) is not None:
            error(
                ("report_dir",),
                f"report_dir {report_dir!r} passes through the symlink {link}; the reports "
                "the Handoffs page serves must be in a real folder",
                "use a real folder inside the project, e.g. reports",
            )
    for volume, mount in sidecar.value.service.volumes.items():
        location = ("service", "volumes", volume)
        if not VOLUME_NAME.match(volume):
            error(
                location,
                f"volume {volume!r} is not a Docker volume name; a host path would be "
                "bind-mounted into the service, and sidecars may not reach outside the project",
                "name a Docker volume, e.g. shop-data",
            )
        mount_path = PurePosixPath(mount)
        if not mount_path.is_absolute() or ".." in mount_path.parts:
            error(
                location,
                f"mount point {mount!r} of volume {volume!r} must be an absolute path inside "
                "the container, without '..'",
                "e.g. /data",
            )
    return problems


def environment_path_problems(environment: Loaded[Environment]) -> list[Diagnostic]:
    """Return a located error when the environment's relative report_dir leaves the project."""
    report_dir = environment.value.report_dir
    root = project_root_of(environment.path)
    if Path(report_dir).is_absolute() or not escapes(root, report_dir):
        return []
    return [
        Diagnostic(
            Severity.ERROR,
            environment.path,
            environment.line("report_dir"),
            f"report_dir {report_dir!r} leaves the project {root}",
            "use a folder inside the project, or an absolute path chosen on purpose",
        )
    ]
