"""A model's versions (orchestration/defs/lane_plan.py), on the real dbt project and a real DuckDB file: its version
follows the raw rows it is built from and its code; its code version follows the code alone, which is what tells
an incremental fact to rebuild in full."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import duckdb

from orchestration.defs.lane_plan import ModelVersions, rebuilds_in_full
from orchestration.defs.transform import ensure_manifest
from orchestration.lib.warehouse import connect


def _node(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(node for node in manifest["nodes"].values() if node["name"] == name)


def _versions(manifest: dict[str, Any], database: Path, name: str) -> tuple[str, str]:
    with connect(database, read_only=True) as con:
        versions = ModelVersions(manifest, con)
        unique_id = _node(manifest, name)["unique_id"]
        return versions.of(unique_id), versions.code_of(unique_id)


def test_a_fact_version_follows_its_rows_and_code_and_its_code_version_its_code_alone(tmp_path: Path) -> None:
    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema raw_stocks")
        con.execute("create table raw_stocks.prices (ticker text, trade_date date, close double, _dlt_load_id text)")
        con.execute("insert into raw_stocks.prices values ('NVDA', '2025-01-02', 138.3, 'load-1')")
    first = _versions(manifest, database, "fct_stock_daily")

    with duckdb.connect(str(database)) as con:
        con.execute("update raw_stocks.prices set _dlt_load_id = 'load-2'")  # a re-load of the same rows
    assert _versions(manifest, database, "fct_stock_daily") == first

    with duckdb.connect(str(database)) as con:
        con.execute("insert into raw_stocks.prices values ('NVDA', '2025-01-03', 144.5, 'load-3')")
    new_day = _versions(manifest, database, "fct_stock_daily")
    assert new_day[0] != first[0] and new_day[1] == first[1]

    edited = copy.deepcopy(manifest)  # the staging view the fact reads, with other SQL
    _node(edited, "stg_stocks__prices")["checksum"]["checksum"] = "edited"
    edited_code = _versions(edited, database, "fct_stock_daily")
    assert edited_code[0] != new_day[0] and edited_code[1] != new_day[1]


def test_only_incremental_models_that_full_refresh_reaches_rebuild_in_full() -> None:
    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    assert rebuilds_in_full(_node(manifest, "fct_stock_daily"))
    assert rebuilds_in_full(_node(manifest, "fct_topic_interest"))
    assert not rebuilds_in_full(_node(manifest, "verdict_history")), "its nights are kept on --full-refresh"
    assert not rebuilds_in_full(_node(manifest, "stg_stocks__prices"))
