"""The transform's own generic tests (transform/macros/test_*.sql) fail on exactly the rows they exist for and say
why, built for real by dbt in this process on a two-model project in a temporary folder."""

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib import dbt_bridge
from tests.conftest import PROJECT_ROOT, small_dbt_project

# Both models get the same tests; `window` is a keyword, so the tests must quote every column they name.
MODELS_YML = """
version: 2
models:
  - name: readings
    data_tests: &keyed_by_id_and_window
      - not_null_columns:
          arguments:
            columns: [id, window]
      - unique_combination:
          arguments:
            columns: [id, window]
  - name: clean
    data_tests: *keyed_by_id_and_window
"""
MODELS = {
    "readings": """select * from (values (1, 'a', 10), (1, 'a', 11), (2, null, 20), (null, null, 30), (3, 'c', null))
        as t(id, "window", reading)""",
    "clean": "select 1 as id, 'a' as \"window\" union all select 2, 'b'",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("generic_tests_project")
    probe = small_dbt_project(root, "generic_tests_probe", MODELS, MODELS_YML)
    (root / "macros").mkdir()
    for macro in (PROJECT_ROOT / "transform" / "macros").glob("test_*.sql"):
        shutil.copy(macro, root / "macros" / macro.name)
    result = dbt_bridge.invoke_dbt(["build", "--store-failures", *probe.args])
    statuses = {event["data"]["node_info"]["unique_id"].split(".")[2]: event["data"]["status"]
                for event in result.raw if event["info"]["name"] == "LogTestResult"}
    return {"result": result, "statuses": statuses, "warehouse": probe.warehouse}


def stored_failures(warehouse: Path, test_name: str) -> list[tuple[Any, ...]]:
    """The failing rows dbt stored for a test (`--store-failures`)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        schema, table = con.execute("select table_schema, table_name from information_schema.tables "
                                    "where table_name like ?", [f"{test_name}%"]).fetchone()
        return con.execute(f'select * from "{schema}"."{table}" order by all').fetchall()  # noqa: S608 - dbt's names


def test_not_null_columns_fails_on_each_row_with_a_null_and_names_its_columns(built: dict[str, Any]) -> None:
    assert not built["result"].success
    assert built["statuses"]["not_null_columns_readings_id__window"] == "fail"
    assert built["statuses"]["not_null_columns_clean_id__window"] == "pass"
    # A NULL outside the listed columns (reading) is not a failure.
    assert stored_failures(built["warehouse"], "not_null_columns_readings") == [
        ("id, window", None, None, 30), ("window", 2, None, 20)]


def test_unique_combination_fails_with_the_duplicated_key(built: dict[str, Any]) -> None:
    assert built["statuses"]["unique_combination_readings_id__window"] == "fail"
    assert built["statuses"]["unique_combination_clean_id__window"] == "pass"
    assert stored_failures(built["warehouse"], "unique_combination_readings") == [(1, "a", 2)]
