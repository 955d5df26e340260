"""`ai-pulse sql`: read-only queries against the warehouse, one-shot or in an interactive prompt.

Each query is checked with DuckDB's own parser before it runs (exactly one statement, and a read), then runs
on its own sealed, read-only connection (DuckDB refuses writes and file access) under a time limit, so a
pipeline run can take the warehouse between two queries of an open prompt.
"""

from __future__ import annotations

import csv
import json
import struct
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import duckdb

from orchestration.cli.terminal import format_table
from orchestration.lib.settings import Warehouse
from orchestration.lib.warehouse import WarehouseBusy, WarehouseError, connect, list_tables

FORMATS = ("table", "csv", "json")
INTERACTIVE_MAX_ROWS = 200  # a prompt is for looking; --format csv is for taking everything

HELP = """\
One read-only query per statement; statements end with ';' and may span lines. The warehouse is read-only here.
  .tables [TEXT]    (or \\dt) tables and views, optionally only names containing TEXT
  .schema TABLE     (or \\d)  the columns of TABLE
  .mode FORMAT               output format: table, csv or json
  .help             (or \\?)  this text
  .quit             (or \\q, Ctrl-D)"""


# How DuckDB 1.5 classifies statements (`duckdb.extract_statements(sql)[i].type`, checked with the locked
# 1.5.6): SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SHOW, SUMMARIZE, PIVOT and UNPIVOT are SELECT; EXPLAIN
# [ANALYZE] is EXPLAIN; SET, RESET, USE, SET VARIABLE and `PRAGMA name = value` are SET, while `PRAGMA name`
# becomes a SELECT of its pragma_* table function (the PRAGMA type never appears); CHECKPOINT and CALL are CALL;
# CREATE [TEMP] anything is CREATE; INSTALL and LOAD are LOAD; BEGIN and COMMIT are TRANSACTION. A read-only
# connection still runs SET, PRAGMA, CHECKPOINT, CREATE TEMP, CALL and BEGIN: hence this check before it runs.
READ_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
QUERY_WORDS = "SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PIVOT or EXPLAIN"
EXPLAIN_COLUMNS = ["explain_key", "explain_value"]


class StatementRefused(ValueError):
    """The text is not exactly one read-only statement; the message says what was refused and what to do."""


class QueryInterrupted(RuntimeError):
    """The query was stopped before it finished: by the time limit, or by Ctrl-C."""


def read_only_statement(sql: str) -> str:
    """The one read-only statement `sql` holds (without a trailing ';'). Raises StatementRefused for several
    statements, none, or one that is not a read, and duckdb.ParserException for text DuckDB cannot parse.
    Nothing is executed."""
    statements = _split_statements(sql)
    if not statements:
        raise StatementRefused("there is no SQL statement to run")
    if len(statements) > 1:
        raise StatementRefused(f"{len(statements)} statements are refused: ai-pulse sql runs exactly one "
                               "statement at a time, and nothing was run. Run them one by one.")
    _check_read(statements[0])
    return statements[0]


class Token(NamedTuple):
    """One of DuckDB's tokens: where it starts, its word (lower case) or operator character, whether a keyword."""

    position: int
    word: str
    keyword: bool


def _tokens(sql: str) -> list[Token]:
    """DuckDB's own tokens of `sql` (its tokenizer skips comments and keeps strings and quoted names whole)."""
    tokens = []
    for position, kind in duckdb.tokenize(sql):
        end = position + 1
        if kind in (duckdb.token_type.keyword, duckdb.token_type.identifier):
            while end < len(sql) and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
        tokens.append(Token(position, sql[position:end].lower(), kind == duckdb.token_type.keyword))
    return tokens


def _split_statements(sql: str) -> list[str]:
    """The statements of `sql` as written, split where DuckDB's tokenizer sees a ';'; empty ones are dropped."""
    statements, start = [], None
    for token in _tokens(sql):
        if token.word == ";":
            if start is not None:
                statements.append(sql[start:token.position].strip())
            start = None
        elif start is None:
            start = token.position
    if start is not None:
        statements.append(sql[start:].strip())
    return statements


def _check_read(statement: str) -> None:
    """Raise StatementRefused unless `statement` (one statement) only reads."""
    tokens = _tokens(statement)
    # A PIVOT without an IN list is parsed into a generated CREATE (the ENUM of its values, with no text of its
    # own) before its SELECT, and EXPLAIN of one into BEGIN, CREATE, EXPLAIN, COMMIT; any other statement
    # before the last one would be a second statement.
    *generated, last = [s for s in duckdb.extract_statements(statement)
                        if s.type != duckdb.StatementType.TRANSACTION or s.query.strip()]
    if tokens[0].word == "pragma" or last.type not in READ_TYPES or any(
            s.type != duckdb.StatementType.CREATE or s.query.strip() for s in generated):
        raise StatementRefused(_refusal(tokens, last.type))
    if last.type == duckdb.StatementType.EXPLAIN and (explained := _explained(statement, tokens)):
        _check_read(explained)  # EXPLAIN ANALYZE runs the statement it explains


def _explained(statement: str, tokens: list[Token]) -> str:
    """The statement after `EXPLAIN [ANALYZE] [(options)]`."""
    rest = tokens[1:]
    if rest and rest[0].word in ("analyze", "analyse"):
        rest = rest[1:]
    if rest and rest[0].word == "(":
        depth = 0
        for index, token in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(token.word, 0)
            if depth == 0:
                rest = rest[index + 1:]
                break
    return statement[rest[0].position:] if rest else ""


def _refusal(tokens: list[Token], kind: duckdb.StatementType) -> str:
    """What was refused, named by its leading keywords (SET, PRAGMA, CREATE TEMP TABLE, COPY …), and what to do."""
    leading = []
    for token in tokens[:3]:
        if not token.keyword:
            break
        leading.append(token.word.upper())
    what = " ".join(leading) or kind.name
    hint = ""
    if tokens[0].word == "pragma":
        hint = " Settings read as `select * from duckdb_settings()`, a table's columns as `describe TABLE`."
    elif tokens[0].word == "call":
        hint = " A table function reads as `select * from FUNCTION(...)`."
    return (f"{what} is refused: ai-pulse sql runs one read-only query ({QUERY_WORDS}) and nothing else, not "
            f"even a setting or a temporary object; nothing was run.{hint} The warehouse changes only through "
            "`ai-pulse run`.")


def run_statement(warehouse: Warehouse, sql: str, output: str, *, timeout: float, out: TextIO = sys.stdout,
                  err: TextIO = sys.stderr, max_rows: int | None = None) -> bool:
    """Check that `sql` is one read-only statement, run it (stopped after `timeout` seconds; 0 means no limit)
    and print its result; on a refusal, an interruption or a DuckDB error print why (plus the tables when a name
    was not found). Returns whether it succeeded."""
    try:
        statement = read_only_statement(sql)
    except (StatementRefused, duckdb.Error) as exc:
        print(f"error: {exc}", file=err)
        return False
    try:
        with connect(warehouse, read_only=True, sealed=True) as con:
            try:
                columns, rows = _execute(con, statement, timeout)
            except QueryInterrupted as exc:
                print(f"error: {exc}", file=err)
                return False
            except duckdb.Error as exc:
                print(f"error: {exc}", file=err)
                if isinstance(exc, duckdb.CatalogException):
                    print(_tables_text(con), file=err)
                elif isinstance(exc, duckdb.PermissionException):
                    print("ai-pulse sql reads only the warehouse: files, other databases and extensions are out "
                          "of reach.", file=err)
                elif "read-only" in str(exc):
                    print("ai-pulse sql only reads; the warehouse changes through `ai-pulse run`.", file=err)
                return False
    except (WarehouseBusy, WarehouseError) as exc:
        print(f"error: {exc}", file=err)
        return False
    _print_result(columns, rows, output, out, max_rows)
    return True


def _execute(con: duckdb.DuckDBPyConnection, sql: str, timeout: float) -> tuple[list[str], list[tuple]]:
    """Run one statement and fetch its rows, interrupting it from a timer after `timeout` seconds."""
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(timeout, stop) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        cursor = con.execute(sql)
        description = cursor.description or []
        rows = cursor.fetchall() if description else []
    except duckdb.InterruptException:
        if not timed_out.is_set():
            raise
        seconds = f"{timeout:g} second{'' if timeout == 1 else 's'}"
        raise QueryInterrupted(f"the query was interrupted after {seconds} (the time limit); give it more with "
                               "`ai-pulse sql --timeout SECONDS`, or `--timeout 0` for none") from None
    except RuntimeError as exc:
        # Ctrl-C during a query: DuckDB's Python client interrupts it and raises "Query interrupted".
        if "interrupted" not in str(exc).lower():
            raise
        raise QueryInterrupted("the query was interrupted (Ctrl-C)") from None
    finally:
        if timer:
            timer.cancel()
            timer.join()
    return [d[0] for d in description], _as_duckdb_values(description, rows)


def _as_duckdb_values(description: list[Any], rows: list[tuple]) -> list[tuple]:
    """Python reads a FLOAT (single precision) as the double nearest to it (0.1 becomes 0.10000000149011612);
    DuckDB writes it as the shortest text that reads back as the same FLOAT (0.1), and so do we."""
    singles = [i for i, d in enumerate(description) if str(d[1]) == "FLOAT"]
    if not singles:
        return rows
    return [tuple(_shortest_single(v) if i in singles and v is not None else v for i, v in enumerate(row))
            for row in rows]


def _shortest_single(value: float) -> float:
    for digits in range(1, 10):  # nine significant digits always read back as the same single
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == value:
            return candidate
    return value


def _print_result(columns: list[str], rows: list[tuple], output: str, out: TextIO, max_rows: int | None) -> None:
    if output == "json":
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str, indent=2), file=out)
    elif output == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
    elif columns == EXPLAIN_COLUMNS:  # a plan is a drawing: printed whole, as DuckDB's own CLI does
        print("\n".join(str(row[1]) for row in rows), file=out)
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

    def __init__(self, warehouse: Warehouse, output: str, timeout: float) -> None:
        self.warehouse = warehouse
        self.output = output
        self.timeout = timeout

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
        limit = f"{self.timeout:g} s per statement" if self.timeout else "no time limit"
        print(f"AI Pulse SQL on {self.warehouse} (read-only, {limit}). End statements with ';'; .help for "
              "commands.")
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
                              max_rows=INTERACTIVE_MAX_ROWS, timeout=self.timeout)
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
