"""dbt models (transform/) as Dagster assets; dbt tests become asset checks.

dbt sources are named `raw_<source>` and their tables after dlt resources, so the default source keys equal
the dlt asset keys. Models are keyed `<schema>/<model>` (e.g. `core/fct_stock_daily`, `marts/prediction_scorecard`).
Each materialization carries the table's row count, newest date and a preview (orchestration/table_metadata.py).
"""


import fcntl
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, AssetMaterialization, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from packaging import version

from ingestion.settings import TRANSFORM_DIR, Warehouse
from orchestration.resources import PulseResource
from orchestration.table_metadata import with_table_metadata

MANIFEST = TRANSFORM_DIR / "target" / "manifest.json"
log = logging.getLogger("ai_pulse.transform")
LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "core": "core", "marts": "marts"}


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro or config file.
    Processes starting together (the webserver and the daemon, parallel tests) parse one at a time."""
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with open(MANIFEST.with_name(".parse.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sources = [p for pattern in ("models/**/*", "macros/**/*", "*.yml") for p in TRANSFORM_DIR.glob(pattern)
                   if p.is_file()]
        newest = max(p.stat().st_mtime for p in sources)
        if MANIFEST.exists() and MANIFEST.stat().st_mtime >= newest:
            return MANIFEST
        dbt = Path(sys.executable).with_name("dbt")
        completed = subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(TRANSFORM_DIR), "--profiles-dir", str(TRANSFORM_DIR),
             "--target-path", str(MANIFEST.parent)],
            capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed in {TRANSFORM_DIR}:\n{completed.stdout}{completed.stderr}")
    return MANIFEST


class PulseDbtTranslator(DagsterDbtTranslator):
    """dbt node → asset key `<schema>/<name>`; sources keep dbt's default `<source>/<table>`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(dbt_resource_props.get("schema", ""), "transform")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:ai-pulse"]


COMBINED_LANE = "indicators"
# Sources that the run's own quality checks write (not a loader): models reading them must run after every
# check, so they join the combined lane, which starts only when all source lanes have passed their checks.
CHECK_WRITTEN_SOURCES = frozenset({"quality"})
# Sources whose models join the combined lane even when they read nothing else: the check-written ones, and the
# registry, which has no check to wait for (it is validated when loaded). One dbt invocation fewer per run.
COMBINED_LANE_SOURCES = CHECK_WRITTEN_SOURCES | {"raw_registry"}


def dbt_lanes(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Group dbt models by the raw sources they are built from. A model fed by one source runs in that
    source's lane; models that combine sources (indicators, headlines, the scorecard) run together last.
    A failed blocking check on one source's raw data then stops only that source's lane and the combined one,
    while the other sources' staging and core tables still build."""
    nodes = manifest["nodes"]
    memo: dict[str, frozenset[str]] = {}

    def upstream_sources(unique_id: str) -> frozenset[str]:
        if unique_id not in memo:
            found: set[str] = set()
            for parent in nodes[unique_id]["depends_on"]["nodes"]:
                if parent.startswith("source."):
                    found.add(manifest["sources"][parent]["source_name"])
                elif parent in nodes:
                    found |= upstream_sources(parent)
            memo[unique_id] = frozenset(found)
        return memo[unique_id]

    lanes: dict[str, list[str]] = {}
    for unique_id, node in nodes.items():
        if node["resource_type"] != "model":
            continue
        sources = upstream_sources(unique_id)
        single = len(sources) == 1 and not sources & COMBINED_LANE_SOURCES
        lane = next(iter(sources)).removeprefix("raw_") if single else COMBINED_LANE
        lanes.setdefault(lane, []).append(node["name"])
    return {lane: sorted(models) for lane, models in sorted(lanes.items())}


def build_dbt_assets() -> list[Any]:
    """One multi-asset per lane (see dbt_lanes); `dbt build` runs each lane's models and tests in order."""
    manifest_path = ensure_manifest()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    translator = PulseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
    return [_lane_assets(lane, models, manifest_path, translator) for lane, models in dbt_lanes(manifest).items()]


def _lane_assets(lane: str, models: list[str], manifest_path: Path, translator: DagsterDbtTranslator) -> Any:
    @dbt_assets(manifest=manifest_path, select=" ".join(models), dagster_dbt_translator=translator,
                name=f"dbt_{lane}", pool="duckdb_warehouse")
    def _lane(context: AssetExecutionContext, dbt: DbtCliResource, pulse: PulseResource) -> Iterator[Any]:
        started, built, tests, failed = time.monotonic(), 0, 0, 0
        log.info("[dbt %s] building %d models and running their tests", lane, len(models))
        # A test spanning lanes runs in the lane that builds its last parent ("buildable" indirect selection).
        args = ["build", "--indirect-selection", "buildable"]
        for event in build_with_metadata(context, dbt, args, pulse.settings.warehouse):
            if isinstance(event, AssetCheckResult):
                tests += 1
                failed += not event.passed
            elif isinstance(event, Output | AssetMaterialization):
                built += 1
            yield event
        log.info("[dbt %s] %d models built, %d of %d tests passed (%.1f s)", lane, built, tests - failed, tests,
                 time.monotonic() - started)

    return _lane


def build_with_metadata(context: AssetExecutionContext, dbt: DbtCliResource, args: list[str],
                        warehouse: Warehouse) -> Iterator[Any]:
    """Run dbt, then describe every model it built (views too) once dbt has released the DuckDB file.

    Every invocation against one warehouse shares one dbt target folder beside it (runs on a warehouse are
    serial). dbt keys its partial-parse state to the profile, which holds the warehouse path, so the first
    invocation parses the project and the others reuse that parse instead of each parsing it again.

    dagster-dbt's `fetch_row_counts()` is not used: it opens dbt-duckdb's adapter inside this process and leaves a
    read-write connection to the warehouse open, which every later connection in the run then trips over."""
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=dbt_target_dir(warehouse))

    def key_of(event: Any) -> AssetKey | None:
        if isinstance(event, Output):
            return context.asset_key_for_output(event.output_name)
        return getattr(event, "asset_key", None) if isinstance(event, AssetMaterialization) else None

    yield from with_table_metadata(invocation.stream(), warehouse, key_of)
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError(f"dbt {' '.join(args)} failed")


def dbt_target_dir(warehouse: Warehouse) -> Path:
    """dbt's target folder (compiled SQL, run results, dbt.log, partial-parse state) for one warehouse."""
    return warehouse.parent / "dbt_target"


class OfflineDbtCliResource(DbtCliResource):
    """dagster-dbt learns dbt's version from `dbt --version`, which also asks PyPI for the latest release;
    the installed package's metadata says the same without touching the network."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    """dbt runs from the project's own folder with its own profiles.yml (the warehouse path comes from
    AI_PULSE_WAREHOUSE, set by the CLI from the same resolver ingestion uses)."""
    return OfflineDbtCliResource(project_dir=str(TRANSFORM_DIR), profiles_dir=str(TRANSFORM_DIR),
                          dbt_executable=str(Path(sys.executable).with_name("dbt")))
