"""Names and file access under a report folder: strict names, no symlink followed below it.

A run's folder is ``<report_dir>/runs/<dag>/<run>``, and the Handoffs page serves files from
it to anyone who may read the DAG. Run ids come from Airflow (the scheduler's
``manual__2026-12-01T10:00:00.123456+00:00``, ``scheduled__...``) and from whoever triggers a
run through the API, which may choose its own; a report folder may hold anything a
repository committed, symlinks included. So:

- every id and file name that becomes a path component is checked against one strict
  alphabet (``check_run_id``, ``check_dag_id``, ``check_component``); nothing is "cleaned
  up" into a name, so ``..``, ``/``, ``%2e%2e`` and absolute paths are refused, never mapped;
- every file below a trusted base is reached by walking one directory at a time from a
  directory descriptor with ``O_NOFOLLOW`` (``os.open(..., dir_fd=...)``, openat-style), so
  neither the file nor any folder above it up to the base may be a symlink, and nothing is
  resolved by path a second time (no check-then-open race);
- only regular files with one link are read (a hard link would name another file's data);
- writers create a temporary file with ``O_EXCL | O_NOFOLLOW`` beside the target and rename
  it over the target, and refuse when the target is anything but a regular file.

The run ids Airflow accepts from users by default match ``^[A-Za-z0-9_.~:+-]+$``
(``[scheduler] allowed_run_id_pattern``); this module takes that alphabet and refuses a
leading dot, so a run id is never ``.``, ``..`` or a hidden name.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

# Airflow's default allowed_run_id_pattern, without a leading dot; 250 is the run_id column.
RUN_ID = re.compile(r"[A-Za-z0-9_~:+-][A-Za-z0-9_.~:+-]{0,249}")
# Airflow's KEY_REGEX in ASCII only (task ids of groups hold dots), without a leading dot.
DAG_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,249}")
# One path component as written to disk: no separator, no leading dot, at most 255 bytes.
COMPONENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}")
# ':', '+' and '~' are valid in a run id but awkward in folder names (the layout since v1).
_TO_UNDERSCORE = re.compile(r"[~:+]")
# Anything but the component alphabet in a task id becomes '_' (as before); a task id is
# chosen by the project, never by a user, and the result is still checked.
_NOT_COMPONENT = re.compile(r"[^A-Za-z0-9._-]+")
MAX_READ_BYTES = 64 * 1024 * 1024

_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NOFOLLOW_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class UnsafePath(ValueError):
    """A name outside the allowed alphabet, or a path that leaves (or links out of) its folder."""


def _checked(pattern: re.Pattern[str], value: object, what: str, alphabet: str, most: int) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = value[:80] + "..." if isinstance(value, str) and len(value) > 80 else value
        raise UnsafePath(
            f"{what} {shown!r} is not allowed: expected {alphabet}, not starting with '.', "
            f"at most {most} characters"
        )
    return value


def check_run_id(run_id: object) -> str:
    """Return the run id when it is safe to name a folder; raise UnsafePath otherwise."""
    return _checked(RUN_ID, run_id, "run id", "letters, digits and _ . ~ : + -", 250)


def check_dag_id(dag_id: object) -> str:
    """Return the DAG id when it is safe to name a folder; raise UnsafePath otherwise."""
    return _checked(DAG_ID, dag_id, "DAG id", "letters, digits and _ . -", 250)


def check_component(name: object) -> str:
    """Return the name when it is one safe path component; raise UnsafePath otherwise."""
    return _checked(COMPONENT, name, "file name", "letters, digits and _ . -", 255)


def run_folder_names(dag_id: str, run_id: str) -> tuple[str, str]:
    """Return the folder names of a run under ``runs/``: checked ids, ':' '+' '~' as '_'."""
    dag = check_dag_id(dag_id)
    run = _TO_UNDERSCORE.sub("_", check_run_id(run_id))
    return check_component(dag), check_component(run)


def task_file_name(task_id: str, suffix: str = ".json") -> str:
    """Return the file name of a task's record (``group.task.json``), checked."""
    return check_component(_NOT_COMPONENT.sub("_", task_id) + suffix)


def refuse_symlinks_below(base: Path, parts: Sequence[str]) -> None:
    """Raise UnsafePath when a component below ``base`` is a symlink or not a folder.

    Used before creating folders by path (``mkdir(parents=True)`` follows symlinks); the
    files themselves are then opened with the descriptor walk below.
    """
    current = base
    for part in parts:
        current = current / check_component(part)
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(mode):
            raise UnsafePath(f"{current} is a symlink or a file, not a folder; refusing it")


def _open_dirs(base: Path, parts: Sequence[str], *, create: bool, follow_base: bool) -> int:
    """Return a descriptor of ``base/parts...``, never following a symlink below ``base``."""
    flags = _NOFOLLOW_DIR if not follow_base else _NOFOLLOW_DIR & ~os.O_NOFOLLOW
    fd = _open_checked(str(base), flags, None, base)
    try:
        for part in parts:
            check_component(part)
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            below = _open_checked(part, _NOFOLLOW_DIR, fd, base)
            os.close(fd)
            fd = below
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_checked(name: str, flags: int, dir_fd: int | None, base: Path) -> int:
    try:
        return os.open(name, flags, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        # ELOOP: the component is a symlink; ENOTDIR: a file (or a link) where a folder is.
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise UnsafePath(f"{name!r} under {base} is a symlink or not a folder") from exc
        raise


def _open_file(base: Path, parts: Sequence[str], follow_base: bool) -> int:
    """Return a descriptor of the plain regular file ``base/parts...``, reached without links."""
    *folders, name = parts
    check_component(name)
    dir_fd = _open_dirs(base, folders, create=False, follow_base=follow_base)
    try:
        fd = _open_checked(name, _NOFOLLOW_FILE, dir_fd, base)
    finally:
        os.close(dir_fd)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > MAX_READ_BYTES:
        os.close(fd)
        raise UnsafePath(
            f"{'/'.join(parts)} under {base} is not a plain regular file of at most "
            f"{MAX_READ_BYTES} bytes with one link"
        )
    return fd


def read_beneath(base: Path, parts: Sequence[str], *, follow_base: bool = True) -> bytes:
    """Return the bytes of the regular file ``base/parts...``, reached without symlinks.

    Raises UnsafePath for a bad name, a symlink, a hard link or a non-regular file, and
    FileNotFoundError (an OSError) when it is absent. ``base`` itself is trusted (the report
    folder named by settings that lint checked) and may be a symlink unless told otherwise.
    """
    with os.fdopen(_open_file(base, parts, follow_base), "rb") as source:
        return source.read(MAX_READ_BYTES)


def is_file_beneath(base: Path, parts: Sequence[str]) -> bool:
    """Tell whether ``read_beneath`` would read the file (without reading it)."""
    try:
        os.close(_open_file(base, parts, follow_base=True))
    except (UnsafePath, OSError):
        return False
    return True


def read_text_or_none(base: Path, parts: Sequence[str]) -> str | None:
    """Return a file's text (see ``read_beneath``), or None when absent, unsafe or unreadable."""
    try:
        return read_beneath(base, parts).decode("utf-8")
    except FileNotFoundError:
        return None
    except (UnsafePath, OSError, UnicodeDecodeError) as exc:
        log.warning("not reading %s under %s: %s", "/".join(parts), base, exc)
        return None


def list_beneath(base: Path, parts: Sequence[str], suffix: str) -> list[str]:
    """Return the sorted names ending in ``suffix`` in ``base/parts...`` (empty when absent)."""
    try:
        dir_fd = _open_dirs(base, parts, create=False, follow_base=True)
    except FileNotFoundError:
        return []
    except UnsafePath as exc:
        log.warning("not listing %s under %s: %s", "/".join(parts), base, exc)
        return []
    try:
        names = os.listdir(dir_fd)  # noqa: PTH208 (a descriptor; pathlib has no listdir(fd))
    finally:
        os.close(dir_fd)
    return sorted(n for n in names if n.endswith(suffix) and COMPONENT.fullmatch(n))


def write_beneath(base: Path, parts: Sequence[str], data: bytes) -> Path:
    """Replace ``base/parts...`` atomically with ``data``; no symlink is written through.

    ``base`` itself must be a real folder (it is created when missing, its own parents by
    path: callers check them with ``refuse_symlinks_below``); the folders below it are
    created and entered one descriptor at a time. A reader never sees half a file.
    """
    *folders, name = parts
    check_component(name)
    base.mkdir(parents=True, exist_ok=True)
    dir_fd = _open_dirs(base, folders, create=True, follow_base=False)
    try:
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            raise UnsafePath(f"{'/'.join(parts)} under {base} is a symlink or not a file")
        temporary = f".{name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(temporary, flags, 0o600, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)
    return base.joinpath(*parts)
