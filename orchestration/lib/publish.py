"""A run works on its own copy of the warehouse file and publishes it in one rename when it succeeds.

DuckDB lets one process write a file or many read it, never both at once. Analysts keep read-only sessions open
on `warehouse/ai_pulse.duckdb` (the DuckDB CLI, a notebook, a BI tool, `ai-pulse sql`), so a run never writes
that file: it copies it into `warehouse/.ai_pulse_run/` (reading it read-only, which sits happily beside other
readers), loads, checks and transforms the copy, and when every step has succeeded checkpoints the copy and
`os.replace`s it over the published file. Readers see the last successful run, whole: a session that was open
keeps the file it opened (the old inode stays readable until it closes), a new one opens the new run. A failed
run publishes nothing; its working folder is removed at the end of the run, and a folder left behind by a killed
run is removed by the next one before it copies.

The working folder also holds dlt's pipeline folders (RunSettings.pipelines_dir), so a failed run's state and
load packages go with its copy. dlt's state (incremental cursors, schemas) then always comes from the copy's
`_dlt_pipeline_state` and `_dlt_version` tables, which are published with the data they describe or not at
all: a local state left by a failed run would be newer than the published one, and dlt keeps the newer (dlt
1.31 `Pipeline.sync_destination`). dagster-dlt drops the local state before each load anyway
(dagster_dlt/resource.py `DagsterDltResource._run`, "restore_from_destination"), so this holds twice over.

A failed run's validations are not lost with its copy: they are what P10's quality history counts, a blocking
failure above all. Before the copy goes, its rows of `quality.check_results` are held beside the warehouse
(`.ai_pulse_held_checks/<run id>.parquet`); the next run adds every held file to its copy, and the files go once
that run has published them.

A hosted warehouse (MotherDuck) has no file to copy: it is written in place, as before.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.settings import working_copy_path
from orchestration.lib.warehouse import CHECK_RESULTS_DDL, WarehouseError, lock_conflict, table_exists

log = logging.getLogger("ai_pulse.publish")


def _wal(database: Path) -> Path:
    """DuckDB's write-ahead log beside a database file."""
    return database.with_name(database.name + ".wal")


@dataclass(frozen=True)
class WorkingCopy:
    """One run's copy of a local warehouse file. Only the holder of the warehouse's writer lock makes one."""

    warehouse: Path

    @property
    def path(self) -> Path:
        return working_copy_path(self.warehouse)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def held_checks(self) -> Path:
        """Failed runs' validations, waiting for a run that publishes (outside the working folder: it outlives it)."""
        return self.warehouse.parent / ".ai_pulse_held_checks"

    @classmethod
    def start(cls, warehouse: Path) -> WorkingCopy:
        """A fresh working folder holding a copy of the published file (nothing when there is none yet: the run
        creates the warehouse). The copy is taken while a read-only DuckDB connection holds the file's shared
        lock, so no writer can change it mid-copy; a writer already holding it fails the run at once."""
        copy = cls(warehouse)
        copy.discard()  # a run killed before it could clean up left its folder behind
        copy.folder.mkdir(parents=True)
        if not warehouse.exists():
            return copy
        started = time.monotonic()
        try:
            with _opened_read_only(warehouse):
                shutil.copyfile(warehouse, copy.path)
                if _wal(warehouse).exists():  # committed, not yet checkpointed by an earlier writer: DuckDB replays it
                    shutil.copyfile(_wal(warehouse), _wal(copy.path))
        except BaseException:
            copy.discard()
            raise
        log.info("[publish] copied %s (%.0f MB) in %.1f s", warehouse, copy.path.stat().st_size / 1e6,
                 time.monotonic() - started)
        copy._add_held_checks()
        return copy

    def hold_checks(self, run_id: str) -> None:
        """Keep this (failed) run's validations for the next run to publish; nothing to keep is no file."""
        import pyarrow.parquet as pq

        if not self.path.exists():
            return
        with duckdb.connect(str(self.path), read_only=True) as con:
            if not table_exists(con, "quality", "check_results"):
                return
            rows = con.execute("select * from quality.check_results where run_id = ?", [run_id]).fetch_arrow_table()
        if not rows.num_rows:
            return
        self.held_checks.mkdir(exist_ok=True)
        partial = self.held_checks / f".{run_id}.parquet.partial"
        pq.write_table(rows, partial)
        partial.replace(self.held_checks / f"{run_id}.parquet")
        log.info("[publish] kept %d validation results of the failed run %s for the next run", rows.num_rows, run_id)

    def _add_held_checks(self) -> None:
        """Add the validations failed runs held to this copy (once each: a run already in it is skipped)."""
        import pyarrow.parquet as pq

        held = sorted(self.held_checks.glob("*.parquet")) if self.held_checks.is_dir() else []
        if not held:
            return
        with duckdb.connect(str(self.path)) as con:
            con.execute(CHECK_RESULTS_DDL)
            for file in held:
                if con.execute("select count(*) from quality.check_results where run_id = ?",
                               [file.stem]).fetchone()[0]:
                    continue
                con.register("held_check_results", pq.read_table(file))
                con.execute("insert into quality.check_results select * from held_check_results")
                con.unregister("held_check_results")

    def publish(self) -> None:
        """Checkpoint the copy (every change in the file itself, no WAL), make it durable, and rename it over the
        published file: one atomic step, in the same file system. Refused while another process has the published
        file open for writing (its WAL would be replayed onto the new file)."""
        started = time.monotonic()
        # Held validations join at the start; a run that began with no published file had no copy to add them to.
        self._add_held_checks()
        with duckdb.connect(str(self.path)) as con:
            con.execute("checkpoint")
        if _wal(self.path).exists():
            raise WarehouseError(f"the run's copy {self.path} still has a write-ahead log after its checkpoint; "
                                 "nothing was published; run again")
        with open(self.path, "rb") as handle:
            os.fsync(handle.fileno())
        with _opened_read_only(self.warehouse) if self.warehouse.exists() else nullcontext():
            _wal(self.warehouse).unlink(missing_ok=True)  # its changes are in the copy (start() copied it)
            os.replace(self.path, self.warehouse)
        _fsync_folder(self.warehouse.parent)
        log.info("[publish] published %s (%.0f MB) in %.1f s", self.warehouse, self.warehouse.stat().st_size / 1e6,
                 time.monotonic() - started)
        shutil.rmtree(self.held_checks, ignore_errors=True)  # their rows are in the published file now
        self.discard()

    def discard(self) -> None:
        """Remove the working folder (the copy, its WAL, dlt's pipeline folder); the published file is untouched."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _opened_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection (DuckDB's shared file lock) for as long as the `with` block runs; a process holding
    the file for writing becomes one clear sentence naming it."""
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise lock_conflict(warehouse, exc) or WarehouseError(f"cannot read the warehouse {warehouse}: {exc}") from None


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: a directory entry is made durable by fsync on its directory)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
