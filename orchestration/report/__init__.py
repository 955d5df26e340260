"""The HTML report: the scorecard, each prediction over time (its verdicts by window, night by night, what changed)
with its charts, data provenance and the last quality results, in one self-contained file beside the warehouse.
Used by `ai-pulse report` and the `reports/scorecard_html` asset."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.settings import Warehouse
from orchestration.report.content import read_content
from orchestration.report.page import render_page

log = logging.getLogger("ai_pulse.report")


@dataclass(frozen=True)
class ReportWritten:
    """Where the report went and what it holds."""

    path: Path
    predictions: int
    charts: int
    indicator_tables: int
    size_bytes: int
    notices: tuple[str, ...]


def report_path(warehouse: Warehouse) -> Path:
    """`<warehouse folder>/report/<warehouse name>_report.html`, e.g. warehouse/report/ai_pulse_report.html."""
    return warehouse.parent / "report" / f"{warehouse.stem}_report.html"


def write_report(warehouse: Warehouse, database: Warehouse | None = None) -> ReportWritten:
    """Read the warehouse (read-only) and write the report; replaces the previous one in a single step. Within a
    run, `database` is the run's working copy, read in place of the warehouse the report is named after."""
    started = time.monotonic()
    database = database or warehouse
    log.info("[report] reading %s", database)
    content = read_content(database)
    page, charts = render_page(content)
    path = report_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)  # a reader never sees half a page
    written = ReportWritten(path=path, predictions=len(content.prediction_ids), charts=len(charts),
                            indicator_tables=sum(len(v) for v in content.indicators.values()),
                            size_bytes=path.stat().st_size, notices=tuple(content.notices.values()))
    log.info("[report] %d predictions, %d charts from %d indicator tables → %s (%.1f MB, %.1f s)",
             written.predictions, written.charts, written.indicator_tables, path, written.size_bytes / 1e6,
             time.monotonic() - started)
    for notice in written.notices:
        log.warning("[report] %s", notice)
    return written
