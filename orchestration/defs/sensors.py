"""The sensor that alerts once for every failed run, however it was started (orchestration/lib/alerts.py sends)."""

from __future__ import annotations

from pathlib import Path

from dagster import DefaultSensorStatus, RunFailureSensorContext, SensorDefinition, run_failure_sensor

from orchestration.lib.alerts import WEBHOOK_ENV, alert_once, this_process

ALERT_SENSOR_NAME = "alert_on_run_failure"


def build_alert_sensor(log_dir: Path) -> SensorDefinition:
    """A run failure sensor, on by default, that alerts once for every failed run in the instance."""

    # monitor_all_code_locations: otherwise a run only matches when its `remote_job_origin` names this sensor's
    # code location, and `execute_in_process` (`ai-pulse run`) records its run without any remote origin, so the
    # sensor skipped it ("Sensor function returned an empty result"). Dagster 1.13 source:
    # _core/definitions/run_status_sensor_definition.py (job_match) and _core/execution/execute_in_process.py.
    @run_failure_sensor(name=ALERT_SENSOR_NAME, default_status=DefaultSensorStatus.RUNNING,
                        monitor_all_code_locations=True,
                        description=f"Alerts once for every failed run in the instance, however it was started: "
                                    f"logs it to ai_pulse.alerts and {log_dir / 'alerts.log'}, POSTs it to "
                                    f"${WEBHOOK_ENV} when set (unless `ai-pulse run` already did).")
    def alert_on_run_failure(context: RunFailureSensorContext) -> None:
        delivery = alert_once(context.instance, context.dagster_run, log_dir,
                              this_process(f"sensor {ALERT_SENSOR_NAME}"))
        if not delivery.sent:
            context.log.info(f"run {context.dagster_run.run_id}: alert already sent by {delivery.sender}")

    return alert_on_run_failure
