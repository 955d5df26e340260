"""What a dbt lane must rebuild this run: the models whose inputs or code changed since they were last built.

Each model has a version: a hash of its code (SQL checksum, config, the macros it calls, the project file) and of
the versions of what it reads, down to the content of the raw tables (their rows, without dlt's own `_dlt_load_id`
and `_dlt_id`, which a nightly re-load of the look-back days renews even when nothing changed). A model is rebuilt
when its version differs from the one its last materialization recorded, when that materialization's run did not
succeed (a failed dbt test there must be seen again; a failed run publishes nothing either), or when its relation
is missing from the run's database. The others are reported materialized with `unchanged` metadata and neither
built nor tested again: the models are deterministic (no current date, no run id), so unchanged inputs and code
give the same rows, which passed their tests in the run that built them.

The quality checks append their results to `quality.check_results` every run, so the models reading it (P10's)
are rebuilt every run, and with them what combines every prediction (verdicts, scorecard).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetKey, DagsterRunStatus, MetadataValue

from orchestration.lib.settings import TRANSFORM_DIR, Warehouse
from orchestration.lib.warehouse import connect

VERSION = "model_version"  # the metadata entry a model's materialization records its version in
UNCHANGED = "unchanged"
RELOADED_IN_FULL = "reloaded_in_full"  # the metadata entry a raw table's load says it was reloaded in full with
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")


@dataclass
class LanePlan:
    """The lane's selected models split into those to build and those unchanged, every model's version, and
    whether incremental models rebuild in full (a raw table they read was reloaded in full this run)."""

    build: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    full_refresh: bool = False
    # What each unchanged model's last materialization said (row count, preview, …): still true, so not recomputed.
    last_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)


def plan_lane(context: AssetExecutionContext, manifest: Mapping[str, Any], models: list[str], database: Warehouse,
              key_of: Callable[[Mapping[str, Any]], AssetKey], full_refresh: bool) -> LanePlan:
    """Split the lane's models selected in this run (by name) into those to build and those unchanged, judged on
    `database` (within a run, its working copy of the warehouse); with `full_refresh` (`ai-pulse run
    --full-refresh`) every one is built, incremental ones in full."""
    nodes = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    selected = [name for name in models if key_of(nodes[name]) in context.selected_asset_keys]
    plan = LanePlan(full_refresh=full_refresh)
    if not database.exists():
        plan.build = selected
        return plan
    with connect(database, read_only=True) as con:
        versions = ModelVersions(manifest, con)
        plan.versions = {name: versions.of(nodes[name]["unique_id"]) for name in selected}
        existing = {tuple(row) for row in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
    succeeded: dict[str, bool] = {}

    def built_as_now(name: str) -> bool:
        node = nodes[name]
        if (node["schema"], node["alias"]) not in existing:
            return False
        last = context.instance.get_latest_materialization_event(key_of(node))
        recorded = last and last.asset_materialization and last.asset_materialization.metadata.get(VERSION)
        if recorded is None or recorded.value != plan.versions[name]:
            return False
        if last.run_id not in succeeded:
            run = context.instance.get_run_by_id(last.run_id)
            succeeded[last.run_id] = run is not None and run.status == DagsterRunStatus.SUCCESS
        plan.last_metadata[name] = dict(last.asset_materialization.metadata)
        return succeeded[last.run_id]

    # Parents first, so a model below one that is rebuilt is rebuilt too, and the unchanged ones can be reported
    # before dbt's events in an order Dagster accepts (a multi-asset yields its assets topologically).
    for name in _parents_first(selected, nodes):
        in_lane = _lane_parents(name, selected, nodes)
        rebuild = full_refresh or not built_as_now(name) or any(parent in plan.build for parent in in_lane)
        (plan.build if rebuild else plan.unchanged).append(name)
    plan.full_refresh = full_refresh or any(_reloaded_in_full(context, key_of(manifest["sources"][source]))
                                            for source in versions.sources_read)
    return plan


def _lane_parents(name: str, lane: list[str], nodes: Mapping[str, Any]) -> list[str]:
    """The models of the lane that `name` reads directly."""
    names = {node["unique_id"]: other for other, node in nodes.items() if other in lane}
    return [names[parent] for parent in nodes[name]["depends_on"]["nodes"] if parent in names]


def _parents_first(lane: list[str], nodes: Mapping[str, Any]) -> list[str]:
    """The lane's models, each after the lane's models it reads."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for parent in _lane_parents(name, lane, nodes):
                visit(parent)
            ordered.append(name)

    for name in lane:
        visit(name)
    return ordered


def version_metadata(plan: LanePlan, name: str) -> dict[str, Any]:
    """What a model's materialization records: its version, and whether it was left as it was (then also what its
    last materialization said of the table)."""
    unchanged = name in plan.unchanged
    return {**(plan.last_metadata.get(name, {}) if unchanged else {}),
            VERSION: MetadataValue.text(plan.versions.get(name, "")), UNCHANGED: MetadataValue.bool(unchanged)}


def _reloaded_in_full(context: AssetExecutionContext, key: AssetKey) -> bool:
    """Whether this run's load of a raw table reloaded its source in full (orchestration/defs/ingest.py)."""
    last = context.instance.get_latest_materialization_event(key)
    if last is None or last.run_id != context.run_id or last.asset_materialization is None:
        return False
    flag = last.asset_materialization.metadata.get(RELOADED_IN_FULL)
    return bool(flag and flag.value)


class ModelVersions:
    """Versions of dbt nodes, computed once each: code and inputs, down to the raw tables' content."""

    def __init__(self, manifest: Mapping[str, Any], con: duckdb.DuckDBPyConnection) -> None:
        self.manifest, self.con = manifest, con
        self.project = hashlib.sha256((TRANSFORM_DIR / "dbt_project.yml").read_bytes()).hexdigest()
        self.sources_read: set[str] = set()
        self._memo: dict[str, str] = {}

    def of(self, unique_id: str) -> str:
        if unique_id not in self._memo:
            self._memo[unique_id] = self._compute(unique_id)
        return self._memo[unique_id]

    def _compute(self, unique_id: str) -> str:
        if unique_id in self.manifest["sources"]:
            self.sources_read.add(unique_id)
            source = self.manifest["sources"][unique_id]
            return _content_hash(self.con, source["schema"], source["identifier"])
        if unique_id in self.manifest["macros"]:
            macro = self.manifest["macros"][unique_id]
            return _digest(macro["macro_sql"], *(self.of(m) for m in macro["depends_on"]["macros"]))
        node = self.manifest["nodes"].get(unique_id)
        if node is None:
            return _digest(unique_id)
        depends = node["depends_on"]
        return _digest(self.project, node["checksum"]["checksum"], json.dumps(node["config"], sort_keys=True),
                       *(self.of(m) for m in depends.get("macros", [])),
                       *(self.of(parent) for parent in depends["nodes"]))


def _content_hash(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The rows of a raw table as one order-free hash (its row count and the sum of its rows' hashes), without
    dlt's own columns; "absent" for a table that does not exist (yet)."""
    columns = [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table]).fetchall() if row[0] not in DLT_COLUMNS]
    if not columns:
        return "absent"
    row = ", ".join(f'"{name}"' for name in columns)
    count, total = con.execute(f'select count(*), sum(hash({row})) from "{schema}"."{table}"').fetchone()  # noqa: S608 - names from the catalog
    return _digest(",".join(columns), str(count), str(total))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
