"""Great Expectations suites as blocking Dagster asset checks on the raw tables.

A failed blocking expectation stops every asset downstream of the checked table, and the run fails with the
suite, the expectation and sample offending rows in its message. Every result is kept in
`quality.check_results`.
"""


import datetime as dt
from collections.abc import Callable

import duckdb
import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from expectations.runner import SuiteOutcome, validate_frame
from expectations.suites import SuiteSpec, stock_prices_suite
from orchestration.ingest import WAREHOUSE_POOL, raw_key
from orchestration.resources import PulseResource, Runtime
from orchestration.warehouse import record_suite_outcome, table_exists

SuiteFactory = Callable[[Runtime], SuiteSpec]


def run_suite(runtime: Runtime, spec: SuiteSpec) -> SuiteOutcome:
    """Read the raw table into pandas (GX's SQL path is not used) and validate it."""
    schema, table = spec.table.split(".")
    with duckdb.connect(str(runtime.settings.warehouse), read_only=True) as con:
        if not table_exists(con, schema, table):
            frame = pd.DataFrame()
        else:
            frame = con.table(spec.table).df()
    for column in frame.columns:
        # DuckDB DATE arrives as datetime64; GX compares against the registry's dates.
        if column.endswith("_date") and pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.date
    return validate_frame(spec.name, frame, spec.expectations, spec.id_columns)


def outcome_to_check_result(outcome: SuiteOutcome) -> AssetCheckResult:
    """A check result whose description and metadata say what failed and on which rows."""
    rows = [
        f"| {'FAIL' if not o.success else 'ok'}{'' if o.blocking else ' (warn)'} | {o.expectation} | {o.column} "
        f"| {o.observed} | {', '.join(str(s) for s in o.sample[:3])} |"
        for o in outcome.outcomes
    ]
    table = "| result | expectation | column | observed | sample rows |\n|---|---|---|---|---|\n" + "\n".join(rows)
    return AssetCheckResult(
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        description=outcome.summary()[:2000],
        metadata={
            "suite": outcome.suite,
            "rows_checked": outcome.rows_checked,
            "expectations": len(outcome.outcomes),
            "failed_blocking": len(outcome.failures),
            "warnings": len(outcome.warnings),
            "results": MetadataValue.md(table),
        },
    )


def gx_check(source: str, table: str, suite: SuiteFactory) -> Callable[..., AssetCheckResult]:
    """A blocking asset check that runs `suite` on raw_<source>.<table> and records the outcome."""
    asset = raw_key(source, table)

    # It writes quality.check_results, so it takes the warehouse pool like every other writer.
    @asset_check(asset=asset, name=f"gx_{source}_{table}", blocking=True, pool=WAREHOUSE_POOL,
                 compute_kind="great_expectations",
                 description=f"Great Expectations suite on raw_{source}.{table}; blocks downstream on failure.")
    def _check(context: AssetCheckExecutionContext, pulse: PulseResource) -> AssetCheckResult:
        runtime = pulse.runtime
        outcome = run_suite(runtime, suite(runtime))
        with duckdb.connect(str(runtime.settings.warehouse)) as con:
            record_suite_outcome(con, context.run.run_id, asset.to_user_string(), outcome)
        if not outcome.success:
            context.log.error(outcome.summary())
        return outcome_to_check_result(outcome)

    return _check


def _window(runtime: Runtime) -> tuple[dt.date, dt.date]:
    return runtime.registry.start_date, runtime.today


QUALITY_CHECKS = [
    gx_check("stocks", "prices", lambda rt: stock_prices_suite(*_window(rt))),
]
