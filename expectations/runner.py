"""Runs a Great Expectations 1.x suite on a pandas DataFrame and turns the result into something a person can
read: which expectation failed, what was observed, and sample offending rows."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_ROWS = 5
# Values of GX's FailureSeverity (great_expectations/expectations/metadata_types.py, GX 1.24.1), as its results
# carry them: a failed CRITICAL expectation blocks, WARNING and INFO do not. Spelled here so that reading an
# outcome does not import GX.
CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict."""

    expectation: str
    column: str
    success: bool
    severity: str  # GX's FailureSeverity value: "critical", "warning" or "info"
    observed: str
    unexpected_count: int
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return self.severity == CRITICAL

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


@functools.cache
def _context(docs_root: Path) -> Any:
    """The file-backed GX context under `docs_root` (results and Data Docs persist there), made once per process:
    every suite of an in-process run shares it instead of re-reading the project for each."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    docs_root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(docs_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


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


def data_docs_index(docs_root: Path) -> Path:
    """Where GX writes the Data Docs site of the project under `docs_root`."""
    return docs_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def validate_frame(
    suite_name: str,
    frame: pd.DataFrame,
    expectations: list[Any],
    id_columns: list[str],
    docs_root: Path,
    run_name: str,
    empty_reason: str | None = None,
    render_docs: bool = True,
) -> SuiteOutcome:
    """Validate `frame` against GX `expectations` (each blocking unless its GX severity says otherwise).
    `id_columns` identify offending rows in the samples (e.g. ticker and trade_date). The result is stored in the
    GX project under `docs_root` under `run_name` (the pipeline run), and with `render_docs` also rendered into
    its Data Docs at once; otherwise `render_data_docs` renders the whole run's results in one go. An empty table
    blocks, unless `empty_reason` explains it (every signal answered that it has no data): then it only warns,
    saying so."""
    if frame.empty:
        observed = f"the table is empty: {empty_reason}" if empty_reason else "the table is empty or missing"
        severity = WARNING if empty_reason else CRITICAL
        return SuiteOutcome(suite_name, 0, [ExpectationOutcome(
            "expect_table_row_count_to_be_between", "*", False, severity, observed, 0)])
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context(docs_root)
    # Given to the constructor, not one by one: add_expectation asks the store whether the suite was saved, each
    # time (great_expectations/core/expectation_suite.py, GX 1.24.1); the suite is saved once below.
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    present_ids = [c for c in id_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if present_ids:
        result_format["unexpected_index_column_names"] = present_ids
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=_batch_definition(context, suite_name), suite=suite))
    # ValidationDefinition.run stores the result in the project's validations store
    # (great_expectations/core/validation_definition.py, GX 1.24.1); Data Docs are rendered from that store.
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format,
                            run_id=RunIdentifier(run_name=run_name))
    if render_docs:
        render_data_docs(docs_root, run_name, suite_name)
    return SuiteOutcome(suite_name, len(frame), [_outcome(item, len(frame)) for item in result.results],
                        data_docs_index(docs_root))


def render_data_docs(docs_root: Path, run_name: str, suite_name: str | None = None) -> Path | None:
    """Render the Data Docs pages of the suites validated under `run_name` (or of `suite_name` only), and the
    index. The index lists every stored validation, the part that grows with the history, so a run renders it
    once, after its last suite, rather than once per suite."""
    if not (docs_root / "gx").is_dir():
        return None  # nothing was ever validated here
    context = _context(docs_root)
    validations = [key for key in context.validation_results_store.list_keys() if key.run_id.run_name == run_name
                   and suite_name in (None, key.expectation_suite_identifier.name)]
    if validations:
        suites = {key.expectation_suite_identifier for key in validations}
        # The same pages UpdateDataDocsAction renders: each result and its suite (great_expectations/checkpoint/
        # actions.py, GX 1.24.1).
        context.build_data_docs(resource_identifiers=[*validations, *suites])
    index = data_docs_index(docs_root)
    return index if index.is_file() else None


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
        severity=str(getattr(config.severity, "value", config.severity)), observed=observed,
        unexpected_count=unexpected, sample=sample)


def _plain(value: Any) -> Any:
    """JSON-friendly sample values (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
