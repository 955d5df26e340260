"""What the `ai-pulse` command prints: aligned tables, and how much progress a person sees."""

from __future__ import annotations

import logging
import os
import sys
from decimal import Decimal
from typing import Any, TextIO

TRUTHY = {"1", "true", "yes", "on"}


def format_table(columns: list[str], rows: list[tuple[Any, ...]], max_width: int = 60,
                 max_rows: int | None = None) -> str:
    """An aligned text table; long cells are cut with an ellipsis, rows beyond `max_rows` are counted, not shown.
    Numbers are written as DuckDB writes them (see `number_text`) and right-aligned; a column whose numbers reach
    five digits gets thousands separators."""
    shown = rows if max_rows is None else rows[:max_rows]
    numeric = [_is_numeric_column([row[i] for row in shown]) for i in range(len(columns))]
    grouped = [is_numeric and any(abs(row[i]) >= GROUPED_FROM for row in shown if row[i] is not None)
               for i, is_numeric in enumerate(numeric)]

    def cell(value: Any, column: int) -> str:
        if value is None:
            text = "NULL"
        elif numeric[column]:
            text = number_text(value, grouped=grouped[column])
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        text = text.replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    def aligned(texts: list[str], widths: list[int]) -> str:
        return "  ".join(t.rjust(w) if right else t.ljust(w)
                         for t, w, right in zip(texts, widths, numeric, strict=True)).rstrip()

    body = [[cell(v, i) for i, v in enumerate(row)] for row in shown]
    widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(columns)]
    out = [aligned(columns, widths), "  ".join("-" * w for w in widths)] + [aligned(r, widths) for r in body]
    if len(shown) < len(rows):
        out.append(f"… {len(rows) - len(shown)} more rows not shown (add LIMIT, or use --format csv)")
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


# DuckDB's CLI groups every number with `.thousand_sep ,`, years included (2,024); from five digits on, a
# separator helps reading and a column of years or small counts stays as written.
GROUPED_FROM = 10_000


def number_text(value: int | float | Decimal, grouped: bool = False) -> str:
    """A number as DuckDB's box renderer writes it (the value cast to VARCHAR): the shortest text that reads
    back as the same double (0.004, 145.0, 1e+20), a decimal with all the digits of its scale (1.50), an integer
    in full; `grouped` adds thousands separators to the integer part (never in CSV or JSON output)."""
    text = f"{value:f}" if isinstance(value, Decimal) else repr(value) if isinstance(value, float) else str(value)
    if not grouped:
        return text
    sign = "-" if text.startswith("-") else ""
    digits = len(text) - len(sign) - len(text[len(sign):].lstrip("0123456789"))
    if digits <= 3:
        return text
    return f"{sign}{int(text[len(sign):len(sign) + digits]):,}{text[len(sign) + digits:]}"


def _is_numeric_column(values: list[Any]) -> bool:
    """Whether every value shown is a number (booleans are not), and there is at least one."""
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present)


def progress_level(quiet: bool, verbose: bool, stream: TextIO = sys.stderr) -> int:
    """How much progress to print: warnings only with -q; every step's detail (each signal, dbt's own lines)
    with -v or on a terminal; one line per step in CI (`CI=true`) or when stderr is not a terminal."""
    if quiet:
        return logging.WARNING
    if verbose:
        return logging.DEBUG
    return logging.INFO if in_ci() or not stream.isatty() else logging.DEBUG


def in_ci() -> bool:
    """Whether the command runs in CI (`CI=true`, as GitHub Actions, GitLab and most others set it)."""
    return os.environ.get("CI", "").strip().lower() in TRUTHY


def shows_live_progress(quiet: bool, stream: TextIO = sys.stderr) -> bool:
    """A live step counter only on a terminal a person watches: not with -q, not in CI, not when redirected
    (a log keeps one line per step)."""
    return not quiet and not in_ci() and stream.isatty()


class StepCounter:
    """`[12/25] load_stocks, load_trends` with a bar, kept as the last line of the terminal while a run goes: the
    steps done of all, and those running. Progress lines and dbt's own lines scroll above it.

    It listens to the run's Dagster events (STEP_START, STEP_SUCCESS, STEP_FAILURE). While it is shown, sys.stderr
    is rich's proxy, which prints each line above the counter; the logging handlers writing to stderr are pointed
    at it too (a handler keeps the stream it was given), and back afterwards."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("[{task.completed}/{task.total}]", markup=False), BarColumn(bar_width=20),
                                  TimeElapsedColumn(), TextColumn("{task.description}", markup=False),
                                  console=Console(file=sys.stderr), transient=True, redirect_stdout=False)
        self._task = self._progress.add_task("starting", total=total)
        self._running: list[str] = []
        self._repointed: list[logging.StreamHandler[Any]] = []
        self._stderr: TextIO = sys.stderr

    def __enter__(self) -> StepCounter:
        self._stderr = sys.stderr
        self._progress.start()  # sys.stderr is now the proxy
        handlers = [*logging.getLogger("ai_pulse").handlers, *logging.getLogger().handlers]
        self._repointed = [h for h in handlers if isinstance(h, logging.StreamHandler) and h.stream is self._stderr]
        for handler in self._repointed:
            handler.setStream(sys.stderr)
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()  # sys.stderr is the terminal again
        for handler in self._repointed:
            handler.setStream(self._stderr)

    def on_event(self, entry: Any) -> None:
        """A Dagster event log entry of the run (the instance's event listener)."""
        event = entry.dagster_event
        kind = event.event_type_value if event else None
        if kind == "STEP_START":
            self._running.append(entry.step_key)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            if entry.step_key in self._running:
                self._running.remove(entry.step_key)
            self._progress.advance(self._task)
        else:
            return
        self._progress.update(self._task, description=", ".join(self._running) or "…")
