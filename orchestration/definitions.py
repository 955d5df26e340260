"""Everything Dagster knows about AI Pulse, assembled in one place.

`build_definitions(settings)` is used by `ai-pulse run` (in-process) and by `orchestration.code_location`,
the module the Dagster webserver and daemon load (`ai-pulse ui`), with settings from the environment.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor
from dagster_dlt import DagsterDltResource

from ingestion.registry import load_registry
from orchestration.defs.ingest import build_ingest_assets
from orchestration.defs.quality import CHECK_RESULTS_SPEC, QUALITY_CHECKS
from orchestration.defs.report import build_report_asset
from orchestration.defs.resources import PulseResource
from orchestration.defs.schedules import nightly_schedule, refresh_everything
from orchestration.defs.sensors import build_alert_sensor
from orchestration.defs.transform import build_dbt_assets
from orchestration.lib.settings import RunSettings


def build_definitions(settings: RunSettings) -> Definitions:
    """Assets (dlt → dbt → report), quality checks, the nightly schedule, the failure alert and resources for
    one warehouse and one data origin.

    Every job runs its steps in one process (the in-process executor), as `ai-pulse run` does: a run then sets up
    the `pulse` resource once, which takes the warehouse, works on a copy and publishes it when the run succeeds
    (PulseResource). Steps in processes of their own would each set it up and tear it down. Nothing is lost: the
    steps that write DuckDB ran one at a time anyway (the warehouse pool has one slot)."""
    registry = load_registry()
    transform = build_dbt_assets(settings.warehouse)
    return Definitions(
        assets=[*build_ingest_assets(registry, settings), CHECK_RESULTS_SPEC, *transform,
                build_report_asset([key for lane in transform for key in lane.keys])],
        asset_checks=QUALITY_CHECKS,
        jobs=[refresh_everything],
        schedules=[nightly_schedule()],
        sensors=[build_alert_sensor(settings.warehouse.parent / "logs")],
        executor=in_process_executor,
        resources={
            "pulse": PulseResource.from_settings(settings),
            "dlt": DagsterDltResource(),
        },
    )
