"""Great Expectations suites as blocking Dagster asset checks on the raw tables.

A failed blocking expectation stops every asset downstream of the checked table, and the run fails with the
suite, the expectation and sample offending rows in its message. Every result is kept in
`quality.check_results` and rendered into GX Data Docs under the warehouse's folder.

Whether an expectation blocks is Great Expectations' own severity (expectations/suites.py): a failed CRITICAL
expectation fails its suite's check with Dagster's ERROR severity, which stops what is downstream; a failed
WARNING one is reported in the check's description and metadata and stops nothing.
"""

import logging
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    MetadataValue,
    asset_check,
)

from expectations.runner import CRITICAL, SuiteOutcome, render_data_docs, validate_frame
from expectations.suites import SUITES, SuiteInputs, SuiteSpec
from orchestration.defs.ingest import WAREHOUSE_POOL, raw_key
from orchestration.defs.resources import PulseResource, Runtime
from orchestration.lib.docs_site import docs_link
from orchestration.lib.settings import Warehouse
from orchestration.lib.warehouse import connect, previous_rows_checked, record_suite_outcome, table_exists

log = logging.getLogger("ai_pulse.quality")
# The table every check appends to. The checks write it (each records a materialization of it) and dbt reads it
# as a source for P10, so it is declared here, not materialized by a step of its own.
CHECK_RESULTS = AssetKey(["quality", "check_results"])
CHECK_RESULTS_SPEC = AssetSpec(
    CHECK_RESULTS, group_name="quality", owners=["team:ai-pulse"], kinds={"great_expectations", "duckdb"},
    description="One row per expectation of every Great Expectations validation of every run (run id, asset, "
                "suite, expectation, success, observed value, checked at): the quality history behind P10.")
# A run tagged so (`ai-pulse run`, which executes every step in one process) leaves Data Docs to
# `render_run_data_docs` after its last step: one render of the index for the run instead of one per suite.
DATA_DOCS_TAG, AFTER_RUN = "ai_pulse/data_docs", "after_run"


def quality_root(warehouse: Warehouse) -> Path:
    """The GX project (validation results, Data Docs) beside the warehouse."""
    return warehouse.parent / "quality"


def render_run_data_docs(warehouse: Warehouse, run_id: str) -> Path | None:
    """Render the Data Docs of every suite the run validated, and their index, once."""
    return render_data_docs(quality_root(warehouse), run_id)


def _read(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pd.DataFrame:
    """A raw table as pandas (GX's SQL path is not used); DATE columns become Python dates."""
    if not table_exists(con, schema, table):
        return pd.DataFrame()
    relation = con.table(f'"{schema}"."{table}"')
    frame = relation.df()
    for column, kind in zip(relation.columns, relation.types, strict=True):
        if str(kind) == "DATE":
            frame[column] = frame[column].dt.date
    return frame


def run_suite(runtime: Runtime, spec: SuiteSpec, run_id: str, render_docs: bool = True) -> SuiteOutcome:
    """Validate one raw table with its suite, against the registry's thresholds and the run's dates; the result
    is stored under the run's id, and rendered into Data Docs now unless `render_docs` is off."""
    settings = runtime.settings
    if not runtime.registry.signals_for(spec.source):
        return SuiteOutcome(spec.name, 0, [], note=f"nothing to check: no {spec.source} signals are registered")
    with connect(settings.database, read_only=True) as con:
        frame = _read(con, spec.schema, spec.table)
        related = {name: _read(con, spec.schema, name) for name in spec.related_tables}
        previous = previous_rows_checked(con, raw_key(spec.source, spec.guarded_table).to_user_string(), spec.name)
        empty_reason = _nothing_answered(con, spec) if frame.empty else None
    inputs = SuiteInputs(start_date=runtime.registry.start_date, as_of=runtime.today,
                         thresholds=runtime.registry.quality, previous_rows=previous, related=related)
    if spec.prepare is not None and not frame.empty:
        frame = spec.prepare(frame, inputs)
    return validate_frame(spec.name, frame, spec.expectations(spec, inputs), spec.id_columns,
                          docs_root=quality_root(settings.warehouse), run_name=run_id, empty_reason=empty_reason,
                          render_docs=render_docs)


def _nothing_answered(con: duckdb.DuckDBPyConnection, spec: SuiteSpec) -> str | None:
    """Why a raw table may be empty without blocking: every registered signal of its dataset answered that it has
    no data (a 404, a snapshot without that recording) or was deferred. Optional data never blocks a run; an empty
    table whose signals said they loaded rows does."""
    if spec.dataset is None or not table_exists(con, spec.schema, "signal_status"):
        return None
    rows = con.execute(f'select status, count(*) from "{spec.schema}".signal_status '  # noqa: S608 - names from code
                       "where dataset = ? group by status", [spec.dataset]).fetchall()
    counts = dict(rows)
    if not counts or set(counts) - {"no_data", "deferred"}:
        return None
    return (f"all {sum(counts.values())} {spec.dataset} signals answered no data or were deferred "
            f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}); nothing to check")


def check_severity(outcome: SuiteOutcome) -> AssetCheckSeverity:
    """GX's severity of the suite's worst failure as Dagster's: CRITICAL is ERROR, which a blocking check turns
    into a stop (dagster/_core/execution/plan/execute_step.py, 1.13: only a failed ERROR evaluation blocks);
    WARNING and INFO are WARN. A suite whose failures are all warnings passes: its check carries the whole suite,
    and Dagster would show a failed WARN check as failed."""
    failed = {o.severity for o in outcome.outcomes if not o.success}
    return AssetCheckSeverity.ERROR if CRITICAL in failed else AssetCheckSeverity.WARN


def outcome_to_check_result(outcome: SuiteOutcome, warehouse: Warehouse) -> AssetCheckResult:
    """A check result whose description and metadata say what failed and on which rows, and link to the Data
    Docs (served with the warehouse's other documents, orchestration/lib/docs_site.py)."""
    rows = [
        f"| {'FAIL' if not o.success else 'ok'}{'' if o.blocking else ' (warn)'} | {o.expectation} | {o.column} "
        f"| {o.observed} | {', '.join(str(s) for s in o.sample[:3])} |"
        for o in outcome.outcomes
    ]
    table = "| result | expectation | column | observed | sample rows |\n|---|---|---|---|---|\n" + "\n".join(rows)
    metadata = {
        "suite": outcome.suite,
        "rows_checked": outcome.rows_checked,
        "expectations": len(outcome.outcomes),
        "failed_blocking": len(outcome.failures),
        "warnings": len(outcome.warnings),
        "results": MetadataValue.md(table),
    }
    if outcome.docs_index is not None:
        # The suite's own page: GX draws the index's tables with scripts from CDNs, which offline show nothing.
        suite_page = outcome.docs_index.parent / "expectations" / f"{outcome.suite}.html"
        metadata["data_docs"] = docs_link(warehouse, suite_page)
    return AssetCheckResult(
        passed=outcome.success,
        severity=check_severity(outcome),
        description=outcome.summary()[:2000],
        metadata=metadata,
    )


def gx_check(spec: SuiteSpec) -> Callable[..., AssetCheckResult]:
    """A blocking asset check that runs `spec` on its raw table and records the outcome."""
    asset = raw_key(spec.source, spec.guarded_table)

    # It writes quality.check_results, so it takes the warehouse pool like every other writer.
    @asset_check(asset=asset, name=f"gx_{spec.name}", blocking=True, pool=WAREHOUSE_POOL,
                 compute_kind="great_expectations",
                 description=f"Great Expectations suite `{spec.name}` on {spec.qualified_table}; "
                             "blocks everything downstream when a blocking expectation fails.")
    def _check(context: AssetCheckExecutionContext, pulse: PulseResource) -> AssetCheckResult:
        runtime = pulse.runtime
        outcome = run_suite(runtime, spec, context.run.run_id,
                            render_docs=context.run.tags.get(DATA_DOCS_TAG) != AFTER_RUN)
        with connect(runtime.settings.database, read_only=False) as con:
            record_suite_outcome(con, context.run.run_id, asset.to_user_string(), outcome)
        context.op_execution_context.log_event(AssetMaterialization(
            CHECK_RESULTS, description=f"results of suite {spec.name} on {asset.to_user_string()}",
            metadata={"suite": spec.name, "checked_asset": asset.to_user_string(),
                      "rows_added": len(outcome.outcomes), "failed_blocking": len(outcome.failures)}))
        if not outcome.success:
            context.log.error(outcome.summary())
        else:
            if outcome.warnings:
                context.log.warning("; ".join(o.describe() for o in outcome.warnings))
            log.info("[quality] %s: %s", asset.to_user_string(), outcome.summary())
        return outcome_to_check_result(outcome, runtime.settings.warehouse)

    return _check


QUALITY_CHECKS = [gx_check(spec) for spec in SUITES]
