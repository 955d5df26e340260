"""The trends source asks Wikimedia for exactly the registered article's daily pageviews, keeps the requested days,
and turns every kind of bad answer into a status for that article alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.common import FAILED, NO_DATA, OK, Window
from ingestion.http import HttpClient, ReplayTransport, SourceError
from ingestion.snapshots.bodies import pageviews_body, pageviews_url_any_range
from ingestion.snapshots.builder.factory import SnapshotBuilder
from ingestion.trends import MONTHLY, fetch_pageviews, pageviews_url, trends_source
from tests.conftest import SpyingReplay, load_source, query

D = dt.date
WINDOW = Window(D(2024, 1, 1), D(2024, 1, 31))
DAYS = {D(2023, 12, 31): 5, D(2024, 1, 1): 10, D(2024, 1, 2): 20, D(2024, 2, 1): 99}


@pytest.fixture
def snap(tmp_path: Path) -> SnapshotBuilder:
    return SnapshotBuilder(tmp_path / "snap", D(2024, 1, 31))


def fetch(snap: SnapshotBuilder, article: str, window: Window = WINDOW):
    snap.write()
    transport = ReplayTransport(snap.root)
    return fetch_pageviews(HttpClient(transport, user_agent="t"), article, window), transport


def test_request_url_is_exact_with_the_article_percent_encoded_and_the_registry_user_agent(
        snap: SnapshotBuilder) -> None:
    article = "Mamba_(deep_learning_architecture)"
    exact = ("https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article/en.wikipedia.org/all-access/user/"
             "Mamba_%28deep_learning_architecture%29/daily/2024010100/2024013100")
    assert pageviews_url(article, WINDOW) == exact
    snap.exchange(exact, body=pageviews_body(article, DAYS))
    snap.write()
    spy = SpyingReplay(snap.root)
    fetched = fetch_pageviews(HttpClient(spy, user_agent="AI-Pulse/0.1 (contact)"), article, WINDOW)
    assert fetched.status == OK
    assert spy.sent[0][0] == exact and spy.sent[0][2]["User-Agent"] == "AI-Pulse/0.1 (contact)"


def test_only_days_inside_the_window_are_kept_as_utc_dates(snap: SnapshotBuilder) -> None:
    snap.exchange(pageviews_url_any_range("ChatGPT"), body=pageviews_body("ChatGPT", DAYS))
    fetched, _ = fetch(snap, "ChatGPT")
    assert fetched.tables["interest"] == [
        {"source": "wikipedia_pageviews", "term": "ChatGPT", "observed_date": D(2024, 1, 1), "value": 10.0},
        {"source": "wikipedia_pageviews", "term": "ChatGPT", "observed_date": D(2024, 1, 2), "value": 20.0}]


def test_a_404_is_no_data_naming_the_article_and_the_fix(snap: SnapshotBuilder) -> None:
    snap.exchange(pageviews_url_any_range("GPT_Store"), status=404, body={"title": "Not found.", "detail": "..."})
    fetched, _ = fetch(snap, "GPT_Store")
    assert fetched.status == NO_DATA
    assert "[trends GPT_Store] Wikimedia 404 'Not found.'" in fetched.detail and "registry.yml" in fetched.detail


def test_a_429_then_200_waits_as_told_and_loads(snap: SnapshotBuilder) -> None:
    snap.exchange(pageviews_url_any_range("ChatGPT"), status=429, body={}, headers={"Retry-After": "3"}, order=1)
    snap.exchange(pageviews_url_any_range("ChatGPT"), body=pageviews_body("ChatGPT", DAYS), order=2)
    fetched, transport = fetch(snap, "ChatGPT")
    assert (fetched.status, len(fetched.tables["interest"]), transport.waits) == (OK, 2, [3.0])


def test_truncated_json_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(pageviews_url_any_range("ChatGPT"), text='{"items": [{"timestamp": "2024010100", "vi')
    with pytest.raises(SourceError, match=r"\[trends ChatGPT\] HTTP 200 body is not valid JSON"):
        fetch(snap, "ChatGPT")


def test_a_missing_field_fails_the_article_naming_the_field(snap: SnapshotBuilder) -> None:
    body = pageviews_body("ChatGPT", DAYS)
    del body["items"][1]["views"]
    snap.exchange(pageviews_url_any_range("ChatGPT"), body=body)
    with pytest.raises(SourceError, match=r"\[trends ChatGPT\] items\[1\] lacks required field\(s\) views"):
        fetch(snap, "ChatGPT")


def test_a_new_field_is_reported_and_the_rows_still_load(snap: SnapshotBuilder) -> None:
    body = pageviews_body("ChatGPT", DAYS)
    for item in body["items"]:
        item["bot_share"] = 0.1
    snap.exchange(pageviews_url_any_range("ChatGPT"), body=body)
    fetched, _ = fetch(snap, "ChatGPT")
    assert fetched.status == OK and len(fetched.tables["interest"]) == 2
    assert "new field(s) in items[0]: bot_share" in fetched.detail


def test_each_article_fails_alone_and_a_rerun_asks_only_recent_days(tmp_path: Path, snap: SnapshotBuilder) -> None:
    snap.exchange(pageviews_url_any_range("ChatGPT"), body=pageviews_body("ChatGPT", DAYS | {D(2024, 1, 31): 7}))
    snap.exchange(pageviews_url_any_range("Broken"), status=500, body={"title": "Internal error"})
    odd = pageviews_body("Odd", DAYS)
    odd["items"][1]["new_metric"] = 1
    snap.exchange(pageviews_url_any_range("Odd"), body=odd)
    snap.write()
    client = HttpClient(ReplayTransport(snap.root), user_agent="t")
    source = trends_source(["ChatGPT", "Broken", "Odd"], client=client, start_date=D(2024, 1, 1),
                           today=D(2024, 1, 31), lookback_days=7)
    warehouse = load_source(source, tmp_path / "w.duckdb")
    status = {row[0]: row[1:] for row in query(warehouse, "select signal, status, detail, window_start "
                                                          "from raw_trends.signal_status where dataset = 'pageviews'")}
    assert status["ChatGPT"][0] == OK and status["Broken"][0] == FAILED
    assert "HTTP 500 after 5 attempts" in status["Broken"][1]
    assert status["Odd"][0] == OK and "new_metric" in status["Odd"][1]
    rows = query(warehouse, "select term, count(*) from raw_trends.interest group by 1 order by 1")
    assert rows == [("ChatGPT", 3), ("Odd", 2)]
    columns = {r[0] for r in query(warehouse, "select column_name from information_schema.columns "
                                              "where table_schema = 'raw_trends' and table_name = 'interest'")}
    assert columns == {"source", "term", "observed_date", "value", "_dlt_load_id", "_dlt_id"}

    again = trends_source(["ChatGPT", "Broken", "Odd"], client=client, start_date=D(2024, 1, 1),
                          today=D(2024, 1, 31), lookback_days=7)
    load_source(again, warehouse)
    windows = dict(query(warehouse, "select signal, window_start from raw_trends.signal_status "
                                    "where dataset = 'pageviews'"))
    # ChatGPT's last day was 2024-01-31, so the rerun asks from a week before it; Odd's week reaches back before
    # the start date, and Broken never loaded a day, so both start at the start date again.
    assert windows == {"ChatGPT": D(2024, 1, 24), "Odd": D(2024, 1, 1), "Broken": D(2024, 1, 1)}
    assert query(warehouse, "select count(*) from raw_trends.interest")[0][0] == 5


def test_monthly_totals_are_asked_for_complete_months_once_each(tmp_path: Path) -> None:
    assert pageviews_url("ChatGPT", Window(D(2024, 1, 1), D(2024, 2, 29)), MONTHLY).endswith(
        "/user/ChatGPT/monthly/2024010100/2024022900")
    months = {D(2024, 1, 1): 3100, D(2024, 2, 1): 2900, D(2024, 3, 1): 999}
    warehouse = tmp_path / "w.duckdb"

    def night(today: dt.date) -> SpyingReplay:
        snap = SnapshotBuilder(tmp_path / f"s{today}", today)
        snap.exchange(pageviews_url_any_range("ChatGPT"), body=pageviews_body("ChatGPT", DAYS))
        snap.exchange(pageviews_url_any_range("ChatGPT", "monthly"), body=pageviews_body("ChatGPT", months, "monthly"))
        snap.exchange(pageviews_url_any_range("GPT_Store", "monthly"), status=404, body={"title": "Not found."})
        snap.exchange(pageviews_url_any_range("GPT_Store"), status=404, body={"title": "Not found."})
        spy = SpyingReplay(snap.write())
        load_source(trends_source(["ChatGPT", "GPT_Store"], client=HttpClient(spy, user_agent="t"),
                                  start_date=D(2024, 1, 1), today=today), warehouse)
        return spy

    def monthly_asked(spy: SpyingReplay) -> list[str]:
        return [url.rsplit("/user/", 1)[1] for url, _, _ in spy.sent if "/monthly/" in url]

    # Mid-March: January and February are over; March is not, so it is neither asked nor kept.
    assert monthly_asked(night(D(2024, 3, 15))) == ["ChatGPT/monthly/2024010100/2024022900",
                                                    "GPT_Store/monthly/2024010100/2024022900"]
    assert query(warehouse, "select period, views from raw_trends.interest_monthly order by period") == [
        (D(2024, 1, 1), 3100.0), (D(2024, 2, 1), 2900.0)]
    status = dict(query(warehouse, "select signal, status from raw_trends.signal_status "
                                   "where dataset = 'pageviews_monthly'"))
    assert status == {"ChatGPT": OK, "GPT_Store": NO_DATA}
    # Later in March no month has ended since: nothing monthly is asked, and the last outcomes stand.
    assert monthly_asked(night(D(2024, 3, 30))) == []
    assert dict(query(warehouse, "select signal, status from raw_trends.signal_status "
                                 "where dataset = 'pageviews_monthly'")) == status
    # In April, March alone.
    assert monthly_asked(night(D(2024, 4, 2))) == ["ChatGPT/monthly/2024030100/2024033100",
                                                   "GPT_Store/monthly/2024030100/2024033100"]
    assert query(warehouse, "select count(*), sum(views) from raw_trends.interest_monthly") == [(3, 6999.0)]
