"""Local faults: the folders and files on this machine a command writes (the Dagster home, the warehouse's folder,
its logs, its lock) checked before any work starts, and any operating-system error on them turned into one
sentence that names the path, the cause and the fix.

A read-only folder, a full disk or a file-size limit would otherwise surface half-way through a run as a
traceback from Dagster's SQLite storage, dlt or DuckDB. Every command probes the places it needs with
`require` (the doctor reports them with `probe`), and code that opens one of them wraps the call in
`explained`, so the wording lives here only.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings resolves the warehouse path with these sentences: no import at run time
    from orchestration.lib.settings import Warehouse

PROBE_BYTES = 4096  # one page: a full disk refuses it, and it costs nothing to write and remove
# What Dagster writes under its home: run and event storage, schedules, compute logs, alert claims.
DAGSTER_HOME_PARTS = ("history", "history/runs", "schedules", "storage", "alerts_sent")
ANOTHER_WAREHOUSE_DISK = "move the warehouse to another disk (--warehouse or AI_PULSE_WAREHOUSE)"


class LocalFault(RuntimeError):
    """A folder or file on this machine cannot be written; the message says which, why and what to do.
    It is a configuration error (exit 2): nothing was started."""


@dataclass(frozen=True)
class Place:
    """A folder (or file) a command writes: how to name it to a person, and how to choose or repair it."""

    path: Path
    headline: str  # the sentence's start: "cannot use the Dagster home /x (DAGSTER_HOME)"
    fix: str  # what to do when it cannot be written, e.g. "point DAGSTER_HOME at a writable folder"
    elsewhere: str  # how to move it to another disk, e.g. "point DAGSTER_HOME at another disk"
    parts: tuple[str, ...] = ()  # sub-folders written too, probed when they exist

    def with_parts(self) -> list[Place]:
        """This place and those of its parts that exist."""
        return [self, *(Place(self.path / part, self.headline, self.fix, self.elsewhere) for part in self.parts
                        if (self.path / part).is_dir())]


def dagster_home(home: Path | None = None) -> Place:
    """The Dagster instance's folder: run history, schedules, alert claims."""
    path = Path(home or os.environ.get("DAGSTER_HOME", "")).resolve()
    return Place(path, f"cannot use the Dagster home {path} (DAGSTER_HOME)",
                 "point DAGSTER_HOME at a writable folder (the default is .dagster/ in the project)",
                 "point DAGSTER_HOME at a folder on another disk", DAGSTER_HOME_PARTS)


def warehouse_folder(warehouse: Warehouse) -> Place:
    """The folder of the warehouse file and of a run's own files (lock, dlt state, dbt target, report)."""
    headline = f"cannot write beside the warehouse {warehouse}" if warehouse.exists() else \
        f"cannot create the warehouse at {warehouse}"
    return Place(Path(warehouse.parent), headline, "choose a writable path with --warehouse or AI_PULSE_WAREHOUSE, "
                                                   "or make that folder writable", ANOTHER_WAREHOUSE_DISK)


def warehouse_path(path: Path) -> Place:
    """The warehouse's path itself, when even looking at it is refused (a folder on the way this user may not
    open)."""
    return Place(path, f"cannot reach the warehouse {path}", "choose a path this user may open with --warehouse or "
                                                             "AI_PULSE_WAREHOUSE, or give the user access to it",
                 ANOTHER_WAREHOUSE_DISK)


def logs_folder(warehouse: Warehouse) -> Place:
    """`<warehouse dir>/logs`: the last run's dbt lines and alerts.log."""
    path = Path(warehouse.parent) / "logs"
    return Place(path, f"cannot write the run logs (last_run.log, alerts.log) in {path}",
                 "make that folder writable, remove it so the next run recreates it, or choose another --warehouse",
                 ANOTHER_WAREHOUSE_DISK)


def warehouse_lock(warehouse: Warehouse) -> Place:
    """The lock file beside the warehouse that lets one run write at a time."""
    path = warehouse.with_name(warehouse.name + ".lock")
    return Place(path, f"cannot take the lock {path} of the warehouse {warehouse}",
                 "make the lock file and its folder writable, or remove the file when no run is going",
                 ANOTHER_WAREHOUSE_DISK)


def cause(exc: OSError) -> str:
    """Why the operating system refused, in words."""
    return {
        errno.EROFS: "is on a read-only file system",
        errno.EACCES: "is not writable by this user, or not reachable (permission denied)",
        errno.EPERM: "may not be changed by this user (operation not permitted)",
        errno.ENOSPC: "is on a full disk (no space left on device)",
        errno.EDQUOT: "is on a disk where this user's quota is used up",
        errno.EFBIG: "hit the file-size limit of this process (ulimit -f)",
        errno.ENOENT: "does not exist or takes no new files",
        errno.ENOTDIR: "has a file where a folder should be",
        errno.EISDIR: "is a folder where a file should be",
    }.get(exc.errno or 0, f"cannot be written ({exc.strerror or exc})")


def remedy(place: Place, exc: OSError) -> str:
    """What to do: free space for a full disk or a quota, raise the limit for EFBIG, else the place's own fix."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"free some space on that disk, or {place.elsewhere}"
    if exc.errno == errno.EFBIG:
        return "raise the limit (ulimit -f unlimited) and run again"
    return place.fix


def sentence(place: Place, exc: OSError) -> str:
    """One sentence: which place, which path the system refused, why, and what to do."""
    refused = exc.filename or place.path
    return f"{place.headline}: {refused} {cause(exc)}; {remedy(place, exc)}"


@contextmanager
def explained(place: Place) -> Iterator[None]:
    """Turn an operating-system error while writing `place` into a LocalFault with its sentence."""
    try:
        yield
    except LocalFault:
        raise
    except OSError as exc:
        raise LocalFault(sentence(place, exc)) from None


def probe(place: Place) -> str | None:
    """Whether a file can be written where `place` is: None when it can, else the sentence saying why not.

    A folder that does not exist yet is probed at its nearest existing parent, where a run would create it. The
    probe writes one page into a new file, syncs it and removes it, so a read-only mount, a missing permission
    and a full disk are all met now, not in the middle of a run; nothing is left behind."""
    folder = place.path
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return sentence(place, NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)))
    probe_file = folder / f".ai_pulse_probe_{os.getpid()}"
    try:
        descriptor = os.open(probe_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            page = memoryview(b"\0" * PROBE_BYTES)
            while page:  # a file-size limit first shortens a write, and refuses (EFBIG) only the next one
                page = page[os.write(descriptor, page):]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
            probe_file.unlink()
    except OSError as exc:
        if exc.filename is None or Path(exc.filename) == probe_file:
            exc.filename = str(folder)  # the place is what the person must fix, not the probe's file
        return sentence(place, exc)
    return None


# The errors a step can meet on a local disk that no retry or code change mends; found in a failure's text by
# their system message (DuckDB and dlt report them without the errno).
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


def fault_in(failures: list[str], place: Place) -> str | None:
    """The sentence for the first disk fault named in a run's failure lines (a disk that filled up half-way), or
    None when no failure is one."""
    for number in DISK_ERRNOS:
        if any(os.strerror(number) in failure for failure in failures):
            return sentence(place, OSError(number, os.strerror(number)))
    return None


def require(*places: Place) -> None:
    """Probe every place a command is about to write (and its parts); raise a LocalFault for the first that
    cannot be written."""
    for place in places:
        for each in place.with_parts():
            problem = probe(each)
            if problem:
                raise LocalFault(problem)
