"""The HTML report: built from whatever the warehouse holds, every indicator table charted, and in a real browser
(Debian chromium via Playwright) a page that works offline with no console errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.report import REPORT_KEY
from orchestration.lib.settings import TRANSFORM_DIR, resolve_settings
from orchestration.report import report_path, write_report
from orchestration.report.charts import indicator_charts
from orchestration.report.content import read_content
from tests.conftest import PROJECT_ROOT, BundledRun, CliRunner, query

D = dt.date
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

REGISTRY_TABLES = """
create schema raw_registry;
create table raw_registry.settings as select date '2022-01-01' as start_date, date '2024-12-31' as as_of,
    2023 as baseline_year, 2024 as prediction_year, 0.75 as min_coverage, 'replay' as mode;
create table raw_registry.predictions as select * from (values
    ('P07', 'Generative modalities expand'), ('P13', 'AI products beyond seat-based SaaS')) as t(prediction_id, title);
create table raw_registry.signals as select * from (values
    ('stocks', 'SNOW', 'P13', 'usage'), ('stocks', 'MDB', 'P13', 'usage'), ('stocks', 'CRM', 'P13', 'seat'),
    ('stocks', 'QQQ', 'P13', 'benchmark'), ('trends', 'Gaussian_splatting', 'P07', null))
    as t(source, signal, prediction_id, role);
create table raw_registry.provenance as select * from (values
    ('stocks', 'SNOW', 'real', 'a csv', 'Real closes.'), ('stocks', 'MDB', 'real', 'a csv', 'Real closes.'),
    ('stocks', 'CRM', 'real', 'a csv', 'Real closes.'), ('stocks', 'QQQ', 'synthetic', 'seeded', 'A stand-in.'),
    ('trends', 'Gaussian_splatting', 'missing', 'none', 'A 404.'))
    as t(source, signal, provenance, origin, note);
"""

# P13: three stocks plus a benchmark in two months, and a derived series the registry does not know.
P13_ROWS = [("2024-01-01", "SNOW", 10.0), ("2024-02-01", "SNOW", 30.0), ("2024-01-01", "MDB", -10.0),
            ("2024-02-01", "MDB", 10.0), ("2024-01-01", "CRM", 5.0), ("2024-02-01", "CRM", 0.0),
            ("2024-01-01", "QQQ", 2.0), ("2024-02-01", "QQQ", 4.0), ("2024-01-01", "usage_minus_seat", 5.0)]


def make_warehouse(path: Path, sql: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(sql)
    return path


MARTS_TABLES = """
        create schema marts;
        create table marts.ind_p13_usage_pricing (prediction_id varchar, period date, signal varchar, value double);
        create table marts.ind_p07_new_modalities (prediction_id varchar, period date, signal varchar, value double);
        create table marts.not_an_indicator as select 1 as x;
        create table marts.prediction_scorecard as select * from (values
            ('P07', 'Generative modalities expand', 'insufficient_data', 'interest', null, 'Too little data.',
             date '2024-12-31'),
            ('P13', 'AI products beyond seat-based SaaS', 'supported', 'spread', 12.5, 'Usage beat seat.',
             date '2024-12-31'))
            as t(prediction_id, title, verdict, headline_metric, headline_value, evidence, as_of);
"""


def p13_warehouse(path: Path) -> Path:
    make_warehouse(path, REGISTRY_TABLES + MARTS_TABLES)
    with duckdb.connect(str(path)) as con:
        con.executemany("insert into marts.ind_p13_usage_pricing values ('P13', ?, ?, ?)", P13_ROWS)
    return path


def traces(chart) -> dict[str, dict[str, float]]:  # noqa: ANN001 - a plotly figure's traces as plain values
    return {t.name: dict(zip(t.x, t.y, strict=True)) for t in chart.figure.data}


def test_indicator_tables_are_found_by_name_and_roles_add_the_comparisons(tmp_path: Path) -> None:
    content = read_content(p13_warehouse(tmp_path / "w.duckdb"))
    assert sorted(content.indicators) == ["P07", "P13"], "every marts.ind_pNN_* table, nothing else"
    p13 = content.indicators["P13"][0]
    charts = indicator_charts(p13, content.signals["P13"])
    titles = [c.title for c in charts]
    # Stocks and the unknown derived series never share an axis; QQQ's role adds the benchmark comparison.
    assert titles == ["Derived series", "Share prices", "Against the benchmark: QQQ (synthetic)"]
    assert traces(charts[1])["QQQ (synthetic)"] == {"2024-01-01": 2.0, "2024-02-01": 4.0}
    assert traces(charts[2]) == {"SNOW": {"2024-01-01": 8.0, "2024-02-01": 26.0},
                                 "MDB": {"2024-01-01": -12.0, "2024-02-01": 6.0},
                                 "CRM": {"2024-01-01": 3.0, "2024-02-01": -4.0}}


def test_without_a_benchmark_two_groups_get_an_average_per_role(tmp_path: Path) -> None:
    warehouse = p13_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from marts.ind_p13_usage_pricing where signal in ('QQQ', 'usage_minus_seat')")
    content = read_content(warehouse)
    charts = indicator_charts(content.indicators["P13"][0], content.signals["P13"])
    assert [c.title for c in charts] == ["Each signal", "Average per group: seat vs usage"]
    assert traces(charts[1]) == {"seat (1)": {"2024-01-01": 5.0, "2024-02-01": 0.0},
                                 "usage (2)": {"2024-01-01": 0.0, "2024-02-01": 20.0}}


def test_report_file_is_self_contained_and_names_what_it_could_not_chart(tmp_path: Path) -> None:
    warehouse = p13_warehouse(tmp_path / "w.duckdb")
    written = write_report(warehouse)
    assert written.path == tmp_path / "report" / "w_report.html" == report_path(warehouse)
    page = written.path.read_text(encoding="utf-8")
    assert (written.predictions, written.indicator_tables, written.charts) == (2, 2, 3)
    assert page.count("Plotly.newPlot(") == 3 and page.count("plotly.js v") == 1, "plotly inlined once"
    assert "<script src" not in page and "<link" not in page, "nothing loaded from elsewhere"
    assert "marts.ind_p07_new_modalities has no rows with a value yet" in page
    assert 'data-provenance="missing"' in page and "Gaussian_splatting" in page
    assert "quality.check_results is missing: no quality check has run yet." in page


def test_report_on_a_warehouse_without_marts_explains_instead_of_failing(tmp_path: Path,
                                                                          run_cli: CliRunner) -> None:
    warehouse = make_warehouse(tmp_path / "bare" / "ai_pulse.duckdb", REGISTRY_TABLES)
    result = run_cli("report", "--warehouse", str(warehouse))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(warehouse.parent / "report" / "ai_pulse_report.html")
    page = Path(result.stdout.strip()).read_text(encoding="utf-8")
    assert "marts.prediction_scorecard is missing: dbt has not built the marts yet" in page
    assert "No indicator table for P07 yet" in page and "No indicator table for P13 yet" in page
    assert "marts.prediction_scorecard is missing" in result.stderr, "the notice is also logged"

    missing = run_cli("report", "--warehouse", str(tmp_path / "nowhere.duckdb"))
    assert missing.returncode == 2 and "no warehouse at" in missing.stderr and "ai-pulse run" in missing.stderr


def test_report_asset_depends_on_the_scorecard_and_every_indicator_model(tmp_path: Path) -> None:
    from orchestration.definitions import build_definitions

    defs = build_definitions(resolve_settings(warehouse=tmp_path / "w.duckdb"))
    parents = defs.resolve_asset_graph().get(REPORT_KEY).parent_keys
    manifest = json.loads((TRANSFORM_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    models = [n["name"] for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n["schema"] == "marts"]
    expected = {f"marts/{name}" for name in models if name.startswith("ind_p") or name == "prediction_scorecard"}
    assert {key.to_user_string() for key in parents} == expected
    assert "marts/ind_p04_hardware_race" in expected
    assert defs.resolve_asset_graph().get(REPORT_KEY).group_name == "reports"


CHART_STATE = """() => Array.from(document.querySelectorAll('.chart')).map(chart => {
    const plot = chart.querySelector('.js-plotly-plot');
    const points = plot && plot.data ? plot.data.reduce((n, trace) => n + (trace.x ? trace.x.length : 0), 0) : 0;
    const drawn = plot ? Array.from(plot.querySelectorAll('.scatterlayer path.js-line'))
        .filter(path => (path.getAttribute('d') || '').length > 10).length : 0;
    return {indicator: chart.dataset.indicator, prediction: chart.closest('article').dataset.prediction,
            points, drawn};
})"""


@pytest.mark.slow
@pytest.mark.browser
def test_report_in_chromium_shows_every_prediction_and_charts_every_indicator_offline(
        bundled_run: BundledRun, run_cli: CliRunner) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian chromium is missing: `make test-setup` installs it"
    warehouse = bundled_run.warehouse
    path = report_path(warehouse)
    assert f"Report: {path}" in bundled_run.completed.stdout, "the run's last asset wrote the report"
    result = run_cli("report", env=bundled_run.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(path) == str(warehouse.parent / "report" / "ai_pulse_report.html")

    verdicts = dict(query(warehouse, "select prediction_id, verdict from marts.prediction_scorecard"))
    indicators = {f"marts.{name}" for (name,) in query(
        warehouse, "select table_name from information_schema.tables "
                   "where table_schema = 'marts' and table_name like 'ind\\_p%' escape '\\'")}
    assert len(verdicts) == 15 and "marts.ind_p04_hardware_race" in indicators

    errors: list[str] = []
    outside: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                   else (outside.append(route.request.url), route.abort()))
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.querySelectorAll('.chart'))"
                               ".every(chart => chart.querySelector('.scatterlayer .trace'))", timeout=60_000)
        scorecard = page.eval_on_selector_all(
            "#scorecard tr[data-prediction]",
            "rows => rows.map(r => [r.dataset.prediction, r.querySelector('.badge').textContent])")
        sections = page.eval_on_selector_all("article.prediction", "items => items.map(a => a.dataset.prediction)")
        charts = page.evaluate(CHART_STATE)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()

    assert errors == [] and outside == []
    assert dict(scorecard) == {pid: verdict.replace("_", " ") for pid, verdict in verdicts.items()}
    assert sorted(sections) == sorted(verdicts)
    charted = {c["indicator"] for c in charts if c["points"] > 0 and c["drawn"] > 0}
    assert charted == indicators, "every indicator table has at least one chart with data points"
    for chart in charts:
        assert chart["prediction"] == chart["indicator"].split(".")[1][:7].replace("ind_p", "P")
