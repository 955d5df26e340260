"""`ai-pulse sql`: read-only queries against the warehouse, one-shot or in an interactive prompt.

Every statement runs on its own sealed, read-only connection (DuckDB refuses writes and file access), so a
pipeline run can take the warehouse between two queries of an open prompt.
"""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from ingestion.settings import Warehouse
from orchestration.terminal import format_table
from orchestration.warehouse import WarehouseBusy, WarehouseError, connect, list_tables

FORMATS = ("table", "csv", "json")
INTERACTIVE_MAX_ROWS = 200  # a prompt is for looking; --format csv is for taking everything

HELP = """\
Statements end with ';' and may span lines. The warehouse is read-only here.
  .tables [TEXT]    (or \\dt) tables and views, optionally only names containing TEXT
  .schema TABLE     (or \\d)  the columns of TABLE
  .mode FORMAT               output format: table, csv or json
  .help             (or \\?)  this text
  .quit             (or \\q, Ctrl-D)"""


def run_statement(warehouse: Warehouse, sql: str, output: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                  max_rows: int | None = None) -> bool:
    """Run one statement read-only and print its result; on a DuckDB error print its message (plus the tables
    when a name was not found). Returns whether it succeeded."""
    try:
        with connect(warehouse, read_only=True, sealed=True) as con:
            try:
                cursor = con.execute(sql)
                columns = [d[0] for d in cursor.description or []]
                rows = cursor.fetchall() if columns else []
            except duckdb.Error as exc:
                print(f"error: {exc}", file=err)
                if isinstance(exc, duckdb.CatalogException):
                    print(_tables_text(con), file=err)
                elif "read-only" in str(exc):
                    print("ai-pulse sql only reads; the warehouse changes through `ai-pulse run`.", file=err)
                return False
    except (WarehouseBusy, WarehouseError) as exc:
        print(f"error: {exc}", file=err)
        return False
    _print_result(columns, rows, output, out, max_rows)
    return True


def _print_result(columns: list[str], rows: list[tuple], output: str, out: TextIO, max_rows: int | None) -> None:
    if output == "json":
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str, indent=2), file=out)
    elif output == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
    elif columns:
        print(format_table(columns, rows, max_rows=max_rows), file=out)
    else:
        print("ok", file=out)


def _tables_text(con: duckdb.DuckDBPyConnection, contains: str = "") -> str:
    """The tables grouped by schema, one schema per line."""
    by_schema: dict[str, list[str]] = {}
    for name, _, _ in list_tables(con):
        if contains.lower() in name.lower():
            by_schema.setdefault(name.split(".", 1)[0], []).append(name)
    if not by_schema:
        return "no tables" + (f" matching {contains!r}" if contains else " yet; run `ai-pulse run` first")
    return "tables:\n" + "\n".join(textwrap.fill("  ".join(names), width=110, initial_indent="  ",
                                                  subsequent_indent="  ", break_on_hyphens=False)
                                    for names in by_schema.values())


def _describe_tables(con: duckdb.DuckDBPyConnection, contains: str) -> str:
    rows = [row for row in list_tables(con) if contains.lower() in row[0].lower()]
    return format_table(["table", "kind", "description"], rows, max_width=90) if rows else _tables_text(con, contains)


def _describe_columns(con: duckdb.DuckDBPyConnection, name: str) -> str:
    schema, _, table = name.rpartition(".")
    rows = con.execute(
        """select column_name, data_type, coalesce(COLUMN_COMMENT, '') from information_schema.columns
           where table_name = ? and (? = '' or table_schema = ?) order by table_schema, ordinal_position""",
        [table, schema, schema]).fetchall()
    if not rows:
        return f"no table named {name!r}\n{_tables_text(con)}"
    return format_table(["column", "type", "description"], rows, max_width=90)


class Shell:
    """The interactive prompt: SQL statements plus a few dot-commands to find one's way around."""

    def __init__(self, warehouse: Warehouse, output: str) -> None:
        self.warehouse = warehouse
        self.output = output

    def meta(self, line: str) -> bool:
        """Handle a dot- or backslash-command; returns False when the prompt should end."""
        command, _, argument = line.strip().partition(" ")
        argument = argument.strip().rstrip(";")
        command = {"\\dt": ".tables", "\\d": ".schema", "\\?": ".help", "\\q": ".quit", ".exit": ".quit"}.get(
            command, command)
        if command == ".quit":
            return False
        if command == ".mode":
            if argument in FORMATS:
                self.output = argument
            print(f"output: {self.output}" if argument in FORMATS else f"usage: .mode {'|'.join(FORMATS)}")
        elif command in (".tables", ".schema"):
            describe: Callable[[duckdb.DuckDBPyConnection, str], str] = (
                _describe_tables if command == ".tables" else _describe_columns)
            if command == ".schema" and not argument:
                print("usage: .schema TABLE")
                return True
            try:
                with connect(self.warehouse, read_only=True, sealed=True) as con:
                    print(describe(con, argument))
            except (WarehouseBusy, WarehouseError) as exc:
                print(f"error: {exc}")
        else:
            print(HELP)
        return True

    def loop(self) -> None:
        """Read statements until .quit or end of input."""
        _enable_line_editing(self.warehouse)
        print(f"AI Pulse SQL on {self.warehouse} (read-only). End statements with ';'; .help for commands.")
        buffer: list[str] = []
        while True:
            try:
                line = input("ai-pulse> " if not buffer else "      ...> ")
            except EOFError:
                print()
                return
            except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, as in psql
                print()
                buffer = []
                continue
            if not buffer and line.strip().lower() in ("quit", "exit"):
                return
            if not buffer and line.lstrip().startswith((".", "\\")):
                if not self.meta(line):
                    return
                continue
            if line.strip():
                buffer.append(line)
            if buffer and line.rstrip().endswith(";"):
                run_statement(self.warehouse, "\n".join(buffer), self.output, err=sys.stdout,
                              max_rows=INTERACTIVE_MAX_ROWS)
                buffer = []


def _enable_line_editing(warehouse: Warehouse) -> None:
    """Arrow keys and a history kept beside the warehouse, where the terminal supports it."""
    if not sys.stdin.isatty():
        return
    try:
        import atexit
        import readline
    except ImportError:
        return
    history = warehouse.parent / ".sql_history"
    try:
        readline.read_history_file(history)
    except OSError:
        pass
    readline.set_history_length(1000)
    atexit.register(_save_history, readline, history)


def _save_history(readline: object, history: Path) -> None:
    try:
        readline.write_history_file(history)  # type: ignore[attr-defined]
    except OSError:
        pass
