"""Pieces every source shares: incremental windows per signal, and the per-signal fetch outcome.

Each source fetches signal by signal. One signal's failure is recorded in the source's `signal_status` table
and reported, and never stops the other signals from loading.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dlt

from ingestion.http import SourceError

log = logging.getLogger("ai_pulse.ingestion")

OK, NO_DATA, FAILED = "ok", "no_data", "failed"

STATUS_COLUMNS: dict[str, Any] = {
    "signal": {"data_type": "text", "nullable": False},
    "status": {"data_type": "text", "nullable": False},
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
    """What one signal's fetch produced: rows per table plus the outcome to record."""

    signal: str
    window: Window
    status: str = OK
    detail: str = ""
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def status_row(self) -> dict[str, Any]:
        rows = sum(len(v) for v in self.tables.values())
        return {"signal": self.signal, "status": self.status, "detail": self.detail,
                "window_start": self.window.start, "window_end": self.window.end, "rows": rows}


def rows_or_schema(rows: list[dict[str, Any]]) -> Any:
    """The rows, or dlt's marker that creates the table anyway, so downstream SQL never meets a missing table."""
    return rows if rows else dlt.mark.materialize_table_schema()


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
) -> Iterator[Fetched]:
    """Fetch every signal in its own incremental window, turning a SourceError into a `failed` outcome.
    Cursors live in dlt's source state, which is committed with the load, so a failed load does not move them."""
    cursors: dict[str, str] = dlt.current.source_state().setdefault("cursors", {})
    outcomes: dict[str, int] = {}
    rows = 0
    for position, signal in enumerate(signals, start=1):
        window = incremental_window(cursors, signal, start_date, today, lookback_days)
        try:
            fetched = fetch(signal, window)
        except SourceError as exc:
            log.warning("%s", exc)
            fetched = Fetched(signal, window, FAILED, str(exc))
        days = [row[cursor_field] for row in fetched.tables.get(cursor_table, [])]
        if days:
            cursors[signal] = max(days).isoformat()
        # Each signal's line is detail (shown on a terminal or with -v); the summary below is the progress step.
        log.debug("[%s] %d/%d %s: %s, %d rows", source, position, len(signals), signal, fetched.status,
                  len(fetched.tables.get(cursor_table, [])))
        outcomes[fetched.status] = outcomes.get(fetched.status, 0) + 1
        rows += len(fetched.tables.get(cursor_table, []))
        yield fetched
    log.info("[%s] %d signals fetched: %s; %d rows", source, len(signals),
             ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "none", rows)
