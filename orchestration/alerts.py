"""Alerts when a run fails: a log line (logger `ai_pulse.alerts`, also appended to `<warehouse dir>/logs/alerts.log`)
and, when `AI_PULSE_ALERT_WEBHOOK` is set, one JSON POST to that URL.

The webhook URL is a secret (it usually embeds a token): it is read from the environment when the alert is sent
and never logged, printed, stored or put into an error message; only the fact that it was called and the
HTTP status are logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from dagster import (
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    run_failure_sensor,
)

log = logging.getLogger("ai_pulse.alerts")

WEBHOOK_ENV = "AI_PULSE_ALERT_WEBHOOK"
WEBHOOK_TIMEOUT_S = 10  # one attempt: a slow or broken receiver must not hold the sensor, nor be hammered
ALERT_SENSOR_NAME = "alert_on_run_failure"


def failure_lines(events: Iterable[DagsterEvent]) -> list[str]:
    """Name every failed step and failed check of a run with its reason."""
    lines = []
    for event in events:
        if event.event_type_value == DagsterEventType.STEP_FAILURE.value:
            error = event.event_specific_data.error
            message = error.message.strip() if error else "unknown error"
            cause = error.cause.message.strip() if error and error.cause else ""
            lines.append(f"step {event.step_key}: {message}" + (f" (cause: {cause})" if cause else ""))
        elif event.event_type_value == DagsterEventType.ASSET_CHECK_EVALUATION.value:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                key = evaluation.asset_key.to_user_string()
                lines.append(f"check {key}:{evaluation.check_name}: {evaluation.description or ''}")
    return lines


@dataclass(frozen=True)
class Alert:
    """What went wrong in one run, in words a person on call can act on."""

    run_id: str
    job: str
    problems: list[str]
    reason: str

    @property
    def text(self) -> str:
        """One line: the run, how many problems, the first of them, where to look."""
        first = _first_line(self.problems[0] if self.problems else self.reason, 500)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}" if self.problems else "error"
        return (f"AI Pulse run {self.run_id} ({self.job}) failed ({count}): {first} "
                f"(open /runs/{self.run_id} in the UI)")

    def payload(self) -> dict[str, Any]:
        """The webhook body; `text` is what chat webhooks (Slack, Mattermost, Teams) display."""
        return {"text": self.text, "run_id": self.run_id, "job": self.job, "problems": self.problems,
                "reason": self.reason, "ui_path": f"/runs/{self.run_id}"}


def _first_line(text: str, limit: int) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def alert_for_run(instance: DagsterInstance, run: DagsterRun, reason: str = "") -> Alert:
    """Collect the failed steps and checks of `run` from the instance's event log."""
    records = instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_FAILURE,
                                                     DagsterEventType.ASSET_CHECK_EVALUATION})
    problems = failure_lines(r.dagster_event for r in records if r.dagster_event)
    return Alert(run_id=run.run_id, job=run.job_name, problems=problems, reason=reason or "the run failed")


def _log_to_file(log_dir: Path) -> None:
    """Append alert lines to log_dir/alerts.log as well (once per process)."""
    path = (log_dir / "alerts.log").resolve()
    if any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in log.handlers):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


@contextlib.contextmanager
def _urllib3_silenced() -> Iterator[None]:
    """urllib3 logs each request's host and path (debug) and retries with the URL (warning): not for this one."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "urllib3" or name.startswith("urllib3.")]
    before = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, disabled in zip(loggers, before, strict=True):
            logger.disabled = disabled


def post_webhook(url: str, payload: dict[str, Any]) -> str:
    """POST the alert once; return what happened without repeating the URL (exception texts often contain it)."""
    try:
        with _urllib3_silenced():
            response = requests.post(url, json=payload, timeout=WEBHOOK_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        return f"not delivered ({type(exc).__name__})"
    return f"HTTP {response.status_code}"


def send_alert(alert: Alert, log_dir: Path) -> str | None:
    """Log the alert, then call the webhook if one is configured; returns the webhook's outcome (None: no webhook)."""
    _log_to_file(log_dir)
    log.error(alert.text)
    for problem in alert.problems:
        log.error("  %s", _first_line(problem, 4000))
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return None
    outcome = post_webhook(url, alert.payload())
    level = logging.INFO if outcome.startswith("HTTP 2") else logging.WARNING
    log.log(level, "alert webhook (%s) called for run %s: %s", WEBHOOK_ENV, alert.run_id, outcome)
    return outcome


def build_alert_sensor(log_dir: Path) -> SensorDefinition:
    """A run failure sensor, on by default, that sends one alert per failed run."""

    @run_failure_sensor(name=ALERT_SENSOR_NAME, default_status=DefaultSensorStatus.RUNNING,
                        description=f"Logs every failed run to ai_pulse.alerts and {log_dir / 'alerts.log'}; "
                                    f"POSTs it to ${WEBHOOK_ENV} when set.")
    def alert_on_run_failure(context: RunFailureSensorContext) -> None:
        reason = context.failure_event.message or ""
        send_alert(alert_for_run(context.instance, context.dagster_run, reason), log_dir)

    return alert_on_run_failure
