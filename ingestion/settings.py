"""Where a run's data comes from: the registry, the mode (replay or live), the snapshot replayed and the folder a
run records into. Settings about where data goes (the warehouse) and when runs happen are orchestration's
(orchestration/lib/settings.py); nothing here imports from another layer."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = PROJECT_ROOT / "registry.yml"
BUNDLED_SNAPSHOT = PROJECT_ROOT / "ingestion" / "snapshots" / "bundled"

MODES = ("replay", "live")


class ConfigError(Exception):
    """A setting is wrong; the message says which one and how to fix it."""


@dataclass(frozen=True)
class Origin:
    """Where a run's responses come from (a snapshot, or the live APIs) and where it records them, if anywhere."""

    mode: str
    snapshot_dir: Path
    record_dir: Path | None = None

    def today(self) -> dt.date:
        """The pipeline's today: the snapshot's `as_of` in replay, the UTC calendar date live."""
        if self.mode == "replay":
            from ingestion.snapshot import load_manifest

            return load_manifest(self.snapshot_dir).as_of
        return dt.datetime.now(dt.UTC).date()


def resolve_registry() -> Path:
    """`AI_PULSE_REGISTRY` (another registry file, e.g. for a trial) beats the project's registry.yml."""
    return Path(os.environ.get("AI_PULSE_REGISTRY") or DEFAULT_REGISTRY).expanduser().resolve()


def resolve_origin(*, live: bool = False, snapshot: str | os.PathLike[str] | None = None,
                   record: str | os.PathLike[str] | None = None) -> Origin:
    """Combine command-line options with the environment (`AI_PULSE_MODE`, `AI_PULSE_SNAPSHOT`)."""
    mode = "live" if live else os.environ.get("AI_PULSE_MODE", "replay").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"AI_PULSE_MODE={mode!r} is not one of {', '.join(MODES)}; unset it or pick one")
    if snapshot and mode == "live":
        raise ConfigError("--snapshot replays recorded responses and cannot be combined with --live")
    snapshot_dir = Path(snapshot or os.environ.get("AI_PULSE_SNAPSHOT") or BUNDLED_SNAPSHOT).expanduser().resolve()
    return Origin(mode, snapshot_dir, _record_dir(record, snapshot_dir if mode == "replay" else None))


def _record_dir(record: str | os.PathLike[str] | None, replayed: Path | None) -> Path | None:
    """Where `--record` writes a snapshot: a new or empty directory, never the snapshot being replayed (with a
    replay, `--record` re-records what the snapshot serves, through the same recorder a live run uses)."""
    if not record:
        return None
    path = Path(record).expanduser().resolve()
    if replayed is not None and (path == replayed or path.is_relative_to(replayed)):
        raise ConfigError(f"--record {path} is inside the snapshot being replayed; record into another directory")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConfigError(f"--record {path} is not an empty directory; recordings are never mixed, so choose a new "
                          "or empty directory")
    return path
