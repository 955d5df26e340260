"""Small snapshots in the contract's format, stated in a few readable lines: the tests' inputs, and the benchmark's
synthetic scale snapshot and its bundled snapshot moved on by a day.

A tool for this repository beside the bundled snapshot's builder (both are left out of the wheel): it writes
through the snapshot's one writer (ingestion/snapshot.py) and builds its bodies from ingestion/snapshots/bodies.py.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.github import HISTORY_URL, REPO_URL, WEEKS_PER_PAGE
from ingestion.news import search_params
from ingestion.regulatory import DOCUMENTS_URL
from ingestion.settings import BUNDLED_SNAPSHOT
from ingestion.snapshot import SnapshotWriter, load_manifest
from ingestion.snapshots import bodies
from ingestion.stocks import CHART_URL

DERIVED = object()  # "work it out from the close"


@dataclass
class Bar:
    """One trading day; `close` alone is enough, open/high/low default around it (None means a JSON null)."""

    day: dt.date
    close: float | None
    open: Any = DERIVED
    high: Any = DERIVED
    low: Any = DERIVED
    volume: int | None = 1000

    def __post_init__(self) -> None:
        for name, factor in (("open", 1.0), ("high", 1.01), ("low", 0.99)):
            if getattr(self, name) is DERIVED:
                setattr(self, name, None if self.close is None else round(self.close * factor, 6))


@dataclass
class SnapshotBuilder:
    """Writes manifest.json and response files under `root`, one call per signal or exchange."""

    root: Path
    as_of: dt.date
    series: list[dict[str, Any]] = field(default_factory=list)
    writer: SnapshotWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = SnapshotWriter(self.root)

    def exchange(self, url: str, *, params: dict[str, str] | None = None, status: int = 200, body: Any = None,
                 text: str | None = None, headers: dict[str, str] | None = None, order: int | None = None,
                 name: str | None = None) -> Path:
        """Record one exchange as `responses/<name>.json` (numbered when unnamed); returns the file written."""
        name = name or f"exchange_{self.writer.count + 1:03d}"
        return self.writer.add(url, params=params, status=status, body=body, text=text, headers=headers,
                               order=order, name=f"{name}.json")

    def stock(self, ticker: str, bars: list[Bar], splits: list[tuple[dt.date, int, int]] = (),
              provenance: str = "real") -> Path:
        """Record a chart response that answers any date range for `ticker`."""
        self.series.append({"source": "stocks", "key": ticker, "provenance": provenance})
        return self.exchange(CHART_URL.format(symbol=ticker), params={"interval": "1d"},
                             body=bodies.chart_body(ticker, bars, splits=splits), name=f"stocks/{ticker}")

    def pageviews(self, article: str, views: dict[dt.date, int], provenance: str = "real") -> Path:
        """Record Wikimedia's daily pageviews of `article`, answering any date range (the source keeps its window)."""
        self.series.append({"source": "trends", "key": article, "dataset": "pageviews", "provenance": provenance})
        return self.exchange(bodies.pageviews_url_any_range(article), body=bodies.pageviews_body(article, views),
                             name=f"trends/{file_name(article)}")

    def missing_article(self, article: str) -> Path:
        """Record Wikimedia's 404 for an article it has no pageviews of (e.g. a renamed or missing title)."""
        self.series.append({"source": "trends", "key": article, "dataset": "pageviews", "provenance": "missing"})
        return self.exchange(bodies.pageviews_url_any_range(article), status=404,
                             body=bodies.pageviews_not_found(article, "daily", self.as_of, self.as_of),
                             name=f"trends/{file_name(article)}")

    def repo(self, repo: str, stars_today: int, history: dict[dt.date, int] | None = None,
             provenance: str = "real") -> None:
        """Record GitHub's repository object for `repo` (its stars today) and its star history, paged as GitHub
        pages it, made from dated star counts `history` (each rise on the day it was observed, see
        ingestion/snapshots/bodies.py); without `history` the history answers 404 (the repo then has only today's
        observation)."""
        self.series.append({"source": "github", "key": repo, "dataset": "repo", "provenance": provenance})
        self.exchange(REPO_URL.format(repo=repo), body=bodies.repo_body(repo, stars_today),
                      name=f"github/{file_name(repo)}")
        if history is None:
            self.exchange(HISTORY_URL.format(repo=repo), status=404, body={"message": "Not Found"},
                          name=f"github_history/{file_name(repo)}")
            return
        self.series.append({"source": "github", "key": repo, "dataset": "star_history", "provenance": provenance})
        added = bodies.stars_added(history, self.as_of, stars_today)
        self.history_pages(repo, bodies.star_history_weeks(added, min(history), self.as_of))

    def history_pages(self, repo: str, weeks: list[dict[str, Any]], link: bool = True) -> list[Path]:
        """Record weekly star-history buckets (newest first) as GitHub's pages; `link=False` records them without
        headers, as a recorder that keeps none would (the source then pages by number)."""
        written = []
        for params, headers, body in bodies.star_history_pages(repo, weeks):
            written.append(self.exchange(HISTORY_URL.format(repo=repo), params=params, body=body,
                                         headers=headers if link else None,
                                         name=f"github_history/{file_name(repo)}_p{params['page']}"))
        return written

    def federal_register(self, term: str, documents: list[dict[str, Any]], provenance: str = "real") -> Path:
        """Record one Federal Register search holding all of `term`'s documents, matched by the term alone: it
        answers every month the source asks for, and the source keeps that month's documents."""
        self.series.append({"source": "regulatory", "key": term, "dataset": "documents", "provenance": provenance})
        return self.exchange(DOCUMENTS_URL, params={"conditions[term]": term}, body=bodies.fr_body(documents),
                             name=f"regulatory/{file_name(term)}")

    def write(self, description: str = "test snapshot") -> Path:
        """Write the manifest (as_of, `description`, the series recorded so far); returns the snapshot folder."""
        self.writer.write_manifest(self.as_of, description, self.series)
        return self.root


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Weekdays from start to end (holidays do not matter to these snapshots)."""
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def file_name(key: str) -> str:
    """A recording's file name for a signal key (slashes, spaces and brackets become underscores)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def extend_bundled(root: Path, as_of: dt.date) -> dict[str, int]:
    """A copy of the bundled snapshot that goes on to `as_of`: every series gains the days after the bundled as_of
    (pageviews daily, prices on weekdays, 10 stars the day before as_of in each repo's newest star-history page and
    its repository object, one new Federal Register document per term, each news phrase's new months), and GitHub's
    repo objects are answered again on the new today. Returns how many rows each core fact table should gain."""
    shutil.copytree(BUNDLED_SNAPSHOT, root)
    manifest = load_manifest(root)
    old = manifest.as_of
    new_days = [old + dt.timedelta(days=n) for n in range(1, (as_of - old).days + 1)]
    weekdays = [d for d in new_days if d.weekday() < 5]
    writer = SnapshotWriter(root)
    writer.write_manifest(as_of, manifest.description, list(manifest.series))
    gained = {"core.fct_stock_daily": 0, "core.fct_topic_interest": 0, "core.fct_repo_stars": 0,
              "core.fct_regulatory_docs": 0}
    responses = root / "responses"

    def more_views(doc: dict[str, Any]) -> None:
        items = doc["response"]["json"]["items"]
        items += [dict(items[-1], timestamp=f"{d:%Y%m%d}00", views=1000 + i) for i, d in enumerate(new_days)]

    def more_bars(doc: dict[str, Any]) -> None:
        result = doc["response"]["json"]["chart"]["result"][0]
        quote, adjclose = result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]["adjclose"]
        last = quote["close"][-1]
        for day in weekdays:
            result["timestamp"].append(bodies.market_open(day))
            for name in ("open", "high", "low", "close"):
                quote[name].append(last)
            quote["volume"].append(1000)
            adjclose.append(last)

    starred_day = as_of - dt.timedelta(days=1)
    starred_week = bodies.week_start(starred_day)

    def more_stars(doc: dict[str, Any]) -> None:
        weeks = doc["response"]["json"]
        while dt.datetime.fromtimestamp(weeks[0]["week"], dt.UTC).date() < bodies.week_start(as_of):
            weeks.insert(0, {"week": weeks[0]["week"] + 7 * 86400, "total": 0, "days": [0] * 7})
        weeks[:] = weeks[:WEEKS_PER_PAGE]
        week = next(w for w in weeks if dt.datetime.fromtimestamp(w["week"], dt.UTC).date() == starred_week)
        week["days"][(starred_day - starred_week).days] += 10
        week["total"] += 10

    def ten_more_stars(doc: dict[str, Any]) -> None:
        for name in ("stargazers_count", "watchers_count", "watchers"):
            doc["response"]["json"][name] += 10

    def next_month_counted(doc: dict[str, Any], month: dt.date) -> None:
        phrase = doc["request"]["params"]["query"].strip('"')
        doc["request"]["params"] = search_params(phrase, month)
        doc["response"]["json"].update(nbHits=3, query=f'"{phrase}"')

    def one_more_document(doc: dict[str, Any]) -> None:
        body = doc["response"]["json"]
        term = doc["request"]["params"]["conditions[term]"]
        body["results"].append(dict(body["results"][-1], publication_date=weekdays[0].isoformat(),
                                    document_number=f"2026-{len(term):05d}", title=f"New {term} notice"))
        body["count"] += 1

    for path in sorted((responses / "trends").iterdir()):
        if "GPT_Store" not in path.name:
            writer.edit(path, more_views)
            gained["core.fct_topic_interest"] += len(new_days)
    for path in sorted((responses / "stocks").iterdir()):
        writer.edit(path, more_bars)
        gained["core.fct_stock_daily"] += len(weekdays)
    for path in sorted((responses / "github").iterdir()):
        history = responses / "github_history" / path.name.removesuffix(".json.gz")
        if history.is_dir():
            writer.edit(history / "page_001.json.gz", more_stars)
            writer.edit(path, ten_more_stars)
            gained["core.fct_repo_stars"] += len(new_days)  # every new day, counted or rebuilt
        else:
            gained["core.fct_repo_stars"] += 1  # today's snapshot
    for folder in sorted((responses / "news").iterdir()):
        last = sorted(folder.iterdir())[-1]
        for month in sorted({d.replace(day=1) for d in new_days} - {old.replace(day=1)}):
            writer.edit(last, lambda doc, month=month: next_month_counted(doc, month),
                        to=folder / f"{month:%Y-%m}.json.gz")
    for path in sorted((responses / "regulatory").iterdir()):
        writer.edit(path, one_more_document)
        gained["core.fct_regulatory_docs"] += 1
    return gained
