"""Garbage in, garbage out: corrupted snapshots fail the run with the problem named, nothing downstream is
rebuilt from them, the last good scorecard stays (a failed run publishes nothing), a clean run recovers, and
every validation is remembered (a failed run's are published by the next run).

One corrupted snapshot carries every defect at once, each in its own signal: a negative price, an unexplained
10x jump, a duplicated date, all-null closes, a star count that halves, a missing column and an empty response.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder, trading_days
from tests.conftest import CliRunner, query

D = dt.date
GOOD_UNTIL, LATER = D(2024, 12, 20), D(2024, 12, 31)
SIGNALS = {
    "stocks": [
        {"key": "NVDA", "predictions": ["P04"], "roles": {"P04": "leader"}},
        {"key": "QQQ", "predictions": ["P04"], "roles": {"P04": "benchmark"}},
        {"key": "AMD", "predictions": ["P04"]},
        {"key": "TSM", "predictions": ["P04"]},
    ],
    "github": [{"key": "qdrant/qdrant", "predictions": ["P03"]}],
    "trends": [{"key": "Vector_database", "predictions": ["P03"]},
               {"key": "Large_language_model", "predictions": ["P00"]}],
}
BASE = {"NVDA": 50.0, "QQQ": 400.0, "AMD": 140.0, "TSM": 100.0}
REPO, STARS = "qdrant/qdrant", 1_000


def bars(ticker: str, as_of: dt.date) -> list[Bar]:
    """A smooth daily series from December 2022 to `as_of` (0.1% a day)."""
    days = trading_days(D(2022, 12, 1), as_of)
    return [Bar(day, round(BASE[ticker] * 1.001 ** i, 4)) for i, day in enumerate(days)]


def snapshot(root: Path, as_of: dt.date, corrupt: bool = False) -> Path:
    """Clean series for every signal; with `corrupt`, December 2024 carries one defect per signal (inside the
    window an incremental run asks for: the new days plus the look-back)."""
    snap = SnapshotBuilder(root, as_of)
    series = {ticker: bars(ticker, as_of) for ticker in BASE}
    days = [D(2022, 12, 1) + dt.timedelta(days=n) for n in range((as_of - D(2022, 12, 1)).days + 1)]
    stars = {day: STARS + n for n, day in enumerate(days[:-1])}
    views = {day: 500 + n % 7 for n, day in enumerate(days)}
    stars_today = STARS + len(days)
    if corrupt:
        amd, nvda, qqq, tsm = (series[t] for t in ("AMD", "NVDA", "QQQ", "TSM"))
        next(b for b in amd if b.day == D(2024, 12, 27)).close = -5.0               # negative price
        for bar in (b for b in nvda if b.day >= D(2024, 12, 30)):                  # 10x jump, no split
            bar.close *= 10
        qqq.append(Bar(D(2024, 12, 27), 999.0))                                     # duplicated date
        for bar in (b for b in tsm if b.day >= D(2024, 12, 1)):                    # all-null values
            bar.close = None
        stars_today //= 2                                                           # a star count that halves
    for ticker, ticker_bars in series.items():
        snap.stock(ticker, sorted(ticker_bars, key=lambda b: b.day))
    snap.repo(REPO, stars_today, history=stars)
    vector_database = snap.pageviews("Vector_database", views)
    llm = snap.pageviews("Large_language_model", views)
    if corrupt:
        edit = json.loads(vector_database.read_text(encoding="utf-8"))
        for item in edit["response"]["json"]["items"]:                              # a missing column
            del item["views"]
        vector_database.write_text(json.dumps(edit), encoding="utf-8")
        edit = json.loads(llm.read_text(encoding="utf-8"))
        edit["response"] = {"status": 200, "headers": {"Content-Type": "application/json"}, "text": ""}
        llm.write_text(json.dumps(edit), encoding="utf-8")                         # an empty response
    return snap.write()


@pytest.mark.slow
def test_corrupted_data_is_stopped_named_and_recovered_from(run_cli: CliRunner, write_registry,
                                                            pulse_env: dict[str, str], tmp_path: Path) -> None:
    env = {"AI_PULSE_REGISTRY": str(write_registry(SIGNALS))}
    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]

    first = run_cli("run", "--snapshot", str(snapshot(tmp_path / "a", GOOD_UNTIL)), env=env)
    assert first.returncode == 0, first.stderr
    scorecard = query(warehouse, "select * from marts.prediction_scorecard order by all")
    facts = query(warehouse, "select * from core.fct_stock_daily order by all")
    assert len(facts) > 400 and query(warehouse, "select count(*) from core.fct_topic_interest")[0][0] > 1000
    assert query(warehouse, "select count(*) from core.fct_repo_stars")[0][0] > 500

    bad = run_cli("run", "--snapshot", str(snapshot(tmp_path / "b", LATER, corrupt=True)), env=env)
    assert bad.returncode == 1
    problems = bad.stderr
    assert "gx_stock_prices" in problems and "gx_stocks_signal_status" in problems
    assert "expect_column_values_to_be_between(close)" in problems and '"trade_date": "2024-12-27"' in problems
    assert "expect_column_values_to_be_between(unexplained_move)" in problems and '"ticker": "NVDA"' in problems
    assert "[stocks QQQ] the response repeats trade_date 2024-12-27" in problems
    assert "[stocks TSM] every close in" in problems and "is null" in problems
    assert "gx_repo_snapshots" in problems and "expect_column_values_to_be_between(star_drop)" in problems
    assert f'"repo": "{REPO}", "observed_date": "{LATER}"' in problems
    assert "gx_trends_signal_status" in problems
    assert "[trends Vector_database] items[0] lacks required field(s) views" in problems
    assert "[trends Large_language_model] HTTP 200 body is not valid JSON" in problems
    # Only what depends on the bad data stopped: the regulatory lane (no bad input) still built.
    assert re.search(r"^\[dbt regulatory\] \d+ models built", problems, re.M)
    assert not re.search(r"^\[dbt (stocks|trends|github|indicators)\] \d+ models built", problems, re.M)
    # Nothing downstream was rebuilt from the bad data: the last good facts and scorecard are intact.
    assert query(warehouse, "select * from marts.prediction_scorecard order by all") == scorecard
    assert query(warehouse, "select * from core.fct_stock_daily order by all") == facts
    status = run_cli("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "Last run:     FAILURE" in status.stdout
    # The failed validation never reached the warehouse; status names it from the run's own record.
    assert "nothing of it was published; the warehouse holds the last successful run" in status.stdout
    assert "FAILED check raw_stocks/prices:gx_stock_prices: suite stock_prices failed" in status.stdout
    assert "expect_column_values_to_be_between(close): 1 unexpected" in status.stdout

    clean = run_cli("run", "--snapshot", str(snapshot(tmp_path / "c", LATER)), env=env)
    assert clean.returncode == 0, clean.stderr
    assert query(warehouse, "select min(close), max(trade_date) from core.fct_stock_daily") == [
        (pytest.approx(BASE["NVDA"]), LATER)]
    assert query(warehouse, "select max(observed_date), count(distinct term) from core.fct_topic_interest") == [
        (LATER, 2)]
    assert query(warehouse, "select max(observed_date), max_by(stars, observed_date) from core.fct_repo_stars") == [
        (LATER, STARS + (LATER - D(2022, 12, 1)).days + 1)]
    history = query(warehouse, "select count(distinct run_id), count(distinct run_id) filter (where not success "
                               "and blocking) from quality.check_results")
    assert history == [(3, 1)], "all three validations are kept, the failed run's published by the clean one"
    docs = Path(warehouse).parent / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert docs.is_file() and "stock_prices" in docs.read_text()

    # Replaying an older snapshot into this warehouse leaves rows dated after its as_of: refused.
    stale = run_cli("run", "--snapshot", str(snapshot(tmp_path / "d", GOOD_UNTIL)), env=env)
    assert stale.returncode == 1
    assert "expect_column_values_to_be_between(trade_date)" in stale.stderr
    assert query(warehouse, "select max(as_of) from marts.prediction_scorecard") == [(LATER,)]
