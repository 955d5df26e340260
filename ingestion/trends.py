"""Topic interest: Wikipedia pageviews per registered article, daily → `raw_trends.interest` and per calendar month
→ `raw_trends.interest_monthly` (the same per-article endpoint at monthly granularity: one row per complete month,
asked once the month is over, so a nightly run asks it only on the first night of a month).

Rows carry a `source` column (`wikipedia_pageviews`) so another interest backend could load beside it. Google Trends
is not one: no maintained official client exists on PyPI (pytrends is archived; its successors scrape unofficial
endpoints outside the one HTTP layer, so they could not be replayed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import dlt

from ingestion.common import (
    FAILED,
    NO_DATA,
    OK,
    UNCHANGED,
    Fetched,
    Table,
    Window,
    fetch_each,
    fetch_signals,
    require_fields,
    table_resources,
    unexpected_shape,
)
from ingestion.http import HttpClient, SourceError, json_body

SOURCE = "trends"
DATASET, MONTHLY_DATASET = "pageviews", "pageviews_monthly"
BACKEND = "wikipedia_pageviews"
# Wikimedia's per-article pageviews (https://doc.wikimedia.org/generated-data-platform/aqs/analytics-api/): start and
# end are YYYYMMDD plus an ignored hour; monthly items are stamped YYYYMM0100, and months without views are left out.
# ARTICLE_URL is one article's series at one granularity; the date range follows it as two more path segments.
ARTICLE_URL = ("https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article/en.wikipedia.org/all-access/user/"
               "{article}/{granularity}")
PAGEVIEWS_URL = ARTICLE_URL + "/{start}00/{end}00"
FIX_ARTICLE = ("check the article title in registry.yml (signals.trends) on en.wikipedia.org; a renamed article "
               "needs its current title")
ITEM_FIELDS = ("timestamp", "views")
ITEM_KNOWN = ("project", "article", "granularity", "access", "agent")

INTEREST_COLUMNS: dict[str, Any] = {
    "source": {"data_type": "text", "nullable": False},
    "term": {"data_type": "text", "nullable": False},
    "observed_date": {"data_type": "date", "nullable": False},
    "value": {"data_type": "double"},
}
MONTHLY_COLUMNS: dict[str, Any] = {
    "source": {"data_type": "text", "nullable": False},
    "term": {"data_type": "text", "nullable": False},
    "period": {"data_type": "date", "nullable": False},
    "views": {"data_type": "double"},
}


@dataclass(frozen=True)
class Granularity:
    """How one request's items become rows: the URL segment, the table, its date column and the row's value."""

    name: str
    table: str
    date_column: str
    value_column: str


DAILY = Granularity("daily", "interest", "observed_date", "value")
MONTHLY = Granularity("monthly", "interest_monthly", "period", "views")


def pageviews_url(article: str, window: Window, granularity: Granularity = DAILY) -> str:
    """The per-article URL; the title is percent-encoded whole (slashes and parentheses included)."""
    return PAGEVIEWS_URL.format(article=quote(article, safe=""), granularity=granularity.name,
                                start=window.start.strftime("%Y%m%d"), end=window.end.strftime("%Y%m%d"))


def parse_pageviews(article: str, body: Any, window: Window, granularity: Granularity = DAILY) -> Fetched:
    """One row per day (or month) inside the window, dated by the UTC date of Wikimedia's `YYYYMMDD00` timestamp
    (a month's first day for monthly items)."""
    notes = [require_fields(body, ("items",), source=SOURCE, signal=article, where="the body", known=())]
    rows = []
    for index, item in enumerate(body["items"]):
        note = require_fields(item, ITEM_FIELDS, source=SOURCE, signal=article, where=f"items[{index}]",
                              known=ITEM_KNOWN)
        if note and note not in notes:
            notes.append(note)
        day = dt.datetime.strptime(str(item["timestamp"])[:8], "%Y%m%d").date()
        if day not in window:
            continue
        views = item["views"]
        if views is not None and not isinstance(views, int | float):
            raise SourceError(SOURCE, article, f"items[{index}].views is {views!r}, not a number",
                              "the API format changed; update ingestion/trends.py")
        rows.append({"source": BACKEND, "term": article, granularity.date_column: day,
                     granularity.value_column: None if views is None else float(views)})
    status, detail = (OK, "") if rows else (NO_DATA, f"no {granularity.name} pageviews between {window.start} and "
                                                     f"{window.end}")
    fetched = Fetched(SOURCE, article, window, status, detail, tables={granularity.table: rows})
    return fetched.note(*notes)


def fetch_pageviews(client: HttpClient, article: str, window: Window, granularity: Granularity = DAILY) -> Fetched:
    """One request per article for its whole window. Wikimedia answers 404 when it has no data for the article
    and range (a missing or renamed article): that is `no_data` with the reason, not a failure."""
    reply = client.get(pageviews_url(article, window, granularity), source=SOURCE, signal=article)
    if reply.status == 404:
        try:
            reason = str(reply.json().get("title") or "Not found.")
        except (ValueError, AttributeError):
            reason = "Not found."
        return Fetched(SOURCE, article, window, NO_DATA,
                       f"Wikimedia 404 {reason!r}: no pageviews between {window.start} and {window.end}", FIX_ARTICLE)
    body = json_body(reply, source=SOURCE, signal=article)
    if reply.status != 200:
        reason = body.get("detail") or body.get("title") if isinstance(body, dict) else None
        return Fetched(SOURCE, article, window, FAILED,
                       f"Wikimedia HTTP {reply.status}: {reason or 'no reason given'}", FIX_ARTICLE)
    with unexpected_shape(SOURCE, article):
        return parse_pageviews(article, body, window, granularity)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def complete_months(start_date: dt.date, today: dt.date, loaded_through: str | None) -> Window | None:
    """The months to ask for: after the last month loaded (or from the start date's month) up to the last month
    that ended before today; None when no month has ended since the last load (nothing is asked)."""
    first = month_start(start_date) if loaded_through is None else (
        dt.date.fromisoformat(loaded_through) + dt.timedelta(days=32)).replace(day=1)
    last_end = month_start(today) - dt.timedelta(days=1)
    return Window(first, last_end) if first <= last_end else None


def fetch_monthly(client: HttpClient, article: str, start_date: dt.date, today: dt.date,
                  cursors: dict[str, str]) -> Fetched:
    """The complete months an article's monthly totals still lack; months without views are absent in Wikimedia's
    answer, so a month is loaded once it has ended, and never asked again."""
    months = complete_months(start_date, today, cursors.get(article))
    if months is None:
        return Fetched(SOURCE, article, Window(today, today), UNCHANGED)
    fetched = fetch_pageviews(client, article, months, MONTHLY)
    if fetched.status in (OK, NO_DATA):
        # A complete month's total is final (a 404 too: no views then), so these months are never asked again.
        cursors[article] = months.end.replace(day=1).isoformat()
    return fetched


@dlt.source(name=SOURCE, max_table_nesting=0)
def trends_source(
    articles: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Daily interest per registered article, merged on (source, term, observed_date)."""

    @dlt.resource(name="pageview_fetches", selected=False)
    def pageview_fetches() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("trends_source needs a client and today's date to run")
        yield from fetch_each(SOURCE, articles, lambda a, w: fetch_pageviews(client, a, w), start_date, today,
                              lookback_days, "interest", "observed_date", DATASET)
        cursors = dlt.current.source_state().setdefault("cursors", {}).setdefault(MONTHLY_DATASET, {})
        yield from fetch_signals(SOURCE, MONTHLY_DATASET, articles,
                                 lambda a: fetch_monthly(client, a, start_date, today, cursors), lambda _: None,
                                 "interest_monthly", today)

    return table_resources(pageview_fetches, [
        Table("interest", ("source", "term", "observed_date"), INTEREST_COLUMNS,
              "Daily interest per term: Wikipedia user pageviews of the article (all access methods)."),
        Table("interest_monthly", ("source", "term", "period"), MONTHLY_COLUMNS,
              "Pageviews per term and complete calendar month (Wikimedia's monthly granularity)."),
    ], "The last fetch outcome per article and granularity: ok, no_data (e.g. a 404) or failed, with the problem "
       "and the fix.")
