"""The run failure alert, on real failed runs: a real Dagster instance, a real dlt load of a snapshot holding a
negative price, the real blocking GX check failing it. The alert names the check; every failed run alerts
exactly once, however it was started (`ai-pulse run` alone, `ai-pulse run` while the daemon watches, a run
launched through the webserver); the webhook's URL (a canary standing in for a secret) appears in no log,
output, event or file."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRun, build_run_status_sensor_context

from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder
from orchestration.defs.sensors import ALERT_SENSOR_NAME
from orchestration.lib.alerts import CLAIMS_DIR, UI_URL_ENV, WEBHOOK_ENV
from tests.conftest import PROJECT_ROOT, CliRunner, free_port, invoke, isolated_env, local_server, running_ui

D = dt.date
T = TypeVar("T")
CANARY = "CANARY-7f3a9c-webhook-secret"
AMD_ONLY = {"stocks": [{"key": "AMD", "predictions": ["P04"]}]}
HEADLINE = "ERROR ai_pulse.alerts AI Pulse run {run_id} "  # how each alert begins in alerts.log
RUN_ID = re.compile(r"alert for run ([0-9a-f-]{36})")
# `dagster dev` names the code location after the module pyproject.toml's [tool.dagster] gives it.
LOCATION = {"repositoryLocationName": "orchestration.code_location", "repositoryName": "__repository__"}
WAIT_S = 600  # hang guard for the daemon's work: a queued run, its steps, then the sensor's next tick


@dataclass
class FailedRun:
    instance: DagsterInstance
    run: DagsterRun
    sensor: object
    log_dir: Path


def negative_price_snapshot(root: Path) -> Path:
    snap = SnapshotBuilder(root, as_of=D(2024, 12, 31))
    snap.stock("AMD", [Bar(D(2024, 7, 15), 150.0), Bar(D(2024, 7, 16), -5.0), Bar(D(2024, 7, 17), 151.0)])
    return snap.write()


def amd_only_registry(path: Path) -> Path:
    """The project's registry with AMD as its only signal: a run loads one recording and checks it."""
    doc = yaml.safe_load((PROJECT_ROOT / "registry.yml").read_text(encoding="utf-8"))
    doc["signals"] = AMD_ONLY
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailedRun]:
    """Load AMD (one negative close) on a temporary instance: the blocking price check fails the run."""
    root = tmp_path_factory.mktemp("failed_run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        patch.setenv("AI_PULSE_REGISTRY", str(amd_only_registry(root / "registry.yml")))
        patch.delenv(WEBHOOK_ENV, raising=False)
        patch.delenv(UI_URL_ENV, raising=False)
        from orchestration.lib.environment import configure_environment

        configure_environment()
        from orchestration.definitions import build_definitions
        from orchestration.lib.settings import resolve_settings

        settings = resolve_settings(snapshot=negative_price_snapshot(root / "snapshot"),
                                    warehouse=root / "warehouse" / "ai_pulse.duckdb")
        defs = build_definitions(settings)
        stocks = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "raw_stocks"]
        with DagsterInstance.get() as instance:
            result = defs.resolve_job_def("refresh_everything").execute_in_process(
                instance=instance, asset_selection=stocks, raise_on_error=False)
            assert not result.success, "the negative price should have failed the run"
            yield FailedRun(instance, instance.get_run_by_id(result.run_id), defs.resolve_sensor_def(ALERT_SENSOR_NAME),
                            settings.warehouse.parent / "logs")


@dataclass
class Webhook:
    """A webhook receiver on 127.0.0.1: its URL (with the canary in its path) and the bodies it was sent."""

    url: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def payloads(self) -> list[dict[str, Any]]:
        return [payload for _, payload in self.received]


@contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    webhook = Webhook("")

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            webhook.received.append((self.path, json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # the receiver's own access log is not under test
            pass

    with local_server(Receiver) as url:
        webhook.url = f"{url}/hooks/{CANARY}"
        yield webhook


@pytest.fixture
def receiver() -> Iterator[Webhook]:
    with webhook_receiver() as webhook:
        yield webhook


def fire_sensor(failed: FailedRun, *, forget_earlier_alerts: bool = True) -> None:
    """Evaluate the alert sensor on the failed run, as the daemon does when it sees the run's failure."""
    if forget_earlier_alerts:  # each test sees the run fail afresh
        shutil.rmtree(Path(failed.instance.root_directory) / CLAIMS_DIR, ignore_errors=True)
    failure = failed.instance.get_records_for_run(failed.run.run_id, of_type=DagsterEventType.RUN_FAILURE).records
    assert len(failure) == 1
    context = build_run_status_sensor_context(
        sensor_name=ALERT_SENSOR_NAME, dagster_event=failure[0].event_log_entry.dagster_event,
        dagster_instance=failed.instance, dagster_run=failed.run).for_run_failure()
    failed.sensor(context)


def files_holding(text: str, *roots: Path) -> list[Path]:
    """Every file under `roots` whose bytes contain `text` (logs, event storage, the warehouse, claims)."""
    needle = text.encode()
    return [path for root in roots for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


def everything_written(failed: FailedRun, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> str:
    captured = capfd.readouterr()
    events = "\n".join(str(r.event_log_entry) for r in failed.instance.get_records_for_run(failed.run.run_id).records)
    alerts_log = (failed.log_dir / "alerts.log").read_text(encoding="utf-8")
    return "\n".join([caplog.text, captured.out, captured.err, events, alerts_log])


def test_a_failed_run_alerts_in_the_log_and_posts_once_to_the_webhook(
        failed_run: FailedRun, receiver: Webhook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # even the HTTP library's debug log must not show the URL
    fire_sensor(failed_run)

    alert_lines = [r.getMessage() for r in caplog.records if r.name == "ai_pulse.alerts"]
    run_id = failed_run.run.run_id
    assert alert_lines[0].startswith(f"AI Pulse run {run_id} (refresh_everything) failed (2 problems): "
                                     "check raw_stocks/prices:gx_stock_prices: suite stock_prices failed")
    assert any("expect_column_values_to_be_between(close)" in line and '"trade_date": "2024-07-16"' in line
               for line in alert_lines[1:]), "the failed expectation and the offending row are named"
    assert alert_lines[-1] == f"alert webhook ({WEBHOOK_ENV}) called for run {run_id}: HTTP 204"

    assert len(receiver.received) == 1
    path, payload = receiver.received[0]
    assert path == f"/hooks/{CANARY}"
    assert payload["run_id"] == run_id and payload["job"] == "refresh_everything"
    assert payload["text"] == alert_lines[0]
    assert payload["reason"].startswith('Execution of run for "refresh_everything" failed')
    assert any("gx_stock_prices" in p and "2024-07-16" in p for p in payload["problems"])
    # No UI address configured: the run's page is named by its path in the UI.
    assert (payload["ui_path"], payload["ui_url"]) == (f"/runs/{run_id}", None)
    assert payload["text"].endswith(f"(open /runs/{run_id} in the UI)")

    written = everything_written(failed_run, caplog, capfd)
    assert alert_lines[0] in written, "the alert is also appended to logs/alerts.log"
    assert CANARY not in written and CANARY not in json.dumps(payload)


def test_a_run_already_alerted_is_not_alerted_again(failed_run: FailedRun, receiver: Webhook,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.lib.alerts import alert_once

    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
    fire_sensor(failed_run)
    fire_sensor(failed_run, forget_earlier_alerts=False)  # the daemon restarted with an older cursor, say
    again = alert_once(failed_run.instance, failed_run.run, failed_run.log_dir, "ai-pulse run (pid 1 on here)")
    assert len(receiver.received) == 1
    assert not again.sent and again.sender.startswith(f"sensor {ALERT_SENSOR_NAME} (pid ")


def test_with_the_ui_address_set_the_alert_links_to_the_run(failed_run: FailedRun, receiver: Webhook,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
    monkeypatch.setenv(UI_URL_ENV, "https://pulse.internal/dagster/")
    fire_sensor(failed_run)
    run_id = failed_run.run.run_id
    link = f"https://pulse.internal/dagster/runs/{run_id}"
    payload = receiver.payloads()[0]
    assert (payload["ui_url"], payload["ui_path"]) == (link, f"/runs/{run_id}")
    assert payload["text"].endswith(f"(open {link})")

    monkeypatch.setenv(UI_URL_ENV, "pulse.internal:3000")  # no scheme: not a link a chat can open
    caplog.set_level(logging.WARNING)
    fire_sensor(failed_run)
    assert receiver.payloads()[1]["ui_url"] is None
    assert f"{UI_URL_ENV}='pulse.internal:3000' is not an http(s) URL" in caplog.text


def test_an_unreachable_webhook_is_reported_without_its_url(
        failed_run: FailedRun, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{free_port()}/hooks/{CANARY}?token={CANARY}")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    fire_sensor(failed_run)

    messages = [r.getMessage() for r in caplog.records if r.name == "ai_pulse.alerts"]
    assert messages[-1].endswith(": not delivered (ConnectionError)")
    assert CANARY not in everything_written(failed_run, caplog, capfd)


def test_without_a_webhook_the_alert_is_only_logged(failed_run: FailedRun, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    caplog.set_level(logging.INFO)
    fire_sensor(failed_run)
    messages = [r.getMessage() for r in caplog.records if r.name == "ai_pulse.alerts"]
    assert messages and all("webhook" not in m for m in messages)
    assert "gx_stock_prices" in messages[0]


# --- Whole commands: `ai-pulse run` in a subprocess, alone and beside `ai-pulse ui` (webserver + daemon). ---


def alert_entries(log_dir: Path, run_id: str) -> int:
    """How many alerts alerts.log holds for `run_id`."""
    path = log_dir / "alerts.log"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return text.count(HEADLINE.format(run_id=run_id))


def cli_run_id(completed: Any) -> str:
    """The failed run's id, from the line `ai-pulse run` prints about its alert."""
    found = RUN_ID.search(completed.stderr)
    assert found, f"no alert line in the output of `ai-pulse run`:\n{completed.stderr}"
    return found.group(1)


@pytest.mark.slow
def test_a_failed_cli_run_without_a_daemon_alerts_once(run_cli: CliRunner, pulse_env: dict[str, str],
                                                       receiver: Webhook, tmp_path: Path) -> None:
    env = {"AI_PULSE_REGISTRY": str(amd_only_registry(tmp_path / "registry.yml")), WEBHOOK_ENV: receiver.url}
    completed = run_cli("run", "--snapshot", str(negative_price_snapshot(tmp_path / "snapshot")), env=env)
    assert completed.returncode == 1
    assert "FAILED check raw_stocks/prices:gx_stock_prices" in completed.stderr
    run_id = cli_run_id(completed)
    log_dir = Path(pulse_env["AI_PULSE_WAREHOUSE"]).parent / "logs"
    assert f"alert for run {run_id} written to {log_dir / 'alerts.log'}; webhook ({WEBHOOK_ENV}): HTTP 204" \
        in completed.stderr

    assert len(receiver.received) == 1, "a cron job's failed run alerts by itself, once"
    payload = receiver.payloads()[0]
    assert payload["run_id"] == run_id
    assert payload["text"].startswith(f"AI Pulse run {run_id} (") and "gx_stock_prices" in payload["text"]
    assert any("expect_column_values_to_be_between(close)" in p for p in payload["problems"])
    assert alert_entries(log_dir, run_id) == 1
    claim = Path(pulse_env["DAGSTER_HOME"]) / CLAIMS_DIR / run_id
    assert claim.read_text(encoding="utf-8").startswith("ai-pulse run (pid ")
    assert CANARY not in completed.stdout + completed.stderr
    assert files_holding(CANARY, Path(pulse_env["DAGSTER_HOME"]), log_dir.parent) == []


@dataclass
class RunningUi:
    """`ai-pulse ui` on an instance of its own, replaying the negative-price snapshot, alerting a webhook."""

    url: str
    env: dict[str, str]
    webhook: Webhook
    log_path: Path

    @property
    def log_dir(self) -> Path:
        return Path(self.env["AI_PULSE_WAREHOUSE"]).parent / "logs"

    @property
    def home(self) -> Path:
        return Path(self.env["DAGSTER_HOME"])


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """One request to the webserver's GraphQL API (proxies bypassed: it is on this machine)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query, "variables": variables or {}})
                                     .encode(), headers={"Content-Type": "application/json"})
    with opener.open(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


SENSOR_TICKS = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { ticks(limit: 50) { status originRunIds } } } } }"""
LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def sensor_ticks(ui: RunningUi) -> list[dict[str, Any]]:
    data = graphql(ui.url, SENSOR_TICKS, {"selector": {**LOCATION, "sensorName": ALERT_SENSOR_NAME}})
    assert data["sensorOrError"]["__typename"] == "Sensor", data
    return data["sensorOrError"]["sensorState"]["ticks"]


def wait_for(what: str, found: Callable[[], T], ui: RunningUi) -> T:
    """Poll until `found()` is truthy (the daemon works on its own clock); the deadline only guards a hang."""
    deadline = time.monotonic() + WAIT_S
    while not (value := found()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}:\n{ui.log_path.read_text()[-5000:]}"
        time.sleep(2)
    return value


def sensor_acted_on(ui: RunningUi, run_id: str) -> bool:
    """Whether the daemon's alert sensor has evaluated the failure of `run_id` (a tick reacting to that run)."""
    return any(run_id in tick["originRunIds"] for tick in sensor_ticks(ui))


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, guard_dir: Path) -> Iterator[RunningUi]:
    root = tmp_path_factory.mktemp("alerts_ui")
    with webhook_receiver() as webhook:
        env = {**isolated_env(root, guard_dir), WEBHOOK_ENV: webhook.url,
               "AI_PULSE_REGISTRY": str(amd_only_registry(root / "registry.yml")),
               "AI_PULSE_SNAPSHOT": str(negative_price_snapshot(root / "snapshot"))}
        with running_ui(env, free_port(), root / "ui.log") as (url, _):
            running = RunningUi(url, env, webhook, root / "ui.log")
            # The sensor's first tick sets its cursor at the newest failure; only later failures are its to see.
            wait_for("the alert sensor's first tick", lambda: [t for t in sensor_ticks(running)
                                                               if t["status"] != "STARTED"], running)
            yield running
        assert CANARY not in (root / "ui.log").read_text(errors="replace"), "the webhook URL reached the UI's log"
        assert files_holding(CANARY, running.home, running.log_dir.parent) == []


@pytest.mark.slow
@pytest.mark.xdist_group("alerts_ui")
def test_a_failed_cli_run_alerts_once_while_the_daemon_watches_the_instance(ui: RunningUi) -> None:
    ui.webhook.received.clear()
    completed = invoke(("run",), ui.env)
    assert completed.returncode == 1, completed.stderr
    run_id = cli_run_id(completed)
    # Both noticed the failure: the command when its run ended, the sensor on a tick of its own after that.
    wait_for(f"the alert sensor to evaluate run {run_id}", lambda: sensor_acted_on(ui, run_id), ui)

    assert [p["run_id"] for p in ui.webhook.payloads()] == [run_id], "one POST, whoever sent it"
    assert alert_entries(ui.log_dir, run_id) == 1
    sender = (ui.home / CLAIMS_DIR / run_id).read_text(encoding="utf-8")
    assert sender.startswith(("ai-pulse run (pid ", f"sensor {ALERT_SENSOR_NAME} (pid "))


@pytest.mark.slow
@pytest.mark.xdist_group("alerts_ui")
def test_a_failed_run_launched_through_the_webserver_alerts_once_with_a_link(ui: RunningUi) -> None:
    ui.webhook.received.clear()
    # What "Materialize" on raw_stocks/prices does in the UI: a queued run the daemon starts (with its checks).
    selector = {**LOCATION, "jobName": "refresh_everything", "assetSelection": [{"path": ["raw_stocks", "prices"]}]}
    launched = graphql(ui.url, LAUNCH_RUN, {"params": {"selector": selector}})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    wait_for(f"the alert sensor to evaluate run {run_id}", lambda: sensor_acted_on(ui, run_id), ui)

    assert [p["run_id"] for p in ui.webhook.payloads()] == [run_id]
    payload = ui.webhook.payloads()[0]
    assert any("gx_stock_prices" in p for p in payload["problems"])
    # `ai-pulse ui` gives its daemon the webserver's own address: the alert links straight to the run's page.
    assert payload["ui_url"] == f"{ui.url}/runs/{run_id}"
    assert payload["text"].endswith(f"(open {ui.url}/runs/{run_id})")
    assert alert_entries(ui.log_dir, run_id) == 1
    assert (ui.home / CLAIMS_DIR / run_id).read_text(encoding="utf-8").startswith(f"sensor {ALERT_SENSOR_NAME} (pid ")
