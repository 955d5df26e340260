"""`ai-pulse run`: one in-process materialization of every asset, with the outcome printed and, on failure, one
alert sent (unless the daemon's sensor already sent it)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import uuid
from typing import Any

from orchestration.cli.exits import EXIT_BUSY, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, fail
from orchestration.cli.terminal import StepCounter, format_table, shows_live_progress
from orchestration.lib.local_faults import dagster_home, fault_in, logs_folder, require, warehouse_folder
from orchestration.lib.settings import Warehouse


def run_command(args: argparse.Namespace) -> int:
    """`ai-pulse run`: resolve and check the inputs, take the warehouse, execute the job, report the outcome."""
    from ingestion.http import SourceError
    from ingestion.registry import RegistryError, load_registry
    from ingestion.snapshot import SnapshotError, read_snapshot
    from orchestration.lib.settings import ConfigError, resolve_settings

    try:
        settings = resolve_settings(live=args.live, snapshot=args.snapshot, warehouse=args.warehouse,
                                    record=args.record, full_refresh=args.full_refresh)
        load_registry()
        if settings.mode == "replay":
            # Every response file, read and checked before any step exists: a bad file exits 2 in seconds, naming
            # it, instead of failing the loads one retry after another. The run's replay reuses what is read here.
            read_snapshot(settings.snapshot_dir)
    except (ConfigError, RegistryError, SnapshotError) as exc:
        return fail(str(exc), EXIT_CONFIG)
    # Read-only, missing or full before anything starts (a LocalFault, exit 2), not half-way through.
    require(dagster_home(), warehouse_folder(settings.warehouse), logs_folder(settings.warehouse))
    # Imported once the inputs are known good: it brings in DuckDB and the data stack (~120 MB, ~0.4 s).
    from orchestration.lib.warehouse import WarehouseBusy, WarehouseError, writer_lock

    # dbt reads the warehouse path from the environment: the same value the resolver chose.
    os.environ["AI_PULSE_WAREHOUSE"] = str(settings.warehouse)
    try:
        with writer_lock(settings.warehouse):
            result = _execute(settings)
    except WarehouseBusy as exc:
        return fail(str(exc), EXIT_BUSY)
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    except (WarehouseError, SnapshotError, SourceError) as exc:
        return fail(str(exc), EXIT_FAILED)
    if not result.success:
        failures = _failure_lines(result)
        for line in failures:
            print(f"FAILED {line}", file=sys.stderr)
        _alert_failed_run(result.run_id, settings.warehouse)
        # A disk that filled up (or turned read-only) half-way is said once, with its fix, after the steps it broke.
        fault = fault_in(failures, warehouse_folder(settings.warehouse))
        return fail(_nothing_published(settings.warehouse) + (f"; {fault}" if fault else ""), EXIT_FAILED)
    _print_scorecard(settings.warehouse)
    from orchestration.report import report_path

    if report_path(settings.warehouse).exists():
        print(f"\nReport: {report_path(settings.warehouse)}")
    return EXIT_OK


def _nothing_published(warehouse: Warehouse) -> str:
    """What a failed run leaves: a local warehouse exactly as it was; a hosted one written in place up to the
    failure (orchestration/lib/publish.py)."""
    from orchestration.lib.settings import HostedWarehouse

    if isinstance(warehouse, HostedWarehouse):
        return "the run failed; nothing downstream of the failure was rebuilt"
    if not warehouse.exists():
        return f"the run failed; nothing of it was published: {warehouse} appears with the first successful run"
    return f"the run failed; nothing of it was published: {warehouse} still holds the last successful run"


def _execute(settings: Any) -> Any:
    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.defs.quality import AFTER_RUN, DATA_DOCS_TAG, render_run_data_docs
    from orchestration.lib.dbt_bridge import listen_to_run
    from orchestration.lib.runs import close_abandoned_runs, process_tags

    logging.getLogger("ai_pulse").info("AI Pulse: %s run into %s", settings.mode, settings.warehouse)
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    # Failures are summarised by _failure_lines; full tracebacks stay in the Dagster event log (the UI).
    quiet_dagster = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    # dbt's progress lines are printed to stdout by dagster-dbt; stdout is kept for results, so they go to
    # stderr, or into the run log when quiet.
    log_path = settings.warehouse.parent / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    detailed = logging.getLogger("ai_pulse").isEnabledFor(logging.DEBUG)
    quiet = not logging.getLogger("ai_pulse").isEnabledFor(logging.INFO)
    # On a terminal, a live step counter under the progress lines; entered first, so dbt's lines pass above it.
    counter = StepCounter(len(job.nodes)) if shows_live_progress(quiet) else None
    with open(log_path, "w", encoding="utf-8") as run_log, counter or contextlib.nullcontext(), \
            contextlib.redirect_stdout(sys.stderr if detailed else run_log):
        instance = DagsterInstance.get()
        for run_id in close_abandoned_runs(instance):
            _alert_failed_run(run_id, settings.warehouse)
        tags = {"ai_pulse/mode": settings.mode, "ai_pulse/warehouse": str(settings.warehouse),
                DATA_DOCS_TAG: AFTER_RUN, **process_tags()}
        run_id = str(uuid.uuid4())  # Dagster's own run ids are UUID4s; known first, so the counter can listen
        if counter:
            listen_to_run(instance, run_id, counter.on_event)
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet_dagster, tags=tags,
                                        run_id=run_id)
        # Every step ran in this process, so the run's end is here: its Data Docs are rendered once.
        render_run_data_docs(settings.warehouse, result.run_id)
        return result


def _alert_failed_run(run_id: str, warehouse: Warehouse) -> None:
    """Send the failed run's alert (log file, webhook) unless the daemon's sensor already did; say which.

    A cron job or a run by hand has no daemon watching it, so the command alerts itself; the shared claim keeps
    it to one alert when the daemon runs too (orchestration/alerts.py)."""
    from dagster import DagsterInstance

    from orchestration.lib.alerts import WEBHOOK_ENV, alert_once, log, this_process

    log.propagate = False  # the alert's lines repeat the FAILED lines above: only its outcome is printed
    log_dir = warehouse.parent / "logs"
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        if run is None:
            return
        delivery = alert_once(instance, run, log_dir, this_process("ai-pulse run"))
    if not delivery.sent:
        print(f"ai-pulse: the alert for run {run_id} was already sent by {delivery.sender}", file=sys.stderr)
        return
    webhook = f"; webhook ({WEBHOOK_ENV}): {delivery.webhook}" if delivery.webhook else ""
    print(f"ai-pulse: alert for run {run_id} written to {log_dir / 'alerts.log'}{webhook}", file=sys.stderr)


def _failure_lines(result: Any) -> list[str]:
    """Name every failed step and failed check with its reason (the same lines the failure alert sends)."""
    from orchestration.lib.alerts import failure_lines

    return failure_lines(result.all_events)


def _print_scorecard(warehouse: Warehouse) -> None:
    """The scorecard (each prediction's own year) as a table, then every window's verdict with how much to trust it
    and its coverage, then the scorecard's evidence sentences in full (wrapped), so no number is cut off."""
    import textwrap

    from orchestration.lib.warehouse import query

    columns, rows = query(warehouse, "select prediction_id, verdict, headline_value, trust, coverage, evidence "
                                     "from marts.prediction_scorecard order by prediction_id")
    as_of = query(warehouse, "select max(as_of) from marts.prediction_scorecard")[1][0][0]
    print(f"\nAI Pulse scorecard (warehouse {warehouse}, as of {as_of})")
    print(format_table(columns[:-1], [(*row[:4], _share(row[4])) for row in rows]))
    window_columns, windows = query(
        warehouse, 'select prediction_id, "window", verdict, headline_value, trust, coverage from '
                   "marts.prediction_verdicts order by prediction_id, window_start, \"window\"")
    print("\nVerdicts by window (trust: real, mixed, or demonstration when most inputs are synthetic stand-ins)")
    print(format_table(window_columns, [(*row[:5], _share(row[5])) for row in windows]))
    print("\nEvidence:")
    for row in rows:
        indent = " " * (len(row[0]) + 2)
        print(textwrap.fill(row[-1], width=116, initial_indent=f"{row[0]}  ", subsequent_indent=indent))


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"
