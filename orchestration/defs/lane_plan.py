"""What a dbt lane must rebuild this run: the models whose inputs or code changed since they were last built.

Each model has a version: a hash of its code (SQL checksum, config, the macros it calls, the project file) and of
the versions of what it reads, down to the content of the raw tables (their rows, without dlt's own `_dlt_load_id`
and `_dlt_id`, which a nightly re-load of the look-back days renews even when nothing changed). A model is rebuilt
when its version differs from the one its last materialization recorded, when that materialization's run did not
succeed (a failed dbt test there must be seen again; a failed run publishes nothing either), or when its relation
is missing from the run's database. The others are reported materialized with `unchanged` metadata and neither
built nor tested again: the models are deterministic (no current date, no run id), so unchanged inputs and code
give the same rows, which passed their tests in the run that built them.

The incremental facts (`core.fct_stock_daily`, `core.fct_topic_interest`) rebuild only their recent days, which
is right while their code stays as it was. Each model also records a code version (the same hash with every raw
table counted by its name, not its rows); when an incremental fact's differs, or a raw table it reads was
reloaded in full this run, dbt builds the lane with `--full-refresh`.

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
CODE_VERSION = "model_code_version"  # ... and the version of its code alone (its own and its parents', no rows)
UNCHANGED = "unchanged"
RELOADED_IN_FULL = "reloaded_in_full"  # the metadata entry a raw table's load says it was reloaded in full with
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")


@dataclass
class LanePlan:
    """The lane's selected models split into those to build and those unchanged, every model's version and code
    version, and whether incremental models rebuild in full (a raw table they read was reloaded in full this run,
    or the code of one of them or of what it reads changed)."""

    build: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    code_versions: dict[str, str] = field(default_factory=dict)
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
        plan.code_versions = {name: versions.code_of(nodes[name]["unique_id"]) for name in selected}
        existing = {tuple(row) for row in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
    succeeded: dict[str, bool] = {}
    last_built = {name: context.instance.get_latest_materialization_event(key_of(nodes[name])) for name in selected}

    def recorded(name: str, entry: str) -> Any:
        last = last_built[name]
        return last.asset_materialization.metadata.get(entry) if last and last.asset_materialization else None

    def built_as_now(name: str) -> bool:
        node = nodes[name]
        if (node["schema"], node["alias"]) not in existing:
            return False
        last = last_built[name]
        recorded_version = recorded(name, VERSION)
        if recorded_version is None or recorded_version.value != plan.versions[name]:
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
    # An incremental model keeps the rows it built before: when its code or the code of what it reads changed, the
    # new code must reach every row, not only the recent ones (nor only the columns it had).
    code_changed = any(rebuilds_in_full(nodes[name]) and getattr(recorded(name, CODE_VERSION), "value", None)
                       != plan.code_versions[name] for name in plan.build)
    plan.full_refresh = full_refresh or code_changed or any(
        _reloaded_in_full(context, key_of(manifest["sources"][source])) for source in versions.sources_read)
    return plan


def rebuilds_in_full(node: Mapping[str, Any]) -> bool:
    """Whether dbt's --full-refresh rebuilds this model from scratch: an incremental model not pinned to
    `full_refresh=false` (verdict_history, whose nights are not rebuilt from anything)."""
    return node["config"].get("materialized") == "incremental" and node["config"].get("full_refresh") is not False


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
            VERSION: MetadataValue.text(plan.versions.get(name, "")),
            CODE_VERSION: MetadataValue.text(plan.code_versions.get(name, "")),
            UNCHANGED: MetadataValue.bool(unchanged)}


def _reloaded_in_full(context: AssetExecutionContext, key: AssetKey) -> bool:
    """Whether this run's load of a raw table reloaded its source in full (orchestration/defs/ingest.py)."""
    last = context.instance.get_latest_materialization_event(key)
    if last is None or last.run_id != context.run_id or last.asset_materialization is None:
        return False
    flag = last.asset_materialization.metadata.get(RELOADED_IN_FULL)
    return bool(flag and flag.value)


class ModelVersions:
    """Versions of dbt nodes, computed once each: code and inputs, down to the raw tables' content (`of`), or code
    alone, a raw table counting by its name (`code_of`)."""

    def __init__(self, manifest: Mapping[str, Any], con: duckdb.DuckDBPyConnection) -> None:
        self.manifest, self.con = manifest, con
        self.project = hashlib.sha256((TRANSFORM_DIR / "dbt_project.yml").read_bytes()).hexdigest()
        self.sources_read: set[str] = set()
        self._memo: dict[tuple[str, bool], str] = {}

    def of(self, unique_id: str) -> str:
        return self._version(unique_id, rows=True)

    def code_of(self, unique_id: str) -> str:
        return self._version(unique_id, rows=False)

    def _version(self, unique_id: str, rows: bool) -> str:
        if (unique_id, rows) not in self._memo:
            self._memo[unique_id, rows] = self._compute(unique_id, rows)
        return self._memo[unique_id, rows]

    def _compute(self, unique_id: str, rows: bool) -> str:
        if unique_id in self.manifest["sources"]:
            if not rows:
                return _digest(unique_id)
            self.sources_read.add(unique_id)
            source = self.manifest["sources"][unique_id]
            return _content_hash(self.con, source["schema"], source["identifier"])
        if unique_id in self.manifest["macros"]:
            macro = self.manifest["macros"][unique_id]
            return _digest(macro["macro_sql"], *(self._version(m, rows) for m in macro["depends_on"]["macros"]))
        node = self.manifest["nodes"].get(unique_id)
        if node is None:
            return _digest(unique_id)
        depends = node["depends_on"]
        return _digest(self.project, node["checksum"]["checksum"], json.dumps(node["config"], sort_keys=True),
                       *(self._version(m, rows) for m in depends.get("macros", [])),
                       *(self._version(parent, rows) for parent in depends["nodes"]))


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
