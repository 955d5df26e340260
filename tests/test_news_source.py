"""The news source counts Hacker News stories per registered phrase and calendar month: one count-only request per
month with the phrase quoted, the month's bounds in unix seconds, and a month asked again only until it is over."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.common import FAILED, NO_DATA, OK
from ingestion.http import HttpClient, ReplayTransport
from ingestion.news import SEARCH_URL, news_source, search_params
from ingestion.snapshots.bodies import news_count_body
from ingestion.snapshots.builder.factory import SnapshotBuilder
from tests.conftest import SpyingReplay, load_source, query

D = dt.date
START = D(2024, 10, 1)


def record_months(snap: SnapshotBuilder, phrase: str, counts: dict[dt.date, int]) -> None:
    for month, stories in counts.items():
        params = search_params(phrase, month)
        snap.exchange(SEARCH_URL, params=params, body=news_count_body(params, stories),
                      name=f"news/{phrase.replace(' ', '_')}_{month:%Y-%m}")


def load(snap: SnapshotBuilder, warehouse: Path, phrases: list[str], today: dt.date,
         start: dt.date = START) -> SpyingReplay:
    spy = SpyingReplay(snap.write())
    load_source(news_source(phrases, client=HttpClient(spy, user_agent="t"), start_date=start, today=today),
                warehouse)
    return spy


def test_one_request_per_month_asks_the_exact_phrase_in_that_utc_month_and_only_counts(tmp_path: Path) -> None:
    assert search_params("AI Act", D(2024, 2, 1)) == {
        "query": '"AI Act"', "tags": "story",
        # 2024-02-01T00:00Z and 2024-03-01T00:00Z, a leap-year February
        "numericFilters": "created_at_i>=1706745600,created_at_i<1709251200", "hitsPerPage": "0"}
    snap = SnapshotBuilder(tmp_path / "s", D(2024, 12, 15))
    record_months(snap, "AI Act", {D(2024, 10, 1): 12, D(2024, 11, 1): 0, D(2024, 12, 1): 5})
    warehouse = tmp_path / "w.duckdb"
    spy = load(snap, warehouse, ["AI Act"], D(2024, 12, 15))
    assert [(url, params["numericFilters"]) for url, params, _ in spy.sent] == [
        (SEARCH_URL, search_params("AI Act", month)["numericFilters"])
        for month in (D(2024, 10, 1), D(2024, 11, 1), D(2024, 12, 1))]
    assert query(warehouse, "select period, stories, is_complete from raw_news.volume order by period") == [
        (D(2024, 10, 1), 12, True), (D(2024, 11, 1), 0, True), (D(2024, 12, 1), 5, False)]


def test_a_month_is_asked_again_only_until_it_is_complete(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    first = SnapshotBuilder(tmp_path / "a", D(2024, 11, 20))
    record_months(first, "AI Act", {D(2024, 10, 1): 12, D(2024, 11, 1): 4})
    load(first, warehouse, ["AI Act"], D(2024, 11, 20))
    # Later in November: only the open month is asked again.
    same_month = SnapshotBuilder(tmp_path / "b", D(2024, 11, 28))
    record_months(same_month, "AI Act", {D(2024, 11, 1): 7})
    spy = load(same_month, warehouse, ["AI Act"], D(2024, 11, 28))
    assert [params["numericFilters"] for _, params, _ in spy.sent] == [
        search_params("AI Act", D(2024, 11, 1))["numericFilters"]]
    # In December: November once more (now complete), then December; October never again.
    december = SnapshotBuilder(tmp_path / "c", D(2024, 12, 2))
    record_months(december, "AI Act", {D(2024, 11, 1): 9, D(2024, 12, 1): 1})
    spy = load(december, warehouse, ["AI Act"], D(2024, 12, 2))
    assert len(spy.sent) == 2
    assert query(warehouse, "select period, stories, is_complete from raw_news.volume order by period") == [
        (D(2024, 10, 1), 12, True), (D(2024, 11, 1), 9, True), (D(2024, 12, 1), 1, False)]
    after_december = SnapshotBuilder(tmp_path / "d", D(2024, 12, 3))
    record_months(after_december, "AI Act", {D(2024, 12, 1): 2})
    assert len(load(after_december, warehouse, ["AI Act"], D(2024, 12, 3)).sent) == 1


def test_an_error_fails_the_phrase_alone_and_a_phrase_without_recordings_is_no_data(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "s", D(2024, 10, 15))
    record_months(snap, "AI Act", {D(2024, 10, 1): 3})
    snap.exchange(SEARCH_URL, params=search_params("AI regulation", D(2024, 10, 1)), status=400,
                  body={"message": "Invalid syntax for numeric condition"})
    warehouse = tmp_path / "w.duckdb"
    load(snap, warehouse, ["AI Act", "AI regulation", "AI winter"], D(2024, 10, 15))
    status = dict(query(warehouse, "select signal, status from raw_news.signal_status"))
    assert status == {"AI Act": OK, "AI regulation": FAILED, "AI winter": NO_DATA}
    detail = query(warehouse, "select detail from raw_news.signal_status where signal = 'AI regulation'")[0][0]
    assert "[news AI regulation] Hacker News search HTTP 400 for 2024-10: Invalid syntax for numeric condition" \
        in detail and "registry.yml" in detail


def test_months_the_snapshot_lacks_are_named_and_asked_again(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "s", D(2024, 12, 15))
    record_months(snap, "AI Act", {D(2024, 10, 1): 3, D(2024, 12, 1): 8})  # no November
    warehouse = tmp_path / "w.duckdb"
    load(snap, warehouse, ["AI Act"], D(2024, 12, 15))
    status, detail = query(warehouse, "select status, detail from raw_news.signal_status")[0]
    assert status == OK and "no recording for 1 of 3 months (2024-11)" in detail
    later = SnapshotBuilder(tmp_path / "t", D(2024, 12, 16))
    record_months(later, "AI Act", {D(2024, 11, 1): 4, D(2024, 12, 1): 8})
    spy = load(later, warehouse, ["AI Act"], D(2024, 12, 16))
    assert [params["numericFilters"] for _, params, _ in spy.sent] == [
        search_params("AI Act", m)["numericFilters"] for m in (D(2024, 11, 1), D(2024, 12, 1))]


@pytest.mark.parametrize("count", [-1, "12", None])
def test_a_count_that_is_not_a_count_fails_the_phrase(tmp_path: Path, count: object) -> None:
    snap = SnapshotBuilder(tmp_path / "s", D(2024, 10, 15))
    params = search_params("AI Act", D(2024, 10, 1))
    snap.exchange(SEARCH_URL, params=params, body=news_count_body(params, 0) | {"nbHits": count})
    warehouse = tmp_path / "w.duckdb"
    load(snap, warehouse, ["AI Act"], D(2024, 10, 15))
    status, detail = query(warehouse, "select status, detail from raw_news.signal_status")[0]
    assert status == FAILED and "nbHits for 2024-10" in detail and "not a count" in detail


def test_an_estimated_count_is_kept_with_its_flag(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "s", D(2024, 10, 15))
    params = search_params("AI Act", D(2024, 10, 1))
    snap.exchange(SEARCH_URL, params=params, body=news_count_body(params, 10500, exhaustive=False))
    warehouse = tmp_path / "w.duckdb"
    client = HttpClient(ReplayTransport(snap.write()), user_agent="t")
    load_source(news_source(["AI Act"], client=client, start_date=D(2024, 10, 1), today=D(2024, 10, 15)), warehouse)
    assert query(warehouse, "select stories, exhaustive from raw_news.volume") == [(10500, False)]
