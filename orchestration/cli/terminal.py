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
    in_ci = os.environ.get("CI", "").strip().lower() in TRUTHY
    return logging.INFO if in_ci or not stream.isatty() else logging.DEBUG
