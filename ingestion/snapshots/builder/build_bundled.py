"""Build the bundled replay snapshot from the real public data in ``real/`` beside this file.

Run from the project root::

    uv run python -m ingestion.snapshots.builder.build_bundled

The output follows the snapshot format (docs/SNAPSHOTS.md): a ``manifest.json`` plus one gzip-compressed recorded
exchange per file under ``responses/``. Real observations are copied unchanged; a series derived from real data
(GitHub's star history, from dated star counts) is marked ``derived`` with its method; where no real data exists
a series is generated from a fixed seed and marked ``synthetic``, next to the source it was cited from. Most
recordings hold the whole history up to ``as_of`` and record only date-independent query parameters, so they
match the pipeline's request for any date range; paged and per-month APIs get one recording per page or month.
Re-running the builder gives byte-identical files (tests/test_bundled_snapshot.py checks it).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from ingestion.github import HISTORY_URL, REPO_URL
from ingestion.news import SEARCH_URL, search_params
from ingestion.news import months as news_months
from ingestion.regulatory import DOCUMENTS_URL, SITE
from ingestion.snapshot import SnapshotWriter
from ingestion.snapshots.bodies import (
    NEW_YORK,
    chart_body,
    fr_body,
    fr_document,
    market_open,
    news_count_body,
    pageviews_body,
    pageviews_not_found,
    pageviews_url_any_range,
    repo_body,
    star_history_pages,
    star_history_weeks,
)
from ingestion.stocks import CHART_URL

AS_OF = date(2025, 12, 31)
HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[2]
REGISTRY = PROJECT_ROOT / "registry.yml"
REAL = HERE / "real"
BUNDLED = PROJECT_ROOT / "ingestion" / "snapshots" / "bundled"
JSON_TYPE = "application/json"

# Sources cited in PROVENANCE.md, as owner/repo plus the commit the files were copied from.
BT = ("SungKyu-Kim39/BackTester39", "34050dce3d22b6d0097c6254e522d86ef2b267be")
DP = ("dieperdev/yfinance-stock-data", "296de9891a69653e2f3038adfd237bbd58347ed5")
DS = ("dsturdy/Factor_Attribution_5_csvs", "d4cbf2bc9d28fabb56e2234e243f165c365d3b90")
JD = ("jameswdonoghue/QQQ-Data", "e9cda1967357d5d973951bb526ba5342fc1de076")
UK = ("ukitako1030/EVAL", "1fca05359d3cc94b0155f18cdd164607ee72c9bb")
VT = ("vtasca/wikipedia-pageviews", "07f48bcd1463e51c3f0ac07f74454934363f2e97")
FR_POSTS = ("ai-village-agents/deepseek-news", "1beafffe575940d20d4cf791766b3019c0af5acb")


@dataclass
class Series:
    """One manifest entry: what a recorded series is, where it came from and what is missing."""

    source: str
    key: str
    dataset: str
    file: str | None
    provenance: str
    origin: str
    note: str
    gaps: list[list[str]] = field(default_factory=list)


@dataclass
class Build:
    """Inputs shared by every source builder, and the writer of the snapshot they build."""

    real: Path
    out: Path
    start: date
    as_of: date
    signals: dict[str, list[str]]
    writer: SnapshotWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = SnapshotWriter(self.out)


# ---------------------------------------------------------------------------------------------- helpers


def seeded(*parts: str) -> random.Random:
    """A random generator whose stream depends only on the given labels (str seeds are hashed stably)."""
    return random.Random("ai-pulse-bundled:" + ":".join(parts))


def iso(day: date) -> str:
    """ISO calendar date, the form used in the manifest."""
    return day.isoformat()


def d(text: str) -> date:
    """Short date literal for the tables in this module."""
    return date.fromisoformat(text)


def days(first: date, last: date) -> Iterator[date]:
    """Every calendar day from first to last inclusive."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dictionaries keyed by its header."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def number(cell: str) -> float | None:
    """A CSV cell as a float; an empty cell is a missing value (JSON null)."""
    return float(cell) if cell.strip() else None


def missing_sessions(calendar: list[date], present: set[date], start: date, as_of: date) -> list[list[str]]:
    """Calendar ranges covering each run of reference sessions that a series lacks.

    A range runs from the day after the last session it has (or start) to the day before the next (or as_of).
    """
    ranges: list[list[str]] = []
    run_start: date | None = None
    previous = start - timedelta(days=1)
    for day in calendar + [as_of + timedelta(days=1)]:
        if day in present or day > as_of:
            if run_start is not None:
                ranges.append([iso(run_start), iso(day - timedelta(days=1))])
                run_start = None
            previous = day
        elif run_start is None:
            run_start = previous + timedelta(days=1)
    return ranges


def month_end(day: date) -> date:
    """Last calendar day of the day's month."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def write_exchange(
    build: Build,
    rel: str,
    url: str,
    params: dict[str, str],
    body: Any,
    status: int = 200,
    content_type: str = JSON_TYPE,
    headers: dict[str, str] | None = None,
) -> str:
    """Record one exchange at `rel` (a `responses/….json.gz` path: the writer gzips it byte-reproducibly) and
    return that path, as the manifest names it."""
    build.writer.add(url, params=params, body=body, status=status, headers=headers or {"Content-Type": content_type},
                     name=rel.removeprefix("responses/"))
    return rel


# ----------------------------------------------------------------------------------------------- stocks

# exchange code, Yahoo's exchange name and first trading day (public listing dates; meta only)
LISTINGS: dict[str, tuple[str, str, date]] = {
    "NVDA": ("NMS", "NasdaqGS", date(1999, 1, 22)),
    "AMD": ("NMS", "NasdaqGS", date(1980, 3, 17)),
    "TSM": ("NYQ", "NYSE", date(1997, 10, 9)),
    "AVGO": ("NMS", "NasdaqGS", date(2009, 8, 6)),
    "INTC": ("NMS", "NasdaqGS", date(1980, 3, 17)),
    "QCOM": ("NMS", "NasdaqGS", date(1991, 12, 13)),
    "ARM": ("NMS", "NasdaqGS", date(2023, 9, 14)),
    "QQQ": ("NGM", "NasdaqGM", date(1999, 3, 10)),
    "MSFT": ("NMS", "NasdaqGS", date(1986, 3, 13)),
    "SNOW": ("NYQ", "NYSE", date(2020, 9, 16)),
    "MDB": ("NMS", "NasdaqGM", date(2017, 10, 19)),
    "DDOG": ("NMS", "NasdaqGS", date(2019, 9, 19)),
    "TWLO": ("NYQ", "NYSE", date(2016, 6, 23)),
    "CRM": ("NYQ", "NYSE", date(2004, 6, 23)),
    "ADBE": ("NMS", "NasdaqGS", date(1986, 8, 13)),
    "WDAY": ("NMS", "NasdaqGS", date(2012, 10, 12)),
    "NOW": ("NYQ", "NYSE", date(2012, 6, 29)),
    "AAPL": ("NMS", "NasdaqGS", date(1980, 12, 12)),
    "META": ("NMS", "NasdaqGS", date(2012, 5, 18)),
    "PATH": ("NYQ", "NYSE", date(2021, 4, 21)),
    "GOOGL": ("NMS", "NasdaqGS", date(2004, 8, 19)),
    "OKTA": ("NMS", "NasdaqGS", date(2017, 4, 7)),
}

# Splits inside the window: (first post-split session, numerator, denominator, where the date comes from)
SPLITS: dict[str, tuple[date, int, int, str]] = {
    "NVDA": (date(2024, 6, 10), 10, 1, "PROVENANCE.md: 2024-06-10 10:1 split, no jump at 2024-06-07/10"),
    "AVGO": (date(2024, 7, 15), 10, 1, "PROVENANCE.md: 2024-07-15 10:1 split, no jump at 2024-07-12/15"),
    "GOOGL": (date(2022, 7, 18), 20, 1, "PROVENANCE.md: 2022-07-18 20:1 split"),
    "NOW": (
        date(2025, 12, 18),
        5,
        1,
        "PROVENANCE.md says only 'Dec 2025' (no jump around 2025-12-17/18); "
        "2025-12-18 is taken as the first post-split session",
    ),
}


@dataclass
class PriceRow:
    """One trading day as the CSV gives it; None marks an empty cell."""

    day: date
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    adj_close: float | None
    volume: int | None


def read_prices(path: Path, as_of: date) -> list[PriceRow]:
    """Daily rows up to as_of; later rows would be from after the recording date."""
    rows = []
    for row in read_csv(path):
        day = date.fromisoformat(row["date"])
        if day <= as_of:
            volume = number(row["volume"])
            rows.append(
                PriceRow(
                    day,
                    number(row["open"]),
                    number(row["high"]),
                    number(row["low"]),
                    number(row["close"]),
                    number(row["adj_close"]),
                    None if volume is None else int(volume),
                )
            )
    return rows


def read_dividends(path: Path, as_of: date) -> dict[date, float]:
    """Cash dividends per share by ex-date; a missing file means no dividends in the window."""
    if not path.exists():
        return {}
    return {
        date.fromisoformat(r["date"]): float(r["dividend"])
        for r in read_csv(path)
        if date.fromisoformat(r["date"]) <= as_of
    }


def adjusted_closes(rows: list[PriceRow], dividends: dict[date, float]) -> list[float | None]:
    """Yahoo's adjclose: the source's adj_close if given, else the close times the compounded dividend factor.

    Every close before an ex-date is multiplied by (1 - dividend / close of the session before the ex-date).
    """
    factor = 1.0
    adjusted: list[float | None] = [None] * len(rows)
    for i in range(len(rows) - 1, -1, -1):
        row = rows[i]
        if row.adj_close is not None:
            adjusted[i] = row.adj_close
        elif row.close is not None:
            adjusted[i] = round(row.close * factor, 6)
        dividend = dividends.get(row.day)
        if dividend and i > 0 and rows[i - 1].close:
            # applied after row i itself: the ex-date close already excludes the dividend
            factor *= 1 - dividend / rows[i - 1].close
    return adjusted


def chart(symbol: str, rows: list[PriceRow], dividends: dict[date, float],
          instrument: str = "EQUITY") -> dict[str, Any]:
    """The chart body of a real series: Yahoo's adjclose from its closes and dividends, its split, and its listing's
    meta as Yahoo gives it."""
    exchange, full_exchange, first_trade = LISTINGS[symbol]
    last = rows[-1]
    meta = {
        "currency": "USD",
        "exchangeName": exchange,
        "fullExchangeName": full_exchange,
        "instrumentType": instrument,
        "firstTradeDate": market_open(first_trade),
        "regularMarketTime": int(datetime.combine(last.day, time(16, 0), NEW_YORK).timestamp()),
        "regularMarketPrice": last.close,
        "hasPrePostMarketData": False,
        "timezone": "EST",
        "priceHint": 2,
        "dataGranularity": "1d",
        "range": "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    splits = [SPLITS[symbol][:3]] if symbol in SPLITS else []
    return chart_body(symbol, rows, adjclose=adjusted_closes(rows, dividends), dividends=dividends, splits=splits,
                      meta=meta)


def stock_origin(ticker: str, has_dividends: bool) -> str:
    """The cited files a real ticker's prices (and dividends) were copied from."""
    if ticker in ("TWLO", "WDAY"):
        return (
            f"{DP[0]}:data/{ticker}.csv@{DP[1]} (<= 2024-03-08); "
            f"{DS[0]}:data/{ticker}.csv@{DS[1]} (close only, from 2024-03-11)"
        )
    origin = f"{BT[0]}:data/{ticker}.csv@{BT[1]}"
    return origin + (f"; dividends {BT[0]}:data/{ticker}_dividends.csv@{BT[1]}" if has_dividends else "")


def stock_note(ticker: str, rows: list[PriceRow], dividends: dict[date, float]) -> str:
    """What was copied and computed for a real ticker, in one paragraph."""
    parts = [
        f"{len(rows)} real daily sessions {iso(rows[0].day)}..{iso(rows[-1].day)} (rows after as_of dropped);"
        " prices split-adjusted, close not dividend-adjusted, as in the source."
    ]
    if ticker in ("TWLO", "WDAY"):
        parts.append(
            "Stitched at 2024-03-08/2024-03-11: after 2024-03-08 the source has close only, so open,"
            " high, low and volume are null from 2024-03-11. adjclose is the source's Adj Close up to"
            " 2024-03-08 and the (auto-adjusted) close after; no dividends in the window, so it equals close."
        )
    elif dividends:
        parts.append(
            f"adjclose computed from real closes and dividends ({len(dividends)} ex-dates, Yahoo's"
            " method: each earlier close times 1 - dividend / previous close, compounded)."
        )
    else:
        parts.append("No dividends in the window, so adjclose equals close.")
    if ticker in SPLITS:
        day, numerator, denominator, cite = SPLITS[ticker]
        parts.append(
            f"Split event {numerator}:{denominator} on {iso(day)} added ({cite}); the prices are"
            " already on the post-split basis."
        )
    if ticker == "ARM":
        parts.append("Listed 2023-09-14 (IPO): no observations before.")
    return " ".join(parts)


def build_stock(build: Build, ticker: str, calendar: list[date]) -> Series:
    """Record one real ticker from its CSV and dividend file."""
    rows = read_prices(build.real / "stocks" / f"{ticker}.csv", build.as_of)
    dividends = read_dividends(build.real / "stocks" / "dividends" / f"{ticker}.csv", build.as_of)
    rel = write_exchange(build, f"responses/stocks/{ticker}.json.gz", CHART_URL.format(symbol=ticker),
                         {"interval": "1d"}, chart(ticker, rows, dividends))
    gaps = missing_sessions(calendar, {r.day for r in rows}, build.start, build.as_of)
    return Series(
        source="stocks",
        key=ticker,
        dataset="chart",
        file=rel,
        provenance="real",
        origin=stock_origin(ticker, bool(dividends)),
        note=stock_note(ticker, rows, dividends),
        gaps=gaps,
    )


def build_qqq(build: Build, calendar: list[date]) -> Series:
    """Record the real QQQ ETF (the benchmark of P04 and P09) from etf/QQQ.csv and its dividends."""
    rows = read_prices(build.real / "etf" / "QQQ.csv", build.as_of)
    dividends = read_dividends(build.real / "etf" / "dividends" / "QQQ.csv", build.as_of)
    rel = write_exchange(build, "responses/stocks/QQQ.json.gz", CHART_URL.format(symbol="QQQ"), {"interval": "1d"},
                         chart("QQQ", rows, dividends, instrument="ETF"))
    note = (
        f"{len(rows)} real daily sessions {iso(rows[0].day)}..{iso(rows[-1].day)} (rows after as_of dropped);"
        " close split-adjusted, not dividend-adjusted. adjclose is Yahoo's dividend-adjusted close as the source"
        " downloaded it (2026-07-15), so it differs slightly from a download made on another day."
        f" {len(dividends)} real ex-dividend dates as dividend events."
    )
    return Series(
        source="stocks",
        key="QQQ",
        dataset="chart",
        file=rel,
        provenance="real",
        origin=f"{JD[0]}:QQQ.csv@{JD[1]}; dividends {BT[0]}:data/QQQ_dividends.csv@{BT[1]}",
        note=note,
        gaps=missing_sessions(calendar, {r.day for r in rows}, build.start, build.as_of),
    )


def build_stocks(build: Build) -> list[Series]:
    """Every registered ticker from its real CSV (stocks/, or etf/ for the QQQ benchmark)."""
    calendar = [r.day for r in read_prices(build.real / "stocks" / "AAPL.csv", build.as_of)]
    series = []
    for ticker in build.signals["stocks"]:
        if (build.real / "stocks" / f"{ticker}.csv").exists():
            series.append(build_stock(build, ticker, calendar))
        elif ticker == "QQQ":
            series.append(build_qqq(build, calendar))
        else:
            raise SystemExit(f"no real file for ticker {ticker}")
    return series


# ----------------------------------------------------------------------------------------------- trends

@dataclass
class Article:
    """How a synthetic pageview series is shaped: a level over time, real-event spikes, weekly rhythm."""

    start: date
    levels: list[tuple[Any, ...]]  # (day, views per day)
    spikes: list[tuple[Any, ...]] = field(default_factory=list)  # (day, extra views, decay days)
    weekend: float = 0.85
    noise: float = 0.07
    why: str = ""


def dated(spec: str) -> list[tuple[Any, ...]]:
    """Parse "2023-06-05 2500, 2024-02-02 90000 6" into [(date, 2500.0), (date, 90000.0, 6.0)]."""
    rows = [item.split() for item in spec.split(",")]
    return [(d(day), *map(float, values)) for day, *values in rows]


def eu_ai_act_spikes(real: Path) -> list[tuple[Any, ...]]:
    """Spikes at the EU AI Act milestones of eu_ai_act_milestones.csv; the three big votes/dates get more."""
    big = {d("2023-12-08"): 9000.0, d("2024-03-13"): 12000.0, d("2024-08-01"): 7000.0}
    milestones = [d(r["date"]) for r in read_csv(real / "regulatory" / "eu_ai_act_milestones.csv")]
    return [(day, big.get(day, 2500.0), 4.0) for day in milestones]


def articles(real: Path) -> dict[str, Article]:
    """Shapes for every article with synthetic pageviews (every registered one but ChatGPT, which is real).

    levels: "date views/day" points, interpolated; spikes: "date extra-views decay-days" for real events.
    """
    return {
        "Artificial_intelligence": Article(
            start=d("2022-01-01"),
            levels=dated(
                "2022-01-01 5500, 2022-11-30 6000, 2023-02-15 11000, 2023-12-31 9000, 2024-12-31 8500,"
                " 2025-12-31 8000"
            ),
            spikes=dated("2023-03-14 4000 7"),
            why="ChatGPT-era rise in 2023",
        ),
        "Large_language_model": Article(
            start=d("2022-01-01"),
            levels=dated(
                "2022-01-01 150, 2022-11-30 300, 2023-03-31 5500, 2023-12-31 6000, 2024-12-31 6500,"
                " 2025-12-31 7000"
            ),
            spikes=dated("2023-03-14 3000 10"),
            why="small before ChatGPT, then a jump",
        ),
        "Generative_artificial_intelligence": Article(
            start=d("2023-01-15"),
            levels=dated(
                "2023-01-15 1500, 2023-06-30 5500, 2023-12-31 5000, 2024-12-31 5500, 2025-12-31 5200"
            ),
            why="article assumed created mid-January 2023",
        ),
        "Mamba_(deep_learning_architecture)": Article(
            start=d("2023-12-20"),
            levels=dated("2023-12-20 400, 2024-03-01 900, 2024-12-31 500, 2025-12-31 400"),
            spikes=dated("2024-01-10 800 20"),
            weekend=0.75,
            why="paper of 2023-12-01; article assumed created 2023-12-20",
        ),
        "Vector_database": Article(
            start=d("2022-01-01"),
            levels=dated(
                "2022-01-01 80, 2022-12-31 200, 2023-05-31 1800, 2023-12-31 1500, 2024-12-31 1300,"
                " 2025-12-31 1200"
            ),
            spikes=dated("2023-04-27 800 5"),
            weekend=0.7,
            why="RAG boom of spring 2023",
        ),
        "Apple_Vision_Pro": Article(
            start=d("2023-06-05"),
            levels=dated(
                "2023-06-05 2500, 2023-12-31 2500, 2024-02-15 6000, 2024-06-30 2500, 2024-12-31 1500,"
                " 2025-12-31 1000"
            ),
            spikes=dated("2023-06-05 180000 3, 2024-01-19 30000 4, 2024-02-02 90000 6, 2025-10-15 8000 4"),
            weekend=1.05,
            why="announced 2023-06-05, pre-orders 2024-01-19, on sale 2024-02-02",
        ),
        "Humane_Ai_Pin": Article(
            start=d("2023-11-09"),
            levels=dated(
                "2023-11-09 800, 2024-03-31 700, 2024-06-30 900, 2024-12-31 400, 2025-03-31 500,"
                " 2025-12-31 150"
            ),
            spikes=dated("2023-11-09 25000 4, 2024-04-11 20000 6, 2025-02-18 12000 5"),
            weekend=1.0,
            why="launch 2023-11-09, reviews/shipping April 2024, HP deal and shutdown Feb 2025",
        ),
        "Rabbit_r1": Article(
            start=d("2024-01-09"),
            levels=dated("2024-01-09 1500, 2024-04-30 1500, 2024-12-31 300, 2025-12-31 120"),
            spikes=dated("2024-01-09 30000 4, 2024-04-23 12000 5, 2024-05-02 6000 4"),
            weekend=1.0,
            why="CES unveiling 2024-01-09, launch event 2024-04-23, reviews May 2024",
        ),
        "Intelligent_agent": Article(
            start=d("2022-01-01"),
            levels=dated(
                "2022-01-01 900, 2023-03-31 1200, 2023-12-31 1300, 2024-12-31 2200, 2025-12-31 2800"
            ),
            spikes=dated("2023-04-14 800 10"),
            weekend=0.7,
            why="agent hype of 2024-2025",
        ),
        "Gaussian_splatting": Article(
            start=d("2023-08-15"),
            levels=dated("2023-08-15 150, 2023-12-31 600, 2024-12-31 900, 2025-12-31 1000"),
            spikes=dated("2023-09-10 1500 10"),
            weekend=0.8,
            why="SIGGRAPH paper August 2023; article assumed created 2023-08-15",
        ),
        "Artificial_Intelligence_Act": Article(
            start=d("2022-01-01"),
            levels=dated(
                "2022-01-01 250, 2022-12-31 300, 2023-06-30 700, 2023-12-31 1000, 2024-12-31 1300,"
                " 2025-12-31 1200"
            ),
            spikes=eu_ai_act_spikes(real),
            weekend=0.7,
            why="spikes on the dated milestones of eu_ai_act_milestones.csv",
        ),
        "Google_Search": Article(
            start=d("2022-01-01"),
            levels=dated("2022-01-01 6000, 2025-12-31 4500"),
            spikes=dated("2024-05-14 2500 4, 2024-08-05 4000 4, 2025-09-02 2500 3"),
            why="slow decline; AI Overviews launch and US antitrust rulings as spikes",
        ),
        "Data_quality": Article(
            start=d("2022-01-01"),
            levels=dated("2022-01-01 900, 2025-12-31 850"),
            weekend=0.6,
            why="flat work-week topic",
        ),
        "Small_language_model": Article(
            start=d("2024-02-01"),
            levels=dated("2024-02-01 150, 2024-06-30 500, 2024-12-31 700, 2025-12-31 900"),
            spikes=dated("2024-04-23 600 7"),
            weekend=0.75,
            why="article assumed created 2024-02-01; Phi-3 release spike",
        ),
        "Digital_identity": Article(
            start=d("2022-01-01"),
            levels=dated("2022-01-01 350, 2025-12-31 330"),
            weekend=0.65,
            why="flat niche topic",
        ),
    }


def interpolate(points: list[tuple[Any, ...]], day: date) -> float:
    """Linear interpolation between dated levels, flat before the first and after the last."""
    if day <= points[0][0]:
        return points[0][1]
    for (lo_day, lo), (hi_day, hi) in zip(points, points[1:], strict=False):
        if day <= hi_day:
            return lo + (hi - lo) * (day - lo_day).days / (hi_day - lo_day).days
    return points[-1][1]


def daily_views(name: str, article: Article, as_of: date) -> list[tuple[date, int]]:
    """Seeded daily views: level x weekday rhythm x holiday dip x slow and daily noise, plus event spikes."""
    rng = seeded("trends", name)
    drift, views = 0.0, []
    for day in days(article.start, as_of):
        level = interpolate(article.levels, day) * (article.weekend if day.weekday() >= 5 else 1.0)
        if (day.month, day.day) >= (12, 24) or (day.month, day.day) == (1, 1):
            level *= 0.85  # Wikipedia traffic dips over the year-end holidays
        level += sum(
            extra * math.exp(-(day - when).days / decay)
            for when, extra, decay in article.spikes
            if day >= when
        )
        drift = 0.92 * drift + rng.gauss(0.0, 0.03)  # slow wandering so the line is not too smooth
        views.append((day, max(0, round(level * math.exp(drift + rng.gauss(0.0, article.noise))))))
    return views


def last_whole_month(as_of: date) -> date:
    """The first day of the last month whose every day lies on or before as_of (the recording holds it; the
    pipeline asks for a month only once it ended before its today)."""
    if month_end(as_of) == as_of:
        return as_of.replace(day=1)
    return (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)


def monthly_totals(views: list[tuple[date, int]], as_of: date) -> list[tuple[date, int]]:
    """Views per whole month up to as_of; months without views are left out, as Wikimedia leaves them out."""
    totals: dict[date, int] = {}
    for day, count in views:
        totals[day.replace(day=1)] = totals.get(day.replace(day=1), 0) + count
    return [(m, n) for m, n in sorted(totals.items()) if m <= last_whole_month(as_of) and n > 0]


def record_pageviews(build: Build, name: str, granularity: str, views: list[tuple[date, int]]) -> str:
    """One recording answering every date range of one granularity for an article (its date segments are `*`)."""
    folder = "trends" if granularity == "daily" else "trends_monthly"
    return write_exchange(build, f"responses/{folder}/{name}.json.gz", pageviews_url_any_range(name, granularity), {},
                          pageviews_body(name, dict(views), granularity))


def build_missing_article(build: Build, name: str) -> list[Series]:
    """Record the 404 Wikimedia returns for an article it has no data for, at both granularities."""
    series = []
    for granularity, folder, dataset in (("daily", "trends", "pageviews"),
                                         ("monthly", "trends_monthly", "pageviews_monthly")):
        rel = write_exchange(
            build,
            f"responses/{folder}/{name}.json.gz",
            pageviews_url_any_range(name, granularity),
            {},
            pageviews_not_found(name, granularity, build.start, build.as_of),
            status=404,
            content_type="application/problem+json",
        )
        note = (
            "Recorded as absent: the response is Wikimedia's 404 'Not found.' for this article, so the pipeline"
            " sees no pageviews at all. No real or synthetic numbers are provided."
        )
        series.append(Series(source="trends", key=name, dataset=dataset, file=rel, provenance="missing",
                             origin="none (no pageview data was found)", note=note,
                             gaps=[[iso(build.start), iso(build.as_of)]]))
    return series


def build_article(build: Build, name: str, article: Article) -> list[Series]:
    """Record one synthetic pageview series, daily and as the monthly totals of the same days."""
    views = daily_views(name, article, build.as_of)
    daily_file = record_pageviews(build, name, "daily", views)
    monthly_file = record_pageviews(build, name, "monthly", monthly_totals(views, build.as_of))
    note = (
        f"Synthetic: no real Wikipedia pageviews were found (PROVENANCE_pageviews.md). Seeded daily views from"
        f" {iso(article.start)} with weekly rhythm, noise and dated real-event spikes ({article.why})."
    )
    origin = f"synthetic (seed 'trends:{name}')"
    gaps = [[iso(build.start), iso(article.start - timedelta(days=1))]] if article.start > build.start else []
    return [
        Series(source="trends", key=name, dataset="pageviews", file=daily_file, provenance="synthetic",
               origin=origin, note=note, gaps=gaps),
        Series(source="trends", key=name, dataset="pageviews_monthly", file=monthly_file, provenance="synthetic",
               origin=origin, note="The monthly totals of the synthetic daily views above (complete months only).",
               gaps=gaps),
    ]


def build_chatgpt(build: Build, name: str) -> list[Series]:
    """Record ChatGPT's real pageviews: Wikimedia's monthly totals, and the few real days that could be had."""
    folder = build.real / "pageviews"
    monthly = [(d(r["month"] + "-01"), int(r["views"])) for r in read_csv(folder / "chatgpt_monthly.csv")]
    monthly = [(m, n) for m, n in monthly if m <= last_whole_month(build.as_of)]
    partial = [(d(r["date"]), int(r["views"])) for r in read_csv(folder / "chatgpt_daily_partial.csv")]
    partial = [(day, n) for day, n in partial if day <= build.as_of]
    monthly_file = record_pageviews(build, name, "monthly", monthly)
    daily_file = record_pageviews(build, name, "daily", partial)
    months = sorted(m for m, _ in monthly)
    return [
        Series(
            source="trends", key=name, dataset="pageviews", file=daily_file, provenance="real",
            origin=f"{VT[0]}:pageviews.csv@{VT[1]} (days the article was in the daily top 100)",
            note=(f"Real, but only {len(partial)} scattered days ({iso(partial[0][0])}..{iso(partial[-1][0])};"
                  " one complete month, 2023-04): the days the article was in Wikipedia's daily top 100 and were"
                  " read (PROVENANCE_pageviews.md). Every other day is missing; the monthly totals carry the"
                  " series."),
            gaps=[[iso(build.start), iso(build.as_of)]],
        ),
        Series(
            source="trends", key=name, dataset="pageviews_monthly", file=monthly_file, provenance="real",
            origin=f"{UK[0]}:pipeline/test/fixtures/wikipedia/sample-chatgpt.json@{UK[1]}",
            note=(f"Real Wikimedia monthly user pageviews {months[0]:%Y-%m}..{months[-1]:%Y-%m} (a raw API body;"
                  " the article begins in 2022-12), complete months up to as_of; 2023-04 and 2023-03 match"
                  " independent sources exactly (PROVENANCE_pageviews.md)."),
            gaps=[[iso(build.start), iso(months[0] - timedelta(days=1))]],
        ),
    ]


def build_trends(build: Build) -> list[Series]:
    """Every registered article: ChatGPT's real views, synthetic views for the others, or a recorded 404 where
    the article has none."""
    shapes = articles(build.real)
    series: list[Series] = []
    for name in build.signals["trends"]:
        if name == "ChatGPT":
            series += build_chatgpt(build, name)
        elif name in shapes:
            series += build_article(build, name, shapes[name])
        elif name == "GPT_Store":
            series += build_missing_article(build, name)
        else:
            raise SystemExit(f"no shape for article {name}")
    return series


# ----------------------------------------------------------------------------------------------- github

# A repo whose last real count is older than this before as_of gets no derived history: holding a count flat for
# longer would pass for growth data it is not.
MAX_HELD_DAYS = 92

# Approximate creation date and default branch of each repository (metadata only, not verified here).
REPO_FACTS: dict[str, tuple[date, str]] = {
    "langchain-ai/langchain": (d("2022-10-17"), "master"),
    "state-spaces/mamba": (d("2023-12-01"), "main"),
    "huggingface/transformers": (d("2018-10-29"), "main"),
    "milvus-io/milvus": (d("2019-09-16"), "master"),
    "qdrant/qdrant": (d("2020-05-30"), "master"),
    "chroma-core/chroma": (d("2022-10-05"), "main"),
    "weaviate/weaviate": (d("2016-03-30"), "main"),
    "pgvector/pgvector": (d("2021-04-20"), "master"),
    "microsoft/autogen": (d("2023-08-18"), "main"),
    "crewAIInc/crewAI": (d("2023-10-27"), "main"),
    "langchain-ai/langgraph": (d("2023-08-09"), "main"),
    "Significant-Gravitas/AutoGPT": (d("2023-03-16"), "master"),
    "graphdeco-inria/gaussian-splatting": (d("2023-07-04"), "main"),
    "nerfstudio-project/nerfstudio": (d("2022-05-31"), "main"),
    "great-expectations/great_expectations": (d("2017-09-11"), "develop"),
    "sodadata/soda-core": (d("2022-01-04"), "main"),
    "ggml-org/llama.cpp": (d("2023-03-10"), "master"),
    "ollama/ollama": (d("2023-06-26"), "main"),
}
SODA_CORE_STARS = 2100  # synthetic: no star observation of sodadata/soda-core was found


@dataclass
class StarObservation:
    """One dated star count from builder/real/stars and the exact file it was read from."""

    day: date
    stars: int
    source: str


def read_stars(path: Path, as_of: date) -> list[StarObservation]:
    """Observations up to as_of; a missing file means the repo has no history."""
    if not path.exists():
        return []
    rows = [StarObservation(d(r["date"]), int(r["stars"]), r["source"]) for r in read_csv(path)]
    return [r for r in rows if r.day <= as_of]


def stars_file(real: Path, repo: str) -> Path:
    """builder/real/stars uses owner__name.csv."""
    return real / "stars" / f"{repo.replace('/', '__')}.csv"


def utc_stamp(day: date, rng: random.Random) -> str:
    """GitHub-style UTC timestamp on the given day at a seeded time."""
    return f"{iso(day)}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"


def repo_object(repo: str, stars: int, as_of: date, rng: random.Random) -> dict[str, Any]:
    """A GitHub repo object: stars as given, every other count seeded at plausible ratios to stars."""
    created, branch = REPO_FACTS[repo]
    # research code (one paper, one repo) goes quiet; product repos are pushed to daily
    quiet = repo in ("state-spaces/mamba", "graphdeco-inria/gaussian-splatting")
    pushed = as_of - timedelta(days=rng.randint(20, 120) if quiet else rng.randint(0, 2))
    # Drawn in this order, so the seeded stream (and so the snapshot) stays the same
    forks = round(stars * rng.uniform(0.07, 0.22))
    issues = round(stars * rng.uniform(0.002, 0.012))
    repo_id = rng.randint(100_000_000, 1_100_000_000)
    created_at, updated_at, pushed_at = (utc_stamp(day, rng) for day in (created, as_of, pushed))
    subscribers = max(5, round(stars * rng.uniform(0.004, 0.01)))
    return repo_body(repo, stars, forks=forks, open_issues=issues, subscribers=subscribers, pushed_at=pushed_at,
                     repo_id=repo_id, created_at=created_at, updated_at=updated_at, default_branch=branch)


def build_repo(build: Build, repo: str) -> Series:
    """Record a repo's current state: real latest star count where one exists, the rest synthetic."""
    history = read_stars(stars_file(build.real, repo), build.as_of)
    stars = history[-1].stars if history else SODA_CORE_STARS
    body = repo_object(repo, stars, build.as_of, seeded("github", repo))
    rel = write_exchange(
        build, f"responses/github/{repo.replace('/', '__')}.json.gz", REPO_URL.format(repo=repo), {}, body
    )
    if not history:
        note = (
            "Everything synthetic: no star observation exists for this repo (not in any source list), so"
            f" stargazers_count={stars} and all other fields are seeded, plausible values."
        )
        return Series(
            source="github",
            key=repo,
            dataset="repo",
            file=rel,
            provenance="synthetic",
            origin=f"synthetic (seed 'github:{repo}')",
            note=note,
        )
    last = history[-1]
    age = (build.as_of - last.day).days
    note = (
        f"Real: full_name/html_url and stargazers_count (= watchers_count) = {last.stars}, the last real"
        f" observation on or before as_of, dated {iso(last.day)}."
    )
    if age > 14:
        note += (
            f" That observation is {age} days older than as_of, so the true count on as_of was probably"
            " higher."
        )
    note += (
        " Synthetic (seeded): id, forks_count, open_issues_count, subscribers_count, pushed_at,"
        " updated_at; created_at and default_branch are approximate."
    )
    return Series(
        source="github",
        key=repo,
        dataset="repo",
        file=rel,
        provenance="partly_synthetic",
        origin=last.source,
        note=note,
    )


def archive_origin(history: list[StarObservation]) -> str:
    """Distinct cited source files of an archive, with per-date file names and per-row commits folded."""
    counts: dict[str, int] = {}
    for obs in history:
        where, commit = obs.source.split("@")
        where = re.sub(r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD", where)
        # dylanhogg rows each cite their own commit; EvanLi and best-of share one
        commit = commit if not where.startswith("dylanhogg/") else "<per-observation commit>"
        counts[f"{where}@{commit}"] = counts.get(f"{where}@{commit}", 0) + 1
    return "; ".join(f"{source} ({n} obs)" for source, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def star_gaps(history: list[StarObservation], start: date, as_of: date, longest: int = 14) -> list[list[str]]:
    """Stretches of more than `longest` days inside [start, as_of] with no star observation."""
    gaps, previous = [], start - timedelta(days=1)
    for day in [obs.day for obs in history] + [as_of + timedelta(days=1)]:
        if (day - previous).days - 1 > longest:
            gaps.append([iso(previous + timedelta(days=1)), iso(day - timedelta(days=1))])
        previous = day
    return gaps


def spread_evenly(history: list[StarObservation]) -> dict[date, int]:
    """Stars made per day, derived from dated counts: each rise between two observations spread evenly over the
    days after the first up to the second (whole stars, the remainder on the earliest days). A fall adds nothing."""
    added: dict[date, int] = {}
    for before, after in zip(history, history[1:], strict=False):
        span = (after.day - before.day).days
        rise = max(0, after.stars - before.stars)
        share, extra = divmod(rise, span)
        for n in range(1, span + 1):
            added[before.day + timedelta(days=n)] = share + (1 if n <= extra else 0)
    return added


def build_star_history(build: Build, repo: str) -> Series:
    """Record GitHub's star history for a repo as pages derived from its real dated star counts; repos with fewer
    than two counts, or whose last count is too old, get no star-history recording."""
    history = read_stars(stars_file(build.real, repo), build.as_of)
    held = (build.as_of - history[-1].day).days if history else None
    if len(history) < 2 or held > MAX_HELD_DAYS:
        why = ("no star count was found" if not history else f"only {len(history)} dated count" if len(history) < 2
               else f"its last real count ({iso(history[-1].day)}) is {held} days before as_of")
        return Series(
            source="github", key=repo, dataset="star_history", file=None, provenance="missing", origin="none",
            note=f"No star history is recorded: {why}, too little to derive daily stars from.",
            gaps=[[iso(build.start), iso(build.as_of)]],
        )
    weeks = star_history_weeks(spread_evenly(history), history[0].day, build.as_of)
    files = []
    for params, headers, body in star_history_pages(repo, weeks):
        files.append(write_exchange(
            build, f"responses/github_history/{repo.replace('/', '__')}/page_{int(params['page']):03d}.json.gz",
            HISTORY_URL.format(repo=repo), params, body, headers=headers))
    falls = sum(max(0, a.stars - b.stars) for a, b in zip(history, history[1:], strict=False))
    note = (
        f"Derived from {len(history)} real dated star counts {iso(history[0].day)}..{iso(history[-1].day)}"
        " (observations after as_of dropped): each rise between two observations is spread evenly over the days"
        " between them, and the weeks are paged as GitHub pages its star history (30 weeks a page, newest first,"
        " from the week of the first observation). The counts rebuilt from it equal the observed ones on every"
        " observed day"
        + (f", except that a fall in the counts adds nothing, so days before a fall come out lower by what it"
           f" took ({falls:,} stars in all)" if falls else "")
        + f". {len(files)} pages."
    )
    if held > 0:
        note += f" No stars are added after the last observation ({held} days before as_of)."
    return Series(
        source="github", key=repo, dataset="star_history", file=files[0], provenance="derived",
        origin=archive_origin(history), note=note, gaps=star_gaps(history, build.start, build.as_of),
    )


def build_github(build: Build) -> list[Series]:
    """Current state for every registered repo, then the star history for the ones with enough counts."""
    repos = build.signals["github"]
    return [build_repo(build, r) for r in repos] + [build_star_history(build, r) for r in repos]


# ------------------------------------------------------------------------------------------- regulatory

FR_DOC_URL = SITE + "/documents/{y}/{m:02d}/{dd:02d}/{number}/{slug}"

IDENTITY_DOCS_PER_YEAR = 30  # "a few per month"

# Title, document type and agency (name, slug) templates for the synthetic "digital identity" documents.
IDENTITY_TEMPLATES: list[tuple[str, str, str, str]] = [
    (
        "Privacy Act of 1974; System of Records",
        "Notice",
        "Homeland Security Department",
        "homeland-security-department",
    ),
    (
        "Digital Identity Guidelines; Request for Comments",
        "Notice",
        "National Institute of Standards and Technology",
        "national-institute-of-standards-and-technology",
    ),
    (
        "Minimum Standards for Driver's Licenses and Identification Cards Acceptable by Federal Agencies for "
        "Official Purposes; Mobile Driver's Licenses",
        "Proposed Rule",
        "Transportation Security Administration",
        "transportation-security-administration",
    ),
    (
        "Agency Information Collection Activities; Identity Proofing for Online Services",
        "Notice",
        "Social Security Administration",
        "social-security-administration",
    ),
    (
        "Customer Identification Program; Use of Digital Identity Credentials",
        "Proposed Rule",
        "Financial Crimes Enforcement Network",
        "financial-crimes-enforcement-network",
    ),
    (
        "Information Security and Privacy Advisory Board; Meeting",
        "Notice",
        "National Institute of Standards and Technology",
        "national-institute-of-standards-and-technology",
    ),
    (
        "Request for Information on Identity Verification in Federal Benefit Programs",
        "Notice",
        "Management and Budget Office",
        "management-and-budget-office",
    ),
    (
        "Electronic Signatures and Digital Identity Credentials in Loan Servicing",
        "Rule",
        "Veterans Affairs Department",
        "veterans-affairs-department",
    ),
]


def fr_slug(title: str) -> str:
    """The Federal Register URL slug: lower-case words joined by '-', cut at a word within 100 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower().replace("'", "")).strip("-")
    return slug if len(slug) <= 100 else slug[:101].rsplit("-", 1)[0]


def fr_request_params(term: str) -> dict[str, str]:
    """Only the date-independent parameter, so the recording matches every date range."""
    return {"conditions[term]": term}


def coverage_gaps(real: Path, start: date, as_of: date) -> tuple[list[list[str]], list[str]]:
    """Months the Federal Register source lacks or covers only partly, as merged ranges; and the partial ones.

    Partial = under 60% of the weekday count in publication days, or under half the median document count.
    """
    rows = {r["month"]: r for r in read_csv(real / "regulatory" / "federal_register_ai_source_coverage.csv")}
    median = sorted(int(r["fr_documents_in_source"]) for r in rows.values())[len(rows) // 2]
    bad, partial = [], []
    for first in sorted({day.replace(day=1) for day in days(start, as_of)}):
        row = rows.get(first.strftime("%Y-%m"))
        weekdays = sum(1 for day in days(first, month_end(first)) if day.weekday() < 5)
        is_partial = row is not None and (
            int(row["publication_days_in_source"]) < 0.6 * weekdays
            or int(row["fr_documents_in_source"]) < 0.5 * median
        )
        if is_partial:
            partial.append(first.strftime("%Y-%m"))
        if row is None or is_partial:
            bad.append(first)
    ranges: list[list[str]] = []
    for first in bad:
        last = min(as_of, month_end(first))
        # consecutive bad months become one range
        if ranges and d(ranges[-1][1]) + timedelta(days=1) == first:
            ranges[-1][1] = iso(last)
        else:
            ranges.append([iso(first), iso(last)])
    return ranges, partial


def build_fr_ai(build: Build, term: str) -> Series:
    """Record the real Federal Register documents whose title or summary mention artificial intelligence."""
    rows = [
        r
        for r in read_csv(build.real / "regulatory" / "federal_register_ai.csv")
        if d(r["publication_date"]) <= build.as_of
    ]
    results = [
        fr_document(
            r["document_number"],
            d(r["publication_date"]),
            r["title"],
            r["type"] or None,
            [{"name": a.strip()} for a in r["agencies"].split(";") if a.strip()],
            r["html_url"],
        )
        for r in rows
    ]
    rel = write_exchange(
        build,
        f"responses/regulatory/{term.replace(' ', '_')}.json.gz",
        DOCUMENTS_URL,
        fr_request_params(term),
        fr_body(results),
    )
    gaps, partial = coverage_gaps(build.real, build.start, build.as_of)
    note = (
        f"{len(results)} real documents. A lower bound: only title/summary matches within a significance-"
        "filtered mining of the FR API (body-only mentions are not included). type and agencies are unknown"
        " in the source (null / []). Gaps: months with no documents in the source, plus months it covers"
        f" only partly ({', '.join(partial)}), from federal_register_ai_source_coverage.csv."
    )
    origin = (
        f"{FR_POSTS[0]}:_posts/*.md@{FR_POSTS[1]} (one post per FR document; PROVENANCE_stars_regulatory.md)"
    )
    return Series(
        source="regulatory",
        key=term,
        dataset="documents",
        file=rel,
        provenance="real",
        origin=origin,
        note=note,
        gaps=gaps,
    )


def identity_doc_days(build: Build, rng: random.Random) -> list[date]:
    """Publication days: the same number every year (one per month plus the rest spread at random).

    Equal yearly totals keep the synthetic series from implying a year-over-year change by chance.
    """
    chosen = []
    for year in range(build.start.year, build.as_of.year + 1):
        months = [m for m in range(1, 13) if date(year, m, 1) <= build.as_of]
        picks = months + [rng.choice(months) for _ in range(IDENTITY_DOCS_PER_YEAR - len(months))]
        for month in sorted(picks):
            first = date(year, month, 1)
            weekdays = [day for day in days(first, min(month_end(first), build.as_of)) if day.weekday() < 5]
            chosen.append(rng.choice(weekdays))
    return sorted(chosen)


def synthetic_identity_docs(build: Build, taken: set[str]) -> list[dict[str, Any]]:
    """Seeded documents from plausible templates, with FR-like numbers that avoid the real ones."""
    rng = seeded("regulatory", "digital identity")
    docs = []
    for day in identity_doc_days(build, rng):
        title, doc_type, agency, slug = rng.choice(IDENTITY_TEMPLATES)
        # FR numbers rise through the year at roughly a hundred documents a day
        serial = day.timetuple().tm_yday * 100 + rng.randrange(100)
        while (number := f"{day.year}-{serial:05d}") in taken:
            serial += 1
        taken.add(number)
        url = FR_DOC_URL.format(y=day.year, m=day.month, dd=day.day, number=number, slug=fr_slug(title))
        agencies = [
            {
                "name": agency,
                "raw_name": agency.upper(),
                "slug": slug,
                "url": f"{SITE}/agencies/{slug}",
            }
        ]
        docs.append(fr_document(number, day, title, doc_type, agencies, url))
    return docs


def build_fr_identity(build: Build, term: str) -> Series:
    """Record synthetic documents for a term with no real data."""
    real_numbers = {
        r["document_number"] for r in read_csv(build.real / "regulatory" / "federal_register_ai.csv")
    }
    docs = synthetic_identity_docs(build, set(real_numbers))
    rel = write_exchange(
        build,
        f"responses/regulatory/{term.replace(' ', '_')}.json.gz",
        DOCUMENTS_URL,
        fr_request_params(term),
        fr_body(docs),
    )
    note = (
        f"Synthetic: no real Federal Register data for this term was found. {len(docs)} seeded documents,"
        f" {IDENTITY_DOCS_PER_YEAR} per calendar year (at least one a month), titles/types/agencies from"
        " plausible templates, numbers YYYY-NNNNN chosen to avoid the real AI document numbers; they do not"
        " refer to real documents. Equal yearly totals: no year-over-year change is built in."
    )
    return Series(
        source="regulatory",
        key=term,
        dataset="documents",
        file=rel,
        provenance="synthetic",
        origin="synthetic (seed 'regulatory:digital identity')",
        note=note,
    )


def build_regulatory(build: Build) -> list[Series]:
    """Every registered Federal Register search term."""
    builders: dict[str, Callable[[Build, str], Series]] = {
        "artificial intelligence": build_fr_ai,
        "digital identity": build_fr_identity,
    }
    series = []
    for term in build.signals["regulatory"]:
        if term not in builders:
            raise SystemExit(f"no data recipe for regulatory term {term!r}")
        series.append(builders[term](build, term))
    return series


# ------------------------------------------------------------------------------------------------- news


@dataclass(frozen=True)
class Phrase:
    """How a synthetic monthly story count is shaped: a level over time and real-event spikes."""

    levels: list[tuple[Any, ...]]  # (month, stories per month), interpolated
    spikes: list[tuple[Any, ...]] = field(default_factory=list)  # (month, extra stories)
    why: str = ""


def phrases(real: Path) -> dict[str, Phrase]:
    """Shapes for the registered phrases; spikes sit in the months of real, dated events."""
    act = [(d(r["date"]).replace(day=1), 12.0) for r in read_csv(real / "regulatory" / "eu_ai_act_milestones.csv")]
    big = {d("2023-12-01"): 30.0, d("2024-03-01"): 35.0, d("2024-08-01"): 20.0}
    return {
        "AI Act": Phrase(dated("2022-01-01 3, 2023-04-01 10, 2024-12-01 18, 2025-12-31 16"),
                         [(m, big.get(m, extra)) for m, extra in act],
                         "EU AI Act milestones of eu_ai_act_milestones.csv as spikes"),
        "AI regulation": Phrase(dated("2022-01-01 4, 2023-03-01 14, 2023-06-01 25, 2024-12-01 22, 2025-12-31 24"),
                                dated("2023-05-01 20, 2023-11-01 15"),
                                "interest after ChatGPT; the May 2023 Senate hearing, the Nov 2023 Bletchley summit"),
        "AI executive order": Phrase(dated("2022-01-01 0.3, 2025-12-31 1.5"),
                                     dated("2023-10-01 25, 2023-11-01 12, 2025-01-01 20, 2025-02-01 6"),
                                     "US EO 14110 (signed 2023-10-30) and EO 14179 (January 2025)"),
        "digital identity": Phrase(dated("2022-01-01 4, 2025-12-31 4"), why="flat niche topic"),
    }


def poisson(rng: random.Random, mean: float) -> int:
    """A seeded Poisson draw (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def build_phrase(build: Build, phrase: str, shape: Phrase) -> Series:
    """Record one synthetic monthly story series: one exchange per month, as the source asks."""
    rng = seeded("news", phrase)
    files = []
    for month in news_months(build.start, build.as_of):
        level = interpolate(shape.levels, month) + sum(extra for when, extra in shape.spikes if when == month)
        params = search_params(phrase, month)
        files.append(write_exchange(
            build, f"responses/news/{phrase.replace(' ', '_')}/{month:%Y-%m}.json.gz", SEARCH_URL, params,
            news_count_body(params, poisson(rng, level))))
    note = (
        f"Synthetic: no real monthly Hacker News counts were found (PROVENANCE_regulatory_stars_addendum.md)."
        f" Seeded Poisson counts per month around an interpolated level, with spikes in the months of real events"
        f" ({shape.why}). One recording per month ({len(files)})."
    )
    return Series(source="news", key=phrase, dataset="stories", file=files[0], provenance="synthetic",
                  origin=f"synthetic (seed 'news:{phrase}')", note=note)


def build_news(build: Build) -> list[Series]:
    """Every registered news phrase."""
    shapes = phrases(build.real)
    missing = [p for p in build.signals.get("news", []) if p not in shapes]
    if missing:
        raise SystemExit(f"no shape for news phrase(s) {missing}")
    return [build_phrase(build, phrase, shapes[phrase]) for phrase in build.signals.get("news", [])]


# --------------------------------------------------------------------------------------- manifest, main

DESCRIPTION = (
    "Bundled replay snapshot of AI Pulse as of {as_of}: recorded Yahoo chart, Wikimedia pageview (daily and"
    " monthly), GitHub repository and star-history, Federal Register and Hacker News search responses for every"
    " registered signal. Real data, copied from files committed to public GitHub repositories (cited per series"
    " under 'origin'; the inputs and their PROVENANCE*.md are in ingestion/snapshots/builder/real): daily prices"
    " and dividends of 21 stocks and of the QQQ benchmark (adjclose computed from the real closes and dividends"
    " where the source had none), ChatGPT's monthly Wikipedia pageviews (and the few real days that could be had),"
    " GitHub star counts (each repo's stargazers_count), and Federal Register documents mentioning artificial"
    " intelligence in title or summary (a lower bound, with coverage gaps). Derived from real data: GitHub's star"
    " history, rebuilt from the real dated star counts (method in each series' note). Synthetic, from fixed"
    " seeds: the Wikipedia pageviews of every article but ChatGPT (no real pageviews were found), GitHub counts"
    " other than stars (and all of sodadata/soda-core), the 'digital identity' Federal Register documents and"
    " every Hacker News story count. GPT_Store is recorded as a 404. Gaps list date ranges without observations"
    " (stocks: missing sessions; stars: more than 14 days without a count; Federal Register: missing or partial"
    " source months; pageviews: before the article existed or before the real series begins). Rebuild with"
    " `uv run python -m ingestion.snapshots.builder.build_bundled`."
)

README = """# Bundled replay snapshot

The snapshot `make run` uses by default: recorded API responses (docs/SNAPSHOTS.md) for every signal in
`registry.yml`, as of {as_of}, so the whole pipeline runs offline and gives the same result every time.

- `manifest.json`: `as_of`, a description, and one entry per series with its `provenance`
  (`real`, `derived`, `partly_synthetic`, `synthetic` or `missing`), the cited `origin`, a `note` on what was
  done, and `gaps` (date ranges with no observations). **Read it before trusting a number**: stock and QQQ
  prices, star counts, ChatGPT's monthly pageviews and the "artificial intelligence" Federal Register documents
  are real; GitHub's daily star history is derived from the real star counts; the other Wikipedia pageviews,
  GitHub counts other than stars, the "digital identity" documents and the Hacker News counts are synthetic.
- `responses/<source>/**/*.json.gz`: one recorded exchange per file (gzip JSON). Most hold the whole history and
  the pipeline keeps only the dates it asks for; paged and monthly APIs have one file per page or month.

Rebuild (deterministic, byte-identical output) from the project root:

```
uv run python -m ingestion.snapshots.builder.build_bundled
```

The real inputs it reads, with their provenance (`PROVENANCE*.md`), are in `ingestion/snapshots/builder/real/`.
"""


def load_signals(registry: Path) -> tuple[date, dict[str, list[str]]]:
    """The history start date and the registered keys per source."""
    data = yaml.safe_load(registry.read_text(encoding="utf-8"))
    start = data["start_date"]
    start = start if isinstance(start, date) else d(str(start))
    return start, {source: [s["key"] for s in entries] for source, entries in data["signals"].items()}


def write_manifest(build: Build, series: list[Series]) -> None:
    """manifest.json and the snapshot README."""
    build.writer.write_manifest(build.as_of, DESCRIPTION.format(as_of=iso(build.as_of)), [asdict(s) for s in series])
    (build.out / "README.md").write_text(README.format(as_of=iso(build.as_of)), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Rebuild the snapshot directory from scratch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL, help="real data folder (default: real/ beside this file)")
    parser.add_argument("--out", type=Path, default=BUNDLED, help="snapshot folder (default: the bundled snapshot)")
    parser.add_argument("--registry", type=Path, default=REGISTRY, help="signal registry (registry.yml)")
    args = parser.parse_args(argv)
    start, signals = load_signals(args.registry)
    build = Build(args.real, args.out, start, AS_OF, signals)
    # stale recordings of signals since removed from the registry must not survive a rebuild
    shutil.rmtree(build.out / "responses", ignore_errors=True)
    build.out.mkdir(parents=True, exist_ok=True)
    series = (build_stocks(build) + build_trends(build) + build_github(build) + build_regulatory(build)
              + build_news(build))
    write_manifest(build, series)
    files = sorted(p for p in build.out.rglob("*") if p.is_file())
    print(f"wrote {len(files)} files, {sum(p.stat().st_size for p in files):,} bytes, to {build.out}")


if __name__ == "__main__":
    main()
