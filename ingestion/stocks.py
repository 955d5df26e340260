"""Daily stock prices from Yahoo's chart API → `raw_stocks.prices`, `raw_stocks.splits`, `raw_stocks.dividends`.

`close` is Yahoo's split-adjusted close; `adj_close` also adjusts for dividends. Splits and dividends are kept
in their own tables so quality checks can tell a split from a suspicious jump.
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
    STATUS_COLUMNS,
    Fetched,
    Window,
    assert_unique,
    fetch_each,
    rows_or_schema,
)
from ingestion.http import HttpClient, SourceError

SOURCE = "stocks"
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
DIVIDEND_COLUMNS: dict[str, Any] = {
    "ticker": {"data_type": "text", "nullable": False},
    "ex_date": {"data_type": "date", "nullable": False},
    "amount": {"data_type": "double"},
}


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
    Days whose close is null (Yahoo sends such placeholders) are dropped; other nulls are kept as NULL."""
    try:
        result = body["chart"]["result"][0]
        meta = result.get("meta") or {}
        timestamps = result.get("timestamp") or []
        quote = result["indicators"]["quote"][0]
        adjclose = (result["indicators"].get("adjclose") or [{}])[0].get("adjclose") or [None] * len(timestamps)
    except (KeyError, IndexError, TypeError):
        raise SourceError(SOURCE, ticker, "response has no chart.result[0] with indicators.quote",
                          "the API format changed; update ingestion/stocks.py") from None
    series = {name: quote.get(name) or [None] * len(timestamps) for name in ("open", "high", "low", "close", "volume")}
    series["adj_close"] = adjclose
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
    return Fetched(ticker, window, status, detail, {"prices": prices, "splits": splits, "dividends": dividends})


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
        return Fetched(ticker, window, status, f"[{SOURCE} {ticker}] Yahoo: {description} — {FIX_TICKER}")
    return parse_chart(ticker, body, window)


@dlt.source(name=SOURCE, max_table_nesting=0)
def stocks_source(
    tickers: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Prices, splits and dividends for every registered ticker, merged on their natural keys."""

    @dlt.resource(name="charts", selected=False)
    def charts() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("stocks_source needs a client and today's date to run")
        yield from fetch_each(SOURCE, tickers, lambda t, w: fetch_chart(client, t, w), start_date, today,
                              lookback_days, "prices", "trade_date")

    @dlt.transformer(data_from=charts, name="prices", primary_key=("ticker", "trade_date"),
                     write_disposition="merge", columns=PRICE_COLUMNS)
    def prices(fetched: Fetched) -> Iterator[list[dict[str, Any]]]:
        """Daily OHLCV per ticker and trading day."""
        yield rows_or_schema(fetched.tables.get("prices", []))

    @dlt.transformer(data_from=charts, name="splits", primary_key=("ticker", "split_date"),
                     write_disposition="merge", columns=SPLIT_COLUMNS)
    def splits(fetched: Fetched) -> Iterator[list[dict[str, Any]]]:
        """Stock splits (e.g. NVDA 10:1 on 2024-06-10)."""
        yield rows_or_schema(fetched.tables.get("splits", []))

    @dlt.transformer(data_from=charts, name="dividends", primary_key=("ticker", "ex_date"),
                     write_disposition="merge", columns=DIVIDEND_COLUMNS)
    def dividends(fetched: Fetched) -> Iterator[list[dict[str, Any]]]:
        """Cash dividends per share on their ex-date."""
        yield rows_or_schema(fetched.tables.get("dividends", []))

    @dlt.transformer(data_from=charts, name="signal_status", primary_key="signal",
                     write_disposition="merge", columns=STATUS_COLUMNS)
    def signal_status(fetched: Fetched) -> Iterator[dict[str, Any]]:
        """The last fetch outcome per ticker: ok, no_data or failed, with the reason."""
        yield fetched.status_row()

    return charts, prices, splits, dividends, signal_status
