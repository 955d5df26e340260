"""The Dagster Definitions as a data team operates them: they load, the graph is one connected whole from every
source to the scorecard, names are pinned by a snapshot, and the schedule, freshness policy, retries and
single-writer pool are what the docs promise."""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    Backoff,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    build_schedule_context,
)
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.definitions.freshness_evaluator import TimeWindowFreshnessPolicyEvaluator
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.loader import LoadingContextForTest

from ingestion.settings import ConfigError
from orchestration.defs.quality import CHECK_RESULTS
from tests.update_asset_snapshot import SNAPSHOT, asset_snapshot_lines, snapshot_definitions

SCORECARD = AssetKey(["marts", "prediction_scorecard"])
WAREHOUSE_POOL = "duckdb_warehouse"


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Definitions]:
    with pytest.MonkeyPatch.context() as patch:
        workdir = tmp_path_factory.mktemp("definitions")
        patch.setenv("DAGSTER_HOME", str(workdir / "dagster_home"))
        for name in ("AI_PULSE_SCHEDULE_CRON", "AI_PULSE_STALE_AFTER_HOURS", "AI_PULSE_REGISTRY"):
            patch.delenv(name, raising=False)
        yield snapshot_definitions(workdir)


def source_assets(defs: Definitions) -> dict[str, set[AssetKey]]:
    """Asset keys per source in SOURCES, as the Definitions group them."""
    from orchestration.defs.ingest import SOURCES

    graph = defs.resolve_asset_graph()
    return {source: {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == source}
            for source in SOURCES}


def test_definitions_load_and_validate(defs: Definitions) -> None:
    Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("refresh_everything") is not None


def test_asset_and_check_keys_match_the_snapshot(defs: Definitions) -> None:
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    actual = asset_snapshot_lines(defs)
    diff = "\n".join(difflib.unified_diff(expected, actual, str(SNAPSHOT), "Definitions", lineterm=""))
    assert actual == expected, (f"asset or check keys changed:\n{diff}\nIf intended, regenerate with "
                                "`uv run python -m tests.update_asset_snapshot` and commit the file.")


def test_every_source_has_assets_and_every_dbt_source_is_a_dlt_asset(defs: Definitions) -> None:
    from orchestration.defs.transform import CHECK_WRITTEN_SOURCES, MANIFEST, PulseDbtTranslator

    per_source = source_assets(defs)
    assert all(per_source.values()), f"sources without assets: {[s for s, k in per_source.items() if not k]}"
    dlt_keys = set().union(*per_source.values())
    assert all(key.path[0] == f"raw_{source}" for source, keys in per_source.items() for key in keys)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    translator = PulseDbtTranslator()
    # quality.check_results is written by the GX checks themselves, not by a loader.
    dbt_sources = {translator.get_asset_key(props) for props in manifest["sources"].values()
                   if props["source_name"] not in CHECK_WRITTEN_SOURCES}
    assert dbt_sources, "the dbt project declares no sources"
    assert dbt_sources - dlt_keys == set(), "dbt sources without a dlt asset (lineage would break there)"


def test_every_source_feeds_the_scorecard_through_dbt(defs: Definitions) -> None:
    upstream = _ancestors(defs, SCORECARD)
    for source, keys in source_assets(defs).items():
        assert keys & upstream, f"no asset of source {source} is upstream of {SCORECARD.to_user_string()}"
    assert AssetKey(["core", "fct_stock_daily"]) in upstream


def _ancestors(defs: Definitions, key: AssetKey) -> set[AssetKey]:
    graph = defs.resolve_asset_graph()
    seen: set[AssetKey] = set()
    todo = [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_assets_say_what_they_are_who_owns_them_and_what_they_hold(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    dlt_keys = set().union(*source_assets(defs).values())
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:ai-pulse"], key
        assert (node.description or "").strip(), f"{key.to_user_string()} has no description"
        if not node.is_materializable:
            assert key == CHECK_RESULTS and node.group_name == "quality", "only the checks' table is not a step"
            assert node.kinds == {"great_expectations", "duckdb"}
            continue
        expected = {"dlt", "duckdb"} if key in dlt_keys else {"html", "plotly"} if key.path[0] == "reports" else {
            "dbt", "duckdb"}
        assert node.kinds == expected, key


def steps(defs: Definitions) -> list[AssetsDefinition]:
    """The assets a run computes (the checks' table is declared as a spec, written by the checks)."""
    return [d for d in defs.assets or [] if isinstance(d, AssetsDefinition)]


def test_source_assets_go_stale_after_36_hours_and_retry_with_backoff(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    dlt_keys = set().union(*source_assets(defs).values())
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).freshness_policy
        if key in dlt_keys:
            assert policy is not None and policy.fail_window.to_timedelta() == dt.timedelta(hours=36), key
        else:
            assert policy is None, f"{key.to_user_string()}: freshness is judged on the sources only"
    for assets_def in steps(defs):
        keys = set(assets_def.keys)
        if keys <= dlt_keys:
            retry = assets_def.op.retry_policy
            assert retry is not None and retry.max_retries >= 1 and retry.backoff == Backoff.EXPONENTIAL
        assert assets_def.op.pool == WAREHOUSE_POOL, f"{assets_def.op.name} writes the warehouse outside the pool"
    for check in defs.asset_checks or []:
        assert check.op.pool == WAREHOUSE_POOL, f"{check.op.name} writes quality results outside the pool"


def test_the_stale_after_setting_reaches_every_source_asset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("AI_PULSE_STALE_AFTER_HOURS", "12")
    defs = snapshot_definitions(tmp_path)
    graph = defs.resolve_asset_graph()
    windows = {graph.get(k).freshness_policy.fail_window.to_timedelta()
               for keys in source_assets(defs).values() for k in keys}
    assert windows == {dt.timedelta(hours=12)}
    monkeypatch.setenv("AI_PULSE_STALE_AFTER_HOURS", "soon")
    with pytest.raises(ConfigError, match="AI_PULSE_STALE_AFTER_HOURS"):
        snapshot_definitions(tmp_path)


def _materialized(instance: DagsterInstance, key: AssetKey, hours_ago: float) -> None:
    """A materialization recorded `hours_ago` (the event log keeps the time it is given)."""
    event = DagsterEvent(event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value, job_name="refresh_everything",
                         event_specific_data=StepMaterializationData(AssetMaterialization(key)))
    instance.store_event(EventLogEntry(error_info=None, level="debug", user_message="", run_id="",
                                       timestamp=time.time() - hours_ago * 3600, dagster_event=event))


def test_dagsters_freshness_evaluator_marks_a_source_stale_after_36_hours(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    (stale, fresh, *_), never = sorted(source_assets(defs)["stocks"]), sorted(source_assets(defs)["registry"])[0]
    with DagsterInstance.ephemeral() as instance:
        _materialized(instance, stale, hours_ago=37)
        _materialized(instance, fresh, hours_ago=35)

        async def states() -> list[FreshnessState]:
            context = LoadingContextForTest(instance)
            evaluate = TimeWindowFreshnessPolicyEvaluator().evaluate_freshness
            return [await evaluate(context, graph.get(key)) for key in (stale, fresh, never)]

        assert asyncio.run(states()) == [FreshnessState.FAIL, FreshnessState.PASS, FreshnessState.UNKNOWN]


def test_nightly_schedule_runs_everything_at_2_utc_by_default(defs: Definitions) -> None:
    schedule = defs.resolve_schedule_def("nightly_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    job = defs.resolve_job_def(schedule.job_name)
    graph = defs.resolve_asset_graph()
    assert job.asset_layer.selected_asset_keys == graph.materializable_asset_keys
    # Every step there is (each source's load, the GX checks, dbt) is in the nightly job.
    every_op = {d.op.name for d in [*steps(defs), *(defs.asset_checks or [])]}
    assert {node.name for node in job.all_node_defs} == every_op

    with DagsterInstance.ephemeral() as instance:
        tick = dt.datetime(2025, 1, 2, 2, 0, tzinfo=dt.UTC)
        result = schedule.evaluate_tick(build_schedule_context(instance=instance, scheduled_execution_time=tick))
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["ai_pulse/trigger"] == "nightly_schedule"


def test_the_schedule_cron_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.defs.schedules import nightly_schedule

    monkeypatch.setenv("AI_PULSE_SCHEDULE_CRON", "30 4 * * 1-5")
    assert nightly_schedule().cron_schedule == "30 4 * * 1-5"
    monkeypatch.setenv("AI_PULSE_SCHEDULE_CRON", "every night")
    with pytest.raises(ConfigError, match="AI_PULSE_SCHEDULE_CRON='every night' is not a cron string"):
        nightly_schedule()


def test_the_failure_alert_sensor_runs_by_default(defs: Definitions) -> None:
    sensor = defs.resolve_sensor_def("alert_on_run_failure")
    assert sensor.default_status == DefaultSensorStatus.RUNNING


def test_the_instance_queues_one_run_and_one_warehouse_writer_at_a_time(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.lib.environment import configure_environment

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    configure_environment()
    with DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 1
        assert config.pool_config.default_pool_limit == 1
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    # An older generated file is brought up to date; a hand-written one is left alone.
    config_file = tmp_path / "home" / "dagster.yaml"
    generated = config_file.read_text()
    config_file.write_text(generated.replace("default_limit: 1", "default_limit: 5"))
    configure_environment()
    assert config_file.read_text() == generated
    config_file.write_text("telemetry:\n  enabled: false\n")
    configure_environment()
    assert config_file.read_text() == "telemetry:\n  enabled: false\n"


def test_dagster_definitions_validate_works_from_the_repository_root(tmp_path: Path, guard_dir: Path) -> None:
    """`uv run dagster definitions validate` with no arguments, as in the README: pyproject.toml's [tool.dagster]
    names the code location that `ai-pulse ui` serves, and it loads."""
    from orchestration.lib.environment import DAGSTER_YAML
    from tests.conftest import PROJECT_ROOT, isolated_env

    env = isolated_env(tmp_path, guard_dir)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")  # what the project's .dagster/ holds
    dagster = Path(sys.executable).with_name("dagster")
    completed = subprocess.run([str(dagster), "definitions", "validate"], cwd=PROJECT_ROOT, env=env,
                               capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Validation successful for code location orchestration.code_location" in completed.stdout + completed.stderr
    network_log = Path(env["AI_PULSE_NETWORK_LOG"])
    assert not network_log.exists() or network_log.read_text() == "", network_log.read_text()


def test_the_projects_own_dagster_home_is_committed_with_the_generated_settings() -> None:
    """`export DAGSTER_HOME=$PWD/.dagster; uv run dagster dev` on a fresh clone finds the instance settings
    (telemetry off, one run and one warehouse writer at a time) before any `ai-pulse` command has written them."""
    from orchestration.lib.environment import DAGSTER_YAML
    from tests.conftest import PROJECT_ROOT

    project_yaml = PROJECT_ROOT / ".dagster" / "dagster.yaml"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(project_yaml)], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, check=False)
    assert tracked.returncode == 0, f"{project_yaml} is not in git: commit it"
    assert project_yaml.read_text(encoding="utf-8") == DAGSTER_YAML, \
        f"{project_yaml} differs from DAGSTER_YAML in orchestration/environment.py: regenerate it and commit it"
