"""Runs that `ai-pulse run` starts in the Dagster instance carry the id of the process running them.

Steps that write the warehouse hold the pool's single slot; if that process dies without a word (killed, out of
memory), its run would stay "started" and keep the slot, and every later run would wait for it forever. Before
each run, such abandoned runs are closed as failed and their slot is given back.
"""

from __future__ import annotations

import logging
import os
import socket

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

log = logging.getLogger("ai_pulse.runs")

PID_TAG = "ai_pulse/pid"
HOST_TAG = "ai_pulse/host"
UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED,
              DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run it executes in-process."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_abandoned_runs(instance: DagsterInstance) -> list[str]:
    """Mark unfinished runs of this machine whose process is gone as failed and free their pool slots."""
    closed = []
    runs = instance.get_runs(RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()}))
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid <= 0 or _alive(pid):
            continue
        instance.report_run_failed(run, f"the ai-pulse process running it (pid {pid}) is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning("closed run %s: the process running it (pid %s) is gone; its warehouse slot is free again",
                    run.run_id, pid)
        closed.append(run.run_id)
    return closed
