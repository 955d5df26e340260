"""`ai-pulse`: run the pipeline, open the Dagster UI, query the warehouse, write the report, show the status,
list the signals.

Exit codes: 0 success; 1 a step or blocking quality check failed; 2 bad configuration or input;
3 the warehouse is busy (another run holds it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from orchestration.cli.exits import EXIT_BUSY, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, fail
from orchestration.cli.run import run_command
from orchestration.cli.terminal import format_table, progress_level
from orchestration.lib.environment import configure_environment
from orchestration.lib.local_faults import LocalFault

DEFAULT_SQL_TIMEOUT_S = 300.0  # `ai-pulse sql --timeout`: see its help


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ai-pulse` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.quiet and args.verbose:  # one given before the command, the other after it
        parser.error("argument -q/--quiet: not allowed with argument -v/--verbose")
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        configure_environment()
        _configure_logging(progress_level(args.quiet, args.verbose))
        return int(args.handler(args) or EXIT_OK)
    except LocalFault as exc:  # a folder or file on this machine that cannot be written: one sentence
        return fail(str(exc), EXIT_CONFIG)


def _configure_logging(level: int) -> None:
    """Progress lines from AI Pulse itself go to stderr at `level` (DEBUG adds each step's detail, INFO is one
    line per step, WARNING only problems); libraries only speak up with warnings."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ours = logging.getLogger("ai_pulse")
    ours.handlers[:] = [handler]
    ours.setLevel(level)
    ours.propagate = False
    # Libraries (Dagster, GX, alembic) raise their own loggers' levels after import, so the gate is the handler.
    library_handler = logging.StreamHandler(sys.stderr)
    library_handler.setLevel(logging.WARNING)
    # dlt prints its warnings through a handler of its own, each with a traceback (a full disk makes dozens):
    # its lines stay, the tracebacks go; the failed step keeps the whole error in the Dagster event log.
    logging.getLogger("dlt").addFilter(_without_traceback)
    # A log file that can no longer be written (dbt's, on a full disk) would print "--- Logging error ---" and a
    # traceback for every line; the run's outcome names the fault once instead (logging.raiseExceptions, Python docs).
    logging.raiseExceptions = False
    logging.basicConfig(level=logging.WARNING, handlers=[library_handler], force=True)


def _without_traceback(record: logging.LogRecord) -> bool:
    """A logging filter keeping the record but not its traceback."""
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    return True


def _verbosity(default: Any) -> argparse.ArgumentParser:
    """-q and -v, for the main parser and (as a parent) every command, so they work before or after it."""
    parser = argparse.ArgumentParser(add_help=False)
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", default=default, help="only warnings and the result")
    verbosity.add_argument("-v", "--verbose", action="store_true", default=default,
                           help="every step's detail (each signal, dbt's own lines), also in CI; this is the "
                                "default on a terminal (with a live step counter), while CI=true or redirected "
                                "output gets one line per step")
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai-pulse",
        description="AI Pulse measures the 2024 AI predictions with public signals "
                    "(dlt → DuckDB → Great Expectations → dbt, orchestrated by Dagster).",
        epilog="Environment: AI_PULSE_WAREHOUSE (a DuckDB file, or md:<database> for MotherDuck with "
               "MOTHERDUCK_TOKEN), AI_PULSE_SNAPSHOT, AI_PULSE_MODE (replay|live), GITHUB_TOKEN.",
        parents=[_verbosity(default=False)],
    )
    # A command's own defaults would overwrite a -q given before it, so there they are left unset.
    common = [_verbosity(default=argparse.SUPPRESS)]
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser("run", parents=common,
                              help="materialize every asset once (ingest → checks → dbt → scorecard → report)",
                              description="One in-process materialization of every asset through Dagster. "
                                          "Replays the bundled snapshot unless told otherwise.")
    origin = run.add_mutually_exclusive_group()
    origin.add_argument("--snapshot", metavar="DIR", help="replay recorded responses from DIR "
                        "(default: $AI_PULSE_SNAPSHOT or the bundled snapshot)")
    origin.add_argument("--live", action="store_true", help="call the live APIs instead of replaying")
    run.add_argument("--record", metavar="DIR", help="also write every response to DIR (new or empty) as a snapshot "
                     "that replays to the same warehouse; with a replay, re-records what the snapshot serves")
    run.add_argument("--warehouse", metavar="PATH", help="DuckDB file, or md:<database> for a MotherDuck database "
                     "(default: $AI_PULSE_WAREHOUSE or warehouse/ai_pulse.duckdb)")
    run.add_argument("--full-refresh", action="store_true", help="drop raw tables and incremental state first")
    run.set_defaults(handler=run_command)

    ui = commands.add_parser("ui", parents=common, help="Dagster webserver + daemon (schedule, sensors) on 127.0.0.1",
                             description="Starts the Dagster webserver and daemon for AI Pulse, bound to 127.0.0.1, "
                                         "with the project-local DAGSTER_HOME (.dagster/) and telemetry off, and "
                                         "serves the report, the GX Data Docs and the dbt docs (read-only, "
                                         "127.0.0.1 too), which the assets link to. Ctrl-C stops everything.")
    ui.add_argument("--port", type=int, default=3000, help="webserver port (default 3000)")
    ui.add_argument("--docs-port", type=int, help="port of the report, GX Data Docs and dbt docs (default: the "
                    "webserver port + 1, e.g. 3001)")
    ui.set_defaults(handler=_cmd_ui)

    sql = commands.add_parser("sql", parents=common, help="run read-only SQL against the warehouse and print a table",
                              description="Runs exactly one read-only query (SELECT, WITH, FROM, VALUES, "
                                          "DESCRIBE, SHOW, SUMMARIZE, PIVOT or EXPLAIN): several statements, SET, "
                                          "PRAGMA, CHECKPOINT, CREATE (temporary objects too) and every other "
                                          "statement are refused. With no query, an interactive prompt (.tables, "
                                          ".schema TABLE, .mode, .help). Nothing can be written.")
    sql.add_argument("query", nargs="?", help='e.g. "select * from marts.prediction_scorecard"')
    sql.add_argument("--warehouse", metavar="PATH", help="DuckDB file to query")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table",
                     help="output format (numbers in full; thousands separators only in the table)")
    sql.add_argument("--timeout", metavar="SECONDS", type=_seconds, default=DEFAULT_SQL_TIMEOUT_S,
                     help=f"interrupt a query still running after SECONDS (default {DEFAULT_SQL_TIMEOUT_S:g}: queries "
                          "on this warehouse take seconds, and a forgotten one must not keep the file open until "
                          "the nightly run; 0 for no limit); in the prompt, the limit of each statement")
    sql.set_defaults(handler=_cmd_sql)

    report = commands.add_parser("report", parents=common, help="write the HTML report (scorecard, charts, provenance)",
                                 description="Writes one self-contained HTML file beside the warehouse: the "
                                             "scorecard, a chart per indicator, data provenance and the last "
                                             "quality results. Works offline; prints the file's path.")
    report.add_argument("--warehouse", metavar="PATH", help="DuckDB file to report on")
    report.set_defaults(handler=_cmd_report)

    status = commands.add_parser("status", parents=common,
                                 help="last run, freshness of each source, failed checks, next run",
                                 description="What the warehouse holds and when it was last and will next be "
                                             "refreshed.")
    status.add_argument("--warehouse", metavar="PATH", help="DuckDB file to inspect")
    status.set_defaults(handler=_cmd_status)

    doctor = commands.add_parser("doctor", parents=common,
                                 help="check the set-up a run needs and say how to fix what is wrong",
                                 description="Checks the registry, the snapshot (replay) or the APIs (--live), the "
                                             "warehouse and its lock, the Dagster home and the disk, and sends one "
                                             "small request per source through the same code a run uses: through "
                                             "the snapshot in replay, to the real APIs with --live (plus GitHub's "
                                             "remaining rate limit). Writes nothing. Exit 0 when a run is ready, "
                                             "2 when something must be fixed first.")
    doctor.add_argument("--live", action="store_true", help="ask the live APIs instead of the snapshot")
    doctor.set_defaults(handler=_cmd_doctor)

    signals = commands.add_parser("signals", parents=common, help="list every registered signal",
                                  description="Lists the signals of registry.yml with the predictions they serve.")
    signals.add_argument("--json", action="store_true", help="print a JSON array")
    signals.set_defaults(handler=_cmd_signals)
    return parser


def _seconds(text: str) -> float:
    """A --timeout value: a number of seconds, 0 or more."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more; 0 means no limit)")
    return seconds


def _cmd_ui(args: argparse.Namespace) -> int:
    from orchestration.cli.webui import PortBusy, serve
    from orchestration.lib.local_faults import dagster_home, logs_folder, require, warehouse_folder
    from orchestration.lib.settings import ConfigError, resolve_settings

    try:
        settings = resolve_settings()
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    # The webserver, the daemon and the runs they launch write all of these.
    require(dagster_home(), warehouse_folder(settings.warehouse), logs_folder(settings.warehouse))
    try:
        return serve(args.port, settings.warehouse, args.docs_port)
    except PortBusy as exc:
        return fail(str(exc), EXIT_CONFIG)


def _cmd_sql(args: argparse.Namespace) -> int:
    from orchestration.cli.sql_shell import Shell, run_statement
    from orchestration.lib.settings import ConfigError, resolve_warehouse

    try:
        warehouse = resolve_warehouse(args.warehouse)
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    if not warehouse.exists():
        return fail(f"no warehouse at {warehouse}; run `make run` (or `ai-pulse run`) first", EXIT_CONFIG)
    if args.query:
        return EXIT_OK if run_statement(warehouse, args.query, args.format, timeout=args.timeout) else EXIT_FAILED
    Shell(warehouse, args.format, args.timeout).loop()
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from orchestration.lib.settings import ConfigError, resolve_warehouse
    from orchestration.lib.warehouse import WarehouseBusy, WarehouseError
    from orchestration.report import write_report

    try:
        written = write_report(resolve_warehouse(args.warehouse))
    except (ConfigError, WarehouseError) as exc:
        return fail(str(exc), EXIT_CONFIG)
    except WarehouseBusy as exc:
        return fail(str(exc), EXIT_BUSY)
    print(written.path)
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from orchestration.cli.status import collect_status, format_status
    from orchestration.lib.local_faults import dagster_home, require
    from orchestration.lib.settings import ConfigError, resolve_warehouse
    from orchestration.lib.warehouse import WarehouseBusy

    require(dagster_home())  # Dagster's run storage opens read-write, even to read the last run
    try:
        warehouse = resolve_warehouse(args.warehouse)
        print(format_status(collect_status(warehouse)))
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    except WarehouseBusy as exc:
        return fail(str(exc), EXIT_BUSY)
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace) -> int:
    from orchestration.cli.doctor import diagnose, report

    text, ready = report(diagnose(live=args.live))
    print(text)
    return EXIT_OK if ready else EXIT_CONFIG


def _cmd_signals(args: argparse.Namespace) -> int:
    from ingestion.registry import RegistryError, load_registry

    try:
        registry = load_registry()
    except RegistryError as exc:
        return fail(str(exc), EXIT_CONFIG)
    signals = [{"source": s.source, "key": s.key, "predictions": list(s.predictions), "roles": s.roles}
               for s in registry.signals]
    if args.json:
        print(json.dumps(signals, indent=2))
    else:
        rows = [(s["source"], s["key"], ", ".join(s["predictions"]),
                 ", ".join(f"{p}: {r}" for p, r in s["roles"].items())) for s in signals]
        print(format_table(["source", "key", "predictions", "roles"], rows))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
