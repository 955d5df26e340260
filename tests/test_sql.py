"""`ai-pulse sql` on a small warehouse written here: exactly one read-only query runs, everything else is refused
before it runs, a long query is interrupted by --timeout, numbers print as DuckDB writes them, and -q/-v work
after any command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from orchestration.cli.main import _parser
from orchestration.lib.warehouse import connect
from tests.conftest import CliRunner

# Hashing every number below 10^12 takes hours: only the time limit ends it.
ENDLESS_QUERY = "select max(hash(range)) from range(1000000000000)"
HANG_GUARD_S = 120  # the subprocess's own guard; the tests never measure time


@pytest.fixture
def warehouse(pulse_env: dict[str, str]) -> Path:
    """A warehouse with one small fact table, where `run_cli` looks for it."""
    path = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute("""create schema core;
                       create table core.fct_repo_stars as select * from (values
                           ('ollama/ollama', date '2024-01-01', 40000, 'a'),
                           ('ollama/ollama', date '2024-12-31', 120000, 'b'),
                           ('vllm-project/vllm', date '2024-12-31', 30000, 'a'))
                           as t(repo, observed_date, stars, kind)""")
    return path


def stars(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from core.fct_repo_stars order by all").fetchall()


def assert_refused(result, what: str) -> None:  # noqa: ANN001 - a CompletedProcess
    assert result.returncode == 1, result.stderr
    assert result.stdout == "", "nothing ran, so nothing was printed"
    assert f"error: {what} is refused: ai-pulse sql runs one read-only query" in result.stderr
    assert "nothing was run" in result.stderr and "changes only through `ai-pulse run`" in result.stderr


def test_two_statements_are_refused_and_neither_runs(run_cli: CliRunner, warehouse: Path) -> None:
    result = run_cli("sql", "select error('the first statement ran'); select 2 as second")
    assert result.returncode == 1
    assert result.stdout == "" and "the first statement ran" not in result.stderr
    assert "error: 2 statements are refused: ai-pulse sql runs exactly one statement at a time" in result.stderr
    # A ';' inside a string or after the statement does not make a second one.
    one = run_cli("sql", "select 'a;b' as text; -- a note;")
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines()[2] == "a;b"


@pytest.mark.parametrize(("sql", "what"), [
    ("set memory_limit = '1GB'", "SET"),
    ("pragma threads = 1", "PRAGMA"),
    ("pragma table_info('core.fct_repo_stars')", "PRAGMA"),
    ("checkpoint", "CHECKPOINT"),
    ("create temp table scratch as select 1 as x", "CREATE TEMP TABLE"),
    ("drop table core.fct_repo_stars", "DROP TABLE"),
    ("explain analyze delete from core.fct_repo_stars", "DELETE FROM"),
])
def test_settings_temporary_objects_and_writes_are_refused(run_cli: CliRunner, warehouse: Path, sql: str,
                                                            what: str) -> None:
    before = stars(warehouse)
    assert_refused(run_cli("sql", sql), what)
    assert stars(warehouse) == before


@pytest.mark.parametrize(("sql", "what"), [
    ("copy core.fct_repo_stars to '{dir}/exported.csv'", "COPY"),
    ("attach '{dir}/other.duckdb' as other", "ATTACH"),
    ("install httpfs", "INSTALL"),
])
def test_copy_attach_and_install_are_refused(run_cli: CliRunner, warehouse: Path, tmp_path: Path, sql: str,
                                             what: str) -> None:
    assert_refused(run_cli("sql", sql.format(dir=tmp_path)), what)
    assert not (tmp_path / "exported.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_reading_a_file_is_refused_by_the_sealed_connection(run_cli: CliRunner, warehouse: Path,
                                                            tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("token\nabc123\n", encoding="utf-8")
    result = run_cli("sql", f"select * from read_csv('{secret}')")  # noqa: S608 - the test's own path
    assert result.returncode == 1 and "abc123" not in result.stdout + result.stderr
    assert "file system operations are disabled by configuration" in result.stderr
    assert "ai-pulse sql reads only the warehouse" in result.stderr


def test_the_sealed_connection_itself_refuses_copy_attach_install_and_read_csv(warehouse: Path,
                                                                               tmp_path: Path) -> None:
    """The connection holds on its own, beneath the statement check (a second line of defence)."""
    readable = tmp_path / "readable.csv"
    readable.write_text("x\n1\n", encoding="utf-8")
    statements = [f"copy core.fct_repo_stars to '{tmp_path / 'exported.csv'}'",
                  f"attach '{tmp_path / 'other.duckdb'}' as other", "install httpfs",
                  f"select * from read_csv('{readable}')"]  # noqa: S608 - the test's own path
    for sql in statements:
        with connect(warehouse, read_only=True, sealed=True) as con, pytest.raises(duckdb.PermissionException):
            con.execute(sql)
    assert not (tmp_path / "exported.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_a_long_query_is_interrupted_by_the_timeout(run_cli: CliRunner, warehouse: Path) -> None:
    result = run_cli("sql", "--timeout", "1", ENDLESS_QUERY, timeout=HANG_GUARD_S)
    assert result.returncode == 1 and result.stdout == ""
    assert ("error: the query was interrupted after 1 second (the time limit); give it more with "
            "`ai-pulse sql --timeout SECONDS`, or `--timeout 0` for none") in result.stderr
    bad = run_cli("sql", "--timeout", "soon", "select 1")
    assert bad.returncode == 2 and "'soon' is not a number of seconds" in bad.stderr


def test_the_prompt_interrupts_each_statement_and_carries_on(run_cli: CliRunner, warehouse: Path) -> None:
    session = run_cli("sql", "--timeout", "0.5", stdin=f"{ENDLESS_QUERY};\nselect 42 as answer;\n"
                      "set threads = 1;\nselect 1 as one; select 2 as two;\n.quit\n", timeout=HANG_GUARD_S)
    assert session.returncode == 0, session.stderr
    out = session.stdout
    assert "(read-only, 0.5 s per statement)" in out
    assert "error: the query was interrupted after 0.5 seconds (the time limit)" in out
    assert "answer\n------\n    42\n(1 row)" in out, "the prompt goes on after an interrupted statement"
    assert "error: SET is refused" in out and "error: 2 statements are refused" in out


def test_the_read_only_query_forms_run(run_cli: CliRunner, warehouse: Path) -> None:
    tables = ["with t as (select 1 as x) select x from t", "values (1, 'a')", "from core.fct_repo_stars",
              "describe core.fct_repo_stars", "show tables", "summarize core.fct_repo_stars",
              "pivot core.fct_repo_stars on kind using sum(stars) group by repo"]
    plans = ["explain select repo from core.fct_repo_stars", "explain analyze select count(*) from core.fct_repo_stars"]
    session = run_cli("sql", stdin="".join(f"{q};\n" for q in tables + plans) + ".quit\n")
    assert session.returncode == 0, session.stderr
    out = session.stdout
    assert "error" not in out
    assert len(re.findall(r"^\(\d+ rows?\)$", out, re.M)) == len(tables), "every query printed its rows"
    assert re.search(r"^vllm-project/vllm +30,000 +NULL$", out, re.M), "the pivot's row"
    assert out.count("Query Profiling Information") == 1 and out.count("└───") >= len(plans), "plans drawn whole"


def test_a_double_prints_in_full_not_rounded_to_two_places(run_cli: CliRunner, warehouse: Path) -> None:
    result = run_cli("sql", "select 0.004::double as share, 145.0::double as spread, 1.50 as price, "
                            "0.1::float as single")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].split() == ["0.004", "145.0", "1.50", "0.1"]


def test_large_numbers_are_grouped_in_the_table_and_never_in_csv_or_json(run_cli: CliRunner,
                                                                         warehouse: Path) -> None:
    sql = "select 123456789012::bigint as stars, 1234567.5::double as views, 2024 as year, -98765 as change"
    table = run_cli("sql", sql)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[2].split() == ["123,456,789,012", "1,234,567.5", "2024", "-98,765"]
    csv = run_cli("sql", "--format", "csv", sql)
    assert csv.stdout.splitlines() == ["stars,views,year,change", "123456789012,1234567.5,2024,-98765"]
    as_json = run_cli("sql", "--format", "json", sql)
    assert json.loads(as_json.stdout) == [{"stars": 123456789012, "views": 1234567.5, "year": 2024,
                                           "change": -98765}]


def test_quiet_and_verbose_work_after_the_command_too(run_cli: CliRunner, warehouse: Path) -> None:
    for args in (("signals", "-q"), ("signals", "--json", "-v"), ("-q", "signals"),
                 ("sql", "-q", "select 1 as one"), ("sql", "select 1 as one", "-v")):
        result = run_cli(*args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
    both = run_cli("-q", "signals", "-v")
    assert both.returncode == 2 and "-q/--quiet: not allowed with argument -v/--verbose" in both.stderr
    parser = _parser()
    for args in (["-q", "run"], ["run", "-q"], ["status", "--quiet"]):
        parsed = parser.parse_args(args)
        assert (parsed.quiet, parsed.verbose) == (True, False), args
    assert parser.parse_args(["signals", "-v"]).verbose and not parser.parse_args(["signals"]).verbose
