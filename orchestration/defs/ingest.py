"""Ingestion assets: one Dagster multi-asset per dlt source, one asset per dlt resource (`raw_<source>/<table>`).

The translator below is the single place where dlt names become asset keys; it also gives every source asset
the freshness policy (stale after `AI_PULSE_STALE_AFTER_HOURS`, default 36). Loads retry with backoff and take
the warehouse pool, so only one step writes to DuckDB at a time.
"""


import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    Failure,
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

from ingestion.github import github_source
from ingestion.http import DEFAULT_NEEDS, ClientNeeds
from ingestion.news import news_source
from ingestion.registry import Registry
from ingestion.registry_tables import registry_source
from ingestion.regulatory import regulatory_source
from ingestion.stocks import CLIENT_NEEDS as STOCKS_CLIENT_NEEDS
from ingestion.stocks import stocks_source
from ingestion.trends import trends_source
from orchestration.defs.lane_plan import RELOADED_IN_FULL
from orchestration.defs.resources import PulseResource, Runtime, warehouse_destination
from orchestration.defs.table_metadata import with_table_metadata
from orchestration.lib.settings import RunSettings, Warehouse, source_stale_after
from orchestration.lib.warehouse import connect, dlt_schema, lock_conflict, source_data_suspect, table_columns

log = logging.getLogger("ai_pulse.ingest")

WAREHOUSE_POOL = "duckdb_warehouse"  # one writer at a time
# A failed load (an API outage) is retried after ~30 s, then ~60 s; a warehouse file locked by another process is
# not (see _locked_out_fails_at_once).
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
}


def _registered(factory: Callable[..., DltSource], source: str, needs: ClientNeeds = DEFAULT_NEEDS) -> SourceFactory:
    """A source fed from the registry: its keys, start date and look-back, plus today and its own client of the run,
    built with what the source's module declares it needs (e.g. a browser for Yahoo)."""
    return lambda registry, rt: factory(
        registry.keys_for(source),
        client=rt.client_for(source, needs) if rt else None,
        start_date=registry.start_date,
        today=rt.today if rt else None,
        lookback_days=registry.lookback_days,
    )


SOURCES.update({
    "stocks": _registered(stocks_source, "stocks", STOCKS_CLIENT_NEEDS),
    "trends": _registered(trends_source, "trends"),
    "github": _registered(github_source, "github"),
    "regulatory": _registered(regulatory_source, "regulatory"),
    "news": _registered(news_source, "news"),
})


def _refresh_mode(runtime: Runtime, source: str, declared: DltSource) -> str | None:
    """Reload a source in full when asked to, when its last quality check failed (its raw rows are suspect), when
    a raw table lacks a column the source now declares (the table layout changed; frozen columns cannot evolve), or
    when dlt's stored schema leaves unsaid whether a declared column may be null (tables loaded before the sources
    handed dlt Arrow tables, whose every column says it: frozen types count the difference as a type change)."""
    if runtime.settings.full_refresh:
        return "drop_sources"
    warehouse = runtime.settings.database
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        if source_data_suspect(con, source):
            log.warning("[%s] the last quality check failed; reloading the source in full", source)
            return "drop_sources"
        stored_schema = dlt_schema(con, source)
        for resource in declared.resources.selected.values():
            columns = resource.columns if isinstance(resource.columns, dict) else {}
            existing = table_columns(con, f"raw_{source}", resource.name)
            if existing and (missing := sorted(set(columns) - existing)):
                log.warning("[%s] raw_%s.%s lacks column(s) %s (its layout changed); reloading the source in full",
                            source, source, resource.name, ", ".join(missing))
                return "drop_sources"
            stored = stored_schema.get("tables", {}).get(resource.name, {}).get("columns", {})
            if any("nullable" in spec and name in stored and "nullable" not in stored[name]
                   for name, spec in columns.items()):
                log.warning("[%s] raw_%s.%s was loaded before its columns said whether they may be null; reloading "
                            "the source in full", source, source, resource.name)
                return "drop_sources"
    return None


def build_ingest_assets(registry: Registry, settings: RunSettings) -> list[Any]:
    """One multi-asset per source in SOURCES."""
    return [_source_assets(name, factory, registry, settings) for name, factory in SOURCES.items()]


def _source_assets(name: str, factory: SourceFactory, registry: Registry, settings: RunSettings) -> Any:
    definition_pipeline = dlt.pipeline(
        pipeline_name=f"ai_pulse_{name}",
        destination=warehouse_destination(settings.warehouse),
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
        with _locked_out_fails_at_once(runtime.settings.database):
            source = factory(runtime.registry, runtime)
            refresh = _refresh_mode(runtime, name, source)
            # Parquet load files: DuckDB reads them in bulk, where dlt's default for DuckDB (INSERT VALUES
            # statements) took most of a large load (the scale benchmark: 341 s of 439 s in the loads).
            events = dlt.run(context=context, dlt_source=source, dlt_pipeline=runtime.pipeline(name),
                             dagster_dlt_translator=translator, refresh=refresh, loader_file_format="parquet")
            yield from with_table_metadata(_with_rows_loaded(events, refresh is not None), runtime.settings.database,
                                           lambda event: event.asset_key)

    _load.__doc__ = f"Loads {name} into raw_{name} with dlt."
    return _load


@contextmanager
def _locked_out_fails_at_once(database: Warehouse) -> Iterator[None]:
    """A DuckDB file lock held by another process fails the load at once, in one sentence naming the file, the
    holder and the fix: the retry policy is for the network, and dlt would otherwise report the lock as a
    connection failure ("check your credentials ... internet connection may be down") after every retry."""
    try:
        yield
    except Exception as exc:
        busy = lock_conflict(database, exc)
        if busy is None:
            raise
        raise Failure(description=str(busy), allow_retries=False) from None


def _with_rows_loaded(events: Iterator[MaterializeResult], reloaded: bool) -> Iterator[MaterializeResult]:
    """dlt reports `rows_loaded` only when rows arrived; a 0 keeps the plot of rows per run continuous. Each table
    also says whether its source was reloaded in full, so the incremental facts built from it rebuild in full."""
    for event in events:
        metadata = dict(event.metadata or {})
        metadata.setdefault("rows_loaded", MetadataValue.int(0))
        metadata[RELOADED_IN_FULL] = MetadataValue.bool(reloaded)
        yield event._replace(metadata=metadata)
