"""Alerts when a run fails: a log line (logger `ai_pulse.alerts`, also appended to `<warehouse dir>/logs/alerts.log`)
and, when `AI_PULSE_ALERT_WEBHOOK` is set, one JSON POST to that URL.

Every failed run alerts once, whoever notices it first: `ai-pulse run` for its own run (cron, by hand), the
daemon's sensor for every failed run in the instance (UI, schedule, and `ai-pulse run` while the daemon runs).
Both first claim the run with a file created exclusively under DAGSTER_HOME, so one of them sends and the other
stays quiet.

The webhook URL is a secret (it usually embeds a token): it is read from the environment when the alert is sent
and never logged, printed, stored or put into an error message; only the fact that it was called and the
HTTP status are logged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRun

log = logging.getLogger("ai_pulse.alerts")

WEBHOOK_ENV = "AI_PULSE_ALERT_WEBHOOK"
UI_URL_ENV = "AI_PULSE_UI_URL"  # the Dagster UI's base URL, for a link a person can click
WEBHOOK_TIMEOUT_S = 10  # one attempt: a slow or broken receiver must not hold the sensor, nor be hammered
CLAIMS_DIR = "alerts_sent"  # under DAGSTER_HOME: one file per alerted run, naming who sent it


def failure_lines(events: Iterable[DagsterEvent]) -> list[str]:
    """Name every failed step and failed check of a run with its reason, and what failed the run outside any step
    (setting the run up, e.g. a warehouse locked by another process, or publishing it)."""
    lines, outside_steps = [], []
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
        elif event.event_type_value == DagsterEventType.RUN_FAILURE.value:
            # A run closed as abandoned (orchestration/lib/runs.py) carries no failure data at all.
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                outside_steps.append(f"run: {_root_cause(error)}")
    # A run failed by a step repeats that step's error as its own; only a run no step failed has a cause of its own.
    return lines if any(line.startswith("step ") for line in lines) else lines + outside_steps


def _root_cause(error: Any) -> str:
    """The innermost cause of a Dagster error (e.g. the WarehouseBusy under "Error executing resource_fn"), without
    its exception class."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    head, _, rest = message.partition(": ")
    return rest if error.cls_name and head.endswith(error.cls_name) else message


@dataclass(frozen=True)
class Alert:
    """What went wrong in one run, in words a person on call can act on."""

    run_id: str
    job: str
    problems: list[str]
    reason: str
    ui_base_url: str | None = None

    @property
    def ui_path(self) -> str:
        """The run's page, relative to the Dagster UI."""
        return f"/runs/{self.run_id}"

    @property
    def ui_url(self) -> str | None:
        """The run's page as a link, when the UI's base URL is known."""
        return f"{self.ui_base_url}{self.ui_path}" if self.ui_base_url else None

    @property
    def text(self) -> str:
        """One line: the run, how many problems, the first of them, where to look."""
        first = _first_line(self.problems[0] if self.problems else self.reason, 500)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}" if self.problems else "error"
        where = f"open {self.ui_url}" if self.ui_url else f"open {self.ui_path} in the UI"
        return f"AI Pulse run {self.run_id} ({self.job}) failed ({count}): {first} ({where})"

    def payload(self) -> dict[str, Any]:
        """The webhook body; `text` is what chat webhooks (Slack, Mattermost, Teams) display."""
        return {"text": self.text, "run_id": self.run_id, "job": self.job, "problems": self.problems,
                "reason": self.reason, "ui_path": self.ui_path, "ui_url": self.ui_url}


def _first_line(text: str, limit: int) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def ui_base_url() -> str | None:
    """`AI_PULSE_UI_URL` without its trailing slash; None when unset or not an http(s) URL (warned about)."""
    return http_base_url(UI_URL_ENV, "alerts carry the run's path only", "http://127.0.0.1:3000")


def http_base_url(variable: str, otherwise: str, example: str) -> str | None:
    """An environment variable naming a base URL, without its trailing slash; None when unset or not an http(s)
    URL, which is warned about (`otherwise` says what happens then, `example` what a good value looks like)."""
    value = os.environ.get(variable, "").strip().rstrip("/")
    if not value:
        return None
    if not re.match(r"https?://[^/\s]+", value):
        log.warning("%s=%r is not an http(s) URL; %s (set it like %s, or unset it)", variable, value, otherwise,
                    example)
        return None
    return value


def alert_for_run(instance: DagsterInstance, run: DagsterRun) -> Alert:
    """Collect the failed steps and checks of `run`, and the reason the run failed, from the instance's event
    log (the same words whoever sends the alert)."""
    records = instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_FAILURE,
                                                     DagsterEventType.ASSET_CHECK_EVALUATION,
                                                     DagsterEventType.RUN_FAILURE})
    events = [r.dagster_event for r in records if r.dagster_event]
    reasons = [e.message for e in events if e.event_type_value == DagsterEventType.RUN_FAILURE.value and e.message]
    return Alert(run_id=run.run_id, job=run.job_name, problems=failure_lines(events),
                 reason=reasons[-1] if reasons else "the run failed", ui_base_url=ui_base_url())


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


def this_process(role: str) -> str:
    """Who sends an alert, as recorded in its claim: role, process id and host."""
    return f"{role} (pid {os.getpid()} on {socket.gethostname()})"


def claim_alert(instance: DagsterInstance, run_id: str, sender: str) -> str | None:
    """Claim the one alert of `run_id`: None when this caller may send it, else who claimed it before.

    The claim is a file created with O_EXCL (atomic on a local file system) under the instance's directory, which
    `ai-pulse run` and the daemon share on one machine; see docs/OPERATIONS.md for several machines."""
    claims = Path(instance.root_directory) / CLAIMS_DIR
    # Dagster's run ids are UUIDs; anything else is hashed rather than used as a path.
    name = run_id if re.fullmatch(r"[A-Za-z0-9_-]{1,128}", run_id) else hashlib.sha256(run_id.encode()).hexdigest()
    path = claims / name
    try:
        claims.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip() or "another process"
    except OSError as exc:  # better a second alert than none
        log.warning("cannot claim the alert of run %s in %s (%s); sending it anyway", run_id, claims, exc.strerror)
        return None
    with os.fdopen(descriptor, "w", encoding="utf-8") as claim:
        claim.write(f"{sender} at {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n")
    return None


@dataclass(frozen=True)
class Delivery:
    """What became of a failed run's alert."""

    sent: bool  # False: another process had claimed it and sends it
    sender: str  # who sends it: this process, or the one that claimed it first
    webhook: str | None = None  # the webhook's outcome ("HTTP 204", "not delivered (…)"); None: none called


def alert_once(instance: DagsterInstance, run: DagsterRun, log_dir: Path, sender: str) -> Delivery:
    """Send the alert of the failed `run` unless another process already claimed it."""
    claimed_by = claim_alert(instance, run.run_id, sender)
    if claimed_by is not None:
        return Delivery(sent=False, sender=claimed_by)
    return Delivery(sent=True, sender=sender, webhook=send_alert(alert_for_run(instance, run), log_dir))
