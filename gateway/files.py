"""Writing the gateway's files: atomically, with the right modes, one writer at a time.

The broker may re-read a file at any moment (a reload): a file is written beside its final name
and renamed over it, so Mosquitto sees the old or the new content, never half. Secrets are 0600
from their first byte. Files the broker must read after dropping privileges are handed to its
user when we run as root.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
from collections.abc import Iterator
from pathlib import Path


def _write(path: Path, data: bytes, mode: int, owner: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is filtered by the umask, and ignored if it existed
        if owner is not None and os.geteuid() == 0:
            entry = pwd.getpwnam(owner)
            os.fchown(fd, entry.pw_uid, entry.pw_gid)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
            out.flush()
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_private(path: Path, data: bytes, owner: str | None = None) -> None:
    """A secret: readable by its owner only (and handed to ``owner`` when we are root)."""
    _write(path, data, 0o600, owner)


def write_public(path: Path, data: bytes) -> None:
    _write(path, data, 0o644)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Serialise changes to one gateway folder (two operators provisioning at once)."""
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
