"""dbt models (transform/) as Dagster assets; dbt tests run inside each lane's `dbt build`.

dbt sources are named `raw_<source>` and their tables after dlt resources, so the default source keys equal
the dlt asset keys. Models are keyed `<schema>/<model>` (e.g. `core/fct_stock_daily`, `marts/prediction_scorecard`).
Each materialization carries the table's row count, newest date and a preview (orchestration/table_metadata.py).
"""


import contextlib
import fcntl
import itertools
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetMaterialization, AssetObservation, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from orchestration.defs.lane_plan import LanePlan, plan_lane, version_metadata
from orchestration.defs.resources import PulseResource
from orchestration.defs.table_metadata import verdict_metadata, with_table_metadata
from orchestration.lib.dbt_bridge import DbtInvocation, dagster_events, invoke_dbt, selection_for
from orchestration.lib.docs_site import dbt_docs_dir, dbt_docs_link
from orchestration.lib.settings import TRANSFORM_DIR, Warehouse
from orchestration.lib.warehouse import connect

MANIFEST = TRANSFORM_DIR / "target" / "manifest.json"
log = logging.getLogger("ai_pulse.transform")
WAREHOUSE_ENV = "AI_PULSE_WAREHOUSE"  # what transform/profiles.yml reads the DuckDB path from
LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "core": "core", "marts": "marts"}


def ensure_manifest() -> Path:
    """Parse the dbt project (in this process) when its manifest is missing or older than any model, macro or
    config file. Processes starting together (the webserver and the daemon, parallel tests) parse one at a time."""
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with open(MANIFEST.with_name(".parse.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sources = [p for pattern in ("models/**/*", "macros/**/*", "*.yml") for p in TRANSFORM_DIR.glob(pattern)
                   if p.is_file()]
        newest = max(p.stat().st_mtime for p in sources)
        if MANIFEST.exists() and MANIFEST.stat().st_mtime >= newest:
            return MANIFEST
        parsed = invoke_dbt(["parse", "--quiet", *dbt_paths(MANIFEST.parent)])
    if not parsed.success:
        raise RuntimeError(f"dbt parse failed in {TRANSFORM_DIR}: " + "; ".join(parsed.errors))
    return MANIFEST


class PulseDbtTranslator(DagsterDbtTranslator):
    """dbt node → asset key `<schema>/<name>`; sources keep dbt's default `<source>/<table>`. With a warehouse,
    each model's metadata links to its page in that warehouse's dbt docs (orchestration/lib/docs_site.py)."""

    def __init__(self, settings: DagsterDbtTranslatorSettings | None = None, warehouse: Warehouse | None = None):
        super().__init__(settings)
        self.warehouse = warehouse

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(dbt_resource_props.get("schema", ""), "transform")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:ai-pulse"]

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        if self.warehouse is not None and dbt_resource_props["resource_type"] == "model":
            metadata["dbt_docs"] = dbt_docs_link(self.warehouse, dbt_resource_props["unique_id"])
        return metadata


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


def build_dbt_assets(warehouse: Warehouse | None = None) -> list[Any]:
    """One multi-asset per lane (see dbt_lanes); `dbt build` runs each lane's models and tests in order. The
    combined lane, which runs last, also writes the dbt docs. With `warehouse`, each model links to its docs."""
    manifest_path = ensure_manifest()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    # dbt tests are not Dagster asset checks: `dbt build` already stops a model's dependants when one of its tests
    # fails, and the lane's step then fails, which stops every later step. As checks they protected nothing more
    # and cost three recorded events each (planned, output, evaluation), some 330 a run.
    translator = PulseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False),
                                    warehouse=warehouse)
    return [_lane_assets(lane, models, manifest, translator) for lane, models in dbt_lanes(manifest).items()]


def _lane_assets(lane: str, models: list[str], manifest: dict[str, Any], translator: DagsterDbtTranslator) -> Any:
    select = " ".join(models)

    @dbt_assets(manifest=manifest, select=select, dagster_dbt_translator=translator, name=f"dbt_{lane}",
                pool="duckdb_warehouse")
    def _lane(context: AssetExecutionContext, pulse: PulseResource) -> Iterator[Any]:
        started, built = time.monotonic(), 0
        tests: dict[str, str] = {}  # each dbt test's status, by its unique id
        settings = pulse.settings
        # Only what changed since it was last built is rebuilt (orchestration/defs/lane_plan.py).
        plan = plan_lane(context, manifest, models, settings.database, translator.get_asset_key,
                         settings.full_refresh)
        log.info("[dbt %s] building %d models and running their tests; %d unchanged", lane, len(plan.build),
                 len(plan.unchanged))
        # dbt's unit tests check the models' logic on fixed rows; `make test` runs them (tests/test_dbt_unit.py), a
        # nightly run need not.
        args = ["build", *selection_for(context, manifest, select, translator), "--exclude-resource-type",
                "unit_test", *(["--exclude", *plan.unchanged] if plan.unchanged else []),
                *(["--full-refresh"] if plan.full_refresh else [])]
        target = dbt_target_dir(settings.warehouse)
        events = run_dbt(args, settings.database, target) if plan.build else DbtInvocation(raw=[], success=True,
                                                                                           errors=[])
        rebuilt = _with_versions(context, plan, dagster_events(events.raw, manifest, translator, context, target))
        # Unchanged models keep their last table metadata; the rebuilt ones are described anew.
        for event in itertools.chain(_unchanged_outputs(context, plan, settings.database), with_table_metadata(
                rebuilt, settings.database, _asset_key_of(context))):
            test = dbt_test_result(event)
            if test is not None:
                tests[test[0]] = test[1]
                if test[1] == "pass":
                    continue  # counted in the lane's line; a test that failed or warned is kept on its asset
            elif isinstance(event, Output | AssetMaterialization):
                built += 1
            yield event
        if not events.success:
            raise DbtBuildError(f"dbt build failed in the {lane} lane: "
                                + "; ".join(events.errors or [f"see {target / 'dbt.log'}"]))
        passed = sum(status == "pass" for status in tests.values())
        log.info("[dbt %s] %d models built, %d of %d tests passed; %d unchanged (%.1f s)", lane,
                 built - len(plan.unchanged), passed, len(tests), len(plan.unchanged),
                 time.monotonic() - started)
        if lane == COMBINED_LANE:
            write_dbt_docs(settings.warehouse, settings.database)

    return _lane


def dbt_test_result(event: Any) -> tuple[str, str] | None:
    """(unique id, status: pass, warn, fail, error) of a dbt test, which dagster-dbt reports as an observation of
    each asset the test reads when tests are not asset checks (dagster_dbt/core/dbt_cli_event.py, 0.29:
    `_to_observation_events_for_test`); None for any other event."""
    if not isinstance(event, AssetObservation):
        return None
    metadata = event.metadata or {}
    unique_id, status = (str(getattr(metadata.get(k), "value", metadata.get(k))) for k in ("unique_id", "status"))
    return (unique_id, status) if unique_id.startswith("test.") else None


def _unchanged_outputs(context: AssetExecutionContext, plan: LanePlan, database: Warehouse) -> Iterator[Output]:
    """An output for every unchanged model, yielded before dbt's events (none is below a rebuilt one). Its table is
    as it was, so its last table metadata still holds, all but what an indicator says of its prediction's verdict:
    the scorecard, which every run rebuilds (it reads the run's own quality results), may judge it anew."""
    if not plan.unchanged:
        return
    keys = {key.path[-1]: key for key in context.selected_asset_keys}
    with connect(database, read_only=True) as con:
        verdicts = {name: verdict_metadata(con, *keys[name].path) for name in plan.unchanged}
    for name in plan.unchanged:
        yield Output(None, output_name=context.assets_def.get_output_name_for_asset_key(keys[name]),
                     metadata={**version_metadata(plan, name), **verdicts[name]})


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


# The parsed project per warehouse, kept for the life of the process: dbt-duckdb names each relation's database
# after the warehouse, so a parse belongs to one warehouse. Keyed by the project's manifest file and its mtime, so
# an edited project is parsed again.
_PARSED: dict[tuple[str, float], Any] = {}


def dbt_paths(target: Path) -> list[str]:
    """The project, its profile, and where dbt writes its artifacts and its log."""
    return ["--project-dir", str(TRANSFORM_DIR), "--profiles-dir", str(TRANSFORM_DIR), "--target-path", str(target),
            "--log-path", str(target), "--no-use-colors"]


def run_dbt(args: list[str], database: Warehouse, target: Path) -> DbtInvocation:
    """Run dbt inside this process (orchestration/lib/dbt_bridge.py) on `database` (within a run, its working
    copy), on the project parsed once per database, with its compiled SQL, results and log in `target`.

    A dbt subprocess per lane paid ~6 s importing dbt and ~3 s loading the parsed project before building
    anything; in-process, a lane costs what its SQL costs."""
    common = dbt_paths(target)
    key = (str(database), MANIFEST.stat().st_mtime)
    with _profile_path(database):
        if key not in _PARSED:
            parsed = invoke_dbt(["parse", "--quiet", *common])
            if not parsed.success:
                raise DbtBuildError(f"dbt parse failed for {database}: " + "; ".join(parsed.errors))
            _PARSED[key] = parsed.result
        return invoke_dbt([*args, *common], manifest=_PARSED[key])


DOCS_FILES = ("index.html", "manifest.json", "catalog.json")


def write_dbt_docs(warehouse: Warehouse, database: Warehouse) -> Path | None:
    """`dbt docs generate` on the database just built, its site copied to the dbt docs folder beside the
    warehouse (what `ai-pulse ui` serves). The catalog reads every table's columns from the database; nothing
    is compiled again (the build has just written the manifest). A failure is logged, never fails the run: the
    docs describe the tables, they are not one of them."""
    started = time.monotonic()
    target = dbt_target_dir(warehouse)
    generated = run_dbt(["docs", "generate", "--no-compile"], database, target)
    if not generated.success:
        log.warning("[dbt docs] not written: %s", "; ".join(generated.errors) or f"see {target / 'dbt.log'}")
        return None
    docs = dbt_docs_dir(warehouse)
    docs.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        shutil.copyfile(target / name, docs / f".{name}.partial")
    for name in DOCS_FILES:  # each file whole, replaced one after the other
        (docs / f".{name}.partial").replace(docs / name)
    log.info("[dbt docs] %s (%.1f s)", docs / "index.html", time.monotonic() - started)
    return docs / "index.html"


@contextlib.contextmanager
def _profile_path(database: Warehouse) -> Iterator[None]:
    """The dbt profile (transform/profiles.yml) reads its path from AI_PULSE_WAREHOUSE; for one invocation it names
    `database`, then the variable is as it was (the published warehouse, as `ai-pulse` and the code location set)."""
    before = os.environ.get(WAREHOUSE_ENV)
    os.environ[WAREHOUSE_ENV] = str(database)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = before


def dbt_target_dir(warehouse: Warehouse) -> Path:
    """dbt's target folder (compiled SQL, run results, dbt.log, partial-parse state) for one warehouse."""
    return warehouse.parent / "dbt_target"
