"""News volume: how many Hacker News stories a month match each registered phrase → `raw_news.volume`.

Hacker News Search (https://hn.algolia.com/api, by Algolia): `GET /api/v1/search_by_date` with `query` (the phrase
in double quotes, which Algolia's advanced syntax matches as an exact phrase), `tags=story`, `numericFilters` on
`created_at_i` (unix seconds, comma = AND) and `hitsPerPage=0`: the body's `nbHits` counts every match while no hit
is sent. Keyless, full history, 10,000 requests an hour per IP. `nbHits` is exact unless Algolia says otherwise
(`exhaustiveNbHits: false`, e.g. a slow query), which is kept with the count.

One request per phrase and month. A month is asked again only until it is complete: the first run fetches every
month from the start date, each later run the current month (and, on its first night, the month that just ended).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dlt

from ingestion.common import (
    Fetched,
    Table,
    Window,
    fetch_signals,
    require_fields,
    table_resources,
    unexpected_shape,
)
from ingestion.http import HttpClient, MissingRecording, SourceError

SOURCE = "news"
DATASET = "stories"
BACKEND = "hacker_news"
SEARCH_URL = "https://hn.algolia.com/api/v1/search_by_date"
FIX_QUERY = "check the phrase in registry.yml (signals.news)"
BODY_FIELDS = ("nbHits",)
BODY_KNOWN = ("hits", "query", "params", "page", "nbPages", "hitsPerPage", "processingTimeMS", "exhaustiveNbHits",
              "exhaustiveTypo", "exhaustive", "processingTimingsMS", "serverTimeMS")

VOLUME_COLUMNS: dict[str, Any] = {
    "source": {"data_type": "text", "nullable": False},
    "query": {"data_type": "text", "nullable": False},
    "period": {"data_type": "date", "nullable": False},
    "stories": {"data_type": "bigint", "nullable": False},
    "is_complete": {"data_type": "bool", "nullable": False},
    "exhaustive": {"data_type": "bool"},
}


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month starts from `first`'s month to `last`'s, inclusive."""
    found, month = [], first.replace(day=1)
    while month <= last:
        found.append(month)
        month = next_month(month)
    return found


def unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def search_params(phrase: str, month: dt.date) -> dict[str, str]:
    """Stories matching the exact phrase created in one UTC calendar month, counted, not listed."""
    return {"query": f'"{phrase}"', "tags": "story",
            "numericFilters": f"created_at_i>={unix(month)},created_at_i<{unix(next_month(month))}",
            "hitsPerPage": "0"}


def fetch_month(client: HttpClient, phrase: str, month: dt.date, today: dt.date) -> dict[str, Any]:
    """One month's count; a month counts as complete once it ended before today (it is then never asked again)."""
    label = f"{month:%Y-%m}"
    reply, body = client.get_json(SEARCH_URL, source=SOURCE, signal=phrase, params=search_params(phrase, month))
    if reply.status != 200:
        message = body.get("message") if isinstance(body, dict) else None
        raise SourceError(SOURCE, phrase, f"Hacker News search HTTP {reply.status} for {label}: "
                                          f"{message or 'no message'}", FIX_QUERY)
    with unexpected_shape(SOURCE, phrase):
        require_fields(body, BODY_FIELDS, source=SOURCE, signal=phrase, where=f"the body for {label}", known=())
        count = body["nbHits"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise SourceError(SOURCE, phrase, f"nbHits for {label} is {count!r}, not a count",
                              "the API format changed; update ingestion/news.py")
        exhaustive = body.get("exhaustiveNbHits")
        return {"source": BACKEND, "query": phrase, "period": month, "stories": count,
                "is_complete": next_month(month) <= today,
                "exhaustive": exhaustive if isinstance(exhaustive, bool) else None}


def fetch_volume(client: HttpClient, phrase: str, start_date: dt.date, today: dt.date,
                 cursors: dict[str, str]) -> Fetched:
    """Every month of a phrase not yet complete in the warehouse: from the month after the last complete one
    loaded (or the start date's month) to today's month."""
    done = cursors.get(phrase)
    first = next_month(dt.date.fromisoformat(done)) if done else start_date.replace(day=1)
    rows, unrecorded = [], []
    for month in months(first, today):
        try:
            rows.append(fetch_month(client, phrase, month, today))
        except MissingRecording as exc:
            unrecorded.append((month, exc))
    if unrecorded and not rows:
        raise unrecorded[0][1]  # the snapshot holds nothing for this phrase: no data
    # A month only counts as done when every month before it was counted too, so a gap is asked again.
    complete = [row["period"] for row in rows if row["is_complete"]
                and all(month > row["period"] for month, _ in unrecorded)]
    if complete:
        cursors[phrase] = max(complete).isoformat()
    fetched = Fetched(SOURCE, phrase, Window(first, today), tables={"volume": rows})
    if unrecorded:
        fetched.note(f"the snapshot holds no recording for {len(unrecorded)} of {len(unrecorded) + len(rows)} "
                     f"months ({', '.join(f'{m:%Y-%m}' for m, _ in unrecorded[:6])}"
                     f"{', …' if len(unrecorded) > 6 else ''}); those months are missing")
    return fetched


@dlt.source(name=SOURCE, max_table_nesting=0)
def news_source(
    phrases: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Monthly story counts for every registered phrase, merged on (source, query, period)."""

    @dlt.resource(name="story_counts", selected=False)
    def story_counts() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("news_source needs a client and today's date to run")
        # Complete months per phrase, in dlt's source state: committed with the load, so a failed load re-asks them.
        cursors = dlt.current.source_state().setdefault("cursors", {}).setdefault(DATASET, {})
        yield from fetch_signals(SOURCE, DATASET, phrases,
                                 lambda p: fetch_volume(client, p, start_date, today, cursors), lambda _: None,
                                 "volume", today)

    return table_resources(story_counts, [
        Table("volume", ("source", "query", "period"), VOLUME_COLUMNS,
              "Stories per phrase and calendar month on Hacker News (Algolia's nbHits), with whether the month is "
              "over."),
    ], "The last fetch outcome per phrase: ok, no_data or failed, with the problem and the fix.")
