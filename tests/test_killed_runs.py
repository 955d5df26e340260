"""`kill -9` of a run at several points (loading, checking, transforming), then a run to the end: the warehouse is
the one a clean run builds, row for row, with no duplicate key. (One kill of a run extending the bundled warehouse
is `tests/test_pipeline.py::test_a_run_killed_mid_load_loses_nothing_and_the_next_run_completes_it`.)"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AI_PULSE, PROJECT_ROOT, CliRunner, query
from tests.test_pipeline import CONTRACT_TABLES, P04_SIGNALS, p04_snapshot, table_rows

# A line each stage prints once it is under way: the first source fetched (the others fetch, it loads), the first
# quality suite validated, the first dbt lane built.
KILL_POINTS = ("signals fetched", "[quality] ", "[dbt ")


def killed_at(marker: str, env: dict[str, str], snapshot: Path) -> None:
    """Start `ai-pulse run` and SIGKILL its whole process group (dlt, dbt) once a progress line has `marker`."""
    run = subprocess.Popen([str(AI_PULSE), "run", "--snapshot", str(snapshot)], env=env, cwd=PROJECT_ROOT,
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    seen = []
    try:
        for line in run.stderr:
            seen.append(line)
            if marker in line:
                break
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL
    assert any(marker in line for line in seen), f"the run ended before {marker!r}:\n{''.join(seen)}"


@pytest.mark.slow
def test_runs_killed_while_loading_checking_and_transforming_leave_what_a_clean_run_builds(
        run_cli: CliRunner, write_registry, pulse_env: dict[str, str], tmp_path: Path) -> None:
    snapshot = p04_snapshot(tmp_path / "snapshot")
    env = {**pulse_env, "AI_PULSE_REGISTRY": str(write_registry(P04_SIGNALS))}
    clean = str(tmp_path / "clean" / "ai_pulse.duckdb")
    assert run_cli("run", "--snapshot", str(snapshot), env={**env, "AI_PULSE_WAREHOUSE": clean}).returncode == 0

    for marker in KILL_POINTS:  # each run starts where the killed one left the warehouse
        killed_at(marker, env, snapshot)
    again = run_cli("run", "--snapshot", str(snapshot), env=env)
    assert again.returncode == 0, again.stderr

    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
    for table in CONTRACT_TABLES:
        assert table_rows(warehouse, table) == table_rows(clean, table), table
    keys = query(warehouse, "select count(*), count(distinct (ticker, trade_date)) from raw_stocks.prices")[0]
    assert keys[0] == keys[1] == query(clean, "select count(*) from raw_stocks.prices")[0][0]
