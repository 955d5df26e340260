"""GitHub repositories: a daily snapshot of every registered repo → `raw_github.repos`, and its star history from
GitHub's own star-history endpoint → `raw_github.star_history` (stars made per day, by the day they were made).

Rows are keyed by the registered name in lower case: a renamed repo (GitHub answers 301, which the HTTP layer
follows) keeps its history under the name the registry knows, and the new name is reported.

Star history: `GET /repos/{owner}/{repo}/stargazers/history?per_page=30&page=N` (GitHub changelog 2026-09-04,
"New API endpoint provides privacy-safe star history data"; REST docs "Get repository star history"; OpenAPI
operation `activity/get-stargazer-history-for-repo` in github/rest-api-description). It answers weekly buckets,
newest first, 30 a page (the most it allows), at most 100 pages, each `{"week": <unix seconds>, "total": n,
"days": [7 counts, Sunday first]}`; weeks without stars are zeros, so pages concatenate into one continuous
series, and a `Link` header names the next page while older weeks remain. It counts the stars that still exist,
by the day they were made (an unstar lowers its old day). The stargazer listings are closed to non-collaborators
since July 2026 and are not used.

The first run backfills each repo down to the registry's start date; later runs ask only for the newest page.
Without a token GitHub allows 60 requests an hour: when the budget runs out the source stops asking, keeps what it
loaded, records the repo as `deferred` and the next run resumes the backfill where it stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dlt

from ingestion.common import (
    DEFERRED,
    FAILED,
    NO_DATA,
    OK,
    Fetched,
    Table,
    Window,
    fetch_signals,
    require_fields,
    table_resources,
    unexpected_shape,
)
from ingestion.http import HttpClient, RateLimited, Response, SourceError, json_body

log = logging.getLogger("ai_pulse.ingestion")

SOURCE = "github"
REPO_DATASET, HISTORY_DATASET = "repo", "star_history"
API_HOST = "api.github.com"
REPO_URL = "https://api.github.com/repos/{repo}"
HISTORY_URL = "https://api.github.com/repos/{repo}/stargazers/history"
# 2026-03-10 is the newest REST API version (GitHub changelog 2026-03-12); every field read here is in it.
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2026-03-10"}
FIX_REPO = "check the owner/name in registry.yml (signals.github) on github.com"
FIX_BUDGET = "set GITHUB_TOKEN (5,000 requests an hour instead of 60) or let the next run resume"
WEEKS_PER_PAGE = 30  # the endpoint's maximum per_page
MAX_PAGES = 100  # the endpoint's maximum page
DAY = dt.timedelta(days=1)

REPO_FIELDS = ("full_name", "stargazers_count", "forks_count", "open_issues_count", "subscribers_count", "pushed_at")
# Every other top-level field of GitHub's full-repository object; anything beyond these is reported as new.
REPO_KNOWN = (
    "id", "node_id", "name", "owner", "private", "html_url", "description", "fork", "url", "archive_url",
    "assignees_url", "blobs_url", "branches_url", "collaborators_url", "comments_url", "commits_url", "compare_url",
    "contents_url", "contributors_url", "deployments_url", "downloads_url", "events_url", "forks_url",
    "git_commits_url", "git_refs_url", "git_tags_url", "git_url", "issue_comment_url", "issue_events_url",
    "issues_url", "keys_url", "labels_url", "languages_url", "merges_url", "milestones_url", "notifications_url",
    "pulls_url", "releases_url", "ssh_url", "stargazers_url", "statuses_url", "subscribers_url", "subscription_url",
    "tags_url", "teams_url", "trees_url", "clone_url", "mirror_url", "hooks_url", "svn_url", "homepage", "language",
    "forks", "watchers_count", "watchers", "size", "default_branch", "open_issues", "is_template", "topics",
    "has_issues", "has_projects", "has_wiki", "has_pages", "has_downloads", "has_discussions", "archived",
    "disabled", "visibility", "created_at", "updated_at", "permissions", "allow_rebase_merge", "template_repository",
    "temp_clone_token", "allow_squash_merge", "allow_auto_merge", "delete_branch_on_merge", "allow_merge_commit",
    "allow_update_branch", "use_squash_pr_title_as_default", "squash_merge_commit_title",
    "squash_merge_commit_message", "merge_commit_title", "merge_commit_message", "allow_forking",
    "web_commit_signoff_required", "network_count", "license", "organization", "parent", "source",
    "security_and_analysis", "custom_properties", "code_of_conduct", "anonymous_access_enabled",
)
WEEK_FIELDS = ("week", "total", "days")

REPO_COLUMNS: dict[str, Any] = {
    "repo": {"data_type": "text", "nullable": False},
    "observed_date": {"data_type": "date", "nullable": False},
    "full_name": {"data_type": "text"},
    "stars": {"data_type": "bigint"},
    "forks": {"data_type": "bigint"},
    "open_issues": {"data_type": "bigint"},
    "subscribers": {"data_type": "bigint"},
    "pushed_at": {"data_type": "timestamp"},
    "created_at": {"data_type": "timestamp"},
}
STAR_HISTORY_COLUMNS: dict[str, Any] = {
    "repo": {"data_type": "text", "nullable": False},
    "starred_date": {"data_type": "date", "nullable": False},
    "stars_added": {"data_type": "bigint", "nullable": False},
}


def github_token() -> str | None:
    """`GITHUB_TOKEN`, else dlt's `sources.github.access_token` (env `SOURCES__GITHUB__ACCESS_TOKEN`).
    Read at request time and only put into a request header: never a source argument, so dlt never stores it."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if token:
        return token
    configured = dlt.secrets.get("sources.github.access_token")
    return str(configured).strip() or None if configured else None


def api_headers() -> dict[str, str]:
    """GitHub's recommended headers, with the token only when one is set."""
    token = github_token()
    return {**API_HEADERS, "Authorization": f"Bearer {token}"} if token else dict(API_HEADERS)


def _count(body: dict[str, Any], field: str, repo: str) -> int:
    value = body[field]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SourceError(SOURCE, repo, f"{field} is {value!r}, not a count",
                          "the API format changed; update ingestion/github.py")
    return value


def _timestamp(value: Any) -> dt.datetime | None:
    """GitHub's ISO 8601 time (`2011-01-26T19:06:43Z`) as an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) and value else None


def _github_error(reply: Response, what: str) -> str:
    """What an unexpected GitHub answer says, with GitHub's own message."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    return f"GitHub HTTP {reply.status} for the {what}: {message or 'no message'}"


# --------------------------------------------------------------------------------------- repository snapshots


def parse_repo(repo: str, body: Any, today: dt.date) -> Fetched:
    """Today's counts for one repo, under its registered name; a different `full_name` is reported as a rename."""
    note = require_fields(body, REPO_FIELDS, source=SOURCE, signal=repo, where="the repository object",
                          known=REPO_KNOWN)
    pushed, created = body["pushed_at"], body.get("created_at")
    row = {
        "repo": repo.lower(), "observed_date": today, "full_name": body["full_name"],
        "stars": _count(body, "stargazers_count", repo), "forks": _count(body, "forks_count", repo),
        "open_issues": _count(body, "open_issues_count", repo),
        "subscribers": _count(body, "subscribers_count", repo),
        "pushed_at": _timestamp(pushed), "created_at": _timestamp(created),
    }
    fetched = Fetched(SOURCE, repo, Window(today, today), tables={"repos": [row]})
    if str(body["full_name"]).lower() != repo.lower():
        fetched.note(f"GitHub now calls it {body['full_name']} (renamed or moved); rows stay under {repo.lower()} — "
                     "update registry.yml to the new name")
    return fetched.note(note)


def ensure_budget(client: HttpClient, repo: str) -> None:
    """Refuse to ask once GitHub said its budget is used up: the request would only be refused."""
    budget = client.budget(API_HOST)
    if budget is not None and budget.exhausted:
        raise RateLimited(SOURCE, repo, f"GitHub's rate limit is used up (resets at {budget.resets()})", FIX_BUDGET,
                          budget.reset_at)


def fetch_repo(client: HttpClient, repo: str, window: Window) -> Fetched:
    """GET /repos/{owner}/{repo}: 200 → today's counts; 404 → no_data (deleted, private or mistyped)."""
    ensure_budget(client, repo)
    reply = client.get(REPO_URL.format(repo=repo), source=SOURCE, signal=repo, headers=api_headers())
    if reply.status == 404:
        return Fetched(SOURCE, repo, window, NO_DATA, "GitHub 404: the repository does not exist or is private",
                       FIX_REPO)
    if reply.status != 200:
        json_body(reply, source=SOURCE, signal=repo)  # an unparsable body is its own, clearer error
        return Fetched(SOURCE, repo, window, FAILED, _github_error(reply, "repository"), FIX_REPO)
    body = json_body(reply, source=SOURCE, signal=repo)
    with unexpected_shape(SOURCE, repo):
        return parse_repo(repo, body, window.end)


# ------------------------------------------------------------------------------------------------ star history


@dataclass(frozen=True)
class Week:
    """One weekly bucket: its start (GitHub's unix seconds) and the stars made on each of its seven days."""

    start: int
    days: tuple[int, ...]

    def dated(self) -> list[tuple[dt.date, int]]:
        """(UTC calendar day, stars made) for each day of the week, oldest first."""
        first = dt.datetime.fromtimestamp(self.start, dt.UTC).date()
        return [(first + n * DAY, count) for n, count in enumerate(self.days)]

    @property
    def first_day(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.start, dt.UTC).date()


def parse_history_page(repo: str, body: Any, page: int) -> tuple[list[Week], str]:
    """One page of weekly buckets, checked: a week's `days` are seven non-negative counts adding up to `total`."""
    if not isinstance(body, list):
        raise SourceError(SOURCE, repo, f"star history page {page} is {type(body).__name__}, not a list of weeks",
                          "the API format changed; update ingestion/github.py")
    weeks, notes = [], []
    for index, item in enumerate(body):
        note = require_fields(item, WEEK_FIELDS, source=SOURCE, signal=repo,
                              where=f"star history page {page}, week {index}", known=())
        if note and note not in notes:
            notes.append(note)
        days = item["days"]
        if not isinstance(days, list) or len(days) != 7:
            raise SourceError(SOURCE, repo, f"star history page {page}, week {index}: `days` is {days!r}, not seven "
                                            "daily counts", "the API format changed; update ingestion/github.py")
        counts = tuple(_count({"days": n}, "days", repo) for n in days)
        total = _count(item, "total", repo)
        if sum(counts) != total:
            raise SourceError(SOURCE, repo, f"star history page {page}, week {index}: days add up to {sum(counts)}, "
                                            f"total says {total}", "the response is corrupt; re-record it or retry")
        start = item["week"]
        if not isinstance(start, int) or isinstance(start, bool):
            raise SourceError(SOURCE, repo, f"star history page {page}, week {index}: `week` is {start!r}, not unix "
                                            "seconds", "the API format changed; update ingestion/github.py")
        weeks.append(Week(start, counts))
    return weeks, "; ".join(notes)


@dataclass
class HistoryPage:
    """One answered page: its weeks (newest first), whether older weeks follow, and GitHub's Link to them."""

    number: int
    weeks: list[Week]
    has_more: bool
    next_url: str | None = None
    note: str = ""


def next_link(reply: Response) -> str | None:
    """The `rel="next"` URL of a Link header (RFC 8288), when it stays on api.github.com (the token goes nowhere
    else)."""
    for part in reply.headers.get("link", "").split(","):
        target, _, params = part.partition(";")
        if params.replace(" ", "").replace('"', "") in ("rel=next",) or 'rel="next"' in params:
            url = target.strip().strip("<>")
            return url if urlsplit(url).netloc == API_HOST else None
    return None


def fetch_history_page(client: HttpClient, repo: str, number: int, url: str | None = None) -> HistoryPage | None:
    """Page `number` of a repo's history, by number or by the Link URL GitHub gave for it; None when GitHub has no
    history for the repo (404). Older weeks follow when the Link says so, or, in an answer recorded without
    headers, when the page is full."""
    params = None if url else {"per_page": str(WEEKS_PER_PAGE), "page": str(number)}
    reply = client.get(url or HISTORY_URL.format(repo=repo), source=SOURCE, signal=repo, params=params,
                       headers=api_headers())
    if reply.status == 404:
        return None
    body = json_body(reply, source=SOURCE, signal=repo)
    if reply.status != 200:
        raise SourceError(SOURCE, repo, _github_error(reply, f"star history page {number}"), FIX_REPO)
    weeks, note = parse_history_page(repo, body, number)
    link = next_link(reply)
    has_more = bool(link) if "link" in reply.headers else len(weeks) == WEEKS_PER_PAGE
    return HistoryPage(number, weeks, has_more and bool(weeks), link, note)


def page_holding(week_start: int, newest_week: int) -> int:
    """The page that holds `week_start`, counting from the newest week (page 1's first): weeks are continuous and
    seven days apart, so as new weeks begin, page boundaries only move toward older weeks."""
    index = max(0, round((newest_week - week_start) / (7 * 86400)))
    return index // WEEKS_PER_PAGE + 1


@dataclass
class HistoryCursor:
    """What earlier runs loaded of one repo's history (kept in dlt's source state, committed with the load)."""

    newest: dt.date | None = None  # the newest day loaded
    oldest: dt.date | None = None  # the oldest day loaded: how far the backfill got
    oldest_week: int | None = None  # that day's week, in GitHub's unix seconds
    complete: bool = False  # the backfill reached the start date or the repo's first week

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> HistoryCursor:
        def day(key: str) -> dt.date | None:
            return dt.date.fromisoformat(state[key]) if state.get(key) else None

        return cls(day("newest"), day("oldest"), state.get("oldest_week"), bool(state.get("complete")))

    def to_state(self) -> dict[str, Any]:
        return {"newest": self.newest.isoformat() if self.newest else None,
                "oldest": self.oldest.isoformat() if self.oldest else None,
                "oldest_week": self.oldest_week, "complete": self.complete}


@dataclass
class HistoryWalk:
    """One repo's history fetch in progress: the days collected, the pages asked, why it stopped."""

    client: HttpClient
    repo: str
    start_date: dt.date
    today: dt.date
    days: dict[dt.date, int] = field(default_factory=dict)
    weeks: set[int] = field(default_factory=set)
    pages: int = 0
    last_page: int = 0
    notes: list[str] = field(default_factory=list)
    complete: bool = False

    def walk(self, page: HistoryPage | None, stop_after: dt.date | None = None) -> None:
        """Collect `page` and the older pages after it, until the start date, the repo's first week, GitHub's
        100-page bound, or (with `stop_after`) a page reaching back to that already loaded day."""
        while page is not None:
            if not self._collect(page):
                self.notes.append(f"page {page.number} repeated weeks already served; paging stopped there")
                return
            if self.complete or (stop_after is not None and page.weeks[-1].first_day <= stop_after):
                return
            if not page.has_more or page.number >= MAX_PAGES:
                if page.has_more:
                    self.notes.append(f"GitHub serves at most {MAX_PAGES} pages; older weeks were not asked")
                self.complete = True  # nothing older can be had
                return
            ensure_budget(self.client, self.repo)
            page = fetch_history_page(self.client, self.repo, page.number + 1, page.next_url)

    def _collect(self, page: HistoryPage) -> bool:
        """Keep the page's days inside [start date, today]; False when it brought no week not seen before."""
        fresh = [week for week in page.weeks if week.start not in self.weeks]
        if not fresh:
            return False
        self.pages += 1
        self.last_page = max(self.last_page, page.number)
        if page.note and page.note not in self.notes:
            self.notes.append(page.note)
        for week in fresh:
            self.weeks.add(week.start)
            self.days.update((day, n) for day, n in week.dated() if self.start_date <= day <= self.today)
        if page.weeks[-1].first_day <= self.start_date:
            self.complete = True
        return True

    def rows(self) -> list[dict[str, Any]]:
        return [{"repo": self.repo.lower(), "starred_date": day, "stars_added": count}
                for day, count in sorted(self.days.items())]

    def advance(self, cursor: HistoryCursor) -> HistoryCursor:
        """The cursor after this run: the loaded range only grows."""
        if not self.days:
            return cursor
        oldest_week = min(self.weeks) if cursor.oldest_week is None else min(cursor.oldest_week, min(self.weeks))
        return HistoryCursor(newest=max(filter(None, (cursor.newest, max(self.days)))),
                             oldest=min(filter(None, (cursor.oldest, min(self.days)))),
                             oldest_week=oldest_week, complete=cursor.complete or self.complete)


def fetch_history(client: HttpClient, repo: str, cursor: HistoryCursor, start_date: dt.date,
                  today: dt.date) -> tuple[Fetched, HistoryCursor]:
    """What is missing of one repo's history: the newest pages down to what earlier runs loaded (normally page 1
    alone), then, while the backfill is unfinished, the pages below the oldest day loaded, down to the start date.
    At GitHub's rate limit it stops with what it has: `deferred`, and the cursor says where to resume."""
    window = Window(start_date, today)
    run = HistoryWalk(client, repo, start_date, today)
    stopped = ""
    try:
        ensure_budget(client, repo)
        first = fetch_history_page(client, repo, 1)
        if first is None:
            return Fetched(SOURCE, repo, window, NO_DATA, "GitHub has no star history for this repo (404)",
                           FIX_REPO), cursor
        run.walk(first, stop_after=cursor.newest)
        if cursor.oldest_week is not None and not cursor.complete and not run.complete and first.weeks:
            number = max(page_holding(cursor.oldest_week, first.weeks[0].start), run.last_page + 1)
            if number <= MAX_PAGES:
                run.walk(fetch_history_page(client, repo, number))
    except RateLimited as exc:
        stopped = exc.problem
    rows = run.rows()
    updated = run.advance(cursor)
    if stopped:
        loaded = (f"{len(rows)} days loaded back to {rows[0]['starred_date']}" if rows else "nothing new loaded")
        problem = f"star history paused after {run.pages} pages: {stopped}; {loaded}, the rest resumes on the next run"
        return Fetched(SOURCE, repo, window, DEFERRED, problem, FIX_BUDGET, {"star_history": rows}), updated
    status, problem = (OK, "") if rows or updated.oldest else (NO_DATA, f"no star history between {start_date} and "
                                                                         f"{today}")
    fetched = Fetched(SOURCE, repo, window, status, problem, tables={"star_history": rows})
    return fetched.note(*run.notes), updated


def history_fetches(client: HttpClient, repos: list[str], start_date: dt.date, today: dt.date) -> Iterator[Fetched]:
    """Every repo's history, in registry order, each resuming from its cursor in dlt's source state; once GitHub's
    budget is used up the remaining repos are `deferred` without a request."""
    state: dict[str, Any] = dlt.current.source_state().setdefault("star_history", {})

    def fetch(repo: str) -> Fetched:
        fetched, cursor = fetch_history(client, repo, HistoryCursor.from_state(state.get(repo.lower(), {})),
                                        start_date, today)
        state[repo.lower()] = cursor.to_state()
        return fetched

    outcomes = list(fetch_signals(SOURCE, HISTORY_DATASET, repos, fetch, lambda _: Window(start_date, today),
                                  "star_history", today))
    deferred = [f.signal for f in outcomes if f.status == DEFERRED]
    budget = client.budget(API_HOST)
    if deferred:
        log.warning("[%s] GitHub's rate limit ran out%s: the star history of %d repos (%s) resumes on the next run; %s",
                    SOURCE, f" ({budget.remaining} of {budget.limit} left, resets at {budget.resets()})"
                    if budget else "", len(deferred), ", ".join(deferred), FIX_BUDGET)
    yield from outcomes


@dlt.source(name=SOURCE, max_table_nesting=0)
def github_source(
    repos: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Daily repo snapshots (merged on repo and date) and daily star history, for every registered repo."""
    @dlt.resource(name="repo_fetches", selected=False)
    def repo_fetches() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("github_source needs a client and today's date to run")
        # Snapshots first: the day's counts matter most, and they anchor the history (see fct_repo_stars).
        one_day = Window(today, today)
        yield from fetch_signals(SOURCE, REPO_DATASET, repos, lambda r: fetch_repo(client, r, one_day),
                                 lambda _: one_day, "repos", today)
        yield from history_fetches(client, repos, start_date, today)

    return table_resources(repo_fetches, [
        Table("repos", ("repo", "observed_date"), REPO_COLUMNS,
              "One snapshot per registered repo and day: stars, forks, open issues, watchers, last push."),
        Table("star_history", ("repo", "starred_date"), STAR_HISTORY_COLUMNS,
              "Stars made per repo and day that still exist, from GitHub's star history (weekly buckets, daily "
              "counts)."),
    ], "The last outcome per repo and dataset (repo snapshot, star history), with the problem and the fix.")
