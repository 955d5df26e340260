"""The whole pipeline, run as a user runs it (`ai-pulse run` in a subprocess, network forbidden): a real DuckDB
file, real dlt loads, real GX validations, real dbt builds, a real Dagster instance."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from ingestion.registry import load_registry
from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder, extend_bundled
from orchestration.lib.warehouse import writer_lock
from tests.conftest import AI_PULSE, PROJECT_ROOT, BundledRun, CliRunner, query

D = dt.date
FACT_TABLES = {"core.fct_stock_daily": "trade_date", "core.fct_topic_interest": "observed_date",
               "core.fct_repo_stars": "observed_date", "core.fct_regulatory_docs": "published_date"}
CONTRACT_TABLES = [*FACT_TABLES, "marts.ind_p04_hardware_race", "marts.prediction_scorecard",
                   "marts.prediction_verdicts"]
BUNDLED_AS_OF = D(2025, 12, 31)

P04_SIGNALS = {"stocks": [
    {"key": "NVDA", "predictions": ["P04"], "roles": {"P04": "leader"}},
    {"key": "AMD", "predictions": ["P04"]},
    {"key": "QQQ", "predictions": ["P04"], "roles": {"P04": "benchmark"}},
]}


def month_ends(closes_by_month: dict[tuple[int, int], float]) -> list[Bar]:
    """One bar on the 15th and one on the 28th of each month; the 28th carries the month's closing price."""
    bars = []
    for (year, month), close in sorted(closes_by_month.items()):
        bars += [Bar(D(year, month, 15), close * 0.98), Bar(D(year, month, 28), close)]
    return bars


def p04_snapshot(root: Path) -> Path:
    """NVDA 50 → 135 over 2024 (+170%), QQQ 400 → 500 (+25%), AMD 140 → 120 (−14.29%); NVDA splits 10:1 in June."""
    snap = SnapshotBuilder(root, as_of=D(2024, 12, 31))
    months_2024 = {(2024, m): 50 + m * (85 / 12) for m in range(1, 13)}
    snap.stock("NVDA", month_ends({(2023, m): 20.0 + m * 2.5 for m in range(1, 12)} | {(2023, 12): 50.0}
                                  | months_2024 | {(2024, 12): 135.0}), splits=[(D(2024, 6, 10), 10, 1)])
    snap.stock("QQQ", month_ends({(2023, m): 300.0 + m for m in range(1, 12)} | {(2023, 12): 400.0}
                                 | {(2024, m): 400.0 + m for m in range(1, 12)} | {(2024, 12): 500.0}),
               provenance="synthetic")
    amd = {(2023, m): 100.0 for m in range(1, 12)} | {(2023, 12): 140.0} | {(2024, m): 130.0 for m in range(1, 12)}
    amd |= {(2024, 7): 150.0, (2024, 12): 120.0}
    snap.stock("AMD", month_ends(amd))
    return snap.write()


@pytest.fixture
def p04_env(write_registry, pulse_env: dict[str, str]) -> dict[str, str]:
    return {"AI_PULSE_REGISTRY": str(write_registry(P04_SIGNALS))}


# The incremental core facts and the staging views a full rebuild selects them from (the same columns, in order).
INCREMENTAL_FACTS = {"core.fct_stock_daily": "staging.stg_stocks__prices",
                     "core.fct_topic_interest": "staging.stg_trends__interest"}


def last_materialization(env: dict[str, str], schema: str, model: str) -> dict[str, object]:
    """The metadata of a model's latest materialization in the run's own Dagster instance."""
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        event = instance.get_latest_materialization_event(AssetKey([schema, model]))
        assert event is not None and event.asset_materialization is not None, (schema, model)
        return {name: value.value for name, value in event.asset_materialization.metadata.items()}


def table_rows(warehouse: str, table: str) -> list[tuple]:
    return query(warehouse, f"select * from {table} order by all")  # noqa: S608 - table names are constants


@pytest.mark.slow
def test_bundled_snapshot_fills_all_four_facts_a_rerun_changes_no_row_and_a_newer_snapshot_adds_only_new_days(
        run_cli: CliRunner, bundled_run: BundledRun, pulse_env: dict[str, str], tmp_path: Path) -> None:
    first = bundled_run.completed
    assert "AI Pulse scorecard" in first.stdout and "P04" in first.stdout and "(15 rows)" in first.stdout
    # Every prediction's verdicts for 2024, 2025 and the last 12 months, each with its trust and coverage.
    for pid in (f"P{n:02d}" for n in range(15)):
        for window in ("2024", "2025", "last_12_months"):
            assert re.search(rf"^{pid} +{window} +\w+ +\S+ +(real|mixed|demonstration|none) +(\d+%|—)$",
                             first.stdout, re.M), (pid, window)
    warehouse = str(bundled_run.warehouse)
    before = {table: table_rows(warehouse, table) for table in CONTRACT_TABLES}
    assert len(before["marts.prediction_scorecard"]) == 15
    stock_rows = before["core.fct_stock_daily"]
    assert len(stock_rows) > 15_000
    # Every source reached its fact table, from 2022 up to the snapshot's as_of.
    for table, day in FACT_TABLES.items():
        sql = f"select min({day}), max({day}), count(*) from {table}"  # noqa: S608 - constant names
        first_day, last_day, count = query(warehouse, sql)[0]
        assert count > 200 and first_day.year == 2022 and last_day <= BUNDLED_AS_OF, table
    # Known real fact: NVIDIA's 10:1 split on 2024-06-10 leaves no jump in the split-adjusted close.
    nvda = dict(query(warehouse, "select trade_date, close from core.fct_stock_daily where ticker = 'NVDA' "
                                 "and trade_date in ('2024-06-07', '2024-06-10')"))
    assert 0.9 < nvda[D(2024, 6, 10)] / nvda[D(2024, 6, 7)] < 1.1
    assert query(warehouse, "select count(*) from raw_stocks.splits where ticker = 'NVDA' "
                            "and split_date = '2024-06-10' and numerator = 10")[0][0] == 1
    # Today's snapshot of a repo beats the count rebuilt from its star history; GPT_Store's 404 is reported.
    assert query(warehouse, "select origin, stars from core.fct_repo_stars where repo = 'ollama/ollama' "
                            "and observed_date = '2025-12-31'") == [("snapshot", 158520)]
    assert query(warehouse, "select dataset, status from raw_trends.signal_status where signal = 'GPT_Store' "
                            "order by dataset") == [("pageviews", "no_data"), ("pageviews_monthly", "no_data")]
    assert query(warehouse, "select count(*) from core.fct_regulatory_docs where source = 'federal_register' "
                            "and len(terms) > 0") == [(len(before["core.fct_regulatory_docs"]),)]

    # The re-runs change the warehouse, so they work on a private copy of the shared one.
    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundled_run.warehouse, warehouse)
    history = table_rows(warehouse, "marts.verdict_history")
    assert query(warehouse, "select distinct as_of from marts.verdict_history") == [(BUNDLED_AS_OF,)]
    assert len(history) == len(table_rows(warehouse, "marts.prediction_verdicts"))
    second = run_cli("run")
    assert second.returncode == 0, second.stderr
    after = {table: table_rows(warehouse, table) for table in CONTRACT_TABLES}
    assert after == before
    # A re-run of the same as_of replaces its own set of verdicts: nothing is added.
    assert table_rows(warehouse, "marts.verdict_history") == history
    raw_count = query(warehouse, "select count(*), count(distinct (ticker, trade_date)) from raw_stocks.prices")[0]
    assert raw_count[0] == raw_count[1] == len(stock_rows)

    newer_as_of = D(2026, 1, 5)
    gained = extend_bundled(tmp_path / "newer", newer_as_of)
    third = run_cli("run", "--snapshot", str(tmp_path / "newer"))
    assert third.returncode == 0, third.stderr
    # A later as_of adds its own set beside the first, which stays as it was. The set is that night's verdicts:
    # 2026 brings its partial year and moves the last 12 months, so it holds more rows than 2025's.
    verdicts_now = len(table_rows(warehouse, "marts.prediction_verdicts"))
    assert verdicts_now > len(history)
    assert query(warehouse, "select as_of, count(*) from marts.verdict_history group by 1 order by 1") == [
        (BUNDLED_AS_OF, len(history)), (newer_as_of, verdicts_now)]
    assert query(warehouse, f"select * from marts.verdict_history where as_of = '{BUNDLED_AS_OF}' "  # noqa: S608
                            "order by all") == history
    for table, day in FACT_TABLES.items():
        old = f"select * from {table} where {day} <= '{BUNDLED_AS_OF}' order by all"  # noqa: S608 - constants
        old_days = query(warehouse, old)
        assert old_days == before[table], f"{table} changed a day it already had"
        new = f"select count(*), max({day}) from {table} where {day} > '{BUNDLED_AS_OF}'"  # noqa: S608 - constants
        new_days = query(warehouse, new)[0]
        assert new_days[0] == gained[table] and new_days[1] <= newer_as_of, table
    # The facts that only grow were built incrementally, and hold exactly what a full rebuild would (their staging
    # views, as they are selected); what the newer snapshot left alone was not rebuilt.
    for fact, staging in INCREMENTAL_FACTS.items():
        for first, second in ((fact, staging), (staging, fact)):
            sql = f"select count(*) from (from {first} except all from {second})"  # noqa: S608 - constants
            assert query(warehouse, sql) == [(0,)], (first, second)
    assert last_materialization(pulse_env, "core", "fct_stock_daily")["unchanged"] is False
    assert last_materialization(pulse_env, "staging", "stg_registry__predictions")["unchanged"] is True
    # The nightly run asked only for the last week before what was loaded, not for the whole history again.
    windows = dict(query(warehouse, "select signal, window_start from raw_trends.signal_status where status = 'ok' "
                                    "and dataset = 'pageviews' union select signal, window_start "
                                    "from raw_stocks.signal_status"))
    # ChatGPT's real daily views stop at 2024-02-04 (its monthly totals carry the series), so its week starts there.
    assert windows.pop("ChatGPT") == D(2024, 2, 4) - dt.timedelta(days=7)
    assert set(windows.values()) == {BUNDLED_AS_OF - dt.timedelta(days=7)}


@pytest.mark.slow
def test_a_recorded_run_replays_to_the_same_warehouse_and_no_token_is_kept_anywhere(
        run_cli: CliRunner, pulse_env: dict[str, str], tmp_path: Path) -> None:
    canary = "ghp_canary0123456789abcdefghijklmnopqrstuv"
    recorded = tmp_path / "recorded"
    first = run_cli("run", "--record", str(recorded), env={"GITHUB_TOKEN": canary})
    assert first.returncode == 0, first.stderr
    manifest = json.loads((recorded / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == BUNDLED_AS_OF.isoformat() and manifest["description"]
    hosts = {p.name for p in (recorded / "responses").iterdir()}
    assert hosts == {"query1.finance.yahoo.com", "wikimedia.org", "api.github.com", "www.federalregister.gov",
                     "hn.algolia.com"}

    replayed = tmp_path / "replayed" / "ai_pulse.duckdb"
    second = run_cli("run", "--snapshot", str(recorded), "--warehouse", str(replayed))
    assert second.returncode == 0, second.stderr
    original = pulse_env["AI_PULSE_WAREHOUSE"]
    for table in [*CONTRACT_TABLES, "stg_registry__provenance"]:
        name = table if "." in table else f"staging.{table}"
        assert table_rows(replayed, name) == table_rows(original, name), table

    leaks = [str(path) for path in tmp_path.rglob("*") if path.is_file() and canary.encode() in path.read_bytes()]
    assert leaks == []
    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert canary not in output


@pytest.mark.slow
def test_a_run_killed_mid_load_loses_nothing_and_the_next_run_completes_it(
        run_cli: CliRunner, bundled_run: BundledRun, pulse_env: dict[str, str], tmp_path: Path) -> None:
    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundled_run.warehouse, warehouse)
    before = {table: table_rows(warehouse, table) for table in CONTRACT_TABLES}
    newer = tmp_path / "newer"
    gained = extend_bundled(newer, D(2026, 1, 5))

    # kill -9 the whole run (dlt, and dbt if it got that far) once the first source has fetched its signals:
    # the other sources are still fetching and that one is normalizing and loading.
    run = subprocess.Popen([str(AI_PULSE), "run", "--snapshot", str(newer)], env=pulse_env, cwd=PROJECT_ROOT,
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        for line in run.stderr:
            if "signals fetched" in line:
                break
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL
    # The file opens and nothing half-written is visible: the facts and marts are the last complete ones.
    assert {table: table_rows(warehouse, table) for table in CONTRACT_TABLES} == before

    again = run_cli("run", "--snapshot", str(newer))
    assert again.returncode == 0, again.stderr
    for table, day in FACT_TABLES.items():
        new = f"select count(*) from {table} where {day} > '{BUNDLED_AS_OF}'"  # noqa: S608 - constants
        assert query(warehouse, new)[0][0] == gained[table], f"{table} lost or doubled rows"
        old = f"select * from {table} where {day} <= '{BUNDLED_AS_OF}' order by all"  # noqa: S608 - constants
        assert query(warehouse, old) == before[table], table
    keys = query(warehouse, "select count(*), count(distinct (ticker, trade_date)) from raw_stocks.prices")[0]
    assert keys[0] == keys[1]


def test_cli_configuration_errors_exit_2_with_a_clear_message(run_cli: CliRunner, tmp_path: Path) -> None:
    missing = run_cli("run", "--snapshot", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "used" / "responses").mkdir(parents=True)
    record_into_used = run_cli("run", "--record", str(tmp_path / "used"))
    assert record_into_used.returncode == 2 and "not an empty directory" in record_into_used.stderr
    record_into_replayed = run_cli("run", "--snapshot", str(tmp_path / "used"), "--record",
                                   str(tmp_path / "used" / "again"))
    assert record_into_replayed.returncode == 2 and "inside the snapshot being replayed" in record_into_replayed.stderr
    both = run_cli("run", "--live", "--snapshot", str(tmp_path))
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("signals: [\n")
    bad_registry = run_cli("run", env={"AI_PULSE_REGISTRY": str(broken)})
    assert bad_registry.returncode == 2 and str(broken) in bad_registry.stderr
    # An unwritable warehouse folder, logs, lock or Dagster home: tests/test_local_faults.py.


def test_a_second_writer_gets_warehouse_busy(run_cli: CliRunner, pulse_env: dict[str, str]) -> None:
    warehouse = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    with writer_lock(warehouse):
        result = run_cli("run")
    assert result.returncode == 3
    assert f"warehouse {warehouse} is busy" in result.stderr


@pytest.mark.slow
def test_p04_verdict_comes_from_the_snapshot_and_sql_reads_it_read_only(
        run_cli: CliRunner, p04_env: dict[str, str], pulse_env: dict[str, str], tmp_path: Path) -> None:
    detailed = run_cli("-v", "run", "--snapshot", str(p04_snapshot(tmp_path / "s")), env=p04_env)
    assert detailed.returncode == 0, detailed.stderr
    # -v shows each signal and dbt's own lines even though stderr is not a terminal here.
    assert "[stocks] 1/3 chart NVDA: ok" in detailed.stderr and "OK created sql table model marts." in detailed.stderr
    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
    row = query(warehouse, "select verdict, headline_value, evidence, data_provenance, as_of "
                           "from marts.prediction_scorecard where prediction_id = 'P04'")[0]
    # NVDA 50 → 135 = +170%; QQQ 400 → 500 = +25%; spread 145 pp; AMD 140 → 120 = −14.3% is the field median.
    assert row[:2] == ("supported", 145.0)
    assert row[2] == ("NVDA +170.0% over 2024 vs benchmark QQQ +25.0% (spread +145.0 pp); median of the other "
                      "1 hardware names -14.3%. Uses synthetic stand-in data for QQQ.")
    assert row[3:] == ("partly_synthetic", D(2024, 12, 31))
    others = query(warehouse, "select count(*) from marts.prediction_scorecard "
                              "where prediction_id <> 'P04' and verdict = 'insufficient_data'")[0][0]
    assert others == 14
    december = dict(query(warehouse, "select signal, value from marts.ind_p04_hardware_race "
                                     "where period = '2024-12-01'"))
    assert december == {"NVDA": pytest.approx(170.0), "QQQ": pytest.approx(25.0),
                        "AMD": pytest.approx(-14.2857, abs=1e-3)}
    assert query(warehouse, "select count(*) from raw_stocks.splits")[0][0] == 1

    read = run_cli("sql", "select ticker, count(*) as days from core.fct_stock_daily group by 1 order by 1")
    assert read.returncode == 0
    assert read.stdout.splitlines()[0].split() == ["ticker", "days"]
    assert "AMD" in read.stdout and "(3 rows)" in read.stdout
    write = run_cli("sql", "delete from core.fct_stock_daily")
    assert write.returncode == 1
    assert "error: DELETE FROM is refused: ai-pulse sql runs one read-only query" in write.stderr
    exported = tmp_path / "exported.csv"
    copy = run_cli("sql", f"copy core.fct_stock_daily to '{exported}'")
    assert copy.returncode == 1 and "error: COPY is refused" in copy.stderr and not exported.exists()
    assert query(pulse_env["AI_PULSE_WAREHOUSE"], "select count(*) from core.fct_stock_daily")[0][0] > 0
    typo = run_cli("sql", "select * from core.no_such_table")
    assert typo.returncode == 1 and "core.fct_stock_daily" in typo.stderr, "errors list the tables"

    session = run_cli("sql", stdin="\\dt marts\n.schema marts.ind_p04_hardware_race\nselect count(*) as n\n"
                                   "from marts.prediction_scorecard;\n.mode json\nselect 1 as one;\n.quit\n")
    assert session.returncode == 0, session.stderr
    title = next(p.title for p in load_registry().predictions if p.id == "P04")
    assert re.search(rf"^marts\.ind_p04_hardware_race +table +P04, {re.escape(title[:30])}", session.stdout, re.M)
    assert re.search(r"^value +DOUBLE +The indicator value: year-to-date price return", session.stdout, re.M)
    assert " n\n--\n15\n(1 row)" in session.stdout, "a number, and its heading, right-aligned"
    assert '"one": 1' in session.stdout

    listed = json.loads(run_cli("signals", "--json").stdout)
    assert {"source": "stocks", "key": "NVDA", "predictions": ["P04"], "roles": {"P04": "leader"}} in listed
