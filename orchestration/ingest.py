"""Ingestion assets: one Dagster multi-asset per dlt source, one asset per dlt resource (`raw_<source>/<table>`).

The translator below is the single place where dlt names become asset keys; it also gives every source asset
the freshness policy (stale after `AI_PULSE_STALE_AFTER_HOURS`, default 36). Loads retry with backoff and take
the warehouse pool, so only one step writes to DuckDB at a time.
"""


import logging
from collections.abc import Callable, Iterator
from typing import Any

import dlt
import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    FreshnessPolicy,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.extract.source import DltSource

from ingestion.registry import Registry
from ingestion.registry_tables import registry_source
from ingestion.settings import RunSettings, source_stale_after
from ingestion.stocks import stocks_source
from orchestration.resources import PulseResource, Runtime
from orchestration.table_metadata import with_table_metadata
from orchestration.warehouse import last_suite_failed

log = logging.getLogger("ai_pulse.ingest")

WAREHOUSE_POOL = "duckdb_warehouse"  # one writer at a time
# A failed load (an API outage, a warehouse held by another writer) is retried after ~30 s, then ~60 s.
INGEST_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


def raw_key(source: str, table: str) -> AssetKey:
    """`raw_stocks/prices`: the schema dlt loads into, then the table."""
    return AssetKey([f"raw_{source}", table])


class PulseDltTranslator(DagsterDltTranslator):
    """dlt resource → asset `raw_<source>/<resource>`, grouped by source, no phantom upstream assets."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        resource = data.resource
        return spec.replace_attributes(
            key=raw_key(resource.source_name, resource.name),
            deps=[],
            group_name=f"{resource.source_name}",
            description=(resource.__doc__ or "").strip() or spec.description,
            kinds={"dlt", "duckdb"},
            owners=["team:ai-pulse"],
            freshness_policy=FreshnessPolicy.time_window(fail_window=source_stale_after()),
        )


SourceFactory = Callable[[Registry, Runtime | None], DltSource]

SOURCES: dict[str, SourceFactory] = {
    "registry": lambda registry, rt: registry_source(
        registry,
        as_of=rt.today if rt else None,
        mode=rt.settings.mode if rt else "replay",
        series=rt.manifest.series if rt and rt.manifest else (),
    ),
    "stocks": lambda registry, rt: stocks_source(
        registry.keys_for("stocks"),
        client=rt.client if rt else None,
        start_date=registry.start_date,
        today=rt.today if rt else None,
        lookback_days=registry.lookback_days,
    ),
}

# The raw table whose quality suite guards each source: a failed suite means the next load starts over.
GUARDED_TABLE = {"stocks": "prices"}


def _refresh_mode(runtime: Runtime, source: str) -> str | None:
    """Reload a source in full when asked to, or when its last quality check failed (its raw rows are suspect)."""
    if runtime.settings.full_refresh:
        return "drop_sources"
    table = GUARDED_TABLE.get(source)
    warehouse = runtime.settings.warehouse
    if table and warehouse.exists():
        with duckdb.connect(str(warehouse)) as con:
            if last_suite_failed(con, raw_key(source, table).to_user_string()):
                log.warning("[%s] the last quality check failed; reloading the source in full", source)
                return "drop_sources"
    return None


def build_ingest_assets(registry: Registry, settings: RunSettings) -> list[Any]:
    """One multi-asset per source in SOURCES."""
    return [_source_assets(name, factory, registry, settings) for name, factory in SOURCES.items()]


def _source_assets(name: str, factory: SourceFactory, registry: Registry, settings: RunSettings) -> Any:
    definition_pipeline = dlt.pipeline(
        pipeline_name=f"ai_pulse_{name}",
        destination=dlt.destinations.duckdb(str(settings.warehouse)),
        dataset_name=f"raw_{name}",
        pipelines_dir=str(settings.pipelines_dir),
    )
    translator = PulseDltTranslator()

    # dagster-dlt's @dlt_assets is this multi_asset without a retry policy.
    @multi_asset(
        specs=build_dlt_asset_specs(factory(registry, None), definition_pipeline, translator),
        name=f"load_{name}",
        can_subset=True,
        pool=WAREHOUSE_POOL,
        retry_policy=INGEST_RETRY,
    )
    def _load(context: AssetExecutionContext, dlt: DagsterDltResource, pulse: PulseResource) -> Iterator[Any]:
        runtime = pulse.runtime
        refresh = _refresh_mode(runtime, name)
        events = dlt.run(context=context, dlt_source=factory(runtime.registry, runtime),
                         dlt_pipeline=runtime.pipeline(name), dagster_dlt_translator=translator, refresh=refresh)
        yield from with_table_metadata(_with_rows_loaded(events), runtime.settings.warehouse,
                                       lambda event: event.asset_key)

    _load.__doc__ = f"Loads {name} into raw_{name} with dlt."
    return _load


def _with_rows_loaded(events: Iterator[MaterializeResult]) -> Iterator[MaterializeResult]:
    """dlt reports `rows_loaded` only when rows arrived; a 0 keeps the plot of rows per run continuous."""
    for event in events:
        metadata = dict(event.metadata or {})
        metadata.setdefault("rows_loaded", MetadataValue.int(0))
        yield event._replace(metadata=metadata)
