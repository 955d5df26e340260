"""What orchestration/lib/dbt_bridge.py relies on in the locked dagster, dagster-dbt, dbt-core and dbt-duckdb: the
signatures and behaviour of the internals it calls. An upgrade that changes one fails here, naming it.

The behaviour is checked for real: a two-model dbt project in a temporary folder is parsed and built in this
process against a DuckDB file, and its events pass through dagster-dbt inside a real Dagster materialization."""

import datetime as dt
import inspect
import json
import subprocess
import sys
from typing import Any

import pytest
from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, Output, materialize
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliEventMessage, dbt_assets
from dagster_dbt.version import __version__ as DAGSTER_DBT_VERSION

from orchestration.lib import dbt_bridge
from tests.conftest import small_dbt_project

MODELS_YML = """
version: 2
models:
  - name: first_numbers
    columns:
      - name: n
        data_tests: [not_null]
  - name: doubled
"""


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def pinned(what: str, actual: Any, expected: Any) -> None:
    assert actual == expected, (
        f"{what} changed in dagster-dbt {DAGSTER_DBT_VERSION} (expected {expected!r}, found {actual!r}); "
        "orchestration/lib/dbt_bridge.py relies on it: adapt the bridge to the new API")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tiny dbt project (a model, a model on it, a not_null test) parsed and built in this process."""
    root = tmp_path_factory.mktemp("bridge_project")
    probe = small_dbt_project(root, "bridge_probe", {
        "first_numbers": "select range as n from range(3)",
        "doubled": "select 2 * n as n from {{ ref('first_numbers') }}"}, MODELS_YML)
    warehouse, target, paths = probe.warehouse, probe.target, probe.args
    parsed = dbt_bridge.invoke_dbt(["parse", "--quiet", *paths])
    assert parsed.success, parsed.errors
    built = dbt_bridge.invoke_dbt(["build", *paths], manifest=parsed.result)
    assert built.success, built.errors
    manifest = json.loads((target / "manifest.json").read_text())
    return {"root": root, "warehouse": warehouse, "target": target, "paths": paths, "parsed": parsed,
            "built": built, "manifest": manifest}


def test_invoke_dbt_returns_the_parsed_project_and_json_shaped_events(project: dict[str, Any]) -> None:
    from dbt.contracts.graph.manifest import Manifest

    assert isinstance(project["parsed"].result, Manifest), "dbtRunner `parse` no longer returns the Manifest"
    results = [e for e in project["built"].raw if e["info"]["name"] in ("LogModelResult", "LogTestResult")]
    # msg_to_dict gives each event as `--log-format json` prints it: info.name/level/msg and data.node_info.
    assert sorted(e["data"]["node_info"]["unique_id"].rsplit(".", 1)[0] if e["info"]["name"] == "LogTestResult"
                  else e["data"]["node_info"]["unique_id"] for e in results) == [
        "model.bridge_probe.doubled", "model.bridge_probe.first_numbers", "test.bridge_probe.not_null_first_numbers_n"]
    assert all(e["info"]["level"] in ("info", "debug") for e in results)
    assert project["built"].errors == []


def test_invoke_dbt_keeps_exactly_the_events_dagster_dbt_turns_into_dagster_events() -> None:
    """RESULT_EVENTS, the events kept besides warnings and errors, are the ones dagster-dbt reads as results: every
    event type dbt defines is asked, so a result type added in an upgrade fails here instead of going missing."""
    import dbt.events.types as dbt_event_types
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt_common.events.base_types import BaseEvent

    names = [name for name, kind in inspect.getmembers(dbt_event_types, inspect.isclass)
             if issubclass(kind, BaseEvent)]
    read_as_results = {name for name in names if DbtCoreCliEventMessage(raw_event={
        "info": {"name": name}, "data": {"node_info": {"unique_id": "model.probe.m"}}},
        event_history_metadata={}).is_result_event}
    pinned("the dbt events DbtCoreCliEventMessage.is_result_event accepts", read_as_results,
           set(dbt_bridge.RESULT_EVENTS) & set(names))
    assert len(names) > 100 and {"LogModelResult", "LogTestResult"} <= read_as_results


def test_invoke_dbt_reports_a_failure_with_its_message(project: dict[str, Any]) -> None:
    broken = dbt_bridge.invoke_dbt(["run", "--project-dir", str(project["root"] / "missing"),
                                    "--profiles-dir", str(project["root"])])
    assert not broken.success
    assert broken.errors and any("dbt_project.yml" in e or "missing" in e for e in broken.errors), broken.errors


def test_an_unexpected_dbt_error_reaches_its_reader_without_the_traceback(project: dict[str, Any],
                                                                          tmp_path: Any) -> None:
    """dbt reports an error it did not expect (a full disk, here a folder where its parse cache goes) as two
    error events, the message and then the traceback alone: the message stays, the traceback goes."""
    target = tmp_path / "target"
    (target / "partial_parse.msgpack").mkdir(parents=True)
    broken = dbt_bridge.invoke_dbt(["parse", "--project-dir", str(project["root"]), "--profiles-dir",
                                    str(project["root"]), "--target-path", str(target), "--log-path", str(target)])
    assert not broken.success
    raw_errors = [e["info"]["msg"] for e in broken.raw if e["info"]["level"] == "error"]
    assert any(text.lstrip().startswith("Traceback") for text in raw_errors), raw_errors
    assert broken.errors and any("partial_parse.msgpack" in text for text in broken.errors), broken.errors
    assert not any("Traceback" in text or not text for text in broken.errors), broken.errors


def test_invoke_dbt_closes_the_duckdb_file_after_each_invocation(project: dict[str, Any]) -> None:
    """dbt-duckdb's `DuckDBConnectionManager.env()` and `close_all_connections()` release the file: another
    process can then open it for writing."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    assert callable(DuckDBConnectionManager.env) and callable(DuckDBConnectionManager.close_all_connections)
    dbt_bridge.invoke_dbt(["run", "--select", "first_numbers", *project["paths"]], manifest=project["parsed"].result)
    writer = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                               "print(con.execute('select count(*) from main.doubled').fetchone()[0])",
         str(project["warehouse"])], capture_output=True, text=True, timeout=120, check=False)
    assert writer.returncode == 0, writer.stderr
    assert writer.stdout.strip() == "3"


def test_subset_selection_has_the_signature_the_bridge_passes_positionally() -> None:
    from dagster_dbt.asset_utils import get_subset_selection_for_context

    pinned("get_subset_selection_for_context's parameters", parameters(get_subset_selection_for_context),
           ["context", "manifest", "select", "exclude", "selector", "dagster_dbt_translator",
            "current_dbt_indirect_selection_env"])


def test_event_message_has_the_constructor_and_converter_the_bridge_calls() -> None:
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

    assert issubclass(DbtCoreCliEventMessage, DbtCliEventMessage)
    pinned("DbtCoreCliEventMessage's fields", parameters(DbtCoreCliEventMessage),
           ["raw_event", "event_history_metadata"])
    pinned("to_default_asset_events' parameters", parameters(DbtCoreCliEventMessage.to_default_asset_events),
           ["self", "manifest", "dagster_dbt_translator", "context", "target_path", "project"])


def _materialize(project: dict[str, Any], selection: list[AssetKey] | None) -> dict[str, Any]:
    """The probe project as a dbt multi-asset whose body asks the bridge for its dbt selection and turns the
    module's build events into Dagster events, in a real (ephemeral) Dagster run."""
    manifest = project["manifest"]
    translator = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
    seen: dict[str, Any] = {}

    @dbt_assets(manifest=manifest, dagster_dbt_translator=translator, name="probe")
    def probe(context: AssetExecutionContext) -> Any:
        seen["selection"] = dbt_bridge.selection_for(context, manifest, "fqn:*", translator)
        events = list(dbt_bridge.dagster_events(project["built"].raw, manifest, translator, context,
                                                project["target"]))
        seen["events"] = events
        selected = context.selected_asset_keys
        for event in events:
            key = context.asset_key_for_output(event.output_name) if isinstance(event, Output) else event.asset_key
            if key in selected:
                yield event

    result = materialize([probe], selection=selection)
    assert result.success
    return seen


def test_the_whole_multi_asset_selects_the_lane_and_events_become_outputs_and_checks(
        project: dict[str, Any]) -> None:
    seen = _materialize(project, None)
    assert seen["selection"] == ["--select", "fqn:*", "--indirect-selection", "buildable"]
    outputs = sorted(e.output_name for e in seen["events"] if isinstance(e, Output))
    assert outputs == ["doubled", "first_numbers"]
    checks = [e for e in seen["events"] if isinstance(e, AssetCheckResult)]
    assert [(c.asset_key, c.check_name, c.passed) for c in checks] == [
        (AssetKey(["first_numbers"]), "not_null_first_numbers_n", True)]


def test_a_subset_selects_only_the_chosen_model(project: dict[str, Any]) -> None:
    seen = _materialize(project, [AssetKey(["doubled"])])
    selection = seen["selection"]
    assert selection[0] == "--select" and selection[-2] == "--indirect-selection"
    assert "doubled" in selection[1] and "first_numbers" not in selection[1], selection


def test_next_cron_tick_is_the_schedulers_arithmetic() -> None:
    from dagster._utils.schedules import get_next_cron_tick

    pinned("get_next_cron_tick's parameters", parameters(get_next_cron_tick),
           ["cron_string", "current_time", "timezone"])
    now = dt.datetime(2025, 3, 8, 12, 0, tzinfo=dt.UTC)
    assert dbt_bridge.next_cron_tick("0 2 * * *", now) == dt.datetime(2025, 3, 9, 2, 0, tzinfo=dt.UTC)
    # Across the start of US daylight saving time (2025-03-09), 02:00 New York does not exist: the next tick is
    # 03:00 EDT, 07:00 UTC, as the daemon would fire it.
    tick = dbt_bridge.next_cron_tick("0 2 * * *", now, "America/New_York")
    assert tick.astimezone(dt.UTC) == dt.datetime(2025, 3, 9, 7, 0, tzinfo=dt.UTC)


def test_a_listener_hears_each_event_of_its_run_as_it_is_stored() -> None:
    from dagster import DagsterInstance, Definitions, asset

    @asset
    def one() -> int:
        return 1

    heard: list[str] = []
    run_id = "4f0b5f3e-0000-4000-8000-000000000001"
    with DagsterInstance.ephemeral() as instance:
        dbt_bridge.listen_to_run(instance, run_id, lambda entry: heard.append(entry.dagster_event.event_type_value))
        job = Definitions(assets=[one]).resolve_implicit_global_asset_job_def()  # as `ai-pulse run` runs it
        assert job.execute_in_process(instance=instance, run_id=run_id).success
    # A run's end still carries its old event name, PIPELINE_SUCCESS.
    assert "STEP_START" in heard and "ASSET_MATERIALIZATION" in heard and heard[-1] == "PIPELINE_SUCCESS", heard
