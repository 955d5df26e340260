"""What the `ai-pulse` command prints: aligned tables, and how much progress a person sees."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

TRUTHY = {"1", "true", "yes", "on"}


def format_table(columns: list[str], rows: list[tuple[Any, ...]], max_width: int = 60,
                 max_rows: int | None = None) -> str:
    """An aligned text table; long cells are cut with an ellipsis, rows beyond `max_rows` are counted, not shown."""
    def cell(value: Any) -> str:
        text = "NULL" if value is None else (f"{value:,.2f}" if isinstance(value, float) else str(value))
        text = text.replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    shown = rows if max_rows is None else rows[:max_rows]
    body = [[cell(v) for v in row] for row in shown]
    widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    out = [line, rule] + ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in body]
    if len(shown) < len(rows):
        out.append(f"… {len(rows) - len(shown)} more rows not shown (add LIMIT, or use --format csv)")
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def progress_level(quiet: bool, verbose: bool, stream: TextIO = sys.stderr) -> int:
    """How much progress to print: warnings only with -q; every step's detail (each signal, dbt's own lines)
    with -v or on a terminal; one line per step in CI (`CI=true`) or when stderr is not a terminal."""
    if quiet:
        return logging.WARNING
    if verbose:
        return logging.DEBUG
    in_ci = os.environ.get("CI", "").strip().lower() in TRUTHY
    return logging.INFO if in_ci or not stream.isatty() else logging.DEBUG
