"""dbt models (transform/) as Dagster assets; dbt tests become asset checks.

dbt sources are named `raw_<source>` and their tables after dlt resources, so the default source keys equal
the dlt asset keys. Models are keyed `<schema>/<model>` (e.g. `core/fct_stock_daily`, `marts/prediction_scorecard`).
Each materialization carries the table's row count, newest date and a preview (orchestration/table_metadata.py).
"""


import contextlib
import fcntl
import itertools
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, AssetMaterialization, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets
from dagster_dbt.asset_utils import get_subset_selection_for_context
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration.defs.lane_plan import CARRIED_FROM, LanePlan, carried_check_results, plan_lane, version_metadata
from orchestration.defs.resources import PulseResource
from orchestration.defs.table_metadata import with_table_metadata
from orchestration.lib.settings import TRANSFORM_DIR, Warehouse

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
    return [_lane_assets(lane, models, manifest, translator) for lane, models in dbt_lanes(manifest).items()]


def _lane_assets(lane: str, models: list[str], manifest: dict[str, Any], translator: DagsterDbtTranslator) -> Any:
    select = " ".join(models)

    @dbt_assets(manifest=manifest, select=select, dagster_dbt_translator=translator, name=f"dbt_{lane}",
                pool="duckdb_warehouse")
    def _lane(context: AssetExecutionContext, pulse: PulseResource) -> Iterator[Any]:
        started, built, tests, failed, carried = time.monotonic(), 0, 0, 0, 0
        warehouse = pulse.settings.warehouse
        # Only what changed since it was last built is rebuilt (orchestration/defs/lane_plan.py).
        plan = plan_lane(context, manifest, models, warehouse, translator.get_asset_key, pulse.settings.full_refresh)
        log.info("[dbt %s] building %d models and running their tests; %d unchanged", lane, len(plan.build),
                 len(plan.unchanged))
        # The lane's models, or the subset of them a run selected (dagster-dbt's own selection logic). A test
        # spanning lanes runs in the lane that builds its last parent ("buildable" indirect selection).
        selection, indirect = get_subset_selection_for_context(context, manifest, select, None, None, translator,
                                                               None)
        # dbt's unit tests check the models' logic on fixed rows; `make test` runs them (tests/test_dbt_unit.py), a
        # nightly run need not.
        args = ["build", *selection, "--indirect-selection", indirect or "buildable", "--exclude-resource-type",
                "unit_test", *(["--exclude", *plan.unchanged] if plan.unchanged else []),
                *(["--full-refresh"] if plan.full_refresh else [])]
        target = dbt_target_dir(warehouse)
        events = run_dbt(args, warehouse) if plan.build else DbtEvents(raw=[], success=True, errors=[])
        dagster_events = (event for raw in events.raw for event in DbtCoreCliEventMessage(
            raw_event=raw, event_history_metadata={}).to_default_asset_events(
                manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target))
        # Unchanged models keep their last table metadata; the rebuilt ones are described anew.
        for event in itertools.chain(_unchanged_events(context, plan), with_table_metadata(
                _with_versions(context, plan, dagster_events), warehouse, _asset_key_of(context))):
            if isinstance(event, AssetCheckResult) and CARRIED_FROM in (event.metadata or {}):
                carried += 1
            elif isinstance(event, AssetCheckResult):
                tests += 1
                failed += not event.passed
            elif isinstance(event, Output | AssetMaterialization):
                built += 1
            yield event
        if not events.success:
            raise DbtBuildError(f"dbt build failed in the {lane} lane: "
                                + "; ".join(events.errors or [f"see {target / 'dbt.log'}"]))
        log.info("[dbt %s] %d models built, %d of %d tests passed; %d unchanged, %d test results carried over "
                 "(%.1f s)", lane, built - len(plan.unchanged), tests - failed, tests, len(plan.unchanged), carried,
                 time.monotonic() - started)

    return _lane


def _unchanged_events(context: AssetExecutionContext, plan: LanePlan) -> Iterator[Any]:
    """An output for every unchanged model, yielded before dbt's events (none is below a rebuilt one), and its
    tests' last results."""
    keys = {key.path[-1]: key for key in context.selected_asset_keys}
    for name in plan.unchanged:
        yield Output(None, output_name=context.assets_def.get_output_name_for_asset_key(keys[name]),
                     metadata=version_metadata(plan, name))
    yield from carried_check_results(context, plan)


def _with_versions(context: AssetExecutionContext, plan: LanePlan, events: Iterator[Any]) -> Iterator[Any]:
    """dbt's events, with each built model's version added."""
    for event in events:
        if isinstance(event, Output):
            name = context.asset_key_for_output(event.output_name).path[-1]
            event = event.with_metadata({**event.metadata, **version_metadata(plan, name)})
        yield event


def _asset_key_of(context: AssetExecutionContext) -> Any:
    def key_of(event: Any) -> AssetKey | None:
        if isinstance(event, Output):
            return context.asset_key_for_output(event.output_name)
        return getattr(event, "asset_key", None) if isinstance(event, AssetMaterialization) else None

    return key_of


class DbtBuildError(RuntimeError):
    """A dbt build failed: a model did not build or a blocking test failed (the message names them)."""


@dataclass
class DbtEvents:
    """What one dbt invocation said: its structured events (as `dbt --log-format json` prints them), whether it
    succeeded, and its error messages."""

    raw: list[dict[str, Any]]
    success: bool
    errors: list[str]


# The parsed project per warehouse, kept for the life of the process: dbt-duckdb names each relation's database
# after the warehouse, so a parse belongs to one warehouse. Keyed by the project's manifest file and its mtime, so
# an edited project is parsed again.
_PARSED: dict[tuple[str, float], Any] = {}


def run_dbt(args: list[str], warehouse: Warehouse) -> DbtEvents:
    """Run dbt inside this process, on the project parsed once per warehouse.

    A dbt subprocess per lane paid ~6 s importing dbt and ~3 s loading the parsed project before building
    anything; in-process, a lane costs what its SQL costs. dbt-duckdb keeps its DuckDB connection open between
    invocations, which would lock every other reader of the file out of this process, so it is closed after
    each invocation (the next one opens a new one)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    target = dbt_target_dir(warehouse)
    common = ["--project-dir", str(TRANSFORM_DIR), "--profiles-dir", str(TRANSFORM_DIR),
              "--target-path", str(target), "--log-path", str(target), "--no-use-colors"]
    key = (str(warehouse), MANIFEST.stat().st_mtime)
    raw: list[dict[str, Any]] = []
    try:
        if key not in _PARSED:
            parsed = dbtRunner().invoke(["parse", "--quiet", *common])
            if not parsed.success:
                raise DbtBuildError(f"dbt parse failed for {warehouse}: {parsed.exception}")
            _PARSED[key] = parsed.result
        result = dbtRunner(manifest=_PARSED[key], callbacks=[lambda msg: raw.append(msg_to_dict(msg))]).invoke(
            [*args, *common])
    finally:
        with contextlib.suppress(Exception):  # no environment: dbt never connected
            DuckDBConnectionManager.env().close()
        DuckDBConnectionManager.close_all_connections()
    errors = [event["info"]["msg"] for event in raw if event["info"]["level"] == "error"]
    if result.exception is not None:
        errors.append(str(result.exception))
    return DbtEvents(raw=raw, success=bool(result.success), errors=errors)


def dbt_target_dir(warehouse: Warehouse) -> Path:
    """dbt's target folder (compiled SQL, run results, dbt.log, partial-parse state) for one warehouse."""
    return warehouse.parent / "dbt_target"
