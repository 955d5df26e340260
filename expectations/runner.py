"""Runs a Great Expectations 1.x suite on a pandas DataFrame and turns the result into something a person can
read: which expectation failed, what was observed, and sample offending rows."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict."""

    expectation: str
    column: str
    success: bool
    blocking: bool
    observed: str
    unexpected_count: int
    sample: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        """`expect_column_values_to_be_between(close): 1 unexpected, e.g. {...}`"""
        rows = f", e.g. {json.dumps(self.sample[:3], default=str)}" if self.sample else ""
        return f"{self.expectation}({self.column}): {self.observed}{rows}"


@dataclass(frozen=True)
class SuiteOutcome:
    """A suite's verdict: blocking failures stop downstream assets, warnings do not."""

    suite: str
    rows_checked: int
    outcomes: list[ExpectationOutcome]
    docs_index: Path | None = None
    note: str = ""

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.blocking]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and not o.blocking]

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """One readable paragraph naming the suite, each failed expectation and sample rows."""
        if self.note:
            return f"suite {self.suite}: {self.note}"
        if self.success and not self.warnings:
            return f"suite {self.suite}: all {len(self.outcomes)} expectations passed on {self.rows_checked} rows"
        if self.success:
            return (f"suite {self.suite}: {len(self.outcomes) - len(self.warnings)} of {len(self.outcomes)} "
                    f"expectations passed on {self.rows_checked} rows, {len(self.warnings)} warned (not blocking): "
                    + "; ".join(o.describe() for o in self.warnings))
        return f"suite {self.suite} failed on {self.rows_checked} rows: " + "; ".join(
            o.describe() for o in self.failures)


def _context(docs_root: Path | None) -> tuple[Any, Any]:
    """A GX context: file-backed under `docs_root` (so results and Data Docs persist), else in memory."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if docs_root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        docs_root.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(docs_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def _batch_definition(context: Any, suite_name: str) -> Any:
    """The whole-DataFrame batch definition for a suite, created once per GX project."""
    try:
        datasource = context.data_sources.get("ai_pulse")
    except (KeyError, ValueError, LookupError):
        datasource = context.data_sources.add_pandas("ai_pulse")
    try:
        asset = datasource.get_asset(suite_name)
    except (KeyError, ValueError, LookupError):
        asset = datasource.add_dataframe_asset(suite_name)
    try:
        return asset.get_batch_definition("whole_table")
    except (KeyError, ValueError, LookupError):
        return asset.add_batch_definition_whole_dataframe("whole_table")


def validate_frame(
    suite_name: str,
    frame: pd.DataFrame,
    expectations: list[tuple[Any, bool]],
    id_columns: list[str],
    docs_root: Path | None = None,
    empty_reason: str | None = None,
) -> SuiteOutcome:
    """Validate `frame` against `expectations` (each a GX expectation and whether it blocks).
    `id_columns` identify offending rows in the samples (e.g. ticker and trade_date). With `docs_root`, the
    result is also stored and rendered into GX Data Docs there. An empty table blocks, unless `empty_reason`
    explains it (every signal answered that it has no data): then it only warns, saying so."""
    if frame.empty:
        observed = f"the table is empty: {empty_reason}" if empty_reason else "the table is empty or missing"
        return SuiteOutcome(suite_name, 0, [ExpectationOutcome(
            "expect_table_row_count_to_be_between", "*", False, empty_reason is None, observed, 0)])
    gx, context = _context(docs_root)
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation, blocking in expectations:
        # Severity travels with the expectation (and shows in Data Docs) as meta.
        expectation.meta = {**(expectation.meta or {}), "blocking": blocking}
        suite.add_expectation(expectation)
    present_ids = [c for c in id_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if present_ids:
        result_format["unexpected_index_column_names"] = present_ids
    batch_definition = _batch_definition(context, suite_name)
    docs_index = None
    if docs_root is None:
        result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format=result_format)
    else:
        suite = context.suites.add_or_update(suite)
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=suite_name, validation_definitions=[definition], result_format=result_format,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
        run = checkpoint.run(batch_parameters={"dataframe": frame})
        result = next(iter(run.run_results.values()))
        docs_index = docs_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return SuiteOutcome(suite_name, len(frame), [_outcome(item, len(frame)) for item in result.results], docs_index)


def _outcome(item: Any, rows: int) -> ExpectationOutcome:
    """One GX expectation result as a readable outcome with sample offending rows."""
    config = item.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or ",".join(
        c for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c) or "*"
    details = item.result or {}
    exception = (item.exception_info or {}).get("exception_message") if item.exception_info else None
    unexpected = int(details.get("unexpected_count") or 0)
    if exception:
        observed = f"could not be evaluated: {exception}"
    elif "unexpected_count" in details:
        observed = f"{unexpected} unexpected of {details.get('element_count', rows)}"
    elif details.get("observed_value") is not None:
        observed = f"observed {_plain(details['observed_value'])!r}"
    else:
        observed = "as expected" if item.success else "not as expected"
    sample = [_plain(row) for row in (details.get("unexpected_index_list") or [])[:SAMPLE_ROWS]]
    if not sample and details.get("partial_unexpected_list"):
        sample = [_plain(v) for v in details["partial_unexpected_list"][:SAMPLE_ROWS]]
    return ExpectationOutcome(
        expectation=config.type, column=column, success=bool(item.success),
        blocking=bool((config.meta or {}).get("blocking", True)), observed=observed,
        unexpected_count=unexpected, sample=sample)


def _plain(value: Any) -> Any:
    """JSON-friendly sample values (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
