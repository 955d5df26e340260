"""The one place AI Pulse reaches into library internals: dbt run inside this process, spoken to the way
dagster-dbt speaks to a dbt subprocess, Dagster's own cron arithmetic, and a listener on one run's events.

dagster-dbt's public path (`DbtCliResource.cli`) starts a dbt subprocess per invocation, which paid ~6 s of
imports and ~3 s of project loading per lane before any SQL ran. dbt's documented programmatic API (`dbtRunner`)
runs it in this process instead; what dagster-dbt does around its subprocess (choose the dbt selection for the
assets a run selected, turn dbt's structured events into Dagster events) it does not export, so it is borrowed
here. tests/test_dbt_bridge.py pins each internal named below (its signature, attributes and behaviour in the
locked versions), so an upgrade that changes one fails there, by name, instead of somewhere in a run.

Relied on, as found in the locked versions (dagster 1.13, dagster-dbt 0.29, dbt-core 1.11, dbt-duckdb 1.11):
- dagster_dbt/asset_utils.py `get_subset_selection_for_context` (what `DbtCliResource.cli` uses to subset);
- dagster_dbt/core/dbt_cli_event.py `DbtCoreCliEventMessage` (the exported `DbtCliEventMessage` is abstract);
- dbt_common/events/functions.py `msg_to_dict` (a callback's event as `--log-format json` prints it), after the
  callback has read the event's `info.name` and `info.level`;
- dbt/adapters/duckdb/connections.py `DuckDBConnectionManager.env()` and `close_all_connections()`;
- dagster/_utils/schedules.py `get_next_cron_tick` (the scheduler's cron arithmetic: DST, ranges, steps);
- dagster/_core/instance/methods/event_methods.py `DagsterInstance.add_event_listener` (undocumented: each event
  of one run, as it is stored, for the terminal's live step counter).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator

# dbt's default when a run selects every asset of a multi-asset; "buildable" runs a test spanning multi-assets
# in the one that builds its last parent.
DEFAULT_INDIRECT_SELECTION = "buildable"
# The events dagster-dbt turns into Dagster events (DbtCoreCliEventMessage.is_result_event).
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})


@dataclass
class DbtInvocation:
    """What one in-process dbt invocation said: its result, warning and error events (as `dbt --log-format json`
    prints them), whether it succeeded, its error messages, and its result (the parsed project, for `parse`)."""

    raw: list[dict[str, Any]]
    success: bool
    errors: list[str]
    result: Any = None


def invoke_dbt(args: list[str], manifest: Any | None = None) -> DbtInvocation:
    """Run one dbt command in this process, on an already parsed project when `manifest` is given.

    dbt-duckdb keeps its DuckDB connection open between invocations, which would lock every other reader of the
    file out of this process, so it is closed after each invocation (the next one opens a new one)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    raw: list[dict[str, Any]] = []

    def keep(msg: Any) -> None:
        # dbt fires tens of thousands of debug events a build (every SQL statement); only the results, the
        # warnings and the errors are read, and converting every event cost ~0.7 s of CPU even in a small run.
        if msg.info.name in RESULT_EVENTS or msg.info.level in ("warn", "error"):
            raw.append(msg_to_dict(msg))

    try:
        result = dbtRunner(manifest=manifest, callbacks=[keep]).invoke(args)
    finally:
        with contextlib.suppress(Exception):  # no environment: dbt never connected
            DuckDBConnectionManager.env().close()
        DuckDBConnectionManager.close_all_connections()
    errors = [event["info"]["msg"] for event in raw if event["info"]["level"] == "error"]
    if result.exception is not None:
        errors.append(str(result.exception))
    errors = [text for text in map(_without_traceback, errors) if text]
    return DbtInvocation(raw=raw, success=bool(result.success), errors=errors, result=result.result)


def selection_for(context: AssetExecutionContext, manifest: Mapping[str, Any], select: str,
                  translator: DagsterDbtTranslator) -> list[str]:
    """dbt's selection arguments for what the run selected of this multi-asset: `select` when it selected all of
    it, else the subset (dagster-dbt's own logic, so a partial materialization from the UI builds what it
    shows), with the matching `--indirect-selection`."""
    from dagster_dbt.asset_utils import get_subset_selection_for_context

    selection, indirect = get_subset_selection_for_context(context, manifest, select, None, None, translator, None)
    return [*selection, "--indirect-selection", indirect or DEFAULT_INDIRECT_SELECTION]


def dagster_events(raw: list[dict[str, Any]], manifest: Mapping[str, Any], translator: DagsterDbtTranslator,
                   context: AssetExecutionContext, target: Path) -> Iterator[Any]:
    """dbt's result events as the outputs and check results dagster-dbt yields for them (row counts, column
    schema, the check per dbt test), in dbt's order."""
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

    for event in raw:
        yield from DbtCoreCliEventMessage(raw_event=event, event_history_metadata={}).to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target)


def _without_traceback(message: str) -> str:
    """dbt's error text up to any traceback it carries (a full disk's error holds one): the message is what a
    person reads; the traceback stays in dbt's own log (target/dbt.log). dbt sends some tracebacks as an error
    event of their own, which leaves nothing (an empty string)."""
    return message.split("Traceback (most recent call last)")[0].rstrip(" ;:\n")


def next_cron_tick(cron: str, after: dt.datetime, timezone: str = "UTC") -> dt.datetime:
    """The first tick of `cron` after `after`, as the Dagster scheduler computes it."""
    from dagster._utils.schedules import get_next_cron_tick

    return get_next_cron_tick(cron, after, timezone)


def listen_to_run(instance: Any, run_id: str, callback: Any) -> None:
    """Call `callback(event_log_entry)` for each event of run `run_id` as the instance stores it."""
    instance.add_event_listener(run_id, callback)
