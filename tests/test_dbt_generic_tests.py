"""The transform's own generic tests (transform/macros/test_*.sql) fail on exactly the rows they exist for and say
why, built for real by dbt in this process on a two-model project in a temporary folder."""

import shutil
from typing import Any

import duckdb
import pytest

from orchestration.lib import dbt_bridge
from tests.conftest import PROJECT_ROOT

PROJECT_YML = """
name: generic_tests_probe
version: "1.0"
config-version: 2
profile: generic_tests_probe
flags:
  send_anonymous_usage_stats: false
"""
PROFILES_YML = """
generic_tests_probe:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{warehouse}"
      threads: 1
"""
# `window` is a keyword: the tests quote every column they name.
MODELS_YML = """
version: 2
models:
  - name: readings
    data_tests:
      - not_null_columns:
          arguments:
            columns: [id, window]
      - unique_combination:
          arguments:
            columns: [id, window]
  - name: clean
    data_tests:
      - not_null_columns:
          arguments:
            columns: [id, window]
      - unique_combination:
          arguments:
            columns: [id, window]
"""
READINGS = """select * from (values (1, 'a', 10), (1, 'a', 11), (2, null, 20), (null, null, 30), (3, 'c', null))
    as t(id, "window", reading)"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("generic_tests_project")
    warehouse = root / "probe.duckdb"
    for folder in ("models", "macros"):
        (root / folder).mkdir()
    for macro in (PROJECT_ROOT / "transform" / "macros").glob("test_*.sql"):
        shutil.copy(macro, root / "macros" / macro.name)
    (root / "dbt_project.yml").write_text(PROJECT_YML)
    (root / "profiles.yml").write_text(PROFILES_YML.format(warehouse=warehouse))
    (root / "models" / "readings.sql").write_text(READINGS)
    (root / "models" / "clean.sql").write_text("select 1 as id, 'a' as \"window\" union all select 2, 'b'")
    (root / "models" / "models.yml").write_text(MODELS_YML)
    target = root / "target"
    result = dbt_bridge.invoke_dbt(["build", "--store-failures", "--project-dir", str(root), "--profiles-dir",
                                    str(root), "--target-path", str(target), "--log-path", str(target)])
    statuses = {event["data"]["node_info"]["unique_id"].split(".")[2]: event["data"]["status"]
                for event in result.raw if event["info"]["name"] == "LogTestResult"}
    return {"result": result, "statuses": statuses, "warehouse": warehouse}


def stored_failures(warehouse: Any, test_name: str) -> list[tuple[Any, ...]]:
    """The failing rows dbt stored for a test (`--store-failures`), without the test's own first column."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        schema, table = con.execute("select table_schema, table_name from information_schema.tables "
                                    "where table_name like ? ", [f"{test_name}%"]).fetchone()
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
