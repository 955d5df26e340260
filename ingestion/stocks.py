"""Daily stock prices from Yahoo's chart API → `raw_stocks.prices`, `raw_stocks.splits`, `raw_stocks.dividends`.

`close` is Yahoo's split-adjusted close; `adj_close` also adjusts for dividends. Splits and dividends are kept
in their own tables so quality checks can tell a split from a suspicious jump.

Since 2025 Yahoo answers 429 "Too Many Requests" to clients that do not look like a browser, even on a first
request (yfinance issues #2422, #2472). Live, this source is reached the way yfinance reaches it: through curl_cffi
with Chrome's fingerprint and Chrome's own headers (`CLIENT_NEEDS`), and without a crumb, which the chart endpoint
does not need (yfinance 1.7 data.py: "the target endpoint may not need a crumb (e.g. chart API)";
yahoo-finance2 chart.ts does not ask for one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt

from ingestion.common import (
    FAILED,
    NO_DATA,
    Fetched,
    Table,
    Window,
    assert_unique,
    fetch_each,
    require_fields,
    table_resources,
    unexpected_shape,
)
from ingestion.http import BROWSER, ClientNeeds, HttpClient, Refused, Response, SourceError

SOURCE = "stocks"
DATASET = "chart"
CHART_URL = "https://query1.finance.yahoo.com/v8/finance/chart/{symbol}"
FIX_TICKER = "check the ticker in registry.yml (signals.stocks) against finance.yahoo.com"

PRICE_COLUMNS: dict[str, Any] = {
    "ticker": {"data_type": "text", "nullable": False},
    "trade_date": {"data_type": "date", "nullable": False},
    "open": {"data_type": "double"},
    "high": {"data_type": "double"},
    "low": {"data_type": "double"},
    "close": {"data_type": "double"},
    "adj_close": {"data_type": "double"},
    "volume": {"data_type": "bigint"},
}
SPLIT_COLUMNS: dict[str, Any] = {
    "ticker": {"data_type": "text", "nullable": False},
    "split_date": {"data_type": "date", "nullable": False},
    "numerator": {"data_type": "double"},
    "denominator": {"data_type": "double"},
}
LISTING_COLUMNS: dict[str, Any] = {
    "ticker": {"data_type": "text", "nullable": False},
    "first_trade_date": {"data_type": "date"},
    "instrument_type": {"data_type": "text"},
    "currency": {"data_type": "text"},
}
DIVIDEND_COLUMNS: dict[str, Any] = {
    "ticker": {"data_type": "text", "nullable": False},
    "ex_date": {"data_type": "date", "nullable": False},
    "amount": {"data_type": "double"},
}


BLOCK_PROBLEM = ("Yahoo answered HTTP 429 {body} before any successful answer in this run: that is Yahoo's block of "
                 "clients that do not look like a browser, not a rate limit, so no other ticker was asked")
BLOCK_FIX = ("this source reaches Yahoo through curl_cffi with a Chrome fingerprint: check that curl_cffi is installed "
             "and current (`uv sync`; `uv lock --upgrade-package curl-cffi` for a newer Chrome), then try again later "
             "or from another network")


def yahoo_block(reply: Response, yahoo_answered: bool) -> tuple[str, str] | None:
    """A 429 before Yahoo has answered this run is its browser check failing, which neither a retry nor the next
    ticker gets past; after a successful answer a 429 is a rate limit, retried with the usual backoff."""
    if reply.status != 429 or yahoo_answered:
        return None
    body = reply.text.strip()[:60]
    return BLOCK_PROBLEM.format(body=repr(body) if body else "(empty body)"), BLOCK_FIX


# What the run builds this source's HTTP client with (orchestration/defs/ingest.py): a browser, and the block rule.
CLIENT_NEEDS = ClientNeeds(profile=BROWSER, refuse_retry=yahoo_block)


def chart_params(window: Window) -> dict[str, str]:
    """Yahoo takes unix seconds; period2 is exclusive, so it is the midnight after the window's last day."""
    start = dt.datetime.combine(window.start, dt.time(), dt.UTC)
    end = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time(), dt.UTC)
    return {"period1": str(int(start.timestamp())), "period2": str(int(end.timestamp())), "interval": "1d",
            "events": "div|split", "includeAdjustedClose": "true"}


def _exchange_zone(ticker: str, meta: dict[str, Any]) -> dt.tzinfo:
    """Trading days are calendar days at the exchange, so timestamps are read in its time zone."""
    name = meta.get("exchangeTimezoneName")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = meta.get("gmtoffset")
    if isinstance(offset, int):
        return dt.timezone(dt.timedelta(seconds=offset))
    raise SourceError(SOURCE, ticker, "response meta has neither exchangeTimezoneName nor gmtoffset",
                      "the API format changed; update ingestion/stocks.py")


def parse_chart(ticker: str, body: Any, window: Window) -> Fetched:
    """Turn one chart response into rows, keeping only days inside the requested window.
    Days whose close is null (Yahoo sends such placeholders) are dropped; other nulls are kept as NULL. Every field
    a column is made of must be present: a vanished field fails the ticker instead of loading NULLs."""
    def check(record: Any, required: tuple[str, ...], where: str, known: tuple[str, ...] | None = ()) -> str:
        return require_fields(record, required, source=SOURCE, signal=ticker, where=where, known=known)

    notes = [check(body, ("chart",), "the body")]
    notes.append(check(body["chart"], ("result",), "chart", known=("error",)))
    results = body["chart"]["result"]
    if not isinstance(results, list) or not results:
        raise SourceError(SOURCE, ticker, "chart.result is empty", "the API format changed; update ingestion/stocks.py")
    result = results[0]
    notes.append(check(result, ("meta", "indicators"), "chart.result[0]", known=("timestamp", "events")))
    meta = result["meta"] if isinstance(result["meta"], dict) else {}
    timestamps = result.get("timestamp") or []
    indicators = result["indicators"]
    notes.append(check(indicators, ("quote", "adjclose"), "indicators"))
    # Yahoo sends empty quote/adjclose objects for a range without sessions; with sessions every array is needed.
    price_fields = ("open", "high", "low", "close", "volume") if timestamps else ()
    quote = (indicators["quote"] or [{}])[0]
    notes.append(check(quote, price_fields, "indicators.quote[0]"))
    adjusted = (indicators["adjclose"] or [{}])[0]
    notes.append(check(adjusted, ("adjclose",) if timestamps else (), "indicators.adjclose[0]"))
    series = {name: quote.get(name) or [] for name in ("open", "high", "low", "close", "volume")}
    series["adj_close"] = adjusted.get("adjclose") or []
    lengths = {name: len(values) for name, values in series.items()}
    if any(n != len(timestamps) for n in lengths.values()):
        raise SourceError(SOURCE, ticker, f"arrays differ in length: timestamp={len(timestamps)}, {lengths}",
                          "the response is corrupt; re-record it or retry")
    zone = _exchange_zone(ticker, meta)

    def day_of(ts: Any) -> dt.date:
        return dt.datetime.fromtimestamp(int(ts), zone).date()

    in_window = [i for i, ts in enumerate(timestamps) if day_of(ts) in window]
    if in_window and all(series["close"][i] is None for i in in_window):
        raise SourceError(SOURCE, ticker, f"every close in {window.start}..{window.end} is null",
                          "the API answered without prices; retry later or re-record the snapshot")
    prices = []
    for i, ts in enumerate(timestamps):
        day = day_of(ts)
        if day not in window or series["close"][i] is None:
            continue
        volume = series["volume"][i]
        prices.append({
            "ticker": ticker, "trade_date": day,
            **{name: _float(series[name][i]) for name in ("open", "high", "low", "close", "adj_close")},
            "volume": int(volume) if volume is not None else None,
        })
    assert_unique(SOURCE, ticker, prices, "trade_date")
    events = result.get("events") or {}
    splits = [
        {"ticker": ticker, "split_date": day_of(e["date"]), "numerator": _float(e.get("numerator")),
         "denominator": _float(e.get("denominator"))}
        for e in (events.get("splits") or {}).values() if day_of(e["date"]) in window
    ]
    dividends = [
        {"ticker": ticker, "ex_date": day_of(e["date"]), "amount": _float(e.get("amount"))}
        for e in (events.get("dividends") or {}).values() if day_of(e["date"]) in window
    ]
    status = "ok" if prices else NO_DATA
    detail = "" if prices else f"no trading days between {window.start} and {window.end}"
    first_trade = meta.get("firstTradeDate")
    listing = {"ticker": ticker,
               "first_trade_date": day_of(first_trade) if isinstance(first_trade, int) else None,
               "instrument_type": meta.get("instrumentType"), "currency": meta.get("currency")}
    fetched = Fetched(SOURCE, ticker, window, status, detail,
                      tables={"prices": prices, "splits": splits, "dividends": dividends, "listings": [listing]})
    return fetched.note(*notes)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def fetch_chart(client: HttpClient, ticker: str, window: Window) -> Fetched:
    """One request per ticker for its whole window; Yahoo's `chart.error` becomes a clear error."""
    reply, body = client.get_json(CHART_URL.format(symbol=ticker), source=SOURCE, signal=ticker,
                                  params=chart_params(window))
    error = body.get("chart", {}).get("error") if isinstance(body, dict) else None
    if error or reply.status != 200:
        description = (error or {}).get("description") or f"HTTP {reply.status}"
        status = NO_DATA if reply.status == 404 else FAILED
        return Fetched(SOURCE, ticker, window, status, f"Yahoo: {description}", FIX_TICKER)
    with unexpected_shape(SOURCE, ticker):
        return parse_chart(ticker, body, window)


@dlt.source(name=SOURCE, max_table_nesting=0)
def stocks_source(
    tickers: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Prices, splits and dividends for every registered ticker, merged on their natural keys. Once Yahoo blocks
    the client, the remaining tickers fail with the same reason without a request."""

    @dlt.resource(name="charts", selected=False)
    def charts() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("stocks_source needs a client and today's date to run")
        blocked: list[Refused] = []

        def fetch(ticker: str, window: Window) -> Fetched:
            if blocked:
                raise SourceError(SOURCE, ticker, blocked[0].problem, blocked[0].fix)
            try:
                return fetch_chart(client, ticker, window)
            except Refused as exc:
                blocked.append(exc)
                raise

        yield from fetch_each(SOURCE, tickers, fetch, start_date, today, lookback_days, "prices", "trade_date",
                              DATASET)

    return table_resources(charts, [
        Table("prices", ("ticker", "trade_date"), PRICE_COLUMNS, "Daily OHLCV per ticker and trading day."),
        Table("splits", ("ticker", "split_date"), SPLIT_COLUMNS, "Stock splits (e.g. NVDA 10:1 on 2024-06-10)."),
        Table("dividends", ("ticker", "ex_date"), DIVIDEND_COLUMNS, "Cash dividends per share on their ex-date."),
        Table("listings", "ticker", LISTING_COLUMNS,
              "What Yahoo's meta says of each ticker: its first trading day (a listing inside a window is judged "
              "from it), instrument type and currency."),
    ], "The last fetch outcome per ticker: ok, no_data or failed, with the problem and the fix.")
