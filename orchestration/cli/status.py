"""`ai-pulse status`: the last run, how fresh each source is, failed checks and when the next run is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from orchestration.cli.terminal import format_table
from orchestration.lib.settings import HostedWarehouse, Warehouse, nightly_cron
from orchestration.lib.warehouse import CheckRow, WarehouseBusy, connect, latest_check_results, table_exists

UTC = dt.UTC


@dataclass(frozen=True)
class LastRun:
    """The newest run in the Dagster instance (DAGSTER_HOME)."""

    run_id: str
    status: str
    started: dt.datetime | None
    ended: dt.datetime | None
    mode: str | None
    warehouse: str | None
    problems: tuple[str, ...] = ()  # a failed run's failed steps and checks; none of it reached the warehouse


@dataclass(frozen=True)
class TableFreshness:
    """Rows and newest date of one raw or core table."""

    schema: str
    table: str
    rows: int
    newest: dt.date | None
    date_column: str | None


@dataclass
class Status:
    """Everything `ai-pulse status` prints; `problem` says why the warehouse could not be read."""

    warehouse: Warehouse
    cron: str
    next_run: dt.datetime
    last_run: LastRun | None = None
    exists: bool = False
    problem: str = ""
    settings: dict[str, object] = field(default_factory=dict)
    verdicts: list[tuple[str, int]] = field(default_factory=list)
    tables: list[TableFreshness] = field(default_factory=list)
    signal_outcomes: list[tuple[str, str, int, str]] = field(default_factory=list)
    checks: list[CheckRow] | None = None


def next_scheduled_run(cron: str, now: dt.datetime) -> dt.datetime:
    """The next tick of the nightly schedule after `now`, computed the way Dagster's scheduler does (UTC)."""
    from orchestration.lib.dbt_bridge import next_cron_tick  # the daemon's own cron arithmetic (DST, ranges)

    return next_cron_tick(cron, now).astimezone(UTC)


def last_run() -> LastRun | None:
    """The newest run recorded in the project's Dagster instance, or None when there is none."""
    from dagster import DagsterInstance, DagsterRunStatus

    from orchestration.lib.alerts import alert_for_run

    with DagsterInstance.get() as instance:
        records = instance.get_run_records(limit=1)
        if not records:
            return None
        record = records[0]
        run = record.dagster_run
        # A failed run publishes nothing, so its check results are not in the warehouse: the event log has them.
        problems = alert_for_run(instance, run).problems if run.status == DagsterRunStatus.FAILURE else []

    def when(timestamp: float | None) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(timestamp, UTC) if timestamp else None

    return LastRun(run_id=run.run_id, status=run.status.value, started=when(record.start_time),
                   ended=when(record.end_time), mode=run.tags.get("ai_pulse/mode"),
                   warehouse=run.tags.get("ai_pulse/warehouse"), problems=tuple(problems))


def collect_status(warehouse: Warehouse, now: dt.datetime | None = None) -> Status:
    """Read the Dagster instance and the warehouse (read-only); a missing or busy warehouse is reported, not
    raised."""
    cron = nightly_cron()
    status = Status(warehouse=warehouse, cron=cron, next_run=next_scheduled_run(cron, now or dt.datetime.now(UTC)),
                    last_run=last_run(), exists=warehouse.exists())
    if not status.exists:
        return status
    try:
        with connect(warehouse, read_only=True) as con:
            _read_warehouse(con, status)
    except WarehouseBusy as exc:
        status.problem = str(exc)
    return status


def _read_warehouse(con: duckdb.DuckDBPyConnection, status: Status) -> None:
    if table_exists(con, "raw_registry", "settings"):
        cursor = con.execute("select * from raw_registry.settings limit 1")
        row = cursor.fetchone()
        if row:
            status.settings = dict(zip([d[0] for d in cursor.description], row, strict=True))
    if table_exists(con, "marts", "prediction_scorecard"):
        status.verdicts = con.execute("select verdict, count(*) from marts.prediction_scorecard "
                                      "group by 1 order by 2 desc, 1").fetchall()
    status.tables = _freshness(con)
    status.signal_outcomes = _signal_outcomes(con)
    status.checks = latest_check_results(con)


def _freshness(con: duckdb.DuckDBPyConnection) -> list[TableFreshness]:
    """Every raw source table (dlt's bookkeeping, signal outcomes and the registry left out) and every core fact,
    with its row count and the newest value of its first date column."""
    tables = con.execute(
        r"""select t.table_schema, t.table_name,
                   (select c.column_name from information_schema.columns as c
                    where c.table_schema = t.table_schema and c.table_name = t.table_name
                      and c.data_type in ('DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE')
                      and c.column_name not like '\_dlt%' escape '\'
                    order by c.ordinal_position limit 1)
            from information_schema.tables as t
            where ((t.table_schema like 'raw\_%' escape '\' and t.table_schema not like '%\_staging' escape '\'
                    and t.table_schema <> 'raw_registry' and t.table_name not like '\_dlt%' escape '\'
                    and t.table_name <> 'signal_status')
                   or t.table_schema = 'core')
            order by t.table_schema = 'core', t.table_schema, t.table_name"""
    ).fetchall()
    found = []
    for schema, table, date_column in tables:
        # Names come from the catalog, quoted as identifiers.
        newest = f'max("{date_column}")::date' if date_column else "null"
        rows, latest = con.execute(f'select count(*), {newest} from "{schema}"."{table}"').fetchone()  # noqa: S608
        found.append(TableFreshness(schema, table, rows, latest, date_column))
    return found


def _signal_outcomes(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, str]]:
    """(source, status, signals, names of the signals when not ok) from each source's signal_status table."""
    schemas = [s for (s,) in con.execute(
        "select table_schema from information_schema.tables where table_name = 'signal_status' "
        r"and table_schema like 'raw\_%' escape '\' and table_schema not like '%\_staging' escape '\' "
        "order by 1").fetchall()]
    outcomes = []
    for schema in schemas:
        rows = con.execute(f'select status, count(*), string_agg(signal, \', \' order by signal) '  # noqa: S608
                           f'from "{schema}".signal_status group by 1 order by 1').fetchall()
        outcomes += [(schema.removeprefix("raw_"), state, n, "" if state == "ok" else names)
                     for state, n, names in rows]
    return outcomes


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def format_status(status: Status) -> str:
    """The status as a person reads it in a terminal."""
    lines = [f"AI Pulse status · warehouse {status.warehouse}", ""]
    run = status.last_run
    if run is None:
        lines.append("Last run:     no runs yet (start one with `make run` or `ai-pulse run`)")
    else:
        took = f" ({(run.ended - run.started).total_seconds():.0f} s)" if run.started and run.ended else ""
        lines.append(f"Last run:     {run.status} · {run.mode or 'unknown'} · started {_when(run.started)}, "
                     f"ended {_when(run.ended)}{took}")
        lines.append(f"              run id {run.run_id}")
        if run.warehouse and run.warehouse != str(status.warehouse):
            lines.append(f"              (that run wrote {run.warehouse}, not this warehouse)")
        if run.problems and not isinstance(status.warehouse, HostedWarehouse):  # a hosted one is written in place
            lines.append("              nothing of it was published; the warehouse holds the last successful run")
            lines += [f"              FAILED {problem}" for problem in run.problems]
    lines.append(f"Next run:     {_when(status.next_run)} (cron '{status.cron}' UTC, fired by the Dagster daemon "
                 "that `ai-pulse ui` starts)")
    if not status.exists:
        lines += ["", f"No warehouse at {status.warehouse} yet: nothing has been loaded. Run `make run` "
                      "(or `ai-pulse run`) to fill it."]
        return "\n".join(lines)
    if status.problem:
        return "\n".join([*lines, "", status.problem])
    if status.settings:
        lines.append(f"Data as of:   {status.settings.get('as_of')} ({status.settings.get('mode')}), history from "
                     f"{status.settings.get('start_date')}")
    if status.verdicts:
        lines.append("Scorecard:    " + ", ".join(f"{n} {verdict}" for verdict, n in status.verdicts))
    lines += ["", "Sources and facts"]
    if status.tables:
        lines.append(format_table(["table", "rows", "newest", "date column"],
                                  [(f"{t.schema}.{t.table}", f"{t.rows:,}", t.newest or "—", t.date_column or "—")
                                   for t in status.tables]))
    else:
        lines.append("no source has been loaded yet")
    if status.signal_outcomes:
        lines += ["", "Signals fetched in the last load"]
        lines += [f"  {source}: {n} {state}" + (f" ({names})" if names else "")
                  for source, state, n, names in status.signal_outcomes]
    lines += ["", "Quality checks (latest validation of each raw table)"]
    lines += _check_lines(status.checks)
    return "\n".join(lines)


def _check_lines(checks: list[CheckRow] | None) -> list[str]:
    if checks is None:
        return ["  no quality check has run yet"]
    failed = [c for c in checks if not c.success and c.blocking]
    warned = [c for c in checks if not c.success and not c.blocking]
    assets = sorted({c.asset for c in checks})
    newest = _when(max((c.checked_at for c in checks), default=None))
    if not failed and not warned:
        return [f"  all {len(checks)} expectations passed ({', '.join(assets)}; checked {newest})"]
    passed = len(checks) - len(failed) - len(warned)
    lines = [f"  {passed} of {len(checks)} expectations passed, {len(failed)} failed (blocking), "
             f"{len(warned)} warned ({', '.join(assets)}; checked {newest}):"]
    lines += [f"  {'FAILED' if c.blocking else 'warning'} {c.asset} {c.suite}: {c.expectation}({c.column}) "
              f"{c.unexpected_count or 0} unexpected; observed {c.observed}" for c in failed + warned]
    return lines
