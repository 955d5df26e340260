"""A run whose `ai-pulse run` process died must not hold the warehouse pool's only slot forever."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from orchestration.lib.runs import HOST_TAG, PID_TAG, close_abandoned_runs

POOL = "duckdb_warehouse"


def started_run(instance: DagsterInstance, pid: int) -> DagsterRun:
    run = DagsterRun(job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
                     tags={PID_TAG: str(pid), HOST_TAG: socket.gethostname()})
    instance.add_run(run)
    instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "load_stocks")
    return run


def test_a_run_of_a_dead_process_is_closed_and_its_slot_freed(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.lib.environment import configure_environment

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    configure_environment()
    child = subprocess.Popen(["true"])  # noqa: S607 - any short-lived process will do
    child.wait()
    dead_pid = child.pid
    with DagsterInstance.get() as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        dead = started_run(instance, dead_pid)
        assert [s.run_id for s in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots] == [dead.run_id]
        live = DagsterRun(job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
                          tags={PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()})
        instance.add_run(live)

        assert close_abandoned_runs(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live.run_id).status == DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
