"""The stocks source turns Yahoo chart responses into rows: only the requested days, exchange-local dates,
null placeholders dropped, and Yahoo's errors reported with the ticker and the fix. Its client looks like a
browser, and Yahoo's browser-check 429 is told apart from a rate limit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.common import FAILED, NO_DATA, OK, Window
from ingestion.http import BROWSER, DEFAULT_NEEDS, HttpClient, Refused, ReplayTransport, SourceError
from ingestion.snapshots.bodies import chart_body
from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder
from ingestion.stocks import CHART_URL, CLIENT_NEEDS, chart_params, fetch_chart, parse_chart, stocks_source
from ingestion.trends import fetch_pageviews
from orchestration.defs.ingest import SOURCES
from orchestration.defs.resources import Runtime
from orchestration.lib.settings import RunSettings
from tests.conftest import SpyingReplay, load_source, query

D = dt.date


def test_rows_outside_the_requested_window_are_dropped() -> None:
    bars = [Bar(D(2024, 1, day), 100.0 + day) for day in (2, 3, 4, 5)]
    fetched = parse_chart("NVDA", chart_body("NVDA", bars), Window(D(2024, 1, 3), D(2024, 1, 4)))
    assert [(r["trade_date"], r["close"]) for r in fetched.tables["prices"]] == [(D(2024, 1, 3), 103.0),
                                                                              (D(2024, 1, 4), 104.0)]
    assert fetched.status == OK


def test_trade_date_is_the_exchange_calendar_day_not_utc() -> None:
    # 09:30 in New York on 2024-06-10; an evening bar (20:00 New York) is already the next day in UTC.
    body = chart_body("NVDA", [Bar(D(2024, 6, 10), 121.79)])
    evening = int(dt.datetime(2024, 6, 10, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4))).timestamp())
    body["chart"]["result"][0]["timestamp"] = [evening]
    fetched = parse_chart("NVDA", body, Window(D(2024, 6, 1), D(2024, 6, 30)))
    assert fetched.tables["prices"][0]["trade_date"] == D(2024, 6, 10)


def test_null_close_placeholders_are_dropped_and_other_nulls_kept() -> None:
    bars = [Bar(D(2024, 3, 11), None), Bar(D(2024, 3, 12), 50.0, open=None, high=None, low=None, volume=None)]
    fetched = parse_chart("TWLO", chart_body("TWLO", bars), Window(D(2024, 3, 1), D(2024, 3, 31)))
    assert fetched.tables["prices"] == [{"ticker": "TWLO", "trade_date": D(2024, 3, 12), "open": None,
                                         "high": None, "low": None, "close": 50.0, "adj_close": 50.0,
                                         "volume": None}]


def test_splits_are_kept_in_their_own_table() -> None:
    body = chart_body("NVDA", [Bar(D(2024, 6, 10), 121.79)], splits=[(D(2024, 6, 10), 10, 1)])
    fetched = parse_chart("NVDA", body, Window(D(2024, 6, 1), D(2024, 6, 30)))
    assert fetched.tables["splits"] == [{"ticker": "NVDA", "split_date": D(2024, 6, 10), "numerator": 10.0,
                                         "denominator": 1.0}]


def test_arrays_of_different_length_are_a_clear_error() -> None:
    body = chart_body("NVDA", [Bar(D(2024, 1, 2), 1.0), Bar(D(2024, 1, 3), 2.0)])
    body["chart"]["result"][0]["indicators"]["quote"][0]["close"].pop()
    with pytest.raises(SourceError, match=r"\[stocks NVDA\] arrays differ in length"):
        parse_chart("NVDA", body, Window(D(2024, 1, 1), D(2024, 1, 31)))


def test_a_window_with_no_trading_days_is_no_data() -> None:
    fetched = parse_chart("NVDA", chart_body("NVDA", [Bar(D(2024, 1, 2), 1.0)]), Window(D(2025, 1, 1), D(2025, 1, 2)))
    assert (fetched.status, fetched.tables["prices"]) == (NO_DATA, [])


def test_period_params_cover_the_whole_window() -> None:
    params = chart_params(Window(D(2024, 1, 1), D(2024, 12, 31)))
    assert params["period1"] == str(int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()))
    assert params["period2"] == str(int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()))
    assert (params["interval"], params["events"], params["includeAdjustedClose"]) == ("1d", "div|split", "true")


@pytest.mark.parametrize(("status", "expected"), [(404, NO_DATA), (400, FAILED)])
def test_chart_error_names_the_ticker_and_the_fix(tmp_path: Path, status: int, expected: str) -> None:
    snap = SnapshotBuilder(tmp_path, D(2024, 12, 31))
    error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
    snap.exchange(CHART_URL.format(symbol="NOPE"), status=status, body={"chart": {"result": None, "error": error}})
    snap.write()
    client = HttpClient(ReplayTransport(tmp_path), user_agent="t")
    fetched = fetch_chart(client, "NOPE", Window(D(2024, 1, 1), D(2024, 12, 31)))
    assert fetched.status == expected
    assert "[stocks NOPE] Yahoo: No data found, symbol may be delisted" in fetched.detail
    assert "registry.yml" in fetched.detail


def stock_client(snap: SnapshotBuilder) -> tuple[HttpClient, ReplayTransport]:
    snap.write()
    transport = ReplayTransport(snap.root)
    return HttpClient(transport, user_agent="t"), transport


YEAR = Window(D(2024, 1, 1), D(2024, 12, 31))
BARS = [Bar(D(2024, 1, 2), 10.0), Bar(D(2024, 1, 3), 11.0)]


def test_a_429_then_200_waits_as_told_and_loads(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path, D(2024, 12, 31))
    snap.exchange(CHART_URL.format(symbol="NVDA"), status=429, body={}, headers={"Retry-After": "5"}, order=1)
    snap.exchange(CHART_URL.format(symbol="NVDA"), body=chart_body("NVDA", BARS), order=2)
    client, transport = stock_client(snap)
    fetched = fetch_chart(client, "NVDA", YEAR)
    assert (fetched.status, len(fetched.tables["prices"]), transport.waits) == (OK, 2, [5.0])


def test_a_persistent_500_is_a_clear_error_after_the_retries(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path, D(2024, 12, 31))
    snap.exchange(CHART_URL.format(symbol="NVDA"), status=500, text="Internal Server Error")
    with pytest.raises(SourceError, match=r"\[stocks NVDA\] HTTP 500 after 5 attempts"):
        fetch_chart(stock_client(snap)[0], "NVDA", YEAR)


def test_truncated_json_is_a_clear_error(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path, D(2024, 12, 31))
    snap.exchange(CHART_URL.format(symbol="NVDA"), text='{"chart": {"result": [{"meta": {"symbol": "NV')
    with pytest.raises(SourceError, match=r"\[stocks NVDA\] HTTP 200 body is not valid JSON"):
        fetch_chart(stock_client(snap)[0], "NVDA", YEAR)


@pytest.mark.parametrize(("vanished", "where"), [("adjclose", "indicators"), ("volume", r"indicators.quote\[0\]")])
def test_a_vanished_field_fails_the_ticker_instead_of_loading_nulls(vanished: str, where: str) -> None:
    body = chart_body("NVDA", BARS)
    indicators = body["chart"]["result"][0]["indicators"]
    indicators.pop(vanished, None)
    indicators["quote"][0].pop(vanished, None)
    with pytest.raises(SourceError, match=rf"\[stocks NVDA\] {where} lacks required field\(s\) {vanished}"):
        parse_chart("NVDA", body, YEAR)


def test_a_new_field_is_reported_and_the_prices_still_load() -> None:
    body = chart_body("NVDA", BARS)
    body["chart"]["result"][0]["indicators"]["quote"][0]["vwap"] = [10.0, 11.0]
    fetched = parse_chart("NVDA", body, YEAR)
    assert fetched.status == OK and len(fetched.tables["prices"]) == 2
    assert "new field(s) in indicators.quote[0]: vwap" in fetched.detail


def test_a_failing_ticker_is_recorded_as_failed_and_the_others_still_load(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "snap", D(2024, 12, 31))
    snap.stock("NVDA", BARS)
    snap.exchange(CHART_URL.format(symbol="DOWN"), status=500, text="Internal Server Error")
    client, _ = stock_client(snap)
    source = stocks_source(["NVDA", "DOWN"], client=client, start_date=D(2024, 1, 1), today=D(2024, 12, 31))
    warehouse = load_source(source, tmp_path / "w.duckdb")
    status = {r[0]: r[1:] for r in query(warehouse, "select signal, dataset, status from raw_stocks.signal_status")}
    assert status == {"NVDA": ("chart", OK), "DOWN": ("chart", FAILED)}
    assert query(warehouse, "select ticker, count(*) from raw_stocks.prices group by 1") == [("NVDA", 2)]


def yahoo_client(snap: SnapshotBuilder) -> tuple[HttpClient, SpyingReplay]:
    """The client the run gives this source (a browser, Yahoo's block rule), over a replay that keeps what was sent."""
    snap.write()
    spy = SpyingReplay(snap.root)
    return HttpClient(spy, user_agent="AI-Pulse/0.1 (registry contact)", needs=CLIENT_NEEDS), spy


def test_yahoo_is_asked_as_a_browser_without_the_registry_user_agent(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path, D(2024, 12, 31))
    snap.stock("NVDA", BARS)
    client, spy = yahoo_client(snap)
    assert fetch_chart(client, "NVDA", YEAR).status == OK
    assert spy.profiles == [BROWSER]
    assert "User-Agent" not in spy.sent[0][2]


def test_yahoos_browser_check_429_fails_every_ticker_at_once_with_one_request(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "snap", D(2024, 12, 31))
    # Yahoo's answer to a client that fails its browser check: plain text, on the very first request.
    snap.exchange(CHART_URL.format(symbol="NVDA"), status=429, text="Too Many Requests\r\n",
                  headers={"Content-Type": "text/plain"})
    snap.stock("AMD", BARS)
    snap.stock("INTC", BARS)
    client, spy = yahoo_client(snap)
    source = stocks_source(["NVDA", "AMD", "INTC"], client=client, start_date=D(2024, 1, 1), today=D(2024, 12, 31))
    warehouse = load_source(source, tmp_path / "w.duckdb")
    status = dict(query(warehouse, "select signal, status from raw_stocks.signal_status"))
    assert status == {"NVDA": FAILED, "AMD": FAILED, "INTC": FAILED}
    for ticker, detail in query(warehouse, "select signal, detail from raw_stocks.signal_status"):
        assert detail.startswith(f"[stocks {ticker}] Yahoo answered HTTP 429 'Too Many Requests' before any "
                                 "successful answer in this run: that is Yahoo's block of clients that do not look "
                                 "like a browser, not a rate limit"), detail
        assert "curl_cffi is installed and current (`uv sync`" in detail
        assert "try again later or from another network" in detail
    assert (client.requests_sent, len(spy.sent), spy.replay.waits) == (1, 1, [])
    assert query(warehouse, "select count(*) from raw_stocks.prices") == [(0,)]


def test_a_429_after_yahoo_has_answered_is_a_rate_limit_retried_with_backoff(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "snap", D(2024, 12, 31))
    snap.stock("NVDA", BARS)
    snap.exchange(CHART_URL.format(symbol="AMD"), status=429, text="Too Many Requests", order=1)
    snap.exchange(CHART_URL.format(symbol="AMD"), body=chart_body("AMD", BARS), order=2)
    client, spy = yahoo_client(snap)
    source = stocks_source(["NVDA", "AMD"], client=client, start_date=D(2024, 1, 1), today=D(2024, 12, 31))
    warehouse = load_source(source, tmp_path / "w.duckdb")
    assert dict(query(warehouse, "select signal, status from raw_stocks.signal_status")) == {"NVDA": OK, "AMD": OK}
    assert query(warehouse, "select ticker, count(*) from raw_stocks.prices group by 1 order by 1") == [
        ("AMD", 2), ("NVDA", 2)]
    assert (client.requests_sent, spy.replay.waits) == (3, [1.0])


def test_a_rate_limit_that_outlasts_the_retries_says_rate_limited_not_blocked(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path, D(2024, 12, 31))
    snap.stock("NVDA", BARS)
    snap.exchange(CHART_URL.format(symbol="AMD"), status=429, text="Too Many Requests")
    client, spy = yahoo_client(snap)
    assert fetch_chart(client, "NVDA", YEAR).status == OK
    with pytest.raises(SourceError) as error:
        fetch_chart(client, "AMD", YEAR)
    assert not isinstance(error.value, Refused)
    assert str(error.value).startswith("[stocks AMD] rate limited (HTTP 429) after 5 attempts")
    assert "block" not in str(error.value)
    assert spy.replay.waits == [1.0, 2.0, 4.0, 8.0]


def test_each_source_gets_its_own_client_over_the_runs_one_transport(tmp_path: Path) -> None:
    snap = SnapshotBuilder(tmp_path / "snap", D(2024, 12, 31))
    snap.stock("NVDA", BARS)
    snap.pageviews("ChatGPT", {D(2024, 12, 30): 5})
    snap.write()
    runtime = Runtime(RunSettings(mode="replay", snapshot_dir=snap.root, warehouse=tmp_path / "w.duckdb"))
    for name in ("stocks", "trends"):
        SOURCES[name](runtime.registry, runtime)
    stocks, trends = runtime.clients["stocks"], runtime.clients["trends"]
    assert (stocks.needs, trends.needs) == (CLIENT_NEEDS, DEFAULT_NEEDS)
    assert stocks.transport is trends.transport is runtime.transport
    fetch_chart(stocks, "NVDA", YEAR)
    fetch_pageviews(trends, "ChatGPT", YEAR)
    assert (stocks.requests_sent, trends.requests_sent, runtime.requests_sent) == (1, 1, 2)
