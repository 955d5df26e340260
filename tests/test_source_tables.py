"""Every source creates all its raw tables even when the registry lists none of its signals, so dbt's staging
models always find their sources."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.github import github_source
from ingestion.http import HttpClient, ReplayTransport
from ingestion.news import news_source
from ingestion.regulatory import regulatory_source
from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder
from ingestion.stocks import stocks_source
from ingestion.trends import trends_source
from tests.conftest import load_source, query

TABLES = {
    "stocks": (stocks_source, {"prices", "splits", "dividends", "listings", "signal_status"}),
    "trends": (trends_source, {"interest", "interest_monthly", "signal_status"}),
    "github": (github_source, {"repos", "star_history", "signal_status"}),
    "regulatory": (regulatory_source, {"documents", "document_terms", "signal_status"}),
    "news": (news_source, {"volume", "signal_status"}),
}


@pytest.mark.parametrize("name", list(TABLES))
def test_a_source_without_signals_still_creates_its_tables_and_no_rows(tmp_path: Path, name: str) -> None:
    factory, tables = TABLES[name]
    snapshot = SnapshotBuilder(tmp_path / "snap", dt.date(2024, 12, 31)).write()
    client = HttpClient(ReplayTransport(snapshot), user_agent="t")
    warehouse = load_source(factory([], client=client, today=dt.date(2024, 12, 31)), tmp_path / "w.duckdb")
    found = {r[0] for r in query(warehouse, f"select table_name from information_schema.tables "  # noqa: S608
                                            f"where table_schema = 'raw_{name}' and table_name not like '_dlt%'")}
    assert found == tables
    assert query(warehouse, f"select count(*) from raw_{name}.signal_status") == [(0,)]  # noqa: S608


def test_a_raw_table_missing_a_declared_column_reloads_its_source_in_full(tmp_path: Path) -> None:
    import duckdb

    from orchestration.defs.ingest import _refresh_mode
    from orchestration.lib.settings import RunSettings

    warehouse = tmp_path / "old.duckdb"
    settings = RunSettings(mode="replay", snapshot_dir=tmp_path, warehouse=warehouse)
    runtime = type("OldRun", (), {"settings": settings})()
    declared = stocks_source(["NVDA"])
    with duckdb.connect(str(warehouse)) as con:
        # The layout an earlier version left: signal_status without the dataset column.
        con.execute("create schema raw_stocks")
        con.execute("create table raw_stocks.signal_status (signal text, status text, detail text)")
    assert _refresh_mode(runtime, "stocks", declared) == "drop_sources"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table raw_stocks.signal_status add column dataset text")
        con.execute("alter table raw_stocks.signal_status add column window_start date")
        con.execute("alter table raw_stocks.signal_status add column window_end date")
        con.execute("alter table raw_stocks.signal_status add column rows bigint")
        for column in ("problem", "fix", "note"):
            con.execute(f"alter table raw_stocks.signal_status add column {column} text")
    assert _refresh_mode(runtime, "stocks", declared) is None


def test_a_raw_table_whose_stored_schema_leaves_nullability_unsaid_reloads_its_source_in_full(tmp_path: Path) -> None:
    import json

    import duckdb

    from orchestration.defs.ingest import _refresh_mode
    from orchestration.lib.settings import RunSettings

    snap = SnapshotBuilder(tmp_path / "snap", dt.date(2024, 12, 31))
    snap.stock("NVDA", [Bar(dt.date(2024, 12, 30), 130.0), Bar(dt.date(2024, 12, 31), 131.0)])
    client = HttpClient(ReplayTransport(snap.write()), user_agent="t")
    warehouse = load_source(stocks_source(["NVDA"], client=client, today=dt.date(2024, 12, 31)), tmp_path / "w.duckdb")
    runtime = type("Run", (), {"settings": RunSettings(mode="replay", snapshot_dir=tmp_path, warehouse=warehouse)})()
    assert _refresh_mode(runtime, "stocks", stocks_source(["NVDA"])) is None
    with duckdb.connect(str(warehouse)) as con:
        # What an earlier version stored: a column declared without saying whether it may be null.
        stored = json.loads(con.execute("select schema from raw_stocks._dlt_version").fetchall()[-1][0])
        del stored["tables"]["prices"]["columns"]["open"]["nullable"]
        con.execute("update raw_stocks._dlt_version set schema = ?", [json.dumps(stored)])
    assert _refresh_mode(runtime, "stocks", stocks_source(["NVDA"])) == "drop_sources"
