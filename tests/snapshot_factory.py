"""Builds small snapshots in the contract's format, so tests state their inputs in a few readable lines."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ingestion.github import HISTORY_URL, WEEKS_PER_PAGE
from ingestion.news import search_params
from ingestion.snapshots.bodies import star_history_pages, star_history_weeks, stars_added, week_start

NEW_YORK = ZoneInfo("America/New_York")
CHART_URL = "https://query1.finance.yahoo.com/v8/finance/chart/{}"
DERIVED = object()  # "work it out from the close"


def market_open(day: dt.date) -> int:
    """Unix seconds of 09:30 New York time on `day`, as Yahoo stamps daily bars."""
    return int(dt.datetime.combine(day, dt.time(9, 30), NEW_YORK).timestamp())


@dataclass
class Bar:
    """One trading day; `close` alone is enough, open/high/low default around it (None means a JSON null)."""

    day: dt.date
    close: float | None
    open: Any = DERIVED
    high: Any = DERIVED
    low: Any = DERIVED
    volume: int | None = 1000

    def as_columns(self) -> dict[str, Any]:
        c = self.close

        def around(value: Any, factor: float) -> float | None:
            return value if value is not DERIVED else (None if c is None else round(c * factor, 6))

        return {"open": around(self.open, 1.0), "high": around(self.high, 1.01), "low": around(self.low, 0.99),
                "close": c, "volume": self.volume}


def chart_body(ticker: str, bars: list[Bar], splits: list[tuple[dt.date, int, int]] = ()) -> dict[str, Any]:
    """A Yahoo v8 chart body for `bars`."""
    columns = [b.as_columns() for b in bars]
    quote = {name: [c[name] for c in columns] for name in ("open", "high", "low", "close", "volume")}
    events = {"splits": {str(market_open(d)): {"date": market_open(d), "numerator": n, "denominator": m,
                                               "splitRatio": f"{n}:{m}"} for d, n, m in splits}}
    return {"chart": {"result": [{
        "meta": {"symbol": ticker, "exchangeTimezoneName": "America/New_York", "gmtoffset": -18000},
        "timestamp": [market_open(b.day) for b in bars],
        "events": events,
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": quote["close"]}]},
    }], "error": None}}


@dataclass
class SnapshotBuilder:
    """Writes manifest.json and response files under `root`."""

    root: Path
    as_of: dt.date
    series: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def exchange(self, url: str, *, params: dict[str, str] | None = None, status: int = 200, body: Any = None,
                 text: str | None = None, headers: dict[str, str] | None = None, order: int | None = None,
                 name: str | None = None) -> Path:
        """Record one exchange; returns the file written."""
        self.count += 1
        response: dict[str, Any] = {"status": status, "headers": headers or {"Content-Type": "application/json"}}
        if text is not None:
            response["text"] = text
        else:
            response["json"] = body
        doc: dict[str, Any] = {"request": {"method": "GET", "url": url, "params": params or {}},
                               "response": response}
        if order is not None:
            doc["order"] = order
        path = self.root / "responses" / f"{name or f'exchange_{self.count:03d}'}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    def stock(self, ticker: str, bars: list[Bar], splits: list[tuple[dt.date, int, int]] = (),
              provenance: str = "real") -> Path:
        """Record a chart response that answers any date range for `ticker`."""
        self.series.append({"source": "stocks", "key": ticker, "provenance": provenance})
        return self.exchange(CHART_URL.format(ticker), params={"interval": "1d"}, body=chart_body(ticker, bars, splits),
                             name=f"stocks/{ticker}")

    def pageviews(self, article: str, views: dict[dt.date, int], provenance: str = "real") -> Path:
        """Record Wikimedia's daily pageviews of `article`, answering any date range (the source keeps its window)."""
        self.series.append({"source": "trends", "key": article, "dataset": "pageviews", "provenance": provenance})
        return self.exchange(PAGEVIEWS_URL.format(quote(article, safe="")), body=pageviews_body(article, views),
                             name=f"trends/{file_name(article)}")

    def missing_article(self, article: str) -> Path:
        """Record Wikimedia's 404 for an article it has no pageviews of (e.g. a renamed or missing title)."""
        self.series.append({"source": "trends", "key": article, "dataset": "pageviews", "provenance": "missing"})
        return self.exchange(PAGEVIEWS_URL.format(quote(article, safe="")), status=404, body=NOT_FOUND,
                             name=f"trends/{file_name(article)}")

    def repo(self, repo: str, stars_today: int, history: dict[dt.date, int] | None = None,
             provenance: str = "real") -> None:
        """Record GitHub's repository object for `repo` (its stars today) and its star history, paged as GitHub
        pages it, made from dated star counts `history` (each rise on the day it was observed, see
        ingestion/snapshots/bodies.py); without `history` the history answers 404 (the repo then has only today's
        observation)."""
        self.series.append({"source": "github", "key": repo, "dataset": "repo", "provenance": provenance})
        self.exchange(REPO_URL.format(repo), body=repo_body(repo, stars_today), name=f"github/{file_name(repo)}")
        if history is None:
            self.exchange(HISTORY_URL.format(repo=repo), status=404, body={"message": "Not Found"},
                          name=f"github_history/{file_name(repo)}")
            return
        self.series.append({"source": "github", "key": repo, "dataset": "star_history", "provenance": provenance})
        self.history_pages(repo, star_history_weeks(stars_added(history, self.as_of, stars_today), min(history),
                                                    self.as_of))

    def history_pages(self, repo: str, weeks: list[dict[str, Any]], link: bool = True) -> list[Path]:
        """Record weekly star-history buckets (newest first) as GitHub's pages; `link=False` records them without
        headers, as a recorder that keeps none would (the source then pages by number)."""
        written = []
        for params, headers, body in star_history_pages(repo, weeks):
            written.append(self.exchange(HISTORY_URL.format(repo=repo), params=params, body=body,
                                         headers=headers if link else None,
                                         name=f"github_history/{file_name(repo)}_p{params['page']}"))
        return written

    def federal_register(self, term: str, documents: list[dict[str, Any]], provenance: str = "real") -> Path:
        """Record one Federal Register search holding all of `term`'s documents, matched by the term alone: it
        answers every month the source asks for, and the source keeps that month's documents."""
        self.series.append({"source": "regulatory", "key": term, "dataset": "documents", "provenance": provenance})
        return self.exchange(FR_URL, params={"conditions[term]": term}, body=fr_body(documents),
                             name=f"regulatory/{file_name(term)}")

    def write(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = {"as_of": self.as_of.isoformat(), "description": "test snapshot", "series": self.series}
        (self.root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return self.root


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Weekdays from start to end (holidays do not matter to these tests)."""
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


PAGEVIEWS_URL = ("https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article/en.wikipedia.org/all-access/user/"
                 "{}/daily/*/*")
REPO_URL = "https://api.github.com/repos/{}"
FR_URL = "https://www.federalregister.gov/api/v1/documents.json"
NOT_FOUND = {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found", "title": "Not found.",
             "method": "get", "detail": "The date(s) you used are valid, but we either do not have data for those "
                                        "date(s), or the project you asked for is not loaded yet."}


def file_name(key: str) -> str:
    """A recording's file name for a signal key (slashes, spaces and brackets become underscores)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def pageviews_body(article: str, views: dict[dt.date, int]) -> dict[str, Any]:
    """A Wikimedia per-article daily body."""
    return {"items": [{"project": "en.wikipedia", "article": article, "granularity": "daily",
                       "timestamp": f"{day:%Y%m%d}00", "access": "all-access", "agent": "user", "views": n}
                      for day, n in sorted(views.items())]}


def repo_body(full_name: str, stars: int, forks: int = 10) -> dict[str, Any]:
    """The fields of GitHub's repository object that the source reads, plus a few it ignores."""
    return {"id": 1, "name": full_name.split("/")[1], "full_name": full_name, "private": False,
            "html_url": f"https://github.com/{full_name}", "stargazers_count": stars, "watchers_count": stars,
            "forks_count": forks, "open_issues_count": 3, "subscribers_count": 7,
            "pushed_at": "2024-12-30T10:00:00Z", "archived": False}


def fr_document(number: str, day: dt.date, title: str = "A notice") -> dict[str, Any]:
    """One Federal Register search result."""
    return {"document_number": number, "title": title, "type": "Notice", "abstract": None,
            "publication_date": day.isoformat(), "html_url": f"https://www.federalregister.gov/d/{number}",
            "pdf_url": None, "excerpts": None,
            "agencies": [{"name": "Commerce Department", "raw_name": "DEPARTMENT OF COMMERCE"}]}


def fr_body(documents: list[dict[str, Any]], next_page_url: str | None = None) -> dict[str, Any]:
    """A Federal Register documents.json body."""
    body: dict[str, Any] = {"count": len(documents), "total_pages": 1, "results": documents}
    if next_page_url:
        body["next_page_url"] = next_page_url
    return body


@dataclass
class SpyingReplay:
    """Replay that also keeps what each request sent (URL, params, headers, and the live client profile it asked
    for), to check what a source asks for."""

    root: Path
    sent: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from ingestion.http import ReplayTransport

        self.replay = ReplayTransport(self.root)

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float,
             profile: str = "requests") -> Any:
        self.sent.append((url, dict(params), dict(headers)))
        self.profiles.append(profile)
        return self.replay.send(method, url, params, headers, timeout, profile)

    def sleep(self, seconds: float) -> None:
        self.replay.sleep(seconds)


def _edit_recording(path: Path, edit: Any) -> None:
    """Rewrite one (possibly gzipped) recording after `edit(doc)` changed it in place."""
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        doc = json.load(handle)
    edit(doc)
    with opener(path, "wt", encoding="utf-8") as handle:
        json.dump(doc, handle)


def extend_bundled(root: Path, as_of: dt.date) -> dict[str, int]:
    """A copy of the bundled snapshot that goes on to `as_of`: every series gains the days after the bundled as_of
    (pageviews daily, prices on weekdays, 10 stars the day before as_of in each repo's newest star-history page and
    its repository object, one new Federal Register document per term, each news phrase's new months), and GitHub's
    repo objects are answered again on the new today. Returns how many rows each core fact table should gain."""
    import shutil

    from ingestion.settings import BUNDLED_SNAPSHOT
    from ingestion.snapshot import load_manifest

    shutil.copytree(BUNDLED_SNAPSHOT, root)
    old = load_manifest(root).as_of
    new_days = [old + dt.timedelta(days=n) for n in range(1, (as_of - old).days + 1)]
    weekdays = [d for d in new_days if d.weekday() < 5]
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    manifest["as_of"] = as_of.isoformat()
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
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
            result["timestamp"].append(market_open(day))
            for name in ("open", "high", "low", "close"):
                quote[name].append(last)
            quote["volume"].append(1000)
            adjclose.append(last)

    starred_day = as_of - dt.timedelta(days=1)

    def more_stars(doc: dict[str, Any]) -> None:
        weeks = doc["response"]["json"]
        while dt.datetime.fromtimestamp(weeks[0]["week"], dt.UTC).date() < week_start(as_of):
            weeks.insert(0, {"week": weeks[0]["week"] + 7 * 86400, "total": 0, "days": [0] * 7})
        weeks[:] = weeks[:WEEKS_PER_PAGE]
        week = next(w for w in weeks if dt.datetime.fromtimestamp(w["week"], dt.UTC).date() == week_start(starred_day))
        week["days"][(starred_day - week_start(starred_day)).days] += 10
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
            _edit_recording(path, more_views)
            gained["core.fct_topic_interest"] += len(new_days)
    for path in sorted((responses / "stocks").iterdir()):
        _edit_recording(path, more_bars)
        gained["core.fct_stock_daily"] += len(weekdays)
    for path in sorted((responses / "github").iterdir()):
        history = responses / "github_history" / path.name.removesuffix(".json.gz")
        if history.is_dir():
            _edit_recording(history / "page_001.json.gz", more_stars)
            _edit_recording(path, ten_more_stars)
            gained["core.fct_repo_stars"] += len(new_days)  # every new day, counted or rebuilt
        else:
            gained["core.fct_repo_stars"] += 1  # today's snapshot
    for folder in sorted((responses / "news").iterdir()):
        last = sorted(folder.iterdir())[-1]
        for month in sorted({d.replace(day=1) for d in new_days} - {old.replace(day=1)}):
            copy = folder / f"{month:%Y-%m}.json.gz"
            shutil.copyfile(last, copy)
            _edit_recording(copy, lambda doc, month=month: next_month_counted(doc, month))
    for path in sorted((responses / "regulatory").iterdir()):
        _edit_recording(path, one_more_document)
        gained["core.fct_regulatory_docs"] += 1
    return gained
