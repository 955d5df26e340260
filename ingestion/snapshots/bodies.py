"""Response bodies in the shape each API answers, for snapshots written without calling the API: the bundled
snapshot's builder, the tests and the benchmark all build their recordings from these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ingestion.github import HISTORY_URL, WEEKS_PER_PAGE

DAY = dt.timedelta(days=1)


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
