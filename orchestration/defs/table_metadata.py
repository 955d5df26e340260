"""What a person reads on a materialization: row count, newest date, a preview, and numbers Dagster plots.

Every asset key is `<schema>/<table>` in the warehouse (dlt: `raw_<source>/<resource>`, dbt: `<schema>/<model>`),
so one function describes any asset from its key. An indicator (`marts/ind_pNN_*`) also carries its prediction's
scorecard headline value, verdict, trust and coverage, and the scorecard and the verdicts a table of every verdict,
prediction by window.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import duckdb
from dagster import AssetKey, MetadataValue, Output, TableColumn, TableSchema

from orchestration.lib.settings import Warehouse
from orchestration.lib.warehouse import connect, table_exists
from orchestration.report.content import INDICATOR_TABLE

PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 8
PREVIEW_CELL = 40
SCORECARD = ("marts", "prediction_scorecard")
VERDICTS = ("marts", "prediction_verdicts")
# The tables whose materialization shows every verdict, prediction by window.
VERDICT_TABLES = {SCORECARD, VERDICTS}


def _quoted(schema: str, table: str) -> str:
    return f'"{schema}"."{table}"'


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return [(name, dtype.upper()) for name, dtype in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]).fetchall()]


def date_column(columns: list[tuple[str, str]]) -> str | None:
    """The column that says how recent the data is: `*_date` first, then `*_end`, then any other DATE."""
    dates = [name for name, dtype in columns if dtype == "DATE" and not name.startswith("_dlt")]
    for wanted in (lambda n: n.endswith("_date"), lambda n: n.endswith("_end"), lambda n: True):
        found = [name for name in dates if wanted(name)]
        if found:
            return found[0]
    return None


def _cell(value: Any) -> str:
    text = "" if value is None else (f"{value:,.4g}" if isinstance(value, float) else str(value))
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= PREVIEW_CELL else text[: PREVIEW_CELL - 1] + "…"


def markdown_table(columns: list[str], rows: Iterable[tuple[Any, ...]]) -> str:
    """A small markdown table for the Dagster UI."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def describe_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any]:
    """Row count (plotted by Dagster as `dagster/row_count`), newest date and a preview of the newest rows."""
    if not table_exists(con, schema, table):
        return {"dagster/row_count": MetadataValue.int(0), "note": MetadataValue.text("table not in the warehouse")}
    columns = _columns(con, schema, table)
    target = _quoted(schema, table)
    row_count = con.execute(f"select count(*) from {target}").fetchone()[0]  # noqa: S608 - names from the catalog
    metadata: dict[str, Any] = {
        "dagster/row_count": MetadataValue.int(int(row_count)),
        "dagster/column_schema": TableSchema(columns=[TableColumn(name, dtype.lower()) for name, dtype in columns]),
    }
    newest_column = date_column(columns)
    shown = [name for name, _ in columns if not name.startswith("_dlt")][:PREVIEW_COLUMNS]
    order = ""
    if newest_column:
        newest = con.execute(f'select max("{newest_column}") from {target}').fetchone()[0]  # noqa: S608
        metadata["newest_date"] = MetadataValue.text(newest.isoformat() if isinstance(newest, dt.date) else "none")
        metadata["newest_date_column"] = MetadataValue.text(newest_column)
        order = f' order by "{newest_column}" desc nulls last'
    if {"signal", "status"} <= {name for name, _ in columns}:
        by_status = dict(con.execute(f"select status, count(*) from {target} group by status").fetchall())  # noqa: S608
        for status in ("ok", "no_data", "failed"):
            metadata[f"signals_{status}"] = MetadataValue.int(int(by_status.get(status, 0)))
    if shown:
        select = ", ".join(f'"{name}"' for name in shown)
        rows = con.execute(f"select {select} from {target}{order} limit {PREVIEW_ROWS}").fetchall()  # noqa: S608
        metadata["preview"] = MetadataValue.md(markdown_table(shown, rows))
    return metadata | verdict_metadata(con, schema, table)


def _number(value: float | None) -> MetadataValue:
    # NaN, not a missing key, when there is no number: the key stays the same every run, and Dagster's UI shows
    # NaN as an empty point (dagster_graphql/implementation/events.py coerces NaN and inf to null for its plots).
    return MetadataValue.float(math.nan if value is None else float(value))


def verdict_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any]:
    """For `marts/ind_pNN_*`: prediction PNN's scorecard headline value and coverage (floats Dagster plots across
    runs; NaN when there is none), verdict and trust. For the scorecard and the verdicts: `verdicts`, a markdown
    table of every prediction's verdict in every window. Empty for any other table."""
    match = INDICATOR_TABLE.match(table) if schema == "marts" else None
    if match:
        prediction_id = f"P{match.group(1)}"
        row = None
        if table_exists(con, *SCORECARD):
            row = con.execute("select headline_value, verdict, trust, coverage from marts.prediction_scorecard "
                              "where prediction_id = ?", [prediction_id]).fetchone()
        value, verdict, trust, coverage = row or (None, f"no row for {prediction_id} in the scorecard", "none", None)
        return {"prediction_id": MetadataValue.text(prediction_id), "headline_value": _number(value),
                "verdict": MetadataValue.text(str(verdict)), "trust": MetadataValue.text(str(trust or "none")),
                "coverage": _number(coverage)}
    if (schema, table) in VERDICT_TABLES and table_exists(con, *VERDICTS):
        return {"verdicts": MetadataValue.md(verdicts_markdown(con))}
    return {}


def verdicts_markdown(con: duckdb.DuckDBPyConnection) -> str:
    """Every prediction's verdict and headline value in every window of marts.prediction_verdicts, a row per
    prediction and a column per window; the scorecard's window in bold, a demonstration marked `(demo)`."""
    # Calendar years in order, then the windows ending at as_of (the current year before the last 12 months).
    windows = [name for (name,) in con.execute(
        'select "window" from marts.prediction_verdicts group by "window" '
        'order by min(window_end), max(window_start) desc, "window"').fetchall()]
    rows = con.execute('select prediction_id, "window", verdict, headline_value, trust, '
                       "coalesce(is_scorecard_window, false), as_of from marts.prediction_verdicts").fetchall()
    cells: dict[str, dict[str, str]] = {}
    for prediction_id, window, verdict, value, trust, is_scorecard, _ in rows:
        text = verdict + ("" if value is None else f" {value:,.2f}") + (" (demo)" if trust == "demonstration" else "")
        cells.setdefault(prediction_id, {})[window] = f"**{text}**" if is_scorecard else text
    as_of = ", ".join(sorted({str(r[6]) for r in rows}))
    table = markdown_table(["prediction", *windows], ([pid, *(cells[pid].get(w, "—") for w in windows)]
                                                       for pid in sorted(cells)))
    return (f"Verdicts as of {as_of or 'no run yet'}, by window (bold: the scorecard's window; (demo): a "
            f"demonstration on mostly synthetic inputs, not a finding).\n\n{table}")


def _table_of(key: AssetKey) -> tuple[str, str] | None:
    return (key.path[0], key.path[1]) if len(key.path) == 2 else None


def with_table_metadata(events: Iterable[Any], warehouse: Warehouse,
                        key_of: Callable[[Any], AssetKey | None]) -> Iterator[Any]:
    """Pass events through, adding `describe_table` metadata to every materialization (`key_of` names its asset,
    or None for other events). Reads once the writer has finished: DuckDB lets a reader in only then."""
    events = list(events)
    keys = [key_of(event) for event in events]
    described: dict[AssetKey, dict[str, Any]] = {}
    if warehouse.exists() and any(key is not None for key in keys):
        with connect(warehouse, read_only=True) as con:
            for key in keys:
                table = _table_of(key) if key else None
                if table and key not in described:
                    described[key] = describe_table(con, *table)
    for event, key in zip(events, keys, strict=True):
        if key not in described:
            yield event
        elif isinstance(event, Output):
            yield event.with_metadata({**event.metadata, **described[key]})
        else:
            yield event._replace(metadata={**(event.metadata or {}), **described[key]})
