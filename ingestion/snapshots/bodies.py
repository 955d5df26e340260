"""Requests and response bodies in the shape each API answers, for snapshots written without calling the API: the
bundled snapshot's builder, the tests and the benchmark all build their recordings from these. Every URL comes
from the source module that asks it, so a recording answers exactly what the source requests.

The bodies hold what a source reads plus a few fields it ignores; a caller adds the rest of an API's object
(the bundled builder's listing details and seeded counts) through the keyword arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from ingestion.github import HISTORY_URL, REPO_URL, WEEKS_PER_PAGE
from ingestion.regulatory import SITE
from ingestion.trends import ARTICLE_URL

DAY = dt.timedelta(days=1)
NEW_YORK = ZoneInfo("America/New_York")
# What an article may keep unencoded in its path segment (RFC 3986 `pchar`, less `*`, which replay reads as a
# wildcard). Replay compares segments decoded, so a recording names an article as readably as its URL allows.
SEGMENT_SAFE = "!$&'()+,;=:@"


# ----------------------------------------------------------------------------------------------- stocks


class DailyBar(Protocol):
    """One trading day of a Yahoo chart; None is a JSON null (a session Yahoo has no price for)."""

    day: dt.date
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: int | None


def market_open(day: dt.date) -> int:
    """Unix seconds of 09:30 New York time on `day`, the timestamp Yahoo gives daily bars."""
    return int(dt.datetime.combine(day, dt.time(9, 30), NEW_YORK).timestamp())


def chart_body(symbol: str, bars: Sequence[DailyBar], *, adjclose: Sequence[float | None] | None = None,
               dividends: Mapping[dt.date, float] | None = None, splits: Iterable[tuple[dt.date, int, int]] = (),
               meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Yahoo v8 chart body for `bars`: adjclose defaults to the close, dividends are cash per share by ex-date,
    splits (first post-split session, numerator, denominator); `meta` adds to the exchange time zone the source
    needs to date the bars."""
    quote_columns = {name: [getattr(b, name) for b in bars] for name in ("open", "high", "low", "close", "volume")}
    events: dict[str, Any] = {}
    if dividends:
        events["dividends"] = {str(market_open(day)): {"amount": amount, "date": market_open(day)}
                               for day, amount in sorted(dividends.items())}
    if split_events := {str(market_open(day)): {"date": market_open(day), "numerator": n, "denominator": m,
                                                "splitRatio": f"{n}:{m}"} for day, n, m in splits}:
        events["splits"] = split_events
    result = {
        "meta": {"symbol": symbol, "exchangeTimezoneName": "America/New_York", "gmtoffset": -18000, **(meta or {})},
        "timestamp": [market_open(b.day) for b in bars],
        "events": events,
        "indicators": {"quote": [quote_columns],
                       "adjclose": [{"adjclose": list(adjclose if adjclose is not None else quote_columns["close"])}]},
    }
    return {"chart": {"result": [result], "error": None}}


# ----------------------------------------------------------------------------------------------- trends


def pageviews_url_any_range(article: str, granularity: str = "daily") -> str:
    """The source's per-article URL with both date segments `*`: one recording answers every date range asked."""
    return ARTICLE_URL.format(article=quote(article, safe=SEGMENT_SAFE), granularity=granularity) + "/*/*"


def pageviews_body(article: str, views: Mapping[dt.date, int], granularity: str = "daily") -> dict[str, Any]:
    """Wikimedia's per-article items for views per day (or per month, dated by its first day), oldest first."""
    return {"items": [{"project": "en.wikipedia", "article": article, "granularity": granularity,
                       "timestamp": f"{day:%Y%m%d}00", "access": "all-access", "agent": "user", "views": count}
                      for day, count in sorted(views.items())]}


def pageviews_not_found(article: str, granularity: str, first: dt.date, last: dt.date) -> dict[str, Any]:
    """The 404 Wikimedia answers for an article it has no pageviews of (a missing or renamed title)."""
    return {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found", "title": "Not found.", "method": "get",
            "detail": "The date(s) you used are valid, but we either do not have data for those date(s), or the "
                      "project you asked for is not loaded yet. Please check documentation for more information.",
            "uri": f"/analytics.wikimedia.org/v1/pageviews/per-article/en.wikipedia/all-access/user/{article}"
                   f"/{granularity}/{first:%Y%m%d}00/{last:%Y%m%d}00"}


# ----------------------------------------------------------------------------------------------- github


def repo_body(full_name: str, stars: int, *, forks: int = 10, open_issues: int = 3, subscribers: int = 7,
              pushed_at: str = "2024-12-30T10:00:00Z", repo_id: int = 1, **more: Any) -> dict[str, Any]:
    """GitHub's repository object: the counts the source reads, the fields that mirror them, a few it ignores, and
    `more` (e.g. created_at, updated_at, default_branch)."""
    owner, name = full_name.split("/")
    return {"id": repo_id, "name": name, "full_name": full_name, "owner": {"login": owner, "type": "Organization"},
            "private": False, "html_url": f"https://github.com/{full_name}", "url": REPO_URL.format(repo=full_name),
            "fork": False, "stargazers_count": stars, "watchers_count": stars, "watchers": stars,
            "forks_count": forks, "forks": forks, "open_issues_count": open_issues, "open_issues": open_issues,
            "subscribers_count": subscribers, "network_count": forks, "pushed_at": pushed_at, "archived": False,
            "disabled": False, "visibility": "public", **more}


def week_start(day: dt.date) -> dt.date:
    """The Sunday that starts `day`'s week (GitHub's star-history weeks start on Sunday)."""
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def unix_midnight(day: dt.date) -> int:
    """Unix seconds of 00:00 UTC on `day`."""
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def stars_added(counts: dict[dt.date, int], today: dt.date, stars_today: int) -> dict[dt.date, int]:
    """Stars made per day from dated star counts (end of day) and today's count: each rise is put on the day it
    was observed, so the counts rebuilt from the history equal the observed ones on every observed day. A fall
    (stars taken back) adds nothing."""
    added: dict[dt.date, int] = {}
    dated = sorted({**counts, today: stars_today}.items())
    for (_, before), (day, after) in zip(dated, dated[1:], strict=False):
        if after > before:
            added[day] = after - before
    return added


def star_history_weeks(added: dict[dt.date, int], first_day: dt.date, today: dt.date) -> list[dict[str, Any]]:
    """GitHub's weekly star-history buckets from the week of `first_day` to the week of `today`, newest first;
    days after today count nothing yet."""
    weeks = []
    start = week_start(today)
    while start >= week_start(first_day):
        days = [added.get(start + n * DAY, 0) for n in range(7)]
        weeks.append({"week": unix_midnight(start), "total": sum(days), "days": days})
        start -= 7 * DAY
    return weeks


def star_history_pages(repo: str, weeks: list[dict[str, Any]]) -> list[tuple[dict[str, str], dict[str, str], list]]:
    """The weeks as GitHub pages them: (request params, response headers, body) per page, 30 weeks a page, each
    page but the last with a `Link` to the next."""
    pages = []
    chunks = [weeks[i:i + WEEKS_PER_PAGE] for i in range(0, len(weeks), WEEKS_PER_PAGE)] or [[]]
    url = HISTORY_URL.format(repo=repo)
    for number, chunk in enumerate(chunks, start=1):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if number < len(chunks):
            headers["Link"] = (f'<{url}?per_page={WEEKS_PER_PAGE}&page={number + 1}>; rel="next", '
                               f'<{url}?per_page={WEEKS_PER_PAGE}&page={len(chunks)}>; rel="last"')
        pages.append(({"per_page": str(WEEKS_PER_PAGE), "page": str(number)}, headers, chunk))
    return pages


# ------------------------------------------------------------------------------------------- regulatory

def fr_document(number: str, day: dt.date, title: str = "A notice", doc_type: str | None = "Notice",
                agencies: list[dict[str, str]] | None = None, html_url: str | None = None) -> dict[str, Any]:
    """One Federal Register search result (fields the source does not know are null); by default a Commerce
    Department notice linked by its short URL."""
    commerce = [{"name": "Commerce Department", "raw_name": "DEPARTMENT OF COMMERCE"}]
    return {"document_number": number, "title": title, "type": doc_type, "abstract": None,
            "publication_date": day.isoformat(), "html_url": html_url or f"{SITE}/d/{number}", "pdf_url": None,
            "agencies": commerce if agencies is None else agencies, "excerpts": None}


def fr_body(documents: list[dict[str, Any]], next_page_url: str | None = None) -> dict[str, Any]:
    """A documents.json page holding `documents` oldest first (the source asks `order=oldest`); a following page
    is named by `next_page_url`. A document lacking a field (a test of a broken answer) sorts first."""
    ordered = sorted(documents, key=lambda doc: (str(doc.get("publication_date", "")),
                                                 str(doc.get("document_number", ""))))
    body: dict[str, Any] = {"count": len(ordered), "total_pages": 1, "results": ordered}
    if next_page_url:
        body["next_page_url"] = next_page_url
    return body


# ------------------------------------------------------------------------------------------------- news


def news_count_body(params: dict[str, str], stories: int, exhaustive: bool = True) -> dict[str, Any]:
    """Hacker News search's answer to a count-only request (`hitsPerPage=0`) with `params`: the count, no hits;
    `exhaustive=False` marks the count as Algolia's estimate."""
    return {"hits": [], "nbHits": stories, "page": 0, "nbPages": 0, "hitsPerPage": 0, "exhaustiveNbHits": exhaustive,
            "exhaustiveTypo": True, "exhaustive": {"nbHits": exhaustive, "typo": True}, "query": params["query"],
            "params": urlencode(params), "processingTimeMS": 1}
