"""Analysts never block the night, and the night never shows them half a run: an analyst's read-only DuckDB
session, open in another process through whole runs, never errors and never makes a run fail; a run that fails
leaves the published file exactly as it was; a run that succeeds is seen by the next connection. A process that
holds the file for writing fails the run at once, in one sentence naming the file, the holder and the fix."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliRunner, query
from tests.test_quality_gates import GOOD_UNTIL, LATER, SIGNALS, snapshot

# An analyst's session: one read-only connection, opened once and kept; every line on stdin asks it again.
READER = """
import json, sys
import duckdb

con = duckdb.connect(sys.argv[1], read_only=True)
for _ in sys.stdin:
    as_of = con.execute("select max(as_of) from marts.prediction_scorecard").fetchone()[0]
    facts = con.execute("select count(*), max(trade_date) from core.fct_stock_daily").fetchone()
    print(json.dumps([str(as_of), facts[0], str(facts[1])]), flush=True)
"""

# Someone who opened the warehouse read-write (the DuckDB CLI without -readonly) and left it open.
WRITER = """
import sys
import duckdb

con = duckdb.connect(sys.argv[1])
print("open", flush=True)
sys.stdin.read()
"""

SEEN = "select max(as_of)::varchar, (select count(*) from core.fct_stock_daily), " \
       "(select max(trade_date)::varchar from core.fct_stock_daily) from marts.prediction_scorecard"


class Session:
    """A process holding a DuckDB connection open on the warehouse; `ask()` queries it through that connection."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def ask(self) -> list[object]:
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the session died: {self.process.stderr.read()}"
        return json.loads(line)


@contextmanager
def session(script: str, warehouse: Path) -> Iterator[Session]:
    process = subprocess.Popen([sys.executable, "-c", script, str(warehouse)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield Session(process)
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0, f"the session failed: {process.stderr.read()}"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def working_folder(warehouse: Path) -> Path:
    return warehouse.parent / f".{warehouse.stem}_run"


@dataclass(frozen=True)
class Published:
    """A warehouse after one good run (the small snapshot as of GOOD_UNTIL), and the environment that made it."""

    env: dict[str, str]
    warehouse: Path
    seen: tuple[object, ...]


@pytest.fixture
def published(run_cli: CliRunner, write_registry, pulse_env: dict[str, str], tmp_path: Path) -> Published:
    env = {"AI_PULSE_REGISTRY": str(write_registry(SIGNALS))}
    warehouse = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    first = run_cli("run", "--snapshot", str(snapshot(tmp_path / "a", GOOD_UNTIL)), env=env)
    assert first.returncode == 0, first.stderr
    seen = query(warehouse, SEEN)[0]
    assert seen[0] == str(GOOD_UNTIL)
    return Published(env, warehouse, seen)


@pytest.mark.slow
def test_an_open_read_only_session_never_blocks_a_run_nor_sees_half_of_one(
        run_cli: CliRunner, published: Published, tmp_path: Path) -> None:
    env, warehouse = published.env, published.warehouse
    with session(READER, warehouse) as analyst:
        before = analyst.ask()
        assert tuple(before) == published.seen

        # A run that fails (every source's blocking checks find corrupted rows) publishes nothing.
        untouched = digest(warehouse)
        bad = run_cli("run", "--snapshot", str(snapshot(tmp_path / "b", LATER, corrupt=True)), env=env)
        assert bad.returncode == 1, bad.stderr
        assert "gx_stock_prices" in bad.stderr
        assert digest(warehouse) == untouched, "a failed run changed the published warehouse"
        assert not working_folder(warehouse).exists(), "a failed run left its working copy behind"
        assert analyst.ask() == before

        # A run that succeeds, while the session stays open: the session keeps what it opened, whole.
        good = run_cli("run", "--snapshot", str(snapshot(tmp_path / "c", LATER)), env=env)
        assert good.returncode == 0, good.stderr
        assert analyst.ask() == before
        assert not working_folder(warehouse).exists()

    # A new connection opens the new run; so does `ai-pulse sql`.
    after = query(warehouse, SEEN)[0]
    assert after[0] == str(LATER) and after[1] > published.seen[1] and after[2] > published.seen[2]
    sql = run_cli("sql", "--format", "csv", "select max(as_of) from marts.prediction_scorecard", env=env)
    assert sql.returncode == 0 and str(LATER) in sql.stdout, sql.stderr


@pytest.mark.slow
def test_a_writer_holding_the_file_fails_the_run_at_once_naming_it(
        run_cli: CliRunner, published: Published, tmp_path: Path) -> None:
    env, warehouse = published.env, published.warehouse

    with session(WRITER, warehouse) as writer:
        assert writer.process.stdout.readline() == "open\n"
        blocked = run_cli("run", "--snapshot", str(snapshot(tmp_path / "c", LATER)), env=env)
        holder = writer.process.pid
    assert blocked.returncode == 1
    assert f"warehouse file {warehouse} is locked by " in blocked.stderr, blocked.stderr
    assert f"(pid {holder}), which has it open for writing" in blocked.stderr
    assert f"open the file read-only (duckdb -readonly {warehouse})" in blocked.stderr
    # Before any step: nothing was fetched, so nothing was retried, and nothing was published.
    assert "signals fetched" not in blocked.stderr
    assert query(warehouse, SEEN)[0] == published.seen
    assert not working_folder(warehouse).exists()


def test_a_lock_buried_in_a_loaders_error_is_found_and_named(tmp_path: Path) -> None:
    """dlt reports a DuckDB lock as a connection failure wrapping DuckDB's error; the load fails at once with
    the lock's own sentence instead (orchestration/defs/ingest.py), and any other error is left alone."""
    import duckdb

    from orchestration.lib.warehouse import lock_conflict

    warehouse = tmp_path / "ai_pulse.duckdb"
    duckdb.connect(str(warehouse)).close()
    with session(WRITER, warehouse) as writer:
        assert writer.process.stdout.readline() == "open\n"
        try:
            try:
                duckdb.connect(str(warehouse))
            except duckdb.IOException as refused:
                raise RuntimeError("check your credentials; your internet connection may be down") from refused
        except RuntimeError as wrapped:
            busy = lock_conflict(warehouse, wrapped)
        holder = writer.process.pid
    assert busy is not None
    assert str(busy).startswith(f"warehouse file {warehouse} is locked by ")
    assert f"(pid {holder}), which has it open for writing; close that session" in str(busy)
    assert lock_conflict(warehouse, RuntimeError("HTTP 503 from the API")) is None
