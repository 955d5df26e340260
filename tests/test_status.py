"""`ai-pulse status` on an empty and on a filled warehouse, and how much progress a run prints."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from pathlib import Path

import pytest

from orchestration.cli.status import next_scheduled_run
from orchestration.cli.terminal import progress_level, shows_live_progress
from tests.conftest import AI_PULSE, PROJECT_ROOT, BundledRun, CliRunner, query


def test_status_without_a_warehouse_or_runs_says_so_and_exits_0(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli("status", "--warehouse", str(tmp_path / "empty" / "ai_pulse.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "Last run:     no runs yet" in result.stdout
    assert f"No warehouse at {tmp_path / 'empty' / 'ai_pulse.duckdb'} yet" in result.stdout
    assert re.search(r"Next run:     \d{4}-\d\d-\d\d 02:00:00 UTC \(cron '0 2 \* \* \*' UTC", result.stdout)
    assert not (tmp_path / "empty").exists(), "status only looks"


def test_next_scheduled_run_follows_the_cron_string_in_utc() -> None:
    now = dt.datetime(2025, 3, 9, 23, 59, tzinfo=dt.UTC)
    assert next_scheduled_run("0 2 * * *", now) == dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC)
    assert next_scheduled_run("30 4 * * 1", now) == dt.datetime(2025, 3, 10, 4, 30, tzinfo=dt.UTC)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_detailed_on_a_terminal_and_one_line_per_step_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert progress_level(False, False, Terminal()) == logging.DEBUG
    assert progress_level(False, False, io.StringIO()) == logging.INFO, "redirected output"
    assert progress_level(True, False, Terminal()) == logging.WARNING
    assert shows_live_progress(False, Terminal()) and not shows_live_progress(True, Terminal())
    assert not shows_live_progress(False, io.StringIO()), "no counter in a redirected log"
    monkeypatch.setenv("CI", "true")
    assert progress_level(False, False, Terminal()) == logging.INFO
    assert progress_level(False, True, Terminal()) == logging.DEBUG, "-v beats CI"
    assert not shows_live_progress(False, Terminal()), "no counter in CI, even on a terminal"


@pytest.mark.slow
def test_status_on_a_filled_warehouse_shows_last_run_freshness_checks_and_next_run(
        bundled_run: BundledRun, run_cli: CliRunner) -> None:
    result = run_cli("status", env={**bundled_run.env, "AI_PULSE_SCHEDULE_CRON": "30 4 * * *"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"Last run:     SUCCESS · replay · started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", out)
    next_run = re.search(r"Next run:     (\S+ \S+) UTC \(cron '30 4 \* \* \*' UTC", out)
    assert next_run and next_run.group(1).endswith("04:30:00")
    prices, newest = query(bundled_run.warehouse, "select count(*), max(trade_date) from raw_stocks.prices")[0]
    assert re.search(rf"raw_stocks\.prices\s+{prices:,}\s+{newest}\s+trade_date", out)
    assert re.search(r"core\.fct_stock_daily\s+[\d,]+\s+\d{4}-\d\d-\d\d", out)
    assert re.search(r"stocks: \d+ ok", out)
    total, passed, warned = query(bundled_run.warehouse, "select count(*), count(*) filter (success), "
                                  "count(*) filter (not success and not blocking) from quality.check_results "
                                  "where run_id = (select max_by(run_id, checked_at) from quality.check_results)")[0]
    # The bundled snapshot's one missing article (GPT_Store, a 404) is a warning, never a blocking failure.
    assert warned >= 1 and passed + warned == total
    assert f"{passed} of {total} expectations passed, 0 failed (blocking), {warned} warned (raw_github/repos" in out
    assert "warning raw_trends/interest trends_signal_status: expect_column_values_to_not_be_in_set(status)" in out
    assert "Data as of:   2025-12-31 (replay)" in out


@pytest.mark.slow
def test_a_run_prints_one_progress_line_per_step_when_output_is_not_a_terminal(bundled_run: BundledRun) -> None:
    progress = bundled_run.completed.stderr
    assert re.search(r"^\[stocks\] \d+ chart signals fetched: \d+ ok; \d+ rows$", progress, re.M)
    assert re.search(r"^\[quality\] raw_stocks/prices: suite stock_prices: all \d+ expectations passed", progress,
                     re.M)
    assert re.search(r"^\[dbt stocks\] \d+ models built, (\d+) of \1 tests passed", progress, re.M)
    assert re.search(r"^\[report\] 15 predictions, \d+ charts from \d+ indicator tables", progress, re.M)
    assert "[stocks] 1/" not in progress and "START sql" not in progress, "detail stays out of CI logs"
    assert not re.search(r"\[\d+/\d+\]", progress), "no live step counter when output is not a terminal"
    run_log = bundled_run.warehouse.parent / "logs" / "last_run.log"
    assert "OK created sql table model marts.prediction_scorecard" in run_log.read_text(encoding="utf-8")


def run_on_a_terminal(args: list[str], env: dict[str, str], timeout: float = 900) -> tuple[int, str]:
    """Run `ai-pulse ARGS` with a pseudo-terminal (120 columns) as its stdin, stdout and stderr, as a person at a
    terminal would; returns the exit status and everything the terminal received."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios
    import time

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([str(AI_PULSE), *args], env={**env, "TERM": "xterm-256color"}, cwd=PROJECT_ROOT,
                               stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True)
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 1)[0]:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: the terminal's other end closed, the command has ended
                    break
                if not chunk:
                    break
                received += chunk
            elif process.poll() is not None:
                break
    finally:
        os.close(controller)
    return process.wait(timeout=60), received.decode("utf-8", errors="replace")


@pytest.mark.slow
def test_a_run_on_a_terminal_shows_a_live_step_counter(write_registry, pulse_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    from tests.test_pipeline import P04_SIGNALS, p04_snapshot

    env = {key: value for key, value in pulse_env.items() if key != "CI"}
    env["AI_PULSE_REGISTRY"] = str(write_registry(P04_SIGNALS))
    status, screen = run_on_a_terminal(["run", "--snapshot", str(p04_snapshot(tmp_path / "s"))], env)
    assert status == 0, screen
    counts = [(int(done), int(total)) for done, total in re.findall(r"\[(\d+)/(\d+)\]", screen)]
    assert counts, f"no step counter on the terminal:\n{screen}"
    totals = {total for _, total in counts}
    assert len(totals) == 1 and totals.pop() > 10, "one total: every step of the job"
    done = [d for d, _ in counts]
    assert done == sorted(done) and done[-1] > done[0], "the counter moves forward as steps finish"
    assert "\r" in screen or "\x1b[" in screen, "it is redrawn in place, not printed line after line"
    # The progress lines and the scorecard still reach the terminal above it.
    assert "[stocks] 3 chart signals fetched" in screen and "AI Pulse scorecard" in screen
