"""When AI Pulse runs by itself: one job that materializes every asset (with its checks), every night."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DagsterInvalidDefinitionError,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)

from orchestration.lib.settings import ConfigError, nightly_cron

REFRESH_JOB_NAME = "refresh_everything"
NIGHTLY_SCHEDULE_NAME = "nightly_refresh"

refresh_everything = define_asset_job(
    REFRESH_JOB_NAME,
    selection=AssetSelection.all(),
    description="Every asset and its checks: ingest each source, validate it, build the dbt models and the "
                "scorecard (what `ai-pulse run` does).",
)


def nightly_schedule() -> ScheduleDefinition:
    """`refresh_everything` at `nightly_cron()` (UTC), running whenever the Dagster daemon runs."""
    cron = nightly_cron()
    try:
        return ScheduleDefinition(
            name=NIGHTLY_SCHEDULE_NAME,
            job=refresh_everything,
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=DefaultScheduleStatus.RUNNING,
            description=f"Refreshes every asset at `{cron}` UTC (set AI_PULSE_SCHEDULE_CRON to change it).",
            tags={"ai_pulse/trigger": "nightly_schedule"},
        )
    except DagsterInvalidDefinitionError:
        raise ConfigError(f"AI_PULSE_SCHEDULE_CRON={cron!r} is not a cron string; use five fields such as "
                          "'0 2 * * *' (02:00 UTC), or unset it") from None
