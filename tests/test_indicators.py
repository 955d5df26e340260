"""Every indicator and verdict, checked against numbers worked out by hand from tests/indicator_fixture.py, plus the
rules that keep indicators registry-driven (no signal in SQL, one table and headline per prediction)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ingestion.common import Window
from ingestion.github import HistoryCursor, fetch_history, fetch_repo
from ingestion.http import HttpClient, ReplayTransport
from ingestion.regulatory import fetch_documents
from ingestion.trends import fetch_pageviews
from orchestration.defs.transform import COMBINED_LANE, dbt_lanes
from tests.conftest import PROJECT_ROOT, CliRunner, query
from tests.indicator_fixture import AS_OF, MORE_SIGNALS, SIGNALS, D, indicator_snapshot

TRANSFORM = PROJECT_ROOT / "transform"
REGISTRY = yaml.safe_load((PROJECT_ROOT / "registry.yml").read_text(encoding="utf-8"))

# prediction: (verdict, headline value, data provenance, evidence) — the arithmetic is in the comments.
EXPECTED = {
    # AI 100 → 180 views/day, LLM 50 → 120 (its missing day is left out, not a zero): combined 150 → 300.
    "P00": ("supported", 100.0, "real", "Combined mean daily Wikipedia views +100.0% in 2023 vs 2022 "
            "(Artificial_intelligence +80.0%, Large_language_model +140.0%)."),
    # 200 → 230 views/day; stars 50,000 → 60,000; MSFT 300 → 270.
    "P01": ("mixed", 15.0, "real", "Generative_artificial_intelligence mean daily Wikipedia views +15.0% in 2024 vs "
            "2023; langchain-ai/langchain stars +20.0% over 2024; MSFT price return -10.0% over 2024."),
    # mamba gains 2,000, transformers 8,000: 2,000 / 10,000.
    "P02": ("mixed", 20.0, "real", "state-spaces/mamba gained 2,000 stars over 2024 (+200.0%) vs "
            "huggingface/transformers 8,000 (+8.0%): 20.0% of their combined growth."),
    # weaviate has one observation (today), so 3 of 4 repos count (75%): 16,000 → 20,000 stars.
    "P03": ("mixed", 25.0, "real", "Summed stars of the vector-database repos +25.0% over 2024 (chroma-core/chroma "
            "+50.0%, milvus-io/milvus +30.0%, qdrant/qdrant +10.0%); left out: weaviate/weaviate (no star count "
            "within 45 days of 2024-01-01)."),
    # NVDA 50 → 135 (split-adjusted closes; the 10:1 split leaves no jump), QQQ 400 → 500, AMD 140 → 120.
    "P04": ("supported", 145.0, "partly_synthetic", "NVDA +170.0% over 2024 vs benchmark QQQ +25.0% (spread +145.0 "
            "pp); median of the other 1 hardware names -14.3%. Uses synthetic stand-in data for QQQ."),
    # Q4 300 views/day against the February peak of 2,000.
    "P05": ("not_supported", 15.0, "real", "Share of Apple_Vision_Pro's peak-month interest kept in the last "
            "quarter 15.0% in 2024."),
    # 1,000 + 2,000 → 2,000 + 5,000 stars: 3,000 → 7,000.
    "P06": ("supported", 133.33, "real", "Summed stars of the agent frameworks +133.3% over 2024 (crewAIInc/crewAI "
            "+100.0%, microsoft/autogen +150.0%)."),
    # The article exists from 2023-08-15, so 2023 is judged from then (5 of 5 months): 400 → 600 views a day.
    "P07": ("supported", 50.0, "real", "Gaussian_splatting mean daily Wikipedia views +50.0% in 2024 vs 2023; "
            "Gaussian_splatting judged from its first observation (2023-08)."),
    # 2 documents a month in 2023, 3 in 2024.
    "P08": ("supported", 50.0, "real", 'Federal Register documents matching "artificial intelligence": 36 in 2024 vs '
            "24 in 2023 (+50.0%)."),
    # ChatGPT/Google 300/600 = 0.5 in 2023; in 2024 (335 × 450 + 31 × 900) / (335 × 500 + 31 × 1000) = 0.9.
    "P09": ("supported", 80.0, "partly_synthetic", "ChatGPT/Google_Search mean daily views ratio 0.50 in 2023 → 0.90 "
            "in 2024 (+80.0%); GOOGL +30.0% vs benchmark QQQ +25.0% over 2024. Uses synthetic stand-in data for QQQ."),
    # 100 → 95 views/day; stars 100 → 110; the own-checks clause is checked against quality.check_results below.
    "P10": ("not_supported", -5.0, "real", "Data_quality mean daily Wikipedia views -5.0% in 2024 vs 2023; "
            "great-expectations/great_expectations stars +10.0% over 2024; AI Pulse's own latest quality checks "
            "passed {passed} of {checked} expectations ({rate:.1f}%) in {suites} suites, with 0 blocking failures "
            "recorded since {since}."),
    "P11": ("supported", 150.0, "real", "ollama/ollama stars +150.0% over 2024."),
    # GPT_Store is a 404; the proxy ChatGPT keeps 450 of its May peak of 900 views/day (50% = supported_at).
    "P12": ("supported", 50.0, "real", "No usable data for GPT_Store (no data: Wikimedia 404 'Not found.': no "
            "pageviews between 2022-01-01 and 2024-12-31); ChatGPT used as a proxy: interest kept in the last quarter "
            "of 2024 as a share of the peak month: ChatGPT 50.0% of its 2024-05 peak."),
    # SNOW 100 → 150 vs CRM 200 → 220.
    "P13": ("supported", 40.0, "real", "Usage-priced basket +50.0% over 2024 (SNOW +50.0%) vs seat-priced basket "
            "+10.0% (CRM +10.0%): spread +40.0 pp."),
    # 12 documents in 2023, 13 in 2024 (two in December).
    "P14": ("mixed", 8.33, "synthetic", 'Federal Register documents matching "digital identity": 13 in 2024 vs 12 in '
            '2023 (+8.3%). Uses synthetic stand-in data for "digital identity".'),
}

# (table, where, columns): the row's values, worked out from the fixture.
INDICATOR_ROWS = [
    # A missing day: March 2023 has 30 days of 120 views, so the mean stays 120.
    ("ind_p00_chatgpt_mainstream", "signal = 'Large_language_model' and period = '2023-03-01'",
     "value, observations, data_status", (120.0, 30, "ok")),
    # Year over year 100 → 180; rolling over Nov 2022, Dec 2022, Jan 2023: (100 + 100 + 180) / 3.
    ("ind_p00_chatgpt_mainstream", "signal = 'Artificial_intelligence' and period = '2023-01-01'",
     "yoy_growth_pct, change_12m, round(rolling_3m_avg, 4)", (80.0, 80.0, 126.6667)),
    ("ind_p01_genai_business", "period = '2024-12-01' and source = 'stocks'", "signal, value, level",
     ("MSFT", -10.0, 270.0)),
    ("ind_p01_genai_business", "period = '2024-12-01' and source = 'github'", "signal, value, yoy_growth_pct",
     ("langchain-ai/langchain", 60000.0, 20.0)),
    # Stars gained since December 2023: 2,000 of 10,000 and 8,000 of 10,000.
    ("ind_p02_beyond_transformers", "period = '2024-12-01' and role = 'challenger'",
     "signal, value, change_12m, share_of_12m_star_gain_pct", ("state-spaces/mamba", 3000.0, 2000.0, 20.0)),
    ("ind_p02_beyond_transformers", "period = '2024-12-01' and role = 'incumbent'", "share_of_12m_star_gain_pct",
     (80.0,)),
    # The repo with one observation is in the indicator, with that observation only.
    ("ind_p03_vector_data", "signal = 'weaviate/weaviate'", "period, value, observations, yoy_growth_pct",
     (D(2024, 12, 1), 9000.0, 1, None)),
    # Counts rebuilt from the star history exist for every day: July's 31, the last one 11,000.
    ("ind_p03_vector_data", "signal = 'milvus-io/milvus' and period = '2024-07-01'", "value, observations",
     (11000.0, 31)),
    # June 2024, the split month: NVDA 50 + 85 × 6/12 = 92.5, +85% year to date; QQQ 450, +12.5%.
    ("ind_p04_hardware_race", "signal = 'NVDA' and period = '2024-06-01'",
     "value, month_end_close, benchmark_ytd_return_pct, spread_vs_benchmark_pp, role", (85.0, 92.5, 12.5, 72.5,
                                                                                        "leader")),
    ("ind_p04_hardware_race", "signal = 'AMD' and period = '2024-12-01'", "round(value, 4), role",
     (-14.2857, "member")),
    ("ind_p05_ai_wearables", "signal = 'Apple_Vision_Pro' and period in ('2024-02-01', '2024-03-01', '2024-12-01')",
     "list(pct_of_peak_so_far order by period)", ([100.0, 50.0, 15.0],)),
    ("ind_p06_agents", "period = '2024-12-01'", "list(signal || '=' || value order by signal)",
     (["crewAIInc/crewAI=2000.0", "microsoft/autogen=5000.0"],)),
    # 2023-08-15 … 31: 17 days of 400 views.
    ("ind_p07_new_modalities", "period = '2023-08-01'", "signal, value, observations",
     ("Gaussian_splatting", 400.0, 17)),
    # Months without documents are zeros, not gaps in the series: 2022 has none.
    ("ind_p08_responsible_ai", "period in ('2022-05-01', '2024-05-01')", "list(value order by period)",
     ([0.0, 3.0],)),
    ("ind_p08_responsible_ai", "period = '2024-05-01'", "yoy_growth_pct, measure", (50.0, "documents")),
    ("ind_p09_answer_engines", "signal = 'ChatGPT' and period in ('2023-06-01', '2024-05-01', '2024-06-01')",
     "list(round(challenger_incumbent_ratio, 6) order by period)", ([0.5, 0.9, 0.9],)),
    ("ind_p09_answer_engines", "signal = 'GOOGL' and period = '2024-12-01'", "value, spread_vs_benchmark_pp",
     (30.0, 5.0)),
    ("ind_p11_small_models", "period = '2024-12-01'", "signal, value, yoy_growth_pct",
     ("ollama/ollama", 2500.0, 150.0)),
    # The 404 article is a visible no_data row; the proxy keeps its role.
    ("ind_p12_agent_marketplaces", "signal = 'GPT_Store'", "period, value, data_status, note",
     (D(2024, 12, 1), None, "no_data", "Wikimedia 404 'Not found.': no pageviews between 2022-01-01 and 2024-12-31")),
    ("ind_p12_agent_marketplaces", "signal = 'ChatGPT' and period = '2024-12-01'", "role, value, pct_of_peak_so_far",
     ("proxy", 450.0, 50.0)),
    # December 2024: SNOW +50%, CRM +10%.
    ("ind_p13_usage_pricing", "signal = 'SNOW' and period = '2024-12-01'",
     "basket_ytd_return_pct, usage_minus_seat_pp, role", (50.0, 40.0, "usage")),
    ("ind_p14_digital_identity", "period in ('2024-11-01', '2024-12-01')", "list(value order by period)",
     ([1.0, 2.0],)),
]


def rounded(value: object) -> object:
    """Floats to 6 decimals, inside tuples and lists too: SQL arithmetic leaves 85.00000000000001 where 85 is meant."""
    if isinstance(value, float):
        return round(value, 6) + 0.0
    if isinstance(value, tuple | list):
        return type(value)(rounded(v) for v in value)
    return value


def prediction_files() -> dict[str, tuple[Path, Path]]:
    return {p["id"]: (TRANSFORM / "models" / "marts" / f"ind_{p['id'].lower()}_{p['slug']}.sql",
                      TRANSFORM / "models" / "intermediate" / f"headline_{p['kind']}.sql")
            for p in REGISTRY["predictions"]}


def test_every_prediction_has_its_indicator_and_its_kinds_headline_in_the_verdicts() -> None:
    kinds = yaml.safe_load((TRANSFORM / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["headline_kinds"]
    verdicts = (TRANSFORM / "models" / "marts" / "prediction_verdicts.sql").read_text(encoding="utf-8")
    assert "var('headline_kinds')" in verdicts, "the verdicts union every kind the project declares"
    for pid, (indicator, headline) in prediction_files().items():
        assert indicator.is_file() and headline.is_file(), pid
        assert headline.stem.removeprefix("headline_") in kinds, f"{headline.stem} is not a declared kind"
    declared = {path.stem.removeprefix("headline_") for path in (TRANSFORM / "models" / "intermediate").glob(
        "headline_*.sql")}
    assert declared == set(kinds), "every kind model is declared, and every declared kind has its model"


def test_no_model_names_a_registered_signal_or_a_threshold() -> None:
    keys = {s["key"] for entries in REGISTRY["signals"].values() for s in entries}
    models = [*(TRANSFORM / "models").rglob("*.sql"), *(TRANSFORM / "macros").glob("*.sql")]
    for path in models:
        text = path.read_text(encoding="utf-8")
        named = sorted(k for k in keys if re.search(rf"'{re.escape(k)}'", text, re.IGNORECASE))
        assert named == [], f"{path.name} names registered signals {named}; select them from the registry"  # noqa: S608
        if path.stem.startswith(("headline_", "ind_", "prediction_", "int_baskets", "int_context")):
            # Comparing with 0 or 1 is structure (a positive gain, more than one signal); anything else a threshold.
            literal = re.search(r"(>=|<=|>|<)\s*-?(\d*\.\d|[2-9]|1\d)", text)
            assert literal is None, f"{path.name} compares with a number literal: {literal and literal.group()}"


def test_models_reading_the_quality_history_run_after_every_check() -> None:
    manifest = json.loads((TRANSFORM / "target" / "manifest.json").read_text(encoding="utf-8"))
    lanes = dbt_lanes(manifest)
    assert "quality" not in lanes
    assert {"stg_quality__check_results", "int_context_clauses", "prediction_scorecard"} <= set(lanes[COMBINED_LANE])


def expected_rows(warehouse: Path) -> dict[str, tuple]:
    """EXPECTED with P10's own-checks numbers taken from quality.check_results (the run's own validations)."""
    passed, checked, suites, since, blocking_failures = query(warehouse, """
        with latest as (select * from quality.check_results
                        qualify checked_at = max(checked_at) over (partition by asset, suite))
        select count(*) filter (where success), count(*), count(distinct (asset, suite)),
               (select min(cast(checked_at as date)) from quality.check_results),
               count(*) filter (where blocking and not success) from latest""")[0]
    # Only warnings may fail (the fixture's 404 article is a no_data warning by design).
    assert checked > 0 and blocking_failures == 0, "the fixture passes every blocking check"
    rows = dict(EXPECTED)
    verdict, value, provenance, evidence = rows["P10"]
    rows["P10"] = (verdict, value, provenance, evidence.format(passed=passed, checked=checked, suites=suites,
                                                               since=since, rate=100 * passed / checked))
    return rows


def scorecard(warehouse: Path) -> dict[str, tuple]:
    rows = query(warehouse, "select prediction_id, verdict, headline_value, data_provenance, evidence, as_of "
                            "from marts.prediction_scorecard order by prediction_id")
    assert {row[5] for row in rows} == {AS_OF}
    return {row[0]: row[1:5] for row in rows}


def docs_are_complete(env: dict[str, str], warehouse: Path, target: Path) -> None:
    """`dbt docs generate` works offline against the warehouse, and every model and column has a description."""
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [str(dbt), "docs", "generate", "--project-dir", str(TRANSFORM), "--profiles-dir", str(TRANSFORM),
         "--target-path", str(target)], env={**env, "AI_PULSE_WAREHOUSE": str(warehouse)}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    network = Path(env["AI_PULSE_NETWORK_LOG"])
    assert not network.exists() or network.read_text() == "", "dbt docs generate tried to reach the network"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    undocumented = []
    for unique_id, node in catalog["nodes"].items():
        described = manifest["nodes"][unique_id]
        if not described.get("description"):
            undocumented.append(unique_id)
        documented = {name.lower() for name, column in described["columns"].items() if column.get("description")}
        undocumented += [f"{unique_id}.{c}" for c in node["columns"] if c.lower() not in documented]
    assert undocumented == []
    assert len(catalog["nodes"]) >= 60


@pytest.mark.slow
def test_every_indicator_and_verdict_matches_the_hand_computed_fixture_and_a_new_signal_needs_no_sql(
        run_cli: CliRunner, write_registry, pulse_env: dict[str, str], tmp_path: Path) -> None:
    snapshot = indicator_snapshot(tmp_path / "snapshot")
    warehouse = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    first = run_cli("run", "--snapshot", str(snapshot), env={"AI_PULSE_REGISTRY": str(write_registry(SIGNALS))})
    assert first.returncode == 0, first.stderr

    assert scorecard(warehouse) == expected_rows(warehouse)
    for table, where, columns, expected in INDICATOR_ROWS:
        rows = query(warehouse, f"select {columns} from marts.{table} where {where}")  # noqa: S608 - constants
        assert rounded(rows) == [expected], f"{table} where {where}"
    # Every indicator has the contract's columns, one row per month, source and signal, and months from the start.
    for pid, (indicator, _) in prediction_files().items():
        columns = [c[0] for c in query(warehouse, f"describe marts.{indicator.stem}")]  # noqa: S608 - file names
        assert columns[:4] == ["prediction_id", "period", "signal", "value"], indicator.stem
        ids, first_period = query(warehouse, f"select list(distinct prediction_id), min(period) "  # noqa: S608
                                             f"from marts.{indicator.stem}")[0]
        assert ids == [pid] and first_period >= D(2022, 1, 1), indicator.stem
    # The split is recorded and the split-adjusted closes around it move smoothly.
    assert query(warehouse, "select split_date, numerator from raw_stocks.splits") == [(D(2024, 6, 10), 10.0)]
    # The whole printout: a table of 15 verdicts, then every evidence sentence.
    assert "(15 rows)" in first.stdout and "P12  No usable data for GPT_Store" in first.stdout

    docs_are_complete(pulse_env, warehouse, tmp_path / "docs")

    # One more ticker and one more article in the registry, no SQL change: both join their indicators and headlines.
    before = scorecard(warehouse)
    second = run_cli("run", "--snapshot", str(snapshot), env={"AI_PULSE_REGISTRY": str(write_registry(MORE_SIGNALS))})
    assert second.returncode == 0, second.stderr
    after = scorecard(warehouse)
    # TSM 100 → 180 (+80%): the median of AMD and TSM is (−14.29 + 80) / 2.
    assert after["P04"] == ("supported", 145.0, "partly_synthetic", "NVDA +170.0% over 2024 vs benchmark QQQ +25.0% "
                            "(spread +145.0 pp); median of the other 2 hardware names +32.9%. Uses synthetic "
                            "stand-in data for QQQ.")
    # Humane_Ai_Pin keeps 450 of its April peak of 1,500 (30%): (15 + 30) / 2.
    assert after["P05"] == ("mixed", 22.5, "real", "Average share of peak-month interest kept in the last quarter "
                            "22.5% in 2024 (Apple_Vision_Pro 15.0% of its 2024-02 peak, Humane_Ai_Pin 30.0% of its "
                            "2024-04 peak).")
    assert {k: v for k, v in after.items() if k not in ("P04", "P05")} == {
        k: v for k, v in before.items() if k not in ("P04", "P05")}
    assert query(warehouse, "select value from marts.ind_p04_hardware_race where signal = 'TSM' "
                            "and period = '2024-12-01'") == [(80.0,)]
    assert query(warehouse, "select pct_of_peak_so_far from marts.ind_p05_ai_wearables "
                            "where signal = 'Humane_Ai_Pin' and period = '2024-12-01'") == [(30.0,)]


def test_indicator_fixture_recordings_match_the_sources_request_shapes(tmp_path: Path) -> None:
    """The fixture's recordings answer the requests the real sources send (a cheap guard before the slow run)."""
    client = HttpClient(ReplayTransport(indicator_snapshot(tmp_path / "s")), user_agent="t")
    window = Window(D(2022, 1, 1), AS_OF)
    assert fetch_pageviews(client, "Large_language_model", window).status == "ok"
    assert fetch_pageviews(client, "GPT_Store", window).status == "no_data"
    assert fetch_repo(client, "crewAIInc/crewAI", Window(AS_OF, AS_OF)).tables["repos"][0]["stars"] == 2000
    assert fetch_history(client, "weaviate/weaviate", HistoryCursor(), window.start, AS_OF)[0].status == "no_data"
    assert fetch_history(client, "ollama/ollama", HistoryCursor(), window.start, AS_OF)[0].status == "ok"
    assert len(fetch_documents(client, "digital identity", Window(D(2024, 1, 1), AS_OF)).tables["documents"]) == 13
