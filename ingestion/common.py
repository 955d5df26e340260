"""Pieces every source shares: incremental windows per signal, and the per-signal fetch outcome.

Each source fetches signal by signal. One signal's failure is recorded in the source's `signal_status` table
and reported, and never stops the other signals from loading.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dlt
import pyarrow as pa

from ingestion.http import MissingRecording, RateLimited, SourceError

log = logging.getLogger("ai_pulse.ingestion")

OK, NO_DATA, FAILED = "ok", "no_data", "failed"
# Not fetched this run for a reason that heals by itself (an API's hourly rate limit ran out): what was loaded is
# kept and the next run resumes. Warns, never blocks.
DEFERRED = "deferred"
# Nothing was asked because nothing can have changed (e.g. no month has ended since the last load): the signal's
# last recorded outcome stands, so no status row is written.
UNCHANGED = "unchanged"
NO_SIGNAL = ""  # the signal of the placeholder outcome when a source has no registered signals
RECORD_IT = "record it with `ai-pulse run --live --record DIR`, or add the response file to the snapshot"

STATUS_COLUMNS: dict[str, Any] = {
    "signal": {"data_type": "text", "nullable": False},
    "dataset": {"data_type": "text", "nullable": False},
    "status": {"data_type": "text", "nullable": False},
    "problem": {"data_type": "text"},
    "fix": {"data_type": "text"},
    "note": {"data_type": "text"},
    "detail": {"data_type": "text"},
    "window_start": {"data_type": "date"},
    "window_end": {"data_type": "date"},
    "rows": {"data_type": "bigint"},
}


@dataclass(frozen=True)
class Window:
    """The inclusive date range asked of an API for one signal."""

    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass
class Fetched:
    """What one signal's fetch produced: rows per table plus the outcome to record: its status, what went wrong and
    how to fix it (each its own column of signal_status, so nothing downstream parses a sentence), and remarks that
    change nothing (a new field, a rename)."""

    source: str
    signal: str
    window: Window
    status: str = OK
    problem: str = ""
    fix: str = ""
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dataset: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def detail(self) -> str:
        """The outcome in one readable sentence, `[source signal] problem — fix; remarks` (empty when all went well
        without remarks): for logs and people; code reads the columns."""
        told = f"{self.problem} — {self.fix}" if self.problem and self.fix else self.problem
        parts = [part for part in (told, *self.notes) if part]
        return f"[{self.source} {self.signal}] {'; '.join(parts)}" if parts else ""

    def status_row(self) -> dict[str, Any]:
        rows = sum(len(v) for v in self.tables.values())
        return {"signal": self.signal, "dataset": self.dataset, "status": self.status, "problem": self.problem or None,
                "fix": self.fix or None, "note": "; ".join(self.notes) or None, "detail": self.detail,
                "window_start": self.window.start, "window_end": self.window.end, "rows": rows}

    def status_row_or_schema(self) -> Any:
        """The status row, or only the table (for the placeholder of a source without signals, and for a signal
        that was not asked because nothing can have changed: its last outcome stands)."""
        if self.signal == NO_SIGNAL or self.status == UNCHANGED:
            return dlt.mark.materialize_table_schema()
        return self.status_row()

    def note(self, *texts: str) -> Fetched:
        """Add remarks (e.g. schema drift) without changing the status; empty ones are ignored."""
        self.notes.extend(text for text in texts if text and text not in self.notes)
        return self


# Resources that load raw tables: their columns are declared, so a column may never appear, vanish or change type
# behind our back; a violation fails the load instead of adding a column or a variant silently.
FROZEN_COLUMNS: dict[str, str] = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}


def require_fields(record: Any, required: Iterable[str], *, source: str, signal: str, where: str,
                   known: Iterable[str] | None = None) -> str:
    """Check one API object against the fields a parser needs and the fields it knows.

    A missing required field is a SourceError for the signal (its rows are not loaded, so no column turns NULL);
    when `known` is given, fields outside `required` and `known` are returned as a note for signal_status (which
    fetch_each also logs as a warning, once per signal)."""
    if not isinstance(record, dict):
        raise SourceError(source, signal, f"{where} is {type(record).__name__}, not an object",
                          f"the API format changed; update ingestion/{source}.py")
    needed = list(required)
    missing = [name for name in needed if name not in record]
    if missing:
        raise SourceError(source, signal, f"{where} lacks required field(s) {', '.join(missing)}",
                          f"the API format changed; update ingestion/{source}.py")
    if known is None or not (new := sorted(set(record) - set(needed) - set(known))):
        return ""
    return f"new field(s) in {where}: {', '.join(new)} (not loaded; review ingestion/{source}.py)"


@contextmanager
def unexpected_shape(source: str, signal: str) -> Iterator[None]:
    """Turn a parser tripping over a response of another shape (wrong types, short lists) into a SourceError."""
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise SourceError(source, signal, f"response has an unexpected shape ({type(exc).__name__}: {exc})",
                          f"the API format changed; update ingestion/{source}.py") from None


def assert_unique(source: str, signal: str, rows: list[dict[str, Any]], key: str) -> None:
    """An API answer that repeats a key (e.g. the same trading day twice) is ambiguous: which value is right?
    Refuse it rather than let the load keep one of them silently."""
    counts = Counter(row[key] for row in rows)
    repeated = sorted(value for value, n in counts.items() if n > 1)
    if repeated:
        shown = ", ".join(str(r) for r in repeated[:5])
        raise SourceError(source, signal, f"the response repeats {key} {shown}",
                          "the API sent duplicate rows; re-record the snapshot or retry later")


# Raw tables are handed to dlt as Arrow tables, which dlt writes straight to Parquet without normalizing them row by
# row (dlt 1.31 extract/extractors.py `ArrowExtractor`, normalize/items_normalizers/arrow.py). Its Arrow path adds
# neither of dlt's own columns by default (normalize/configuration.py: `parquet_normalizer` has add_dlt_load_id and
# add_dlt_id False); both are asked for, so every raw table keeps the `_dlt_load_id` and `_dlt_id` it always had.
dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True


def arrow_schema(columns: dict[str, Any]) -> pa.Schema:
    """The Arrow schema of a table's declared dlt columns, by dlt's own type mapping
    (dlt 1.31 common/libs/pyarrow.py `columns_to_arrow`; timestamps in UTC, as dlt stores them)."""
    from dlt.common.libs.pyarrow import columns_to_arrow

    return columns_to_arrow({name: {"name": name, **spec} for name, spec in columns.items()}, None, "UTC")


def as_arrow(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table | None:
    """The rows as one Arrow table of the declared schema, column by column in C, or None when they do not fit it
    losslessly (a field no column declares, a null in a required column, a value its type cannot hold exactly):
    those rows go to dlt as they are, and its frozen schema contract judges them as it always did."""
    if not set().union(*rows) <= set(schema.names):
        return None
    inferred = pa.Table.from_pylist(rows)
    arrays = []
    for column in schema:
        values = (inferred.column(column.name) if column.name in inferred.column_names
                  else pa.nulls(len(rows), column.type))
        try:
            values = values.cast(column.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
        if values.null_count and not column.nullable:
            return None
        arrays.append(values)
    return pa.Table.from_arrays(arrays, schema=schema)


def rows_or_schema(rows: list[dict[str, Any]]) -> Any:
    """The rows, or dlt's marker that creates the table anyway, so downstream SQL never meets a missing table."""
    return rows if rows else dlt.mark.materialize_table_schema()


@dataclass(frozen=True)
class Table:
    """One raw table a source fills from its fetches (`Fetched.tables[name]`), merged on its primary key.
    `description` becomes the table's asset description in Dagster. `once_by` names a key whose rows load once per
    run even when several signals fetch them (a document matched by two search terms)."""

    name: str
    primary_key: str | tuple[str, ...]
    columns: dict[str, Any]
    description: str
    once_by: str | None = None


def table_resources(fetches: Any, tables: list[Table], status_description: str) -> list[Any]:
    """The source's fetch resource followed by one dlt transformer per table and its `signal_status`, each routing
    every fetch's rows to its table, as an Arrow table (see as_arrow).

    A transformer per table rather than one resource routing rows with `dlt.mark.with_table_name`: dagster-dlt makes
    one asset per selected resource (dagster_dlt/asset_decorator.py iterates `dlt_source.selected_resources`), so a
    resource per table is what gives every raw table its own asset, lineage edge and asset checks."""

    def route(table: Table) -> Any:
        loaded: set[Any] = set()
        # Every column says whether it may be null, as the Arrow schema does: dlt counts a hint that is absent in
        # the stored schema but present in an Arrow table as a type change, which frozen types refuse.
        columns = {name: {"nullable": True, **spec} for name, spec in table.columns.items()}
        schema = arrow_schema(columns)

        def rows(fetched: Fetched) -> Iterator[Any]:
            fresh = fetched.tables.get(table.name, [])
            if table.once_by:
                fresh = [row for row in fresh if row[table.once_by] not in loaded]
                loaded.update(row[table.once_by] for row in fresh)
            arrow = as_arrow(fresh, schema) if fresh else None
            yield arrow if arrow is not None else rows_or_schema(fresh)

        rows.__doc__ = table.description
        return dlt.transformer(rows, data_from=fetches, name=table.name, primary_key=table.primary_key,
                               write_disposition="merge", columns=columns, schema_contract=FROZEN_COLUMNS)

    def signal_status(fetched: Fetched) -> Iterator[Any]:
        yield fetched.status_row_or_schema()

    signal_status.__doc__ = status_description
    status = dlt.transformer(signal_status, data_from=fetches, name="signal_status", primary_key=("signal", "dataset"),
                             write_disposition="merge", columns=STATUS_COLUMNS, schema_contract=FROZEN_COLUMNS)
    return [fetches, *(route(table) for table in tables), status]


def incremental_window(cursors: dict[str, str], signal: str, start_date: dt.date, today: dt.date,
                       lookback_days: int) -> Window:
    """From the registry's start date on a first load; afterwards from the last loaded day minus a look-back,
    so late corrections are picked up while a nightly run asks only for recent days."""
    last = cursors.get(signal)
    start = start_date if last is None else max(start_date, dt.date.fromisoformat(last) - dt.timedelta(lookback_days))
    return Window(start, today)


def fetch_each(
    source: str,
    signals: list[str],
    fetch: Callable[[str, Window], Fetched],
    start_date: dt.date,
    today: dt.date,
    lookback_days: int,
    cursor_table: str,
    cursor_field: str,
    dataset: str,
) -> Iterator[Fetched]:
    """Fetch every signal in its own incremental window (see fetch_signals). Cursors live in dlt's source state per
    dataset, which is committed with the load, so a failed load does not move them."""
    cursors: dict[str, str] = dlt.current.source_state().setdefault("cursors", {}).setdefault(dataset, {})
    windows = {signal: incremental_window(cursors, signal, start_date, today, lookback_days) for signal in signals}
    for fetched in fetch_signals(source, dataset, signals, lambda s: fetch(s, windows[s]), windows.get,
                                 cursor_table, today):
        days = [row[cursor_field] for row in fetched.tables.get(cursor_table, [])]
        if days:
            cursors[fetched.signal] = max(days).isoformat()
        yield fetched


def fetch_signals(
    source: str,
    dataset: str,
    signals: list[str],
    fetch: Callable[[str], Fetched],
    window_of: Callable[[str], Window | None],
    rows_table: str,
    today: dt.date,
) -> Iterator[Fetched]:
    """Fetch every signal of one dataset, one at a time, so one signal never stops the others: a SourceError is a
    `failed` outcome, an API's exhausted rate limit `deferred` (the next run fetches it), and a request the replay
    snapshot holds no recording for `no_data` (the snapshot has no data for it). Logs each signal as detail and
    one summary line per dataset."""
    if not signals:
        # Nothing registered: one empty outcome still lets every table be created, so dbt finds them all.
        log.info("[%s] no %s signals registered", source, dataset)
        yield Fetched(source, NO_SIGNAL, Window(today, today), NO_DATA, dataset=dataset)
        return
    outcomes: dict[str, int] = {}
    rows = 0
    for position, signal in enumerate(signals, start=1):
        window = window_of(signal) or Window(today, today)
        try:
            fetched = fetch(signal)
        except RateLimited as exc:
            fetched = Fetched(source, signal, window, DEFERRED, f"{exc.problem}; not fetched this run", exc.fix)
        except MissingRecording as exc:
            fetched = Fetched(source, signal, window, NO_DATA,
                              f"the snapshot holds no recording for this signal's {dataset} ({exc.problem})", RECORD_IT)
        except SourceError as exc:
            log.warning("%s", exc)
            fetched = Fetched(source, signal, window, FAILED, exc.problem, exc.fix)
        fetched.dataset = dataset
        if fetched.status in (OK, DEFERRED) and fetched.detail:
            log.warning("%s", fetched.detail)  # a remark: new fields, a rename, a pause
        count = len(fetched.tables.get(rows_table, []))
        # Each signal's line is detail (shown on a terminal or with -v); the summary below is the progress step.
        log.debug("[%s] %d/%d %s %s: %s, %d rows", source, position, len(signals), dataset, signal,
                  fetched.status, count)
        outcomes[fetched.status] = outcomes.get(fetched.status, 0) + 1
        rows += count
        yield fetched
    log.info("[%s] %d %s signals fetched: %s; %d rows", source, len(signals), dataset,
             ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "none", rows)
