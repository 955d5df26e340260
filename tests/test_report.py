"""The HTML report: built from whatever the warehouse holds, every indicator table charted, and in a real browser
(Debian chromium via Playwright) a page that works offline with no console errors."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from ingestion.snapshots.builder.factory import extend_bundled
from orchestration.defs.report import REPORT_KEY
from orchestration.lib.settings import TRANSFORM_DIR, resolve_settings
from orchestration.report import report_path, write_report
from orchestration.report.charts import indicator_charts
from orchestration.report.content import (
    INDICATOR_TABLE,
    WindowVerdict,
    indexed_prices,
    read_content,
    verdict_changes,
)
from orchestration.report.page import render_page
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
    ('stocks', 'SNOW', 'chart', 'real', 'a csv', 'Real closes.'),
    ('stocks', 'MDB', 'chart', 'real', 'a csv', 'Real closes.'),
    ('stocks', 'CRM', 'chart', 'real', 'a csv', 'Real closes.'),
    ('stocks', 'QQQ', 'chart', 'synthetic', 'seeded', 'A stand-in.'),
    ('trends', 'Gaussian_splatting', 'pageviews', 'missing', 'none', 'A 404.'))
    as t(source, signal, dataset, provenance, origin, note);
-- dbt's int_signal_trust, one class per series (its rule is the dbt unit test on that model); the report only reads it.
create schema intermediate;
create table intermediate.int_signal_trust as select * from (values
    ('stocks', 'SNOW', 'real'), ('stocks', 'MDB', 'real'), ('stocks', 'CRM', 'real'), ('stocks', 'QQQ', 'synthetic'),
    ('trends', 'Gaussian_splatting', 'missing'))
    as t(source, signal, trust);
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


# (source, signal, dataset, provenance): a GitHub repo is loaded from two datasets, its repository object (real stars,
# stand-in forks: partly_synthetic) and its star history; each series has one trust class in int_signal_trust.
GITHUB_DATASETS = [
    ("github", "nerfstudio-project/nerfstudio", "repo", "partly_synthetic"),
    ("github", "nerfstudio-project/nerfstudio", "star_history", "derived"),
    ("github", "graphdeco-inria/gaussian-splatting", "repo", "partly_synthetic"),
    ("github", "graphdeco-inria/gaussian-splatting", "star_history", "missing"),
    ("github", "NVlabs/instant-ngp", "repo", "synthetic"),
    ("github", "NVlabs/instant-ngp", "star_history", "derived"),
]
GITHUB_TRUST = {"nerfstudio-project/nerfstudio": "derived", "graphdeco-inria/gaussian-splatting": "real",
                "NVlabs/instant-ngp": "synthetic"}


def github_warehouse(path: Path, provenance_rows: list[tuple[str, str, str, str]]) -> Path:
    """The P13 warehouse plus three P07 repos, their provenance rows inserted in the given order."""
    p13_warehouse(path)
    with duckdb.connect(str(path)) as con:
        con.executemany("insert into raw_registry.signals values (?, ?, 'P07', null)",
                        sorted({(source, signal) for source, signal, _, _ in provenance_rows}))
        con.executemany("insert into raw_registry.provenance values (?, ?, ?, ?, 'a file', 'A note.')",
                        provenance_rows)
        con.executemany("insert into intermediate.int_signal_trust values ('github', ?, ?)", GITHUB_TRUST.items())
        con.executemany("insert into marts.ind_p07_new_modalities values ('P07', ?, ?, ?)",
                        [(f"2024-0{m}-01", signal, 100.0 * m) for m in (1, 2) for _, signal, _, _ in provenance_rows])
    return path


def test_a_signal_with_several_datasets_gets_one_label_whatever_the_row_order(tmp_path: Path) -> None:
    labels = []
    for name, rows in (("forward", GITHUB_DATASETS), ("backward", GITHUB_DATASETS[::-1])):
        content = read_content(github_warehouse(tmp_path / name / "w.duckdb", rows))
        github = [(s.key, s.provenance) for s in content.signals["P07"] if s.source == "github"]
        assert len(github) == len({key for key, _ in github}) == 3, "one entry per signal, not one per dataset"
        classes = {(r.signal, r.dataset): r.signal_class for r in content.provenance or [] if r.source == "github"}
        assert len(classes) == len(GITHUB_DATASETS), "the provenance table keeps one row per dataset"
        charts = indicator_charts(content.indicators["P07"][0], content.signals["P07"])
        legend = sorted(trace.name for chart in charts for trace in chart.figure.data)
        labels.append((sorted(github), sorted(classes.items()), legend))
    assert labels[0] == labels[1], "the label does not depend on the order of the provenance rows"
    github, classes, legend = labels[0]
    assert dict(github) == GITHUB_TRUST, "each signal carries its series' trust class"
    assert all(signal_class == GITHUB_TRUST[signal] for (signal, _), signal_class in classes), \
        "every dataset row of the provenance table shows its series' class"
    assert legend == ["NVlabs/instant-ngp (synthetic)", "graphdeco-inria/gaussian-splatting",
                      "nerfstudio-project/nerfstudio (derived)"]


def window(name: str, verdict: str, value: float | None, as_of: dt.date) -> WindowVerdict:
    return WindowVerdict("P04", name, D(2024, 1, 1), D(2024, 12, 31), False, name == "2024", verdict, value, "real",
                         1.0, as_of)


def test_what_changed_lists_each_window_whose_verdict_or_value_differs_with_both_sides() -> None:
    before = [window("2024", "supported", 146.34, D(2025, 12, 31)), window("2025", "mixed", 18.72, D(2025, 12, 31)),
              window("last_12_months", "mixed", 18.72, D(2025, 12, 31)),
              window("gone", "mixed", 1.0, D(2025, 12, 31))]
    after = [window("2024", "supported", 146.34, D(2026, 1, 5)), window("2025", "supported", 18.72, D(2026, 1, 5)),
             window("2026", "insufficient_data", None, D(2026, 1, 5)),
             window("last_12_months", "mixed", 19.01, D(2026, 1, 5))]
    changes = verdict_changes(before, after)
    assert [(c.window, c.before and (c.before.verdict, c.before.headline_value),
             c.after and (c.after.verdict, c.after.headline_value)) for c in changes] == [
        ("2025", ("mixed", 18.72), ("supported", 18.72)),
        ("2026", None, ("insufficient_data", None)),
        ("last_12_months", ("mixed", 18.72), ("mixed", 19.01)),
        ("gone", ("mixed", 1.0), None)]
    assert verdict_changes(after, after) == []


PRICES_TABLES = """
create schema core;
create table core.fct_stock_daily (ticker varchar, trade_date date, close double);
insert into core.fct_stock_daily values
    ('SNOW', '2023-12-28', 50), ('SNOW', '2023-12-29', 40), ('SNOW', '2024-01-02', 44), ('SNOW', '2024-06-28', 60),
    ('SNOW', '2025-01-02', 999), ('CRM', '2024-03-01', 20), ('CRM', '2024-12-31', 30),
    ('NVDA', '2023-12-29', 10), ('NVDA', '2024-01-02', 20);
create table marts.prediction_verdicts as select *, 'mixed' as verdict, 1.0 as headline_value,
    date '2025-05-31' as as_of from (values
    ('P13', '2024', date '2024-01-01', date '2024-12-31', false, true),
    ('P13', 'last_12_months', date '2024-06-01', date '2025-05-31', false, null),
    ('P07', '2024', date '2024-01-01', date '2024-12-31', false, true))
    as t(prediction_id, "window", window_start, window_end, is_partial, is_scorecard_window);
"""


def test_prices_are_indexed_to_the_last_close_before_the_window_or_a_new_listing_to_its_first(tmp_path: Path) -> None:
    warehouse = p13_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(PRICES_TABLES)
        prices = indexed_prices(con)
        rolling = indexed_prices(con, "last_12_months")
    assert sorted(prices) == ["P13"], "only predictions with stocks signals; NVDA is no P13 signal"
    p13 = prices["P13"]
    assert (p13.window, p13.label, p13.window_start, p13.window_end) == ("2024", "2024", D(2024, 1, 1),
                                                                         D(2024, 12, 31))
    # SNOW: its last close before 2024 (40 on 2023-12-29) is 100; CRM, first listed in March, starts at its first.
    assert p13.series == {"SNOW": [(D(2023, 12, 29), 100.0), (D(2024, 1, 2), 44 / 40 * 100),
                                   (D(2024, 6, 28), 60 / 40 * 100)],
                          "CRM": [(D(2024, 3, 1), 100.0), (D(2024, 12, 31), 30 / 20 * 100)]}
    assert p13.base == {"SNOW": (D(2023, 12, 29), 40.0), "CRM": (D(2024, 3, 1), 20.0)}
    assert rolling["P13"].series["SNOW"] == [(D(2024, 1, 2), 100.0), (D(2024, 6, 28), 60 / 44 * 100),
                                             (D(2025, 1, 2), 999 / 44 * 100)]
    content = read_content(warehouse)
    charts = indicator_charts(content.indicators["P13"][0], content.signals["P13"], content.prices["P13"])
    indexed = [c for c in charts if c.kind == "indexed_prices"]
    # No QQQ closes here, so the comparison is the roles' (usage vs seat) on the same index.
    assert [c.title for c in indexed] == ["Share prices over 2024, indexed to 100 at the start",
                                          "Average per group: seat vs usage (over 2024)"]
    assert "indexed from the first close there: CRM" in indexed[0].caption
    assert traces(indexed[0])["SNOW"] == {"2023-12-29": 100.0, "2024-01-02": 44 / 40 * 100, "2024-06-28": 150.0}
    assert "Share prices" not in [c.title for c in charts], "no year-to-date chart beside the indexed one"


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
    const title = chart.querySelector('h4');
    return {indicator: chart.dataset.indicator, kind: chart.dataset.kind, title: title ? title.textContent : '',
            prediction: chart.closest('article').dataset.prediction, points, drawn,
            starts: plot && plot.data ? plot.data.map(trace => [trace.name, trace.y[0], trace.y.length]) : []};
})"""

# Per prediction: its windows side by side (with how a demonstration row is marked), its nights and what changed.
OVER_TIME_STATE = """() => Array.from(document.querySelectorAll('article.prediction')).map(article => {
    const nights = article.querySelector('.nights');
    return {prediction: article.dataset.prediction,
            windows: Array.from(article.querySelectorAll('.windows tbody tr')).map(row => ({
                window: row.dataset.window, trust: row.dataset.trust,
                marked: row.classList.contains('demonstration'),
                label: (row.querySelector('.demo-label') || {textContent: ''}).textContent,
                italic: getComputedStyle(row.querySelector('td')).fontStyle === 'italic'})),
            nights: nights ? nights.dataset.nights : null,
            nightsText: nights ? nights.innerText : ''};
})"""


def open_report(path: Path, screenshot: str) -> dict[str, list]:
    """Open the report from disk in chromium with every non-file request refused; wait until each chart has drawn,
    and return what the page shows (charts, each prediction's over-time parts) and any error or outside request."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian chromium is missing: `make test-setup` installs it"
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
        state = {
            "scorecard": page.eval_on_selector_all(
                "#scorecard tr[data-prediction]",
                "rows => rows.map(r => [r.dataset.prediction, r.querySelector('.badge').textContent, r.dataset.trust,"
                " r.classList.contains('demonstration')])"),
            "sections": page.eval_on_selector_all("article.prediction",
                                                  "items => items.map(a => a.dataset.prediction)"),
            "charts": page.evaluate(CHART_STATE),
            "over_time": page.evaluate(OVER_TIME_STATE),
            "errors": errors,
            "outside": outside,
        }
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        browser.close()
    return state


def windows_by_prediction(warehouse: Path) -> dict[str, list[tuple[str, str | None]]]:
    """(window, trust) of each prediction's rows in marts.prediction_verdicts, years first, the last 12 months last."""
    rows = query(warehouse, 'select prediction_id, "window", trust from marts.prediction_verdicts '
                            "order by prediction_id, \"window\" = 'last_12_months', window_start")
    found: dict[str, list[tuple[str, str | None]]] = {}
    for prediction_id, name, trust in rows:
        found.setdefault(prediction_id, []).append((name, trust))
    return found


def stocks_predictions(warehouse: Path) -> dict[str, str]:
    """Prediction → its scorecard window, for every prediction the registry gives a stocks signal."""
    return dict(query(warehouse, 'select distinct v.prediction_id, v."window" from marts.prediction_verdicts as v '
                                 "inner join raw_registry.signals as s using (prediction_id) "
                                 "where s.source = 'stocks' and v.is_scorecard_window"))


@pytest.mark.slow
@pytest.mark.browser
def test_report_in_chromium_shows_every_prediction_and_charts_every_indicator_offline(
        bundled_run: BundledRun, run_cli: CliRunner) -> None:
    warehouse = bundled_run.warehouse
    path = report_path(warehouse)
    assert f"Report: {path}" in bundled_run.completed.stdout, "the run's last asset wrote the report"
    result = run_cli("report", env=bundled_run.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(path) == str(warehouse.parent / "report" / "ai_pulse_report.html")

    scorecard = {pid: (verdict, trust) for pid, verdict, trust in query(
        warehouse, "select prediction_id, verdict, trust from marts.prediction_scorecard")}
    indicators = {f"marts.{name}" for (name,) in query(
        warehouse, "select table_name from information_schema.tables "
                   "where table_schema = 'marts' and table_name like 'ind\\_p%' escape '\\'")}
    assert len(scorecard) == 15 and "marts.ind_p04_hardware_race" in indicators

    state = open_report(path, "report.png")
    assert state["errors"] == [] and state["outside"] == []
    assert {pid: (verdict, trust) for pid, verdict, trust, _ in state["scorecard"]} == {
        pid: (verdict.replace("_", " "), trust) for pid, (verdict, trust) in scorecard.items()}
    assert all(marked == (trust == "demonstration") for _, _, trust, marked in state["scorecard"])
    assert "demonstration" in {trust for _, trust in scorecard.values()}, "the bundled data has demonstrations"
    assert sorted(state["sections"]) == sorted(scorecard)
    charts = [c for c in state["charts"] if c["indicator"]]
    charted = {c["indicator"] for c in charts if c["points"] > 0 and c["drawn"] > 0}
    assert charted == indicators, "every indicator table has at least one chart with data points"
    for chart in charts:
        assert chart["prediction"] == chart["indicator"].split(".")[1][:7].replace("ind_p", "P")

    # Every window side by side, a demonstration marked in words and style (not only colour); one night so far.
    windows = windows_by_prediction(warehouse)
    for shown in state["over_time"]:
        assert [(w["window"], w["trust"]) for w in shown["windows"]] == windows[shown["prediction"]]
        for row in shown["windows"]:
            demonstration = row["trust"] == "demonstration"
            assert row["marked"] == row["italic"] == demonstration
            assert row["label"] == ("demonstration data" if demonstration else "")
        assert shown["nights"] == "1" and "One night so far" in shown["nightsText"]
    assert not [c for c in state["charts"] if c["kind"] == "history"], "a line needs two nights"

    # Share prices indexed to 100 at the start of the scorecard window, instead of year-to-date returns.
    indexed: dict[str, list[dict]] = {}
    for chart in state["charts"]:
        if chart["kind"] == "indexed_prices":
            indexed.setdefault(chart["prediction"], []).append(chart)
    assert indexed.keys() == stocks_predictions(warehouse).keys()
    for prediction_id, window_name in stocks_predictions(warehouse).items():
        prices = indexed[prediction_id][0]
        assert prices["title"] == f"Share prices over {window_name}, indexed to 100 at the start"
        assert prices["starts"] and all(first == 100 and length > 200 for _, first, length in prices["starts"])
    assert "Share prices" not in {c["title"] for c in state["charts"]}, "no year-to-date price chart is left"


@pytest.mark.slow
def test_report_content_has_every_window_side_by_side_and_one_night(bundled_run: BundledRun) -> None:
    warehouse = bundled_run.warehouse
    content = read_content(warehouse)
    (as_of,) = query(warehouse, "select distinct as_of from marts.prediction_verdicts")[0]
    assert content.nights == [as_of] == [content.current_night] and content.previous_night is None
    expected = query(warehouse, 'select prediction_id, "window", verdict, headline_value, trust, coverage, '
                                "real_share, derived_share, synthetic_share from marts.prediction_verdicts")
    assert sorted((v.prediction_id, v.window, v.verdict, v.headline_value, v.trust, v.coverage, v.real_share,
                   v.derived_share, v.synthetic_share)
                  for rows in (content.verdicts or {}).values() for v in rows) == sorted(expected)
    windows = windows_by_prediction(warehouse)
    for prediction_id, rows in (content.verdicts or {}).items():
        assert [(v.window, v.trust) for v in rows] == windows[prediction_id], "years in order, then the rolling one"
        assert [v.window for v in rows if v.is_scorecard_window] == [rows[0].window], "the first year is scored"
        assert content.history and [(h.window, h.headline_value) for h in content.history[prediction_id]] == [
            (v.window, v.headline_value) for v in rows], "the history holds tonight's set"
        assert content.changes(prediction_id) == []
    page, _ = render_page(content)
    assert page.count(f"One night so far ({as_of}): the chart of the headline value") == len(content.verdicts or {})
    assert page.count("What changed: one night so far, nothing to compare with yet.") == len(content.verdicts or {})
    assert f"One night so far ({as_of}): nothing to compare with yet." in page, "the scorecard says so too"


@pytest.mark.slow
def test_share_prices_are_indexed_to_100_at_the_start_of_the_scorecard_window(bundled_run: BundledRun) -> None:
    warehouse = bundled_run.warehouse
    content = read_content(warehouse)
    registered = query(warehouse, "select prediction_id, list(signal order by signal) from raw_registry.signals "
                                  "where source = 'stocks' group by all")
    assert {pid: sorted(p.series) for pid, p in content.prices.items()} == dict(registered)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for prediction_id, prices in content.prices.items():
            start, end = con.execute("select window_start, window_end from marts.prediction_verdicts "
                                     "where prediction_id = ? and is_scorecard_window", [prediction_id]).fetchone()
            assert (prices.window_start, prices.window_end) == (start, end)
            for ticker, points in prices.series.items():
                closes = con.execute("select trade_date, close from core.fct_stock_daily where ticker = ? "
                                     "and close > 0 and trade_date <= ? order by trade_date", [ticker, end]).fetchall()
                before = [(day, close) for day, close in closes if day < start]
                base_day, base_close = before[-1] if before else closes[0]
                last_day, last_close = closes[-1]
                assert points[0] == (base_day, 100.0), f"{prediction_id} {ticker} starts at 100"
                assert points[-1] == (last_day, last_close / base_close * 100), f"{prediction_id} {ticker} ends right"
                assert len(points) == len([day for day, _ in closes if day >= base_day])
    # On the index, the leader's lead over the benchmark at the end is the headline's spread in points.
    (headline,) = query(warehouse, "select headline_value from marts.prediction_scorecard "
                                   "where prediction_id = 'P04'")[0]
    roles = {s.key: s.role for s in content.signals["P04"]}
    leader = next(k for k, r in roles.items() if r == "leader")
    benchmark = next(k for k, r in roles.items() if r == "benchmark")
    p04 = content.prices["P04"]
    assert round(p04.series[leader][-1][1] - p04.series[benchmark][-1][1], 2) == headline
    charts = indicator_charts(content.indicators["P04"][0], content.signals["P04"], p04)
    against = next(c for c in charts if c.title.startswith("Against the benchmark"))
    assert round(traces(against)[leader][p04.series[leader][-1][0].isoformat()], 2) == headline


@pytest.mark.slow
def test_a_github_signal_has_one_label_and_it_agrees_with_the_verdicts_evidence(bundled_run: BundledRun) -> None:
    warehouse = bundled_run.warehouse
    content = read_content(warehouse)
    for prediction_id, signals in content.signals.items():
        keys = [(s.source, s.key) for s in signals]
        assert len(keys) == len(set(keys)), f"{prediction_id} lists a signal twice"
    datasets = dict(query(warehouse, "select signal, count(*) from raw_registry.provenance where source = 'github' "
                                     "group by all"))
    assert max(datasets.values()) == 2, "GitHub signals are loaded from two datasets"
    # The verdicts' evidence names the derived and synthetic inputs (the classes of prediction_verdicts' inputs CTE).
    named: dict[str, set[str]] = {"derived": set(), "synthetic": set()}
    for (evidence,) in query(warehouse, "select evidence from marts.prediction_verdicts"):
        for kind, clause in (("synthetic", "Uses synthetic stand-in data for "),
                             ("derived", "Uses data derived from real counts for ")):
            if clause in evidence:
                names = evidence.split(clause, 1)[1].split(". Uses ", 1)[0].removesuffix(".")
                named[kind] |= {name.removesuffix(" (GitHub)") for name in names.split(", ") if "/" in name}
    github = {s.key: s.provenance for signals in content.signals.values() for s in signals if s.source == "github"}
    assert named["derived"], "some GitHub input is derived from real counts"
    for kind, names in named.items():
        assert {name: github[name] for name in names} == dict.fromkeys(names, kind)
    p11 = {s.key for s in content.signals["P11"]} & named["derived"]
    assert p11, "P11's repos are derived from real counts"
    legend = {t.name for c in indicator_charts(content.indicators["P11"][0], content.signals["P11"])
              for t in c.figure.data}
    assert {f"{key} (derived)" for key in p11} <= legend


@pytest.mark.slow
@pytest.mark.browser
def test_a_second_night_draws_each_windows_headline_night_by_night_and_lists_what_changed(
        bundled_run: BundledRun, run_cli: CliRunner, pulse_env: dict[str, str], tmp_path: Path) -> None:
    warehouse = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundled_run.warehouse, warehouse)
    (first,) = query(warehouse, "select distinct as_of from marts.prediction_verdicts")[0]
    second = first + dt.timedelta(days=5)
    extend_bundled(tmp_path / "newer", second)
    result = run_cli("run", "--snapshot", str(tmp_path / "newer"))
    assert result.returncode == 0, result.stderr

    content = read_content(warehouse)
    assert content.nights == [first, second]
    assert (content.previous_night, content.current_night) == (first, second)
    history = query(warehouse, 'select prediction_id, "window", as_of, verdict, headline_value '
                               "from marts.verdict_history")
    assert sorted((h.prediction_id, h.window, h.as_of, h.verdict, h.headline_value)
                  for rows in (content.history or {}).values() for h in rows) == sorted(history)
    # What changed, as SQL sees it: windows of either night whose verdict or headline value differ.
    expected = set(query(warehouse, f"""
        with before as (select * from marts.verdict_history where as_of = '{first}'),
             after as (select * from marts.verdict_history where as_of = '{second}')
        select coalesce(after.prediction_id, before.prediction_id), coalesce(after."window", before."window"),
               before.verdict, before.headline_value, after.verdict, after.headline_value
        from before full outer join after
            on after.prediction_id = before.prediction_id and after."window" = before."window"
        where before.verdict is distinct from after.verdict
            or before.headline_value is distinct from after.headline_value"""))  # noqa: S608 - dates from the test
    changed = {(pid, c.window, c.before and c.before.verdict, c.before and c.before.headline_value,
                c.after and c.after.verdict, c.after and c.after.headline_value)
               for pid in content.prediction_ids for c in content.changes(pid)}
    assert changed == expected
    assert {window for _, window, was, *_ in changed if was is None} == {str(second.year)}, "a new year's window"
    assert any(was is not None for _, _, was, *_ in changed), "a window of both nights changed its value"
    unchanged = [pid for pid in content.prediction_ids if not content.changes(pid)]

    written = write_report(warehouse)
    page = written.path.read_text(encoding="utf-8")
    assert "One night so far" not in page
    assert page.count(f"What changed since {first} (now {second})") == len(content.prediction_ids) - len(unchanged)
    assert page.count(f"Nothing changed since {first}") == len(unchanged)
    state = open_report(written.path, "report_two_nights.png")
    assert state["errors"] == [] and state["outside"] == []
    history_charts = {c["prediction"]: c for c in state["charts"] if c["kind"] == "history"}
    assert history_charts.keys() == set(content.prediction_ids)
    for prediction_id, chart in history_charts.items():
        values: dict[str, list[float | None]] = {}
        for row in (content.history or {})[prediction_id]:
            values.setdefault(row.window, []).append(row.headline_value)
        assert sorted(name for name, _, _ in chart["starts"]) == sorted(w.replace("_", " ") for w in values)
        # A line joins a window's two nights when both have a value (too little data leaves a gap).
        lines = sum(len(v) == 2 and None not in v for v in values.values())
        assert (chart["drawn"] > 0) == (lines > 0), prediction_id
    assert any(c["drawn"] for c in history_charts.values())
    assert all(shown["nights"] == "2" for shown in state["over_time"])


@pytest.mark.slow
def test_each_indicator_materialization_carries_its_scorecard_verdict_and_the_scorecard_every_window(
        bundled_run: BundledRun, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DagsterInstance, FloatMetadataValue, MarkdownMetadataValue, TextMetadataValue

    warehouse = bundled_run.warehouse
    scorecard = {pid: rest for pid, *rest in query(
        warehouse, "select prediction_id, headline_value, verdict, trust, coverage from marts.prediction_scorecard")}
    monkeypatch.setenv("DAGSTER_HOME", bundled_run.env["DAGSTER_HOME"])
    with DagsterInstance.get() as instance:
        keys = [key for key in instance.all_asset_keys()
                if len(key.path) == 2 and key.path[0] == "marts" and INDICATOR_TABLE.match(key.path[1])]
        assert len(keys) == len(scorecard) == 15
        for key in keys:
            metadata = instance.get_latest_materialization_event(key).asset_materialization.metadata
            prediction_id = f"P{INDICATOR_TABLE.match(key.path[1]).group(1)}"
            value, verdict, trust, coverage = scorecard[prediction_id]
            assert metadata["prediction_id"] == TextMetadataValue(prediction_id)
            for name, expected in (("headline_value", value), ("coverage", coverage)):
                entry = metadata[name]
                assert isinstance(entry, FloatMetadataValue), f"{key} {name} is a float Dagster plots"
                assert math.isnan(entry.value) if expected is None else entry.value == expected, (key, name)
            assert (metadata["verdict"], metadata["trust"]) == (TextMetadataValue(verdict), TextMetadataValue(trust))
        assert any(v[0] is None for v in scorecard.values()), "an insufficient_data prediction keeps its keys"

        windows = [w for (w,) in query(warehouse, 'select "window" from marts.prediction_verdicts group by 1 '
                                                  'order by min(window_end), max(window_start) desc, 1')]
        verdicts = query(warehouse, 'select prediction_id, "window", verdict, trust, is_scorecard_window '
                                    "from marts.prediction_verdicts")
        for table in ("prediction_scorecard", "prediction_verdicts"):
            event = instance.get_latest_materialization_event(AssetKey(["marts", table]))
            markdown = event.asset_materialization.metadata["verdicts"]
            assert isinstance(markdown, MarkdownMetadataValue)
            lines = markdown.value.splitlines()
            header = next(line for line in lines if line.startswith("| prediction |"))
            assert header == "| " + " | ".join(["prediction", *windows]) + " |"
            cells = {line.split(" | ")[0].removeprefix("| "): line.strip("| ").split(" | ")[1:]
                     for line in lines if line.startswith("| P")}
            assert cells.keys() == scorecard.keys()
            for prediction_id, window_name, verdict, trust, is_scorecard in verdicts:
                cell = cells[prediction_id][windows.index(window_name)].strip("*")
                assert cell.startswith(verdict) and cell.endswith("(demo)") == (trust == "demonstration"), cell
                assert cells[prediction_id][windows.index(window_name)].startswith("**") == bool(is_scorecard)
