"""A snapshot written straight from the published format's wording (docs/SNAPSHOTS.md: its endpoints and file
format), by someone who never saw AI Pulse's own builders: it replays to a full scorecard whose numbers can be
worked out by hand, and still does without any star-history or news recording (optional data never blocks)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import CliRunner, query

D = dt.date
AS_OF = D(2024, 12, 31)
NEW_YORK = ZoneInfo("America/New_York")
CONTRACT_SIGNALS = {
    "stocks": [{"key": "NVDA", "predictions": ["P04"], "roles": {"P04": "leader"}},
               {"key": "QQQ", "predictions": ["P04"], "roles": {"P04": "benchmark"}}],
    "trends": [{"key": "ChatGPT", "predictions": ["P09"], "roles": {"P09": "challenger"}},
               {"key": "Google_Search", "predictions": ["P09"], "roles": {"P09": "incumbent"}}],
    "github": [{"key": "ollama/ollama", "predictions": ["P11"]}, {"key": "ggml-org/llama.cpp", "predictions": ["P11"]}],
    "regulatory": [{"key": "artificial intelligence", "predictions": ["P08"]}],
    "news": [{"key": "AI Act", "predictions": ["P08"]}],
}


def record(root: Path, name: str, url: str, body: Any, params: dict[str, str] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> None:
    """One recorded exchange, exactly as the contract's example shows it."""
    response: dict[str, Any] = {"status": status, "json": body}
    if headers is not None:
        response["headers"] = headers
    doc = {"request": {"method": "GET", "url": url, "params": params or {}}, "response": response}
    path = root / "responses" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")


def yahoo_chart(symbol: str, closes: dict[dt.date, float]) -> dict[str, Any]:
    """chart.result[0]: timestamp[], indicators.quote[0] and adjclose[0], meta with the exchange's time zone."""
    days = sorted(closes)
    stamps = [int(dt.datetime.combine(day, dt.time(9, 30), NEW_YORK).timestamp()) for day in days]
    prices = [closes[day] for day in days]
    return {"chart": {"result": [{
        "meta": {"symbol": symbol, "exchangeTimezoneName": "America/New_York", "gmtoffset": -18000},
        "timestamp": stamps,
        "indicators": {"quote": [{"open": prices, "high": prices, "low": prices, "close": prices,
                                  "volume": [1000] * len(days)}],
                       "adjclose": [{"adjclose": prices}]},
    }], "error": None}}


def month_closes(end_2023: float, end_2024: float) -> dict[dt.date, float]:
    """A close on the 28th of every month: flat at `end_2023` through 2023, then rising to `end_2024`."""
    closes = {D(2023, m, 28): end_2023 for m in range(1, 13)}
    closes |= {D(2024, m, 28): round(end_2023 + (end_2024 - end_2023) * m / 12, 4) for m in range(1, 13)}
    return closes


def wikimedia_daily(article: str, per_day: dict[int, int]) -> dict[str, Any]:
    days = [D(2023, 1, 1) + dt.timedelta(days=n) for n in range((AS_OF - D(2023, 1, 1)).days + 1)]
    return {"items": [{"project": "en.wikipedia", "article": article, "granularity": "daily",
                       "timestamp": f"{day:%Y%m%d}00", "access": "all-access", "agent": "user",
                       "views": per_day[day.year]} for day in days]}


def github_repo(full_name: str, stars: int) -> dict[str, Any]:
    return {"full_name": full_name, "stargazers_count": stars, "forks_count": stars // 10, "open_issues_count": 7,
            "subscribers_count": 20, "pushed_at": "2024-12-30T12:00:00Z"}


def star_weeks(added: dict[dt.date, int]) -> list[dict[str, Any]]:
    """Weekly buckets, newest first, Sunday-first day counts, from the week of 2023-11-26 to the week of as_of."""
    weeks, sunday = [], D(2024, 12, 29)
    while sunday >= D(2023, 11, 26):
        days = [added.get(sunday + dt.timedelta(days=n), 0) for n in range(7)]
        weeks.append({"week": int(dt.datetime.combine(sunday, dt.time(), dt.UTC).timestamp()), "total": sum(days),
                      "days": days})
        sunday -= dt.timedelta(days=7)
    return weeks


def federal_register(per_month: dict[int, int]) -> dict[str, Any]:
    results = [{"document_number": f"{year}-{month:02d}{n:03d}", "title": "Artificial intelligence notice",
                "type": "Notice", "abstract": None, "publication_date": f"{year}-{month:02d}-{10 + n:02d}",
                "html_url": f"https://www.federalregister.gov/d/{year}-{month:02d}{n:03d}",
                "agencies": [{"name": "Commerce Department"}]}
               for year, count in per_month.items() for month in range(1, 13) for n in range(count)]
    return {"count": len(results), "total_pages": 1, "next_page_url": None, "results": results}


def hn_month(year: int, month: int) -> dict[str, str]:
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt.UTC)
    return {"query": '"AI Act"', "tags": "story", "hitsPerPage": "0",
            "numericFilters": f"created_at_i>={int(start.timestamp())},created_at_i<{int(end.timestamp())}"}


def contract_snapshot(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"as_of": AS_OF.isoformat(),
                                                    "description": "written from docs/SNAPSHOTS.md alone"}))
    chart = "https://query1.finance.yahoo.com/v8/finance/chart/{}"
    record(root, "stocks/NVDA", chart.format("NVDA"), yahoo_chart("NVDA", month_closes(50.0, 135.0)),
           {"interval": "1d"})
    record(root, "stocks/QQQ", chart.format("QQQ"), yahoo_chart("QQQ", month_closes(400.0, 500.0)),
           {"interval": "1d"})
    pageviews = ("https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article/en.wikipedia.org/all-access/user/"
                 "{}/daily/*/*")
    record(root, "trends/ChatGPT", pageviews.format("ChatGPT"), wikimedia_daily("ChatGPT", {2023: 300, 2024: 450}))
    record(root, "trends/Google_Search", pageviews.format("Google_Search"),
           wikimedia_daily("Google_Search", {2023: 600, 2024: 500}))
    repos = {"ollama/ollama": (2500, 1500), "ggml-org/llama.cpp": (7000, 2000)}  # stars today, made on 2024-07-01
    for repo, (stars, made) in repos.items():
        name = repo.replace("/", "__")
        record(root, f"github/{name}", f"https://api.github.com/repos/{repo}", github_repo(repo, stars),
               headers={"Content-Type": "application/json; charset=utf-8"})
        weeks = star_weeks({D(2024, 7, 1): made})
        history = f"https://api.github.com/repos/{repo}/stargazers/history"
        for page in (1, 2):
            chunk = weeks[30 * (page - 1):30 * page]
            params = {"per_page": "30", "page": str(page)}
            # ollama's pages carry GitHub's Link header; llama.cpp's were recorded without headers.
            headers = ({"Link": f'<{history}?per_page=30&page=2>; rel="next"'} if page == 1 else {}) \
                if repo == "ollama/ollama" else None
            record(root, f"github_history/{name}_{page}", history, chunk, params, headers=headers)
    record(root, "regulatory/ai", "https://www.federalregister.gov/api/v1/documents.json",
           federal_register({2023: 1, 2024: 2}), {"conditions[term]": "artificial intelligence"})
    for year, per_month in ((2023, 10), (2024, 15)):
        for month in range(1, 13):
            record(root, f"news/ai_act_{year}_{month:02d}", "https://hn.algolia.com/api/v1/search_by_date",
                   {"hits": [], "nbHits": per_month, "query": '"AI Act"'}, hn_month(year, month))
    return root


def scorecard(warehouse: str) -> dict[str, tuple]:
    rows = query(warehouse, "select prediction_id, verdict, headline_value, evidence from marts.prediction_scorecard")
    return {row[0]: row[1:] for row in rows}


@pytest.mark.slow
def test_a_snapshot_written_from_the_contract_replays_to_exact_verdicts_with_and_without_optional_data(
        run_cli: CliRunner, write_registry, pulse_env: dict[str, str], tmp_path: Path) -> None:
    env = {"AI_PULSE_REGISTRY": str(write_registry(CONTRACT_SIGNALS, start_date=D(2023, 1, 1)))}
    snapshot = contract_snapshot(tmp_path / "contract")
    full = run_cli("run", "--snapshot", str(snapshot), env=env)
    assert full.returncode == 0, full.stderr
    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
    verdicts = scorecard(warehouse)
    assert len(verdicts) == 15
    # NVDA 50 → 135 (+170%) against QQQ 400 → 500 (+25%).
    assert verdicts["P04"][:2] == ("supported", 145.0)
    assert verdicts["P04"][2] == "NVDA +170.0% over 2024 vs benchmark QQQ +25.0% (spread +145.0 pp)."
    # ChatGPT/Google_Search: 300/600 = 0.5 in 2023, 450/500 = 0.9 in 2024: +80%.
    assert verdicts["P09"][:2] == ("supported", 80.0)
    # Rebuilt from the star history: 1,000 and 5,000 stars at the start of 2024, 2,500 and 7,000 at its end.
    assert verdicts["P11"][:2] == ("supported", round(100 * (9500 / 6000 - 1), 2))
    assert "ggml-org/llama.cpp +40.0%" in verdicts["P11"][2] and "ollama/ollama +150.0%" in verdicts["P11"][2]
    # 12 documents in 2023, 24 in 2024; beside them 120 and 180 Hacker News stories (+50%).
    assert verdicts["P08"][:2] == ("supported", 100.0)
    assert 'Hacker News stories matching "AI Act" +50.0% in 2024 vs 2023' in verdicts["P08"][2]
    judged = {"P04", "P08", "P09", "P11"}
    assert {pid for pid, row in verdicts.items() if row[0] == "insufficient_data"} == set(verdicts) - judged
    assert query(warehouse, "select origin, count(*) from core.fct_repo_stars where observed_date < '2024-12-31' "
                            "group by 1") == [("reconstructed", 2 * ((AS_OF - D(2023, 11, 26)).days))]
    assert query(warehouse, "select sum(stories) from core.fct_news_volume") == [(12 * 10 + 12 * 15,)]

    # The same snapshot without any star-history or news recording: a full scorecard all the same, exit 0.
    shutil.rmtree(snapshot / "responses" / "github_history")
    shutil.rmtree(snapshot / "responses" / "news")
    elsewhere = tmp_path / "without" / "ai_pulse.duckdb"
    without = run_cli("run", "--snapshot", str(snapshot), env={**env, "AI_PULSE_WAREHOUSE": str(elsewhere)})
    assert without.returncode == 0, without.stderr
    assert "the table is empty: all 2 star_history signals answered no data" in without.stderr
    rest = scorecard(str(elsewhere))
    assert len(rest) == 15
    assert rest["P04"] == verdicts["P04"] and rest["P09"] == verdicts["P09"]
    assert rest["P08"][:2] == ("supported", 100.0) and "Hacker News stories" in rest["P08"][2]
    assert rest["P11"][0] == "insufficient_data"
