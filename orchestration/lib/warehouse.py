"""The DuckDB warehouse: the single-writer guard, read-only queries, and the quality-results history."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from orchestration.lib.local_faults import explained, warehouse_folder, warehouse_lock
from orchestration.lib.settings import HostedWarehouse, Warehouse

if TYPE_CHECKING:  # the suites' outcome, only as a type: reading the warehouse must not import GX or pandas
    from expectations.runner import SuiteOutcome


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse for writing."""


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or queried; the message says why and what to do."""


# Warehouses whose writer lock this process holds, and how many times it entered it: `ai-pulse run` takes the lock
# before it starts Dagster, and the run's resource takes it again (orchestration/lib/publish.py). An flock belongs
# to one open file, so a second open in the same process would lock itself out.
_HELD: dict[str, int] = {}


@contextmanager
def writer_lock(warehouse: Warehouse, holder: str = "ai-pulse run") -> Iterator[None]:
    """Hold an exclusive lock beside the DuckDB file for a whole run: one run at a time builds and publishes the
    warehouse, and a second run must fail clearly instead of waiting on the first or publishing over it. Entering
    it again in the process that holds it is a no-op."""
    key = str(warehouse)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    with explained(warehouse_folder(warehouse)):
        warehouse.parent.mkdir(parents=True, exist_ok=True)
    with explained(warehouse_lock(warehouse)):  # read-only, or in a folder that takes no new file: LocalFault
        handle = open(warehouse.with_name(warehouse.name + ".lock"), "a+")  # noqa: SIM115 - held for the run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        found = handle.read().strip() or "another process"
        handle.close()
        raise WarehouseBusy(f"warehouse {warehouse} is busy: {found} is writing to it; wait for that run to "
                            "finish, or use another --warehouse") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder} (pid {os.getpid()})")
        handle.flush()
        _HELD[key] = 1
        yield
    finally:
        _HELD.pop(key, None)
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


# DuckDB 1.x: 'Could not set lock on file "<path>": Conflicting lock is held in <program> (PID <n>) [by user <u>].'
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_conflict(database: Warehouse, error: BaseException) -> WarehouseBusy | None:
    """The one sentence to fail with when `error` (or what caused it, e.g. inside a dlt or dbt error) is DuckDB
    refusing `database` because another process holds its file lock; None for any other error. A lock does not
    lift by retrying, so the caller fails at once."""
    seen: BaseException | None = error
    while seen is not None and not (isinstance(seen, duckdb.IOException) and "Could not set lock" in str(seen)):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    found = _LOCK_HOLDER.search(str(seen))
    holder = f"{found['program']} (pid {found['pid']})" if found else "another process"
    return WarehouseBusy(f"warehouse file {database} is locked by {holder}, which has it open for writing; close "
                         f"that session, or open the file read-only (duckdb -readonly {database}), and try again")


@contextmanager
def connect(warehouse: Warehouse, *, read_only: bool = True,
            sealed: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; a missing file or a writer holding it becomes a clear error. `sealed` also turns off
    DuckDB's file access (COPY TO, ATTACH, read_csv), so a query can neither write nor reach beyond the warehouse.
    A hosted warehouse is not sealed (its extension must load), and read-only there is the token's scope: give
    analysts a MotherDuck read-scaling token (docs/OPERATIONS.md)."""
    if not warehouse.exists():
        raise WarehouseError(f"no warehouse at {warehouse}; run `make run` (or `ai-pulse run`) first")
    hosted = isinstance(warehouse, HostedWarehouse)
    config = {"enable_external_access": False} if sealed and not hosted else {}
    try:
        con = duckdb.connect(str(warehouse), read_only=read_only and not hosted, config=config)
    except duckdb.IOException as exc:
        raise lock_conflict(warehouse, exc) or WarehouseBusy(
            f"warehouse {warehouse} is busy ({exc}); try again when the run has finished") from None
    try:
        yield con
    finally:
        con.close()


def query(warehouse: Warehouse, sql: str, *, read_only: bool = True,
          sealed: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one statement and return column names and rows."""
    with connect(warehouse, read_only=read_only, sealed=sealed) as con:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        return columns, cursor.fetchall() if columns else []


def list_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema.table, kind, description) of every table and view a person would query; dlt's bookkeeping
    (`_dlt_*` tables, `*_staging` schemas) is left out."""
    return con.execute(
        """select table_schema || '.' || table_name,
                  case when table_type = 'VIEW' then 'view' else 'table' end,
                  coalesce(TABLE_COMMENT, '')
           from information_schema.tables
           where table_schema not like '%\\_staging' escape '\\' and table_name not like '\\_dlt\\_%' escape '\\'
             and table_schema not in ('information_schema', 'pg_catalog')
           order by table_schema, table_name"""
    ).fetchall()


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """The column names of schema.table (empty when it does not exist)."""
    rows = con.execute("select column_name from information_schema.columns where table_schema = ? "
                       "and table_name = ?", [schema, table]).fetchall()
    return {row[0] for row in rows}


def dlt_schema(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, Any]:
    """The newest schema dlt stored for a source with its last load (`raw_<source>._dlt_version`), or {} before the
    first load."""
    if not table_exists(con, f"raw_{source}", "_dlt_version"):
        return {}
    row = con.execute(f'select schema from "raw_{source}"._dlt_version where schema_name = ? '  # noqa: S608 - a source name
                      "order by inserted_at desc limit 1", [source]).fetchone()
    return json.loads(row[0]) if row else {}


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether schema.table exists (tables or views)."""
    found = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                        [schema, table]).fetchone()
    return bool(found and found[0])


CHECK_RESULTS_DDL = """
create schema if not exists quality;
create table if not exists quality.check_results (
    run_id varchar not null,
    asset varchar not null,
    suite varchar not null,
    expectation varchar not null,
    column_name varchar,
    blocking boolean not null,
    success boolean not null,
    observed_value varchar,
    unexpected_count bigint,
    sample varchar,
    rows_checked bigint,
    checked_at timestamp not null
);
"""


def record_suite_outcome(con: duckdb.DuckDBPyConnection, run_id: str, asset: str, outcome: SuiteOutcome) -> None:
    """Append one row per expectation to quality.check_results; the history feeds P10's indicator."""
    con.execute(CHECK_RESULTS_DDL)
    if not outcome.outcomes:
        return  # nothing was checked (no signals registered for the source)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.executemany(
        "insert into quality.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, asset, outcome.suite, o.expectation, o.column, o.blocking, o.success, o.observed,
          o.unexpected_count, json.dumps(o.sample, default=str), outcome.rows_checked, now)
         for o in outcome.outcomes],
    )


def previous_rows_checked(con: duckdb.DuckDBPyConnection, asset: str, suite: str) -> int | None:
    """Rows the last passing validation of this suite saw, to notice a table that suddenly shrinks."""
    if not table_exists(con, "quality", "check_results"):
        return None
    row = con.execute(
        """select rows_checked from quality.check_results
           where asset = ? and suite = ? and run_id in (
               select run_id from quality.check_results where asset = ? and suite = ?
               group by run_id having not bool_or(blocking and not success))
           order by checked_at desc limit 1""",
        [asset, suite, asset, suite],
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def source_data_suspect(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    """Whether the latest validation of any raw data table of `source` had a blocking failure. Its raw rows
    are then suspect, and the next load starts over. (A failed fetch is not enough: that signal's cursor did
    not move, so the next run asks for its days again anyway.)"""
    if not table_exists(con, "quality", "check_results"):
        return False
    row = con.execute(
        """with latest as (
               select asset, suite, max(checked_at) as checked_at from quality.check_results
               where asset like ? and suite not like '%_signal_status' group by asset, suite)
           select coalesce(bool_or(r.blocking and not r.success), false)
           from quality.check_results r
           join latest using (asset, suite, checked_at)""",
        [f"raw_{source}/%"],
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class CheckRow:
    """One expectation's result in the latest validation of a raw table."""

    asset: str
    suite: str
    expectation: str
    column: str
    blocking: bool
    success: bool
    observed: str
    unexpected_count: int | None
    checked_at: dt.datetime
    run_id: str


def latest_check_results(con: duckdb.DuckDBPyConnection) -> list[CheckRow] | None:
    """Every expectation of the most recent validation of each checked table, failures first; None when no
    check has ever run."""
    if not table_exists(con, "quality", "check_results"):
        return None
    rows = con.execute(
        """with latest as (
               select asset, arg_max(run_id, checked_at) as run_id from quality.check_results group by asset
           )
           select c.asset, c.suite, c.expectation, coalesce(c.column_name, ''), c.blocking, c.success,
                  coalesce(c.observed_value, ''), c.unexpected_count, c.checked_at, c.run_id
           from quality.check_results as c
           inner join latest on latest.asset = c.asset and latest.run_id = c.run_id
           order by c.success, c.asset, c.suite, c.expectation, c.column_name"""
    ).fetchall()
    return [CheckRow(*row) for row in rows]
