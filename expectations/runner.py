"""Runs a Great Expectations 1.x suite on a pandas DataFrame and turns the result into something a person can
read: which expectation failed, what was observed, and sample offending rows."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
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
        if self.success:
            return f"suite {self.suite}: all {len(self.outcomes)} expectations passed on {self.rows_checked} rows"
        return f"suite {self.suite} failed on {self.rows_checked} rows: " + "; ".join(
            o.describe() for o in self.failures)


def _quiet_gx() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def validate_frame(
    suite_name: str,
    frame: pd.DataFrame,
    expectations: list[tuple[Any, bool]],
    id_columns: list[str],
) -> SuiteOutcome:
    """Validate `frame` against `expectations` (each a GX expectation and whether it blocks).
    `id_columns` identify offending rows in the samples (e.g. ticker and trade_date)."""
    gx, context = _quiet_gx()
    if frame.empty:
        return SuiteOutcome(suite_name, 0, [ExpectationOutcome(
            "expect_table_row_count_to_be_between", "*", False, True, "the table is empty", 0)])
    datasource = context.data_sources.add_pandas(f"{suite_name}_source")
    batch_definition = datasource.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    blocking_by_id: dict[str, bool] = {}
    for expectation, blocking in expectations:
        added = suite.add_expectation(expectation)
        blocking_by_id[str(added.id)] = blocking
    present_ids = [c for c in id_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if present_ids:
        result_format["unexpected_index_column_names"] = present_ids
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format=result_format)
    outcomes = []
    for item in result.results:
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
            observed = f"{unexpected} unexpected of {details.get('element_count', len(frame))}"
        else:
            observed = f"observed {details.get('observed_value')!r}"
        sample = [_plain(row) for row in (details.get("unexpected_index_list") or [])[:SAMPLE_ROWS]]
        if not sample and details.get("partial_unexpected_list"):
            sample = [_plain(v) for v in details["partial_unexpected_list"][:SAMPLE_ROWS]]
        outcomes.append(ExpectationOutcome(
            expectation=config.type, column=column, success=bool(item.success),
            blocking=blocking_by_id.get(str(config.id), True), observed=observed,
            unexpected_count=unexpected, sample=sample))
    return SuiteOutcome(suite_name, len(frame), outcomes)


def _plain(value: Any) -> Any:
    """JSON-friendly sample values (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
