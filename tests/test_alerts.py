"""The run failure alert, on a real failed run: a real Dagster instance, a real dlt load of a snapshot holding a
negative price, the real blocking GX check failing it. The alert names the check; the webhook receives it once;
the webhook's URL (a canary standing in for a secret) appears in no log, output or event."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, build_run_status_sensor_context

from orchestration.alerts import ALERT_SENSOR_NAME, WEBHOOK_ENV
from tests.conftest import local_server
from tests.snapshot_factory import Bar, SnapshotBuilder

D = dt.date
CANARY = "CANARY-7f3a9c-webhook-secret"


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


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailedRun]:
    """Load AMD (one negative close) on a temporary instance: the blocking price check fails the run."""
    root = tmp_path_factory.mktemp("failed_run")
    registry = root / "registry.yml"
    import yaml

    from ingestion.settings import PROJECT_ROOT
    doc = yaml.safe_load((PROJECT_ROOT / "registry.yml").read_text(encoding="utf-8"))
    doc["signals"] = {"stocks": [{"key": "AMD", "predictions": ["P04"]}]}
    registry.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        patch.setenv("AI_PULSE_REGISTRY", str(registry))
        patch.delenv(WEBHOOK_ENV, raising=False)
        from orchestration.environment import configure_environment

        configure_environment()
        from ingestion.settings import resolve_settings
        from orchestration.definitions import build_definitions

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


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on 127.0.0.1 that keeps what it is sent."""

    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.path, json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # the receiver's own access log is not under test
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    with local_server(Receiver) as url:
        yield f"{url}/hooks/{CANARY}"


def fire_sensor(failed: FailedRun) -> None:
    failure = failed.instance.get_records_for_run(failed.run.run_id, of_type=DagsterEventType.RUN_FAILURE).records
    assert len(failure) == 1
    context = build_run_status_sensor_context(
        sensor_name=ALERT_SENSOR_NAME, dagster_event=failure[0].event_log_entry.dagster_event,
        dagster_instance=failed.instance, dagster_run=failed.run).for_run_failure()
    failed.sensor(context)


def everything_written(failed: FailedRun, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> str:
    captured = capfd.readouterr()
    events = "\n".join(str(r.event_log_entry) for r in failed.instance.get_records_for_run(failed.run.run_id).records)
    alerts_log = (failed.log_dir / "alerts.log").read_text(encoding="utf-8")
    return "\n".join([caplog.text, captured.out, captured.err, events, alerts_log])


def test_a_failed_run_alerts_in_the_log_and_posts_once_to_the_webhook(
        failed_run: FailedRun, receiver: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, receiver)
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

    assert len(Receiver.received) == 1
    path, payload = Receiver.received[0]
    assert path == f"/hooks/{CANARY}"
    assert payload["run_id"] == run_id and payload["job"] == "refresh_everything"
    assert payload["text"] == alert_lines[0]
    assert any("gx_stock_prices" in p and "2024-07-16" in p for p in payload["problems"])

    written = everything_written(failed_run, caplog, capfd)
    assert alert_lines[0] in written, "the alert is also appended to logs/alerts.log"
    assert CANARY not in written and CANARY not in json.dumps(payload)


def test_an_unreachable_webhook_is_reported_without_its_url(
        failed_run: FailedRun, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture) -> None:
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{port}/hooks/{CANARY}?token={CANARY}")
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
