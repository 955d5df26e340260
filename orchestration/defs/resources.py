"""The run's configuration as a Dagster resource: one object that knows the mode, snapshot and warehouse."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import dlt
from dagster import (
    ConfigurableResource,
    DagsterError,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    Failure,
    InitResourceContext,
)
from pydantic import PrivateAttr

from ingestion.http import DEFAULT_NEEDS, ClientNeeds, HttpClient, Transport, make_transport
from ingestion.registry import Registry, load_registry
from ingestion.registry_tables import SOURCE_DATASETS
from ingestion.snapshot import Manifest, SnapshotError, SnapshotWriter, read_snapshot, recording_manifest
from orchestration.lib.publish import WorkingCopy
from orchestration.lib.settings import HostedWarehouse, RunSettings, Warehouse, resolve_warehouse
from orchestration.lib.warehouse import writer_lock

log = logging.getLogger("ai_pulse.publish")


class Runtime:
    """What one run builds once and every asset shares: registry, manifest, today, the transport, and one HTTP
    client per source over it."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.registry: Registry = load_registry()
        replayed = read_snapshot(settings.snapshot_dir) if settings.mode == "replay" else None
        self.manifest: Manifest | None = replayed.manifest if replayed else None
        self.today: dt.date = self.manifest.as_of if self.manifest else settings.today()
        if settings.record_dir:
            self._start_recording(settings.record_dir)
        # One transport for the run: one recorder numbers every exchange, so repeated requests replay in order.
        self.transport: Transport = make_transport(settings.mode, settings.snapshot_dir, settings.record_dir)
        self.clients: dict[str, HttpClient] = {}

    def client_for(self, source: str, needs: ClientNeeds = DEFAULT_NEEDS) -> HttpClient:
        """`source`'s own client (its live profile, its retry rule, which hosts have answered it), made on first use
        over the run's transport."""
        if source not in self.clients:
            self.clients[source] = HttpClient(transport=self.transport, user_agent=self.registry.user_agent,
                                              needs=needs)
        return self.clients[source]

    @property
    def requests_sent(self) -> int:
        """Requests sent in this run, every source's client together."""
        return sum(client.requests_sent for client in self.clients.values())

    def _start_recording(self, record_dir: Path) -> None:
        """The recorded snapshot's manifest: as_of is this run's today, so a replay of it asks the same requests."""
        keys = [(s.source, s.key, dataset) for s in self.registry.signals
                for dataset in SOURCE_DATASETS.get(s.source, ())]
        description, series = recording_manifest(self.settings.mode, self.today, keys, self.manifest)
        SnapshotWriter(record_dir).write_manifest(self.today, description, series)

    def pipeline(self, source: str) -> dlt.Pipeline:
        """The dlt pipeline that loads `source` into the `raw_<source>` schema of the warehouse."""
        self.settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        return dlt.pipeline(
            pipeline_name=f"ai_pulse_{source}",
            destination=warehouse_destination(self.settings.database),
            dataset_name=f"raw_{source}",
            pipelines_dir=str(self.settings.pipelines_dir),
        )


def warehouse_destination(warehouse: Warehouse) -> Any:
    """dlt's destination for the warehouse: the local DuckDB file, or the MotherDuck database (token from the
    environment, see HostedWarehouse)."""
    if isinstance(warehouse, HostedWarehouse):
        return dlt.destinations.motherduck(str(warehouse))
    return dlt.destinations.duckdb(str(warehouse))


class PublishError(DagsterError):
    """The run succeeded but its copy could not be published; the published warehouse is unchanged.

    A DagsterError, because Dagster 1.13 turns any other exception from a resource's teardown into a log entry
    and still calls the run a success (_core/execution/resources_init.py catches DagsterUserCodeExecutionError,
    which _core/errors.py user_code_error_boundary wraps every non-Dagster error in); this one ends the run as
    failed (_core/execution/api.py job_execution_iterator), so the run's outcome says what the warehouse holds."""


class PulseResource(ConfigurableResource):
    """Where data comes from (replay snapshot or live APIs) and where it goes (the DuckDB warehouse).

    It is also the run's lifecycle around a local warehouse (orchestration/lib/publish.py): setting up for a run
    takes the writer lock and makes the working copy every step of the run then reads and writes
    (`settings.database`); tearing down publishes the copy when no step failed, and discards it otherwise. A
    resource is the one place `ai-pulse run` (execute_in_process) and a run from the UI or the schedule (the run
    worker) both pass through, once per run: the jobs use the in-process executor (orchestration/definitions.py),
    so a run's steps share one process and one resource instance, as they do in `ai-pulse run`."""

    mode: str = "replay"
    snapshot_dir: str
    warehouse: str
    record_dir: str | None = None
    full_refresh: bool = False

    _runtime: Runtime | None = PrivateAttr(default=None)
    _working: WorkingCopy | None = PrivateAttr(default=None)
    _lock: ExitStack | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: RunSettings) -> PulseResource:
        return cls(mode=settings.mode, snapshot_dir=str(settings.snapshot_dir), warehouse=str(settings.warehouse),
                   record_dir=str(settings.record_dir) if settings.record_dir else None,
                   full_refresh=settings.full_refresh)

    @property
    def settings(self) -> RunSettings:
        return RunSettings(mode=self.mode, snapshot_dir=Path(self.snapshot_dir),
                           warehouse=resolve_warehouse(self.warehouse),
                           record_dir=Path(self.record_dir) if self.record_dir else None,
                           full_refresh=self.full_refresh,
                           working_copy=self._working.path if self._working else None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Take the warehouse for this run and make its working copy (a hosted warehouse is written in place)."""
        warehouse = resolve_warehouse(self.warehouse)
        if isinstance(warehouse, HostedWarehouse):
            return
        lock = ExitStack()
        lock.enter_context(writer_lock(warehouse, holder=f"Dagster run {context.run.run_id}"))
        try:
            self._working = WorkingCopy.start(warehouse)
        except BaseException:
            lock.close()
            raise
        self._lock = lock

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Publish the working copy if every step succeeded, else leave the published warehouse as it was; the
        working folder goes either way, then the lock."""
        if self._working is None or self._lock is None:
            return
        try:
            failed = _run_failed(context.instance, context.run.run_id)
            if failed:
                log.warning("[publish] %s; %s is left as it was", failed, self._working.warehouse)
                self._working.hold_checks(context.run.run_id)
            else:
                try:
                    self._working.publish()
                except Exception as exc:
                    raise PublishError(f"the run's copy was not published, {self._working.warehouse} is left as "
                                       f"it was: {exc}") from exc
        finally:
            self._working.discard()
            self._working = None
            self._lock.close()

    @property
    def runtime(self) -> Runtime:
        """Built on first use within a run, then shared by every asset of that run. A bad snapshot fails the step
        at once: a file will not mend by waiting, so the load's retry policy (meant for the network) is bypassed."""
        if self._runtime is None:
            try:
                self._runtime = Runtime(self.settings)
            except SnapshotError as exc:
                raise Failure(description=str(exc), allow_retries=False) from None
        return self._runtime


def _run_failed(instance: DagsterInstance | None, run_id: str) -> str | None:
    """Why this run must not be published (a step failed, which includes a failed blocking check and an interrupted
    step, or the run is being cancelled), or None. Every step event is in the instance before teardown."""
    if instance is None:
        return "the run has no Dagster instance to tell whether its steps succeeded"
    failures = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    if failures:
        return f"{len(failures)} step(s) failed"
    run = instance.get_run_by_id(run_id)
    if run is not None and run.status in (DagsterRunStatus.CANCELING, DagsterRunStatus.CANCELED):
        return "the run was cancelled"
    return None
