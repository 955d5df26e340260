"""GitHub repositories: a daily snapshot of every registered repo → `raw_github.repos`, and star history before
the first snapshot from a dated star archive → `raw_github.star_history`.

Rows are keyed by the registered name in lower case: a renamed repo (GitHub answers 301, which the HTTP layer
follows) keeps its history under the name the registry knows, and the new name is reported.

GitHub's changelog announces a `GET /repos/{owner}/{repo}/stargazers/history` endpoint, but its REST reference
does not document the request parameters or the response schema, so it is not built here: the archive is the
only star-history backfill until that endpoint can be verified from GitHub's reference docs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import dlt

from ingestion.common import (
    FAILED,
    FROZEN_COLUMNS,
    NO_DATA,
    OK,
    STATUS_COLUMNS,
    Fetched,
    Window,
    fetch_each,
    require_fields,
    rows_or_schema,
    unexpected_shape,
)
from ingestion.http import HttpClient, MissingRecording, SourceError, json_body

SOURCE = "github"
REPO_DATASET, ARCHIVE_DATASET = "repo", "star_archive"
REPO_URL = "https://api.github.com/repos/{repo}"
ARCHIVE_URL = "https://star-archive.ai-pulse.dev/v1/repos/{repo}/history.json"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
FIX_REPO = "check the owner/name in registry.yml (signals.github) on github.com"

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

REPO_COLUMNS: dict[str, Any] = {
    "repo": {"data_type": "text", "nullable": False},
    "observed_date": {"data_type": "date", "nullable": False},
    "full_name": {"data_type": "text"},
    "stars": {"data_type": "bigint"},
    "forks": {"data_type": "bigint"},
    "open_issues": {"data_type": "bigint"},
    "subscribers": {"data_type": "bigint"},
    "pushed_at": {"data_type": "timestamp"},
}
STAR_HISTORY_COLUMNS: dict[str, Any] = {
    "repo": {"data_type": "text", "nullable": False},
    "observed_date": {"data_type": "date", "nullable": False},
    "stars": {"data_type": "bigint"},
    "archive_source": {"data_type": "text"},
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
    if not isinstance(value, int) or isinstance(value, bool):
        raise SourceError(SOURCE, repo, f"{field} is {value!r}, not a count",
                          "the API format changed; update ingestion/github.py")
    return value


def parse_repo(repo: str, body: Any, today: dt.date) -> Fetched:
    """Today's counts for one repo, under its registered name; a different `full_name` is reported as a rename."""
    note = require_fields(body, REPO_FIELDS, source=SOURCE, signal=repo, where="the repository object",
                          known=REPO_KNOWN)
    pushed = body["pushed_at"]
    row = {
        "repo": repo.lower(), "observed_date": today, "full_name": body["full_name"],
        "stars": _count(body, "stargazers_count", repo), "forks": _count(body, "forks_count", repo),
        "open_issues": _count(body, "open_issues_count", repo),
        "subscribers": _count(body, "subscribers_count", repo),
        "pushed_at": dt.datetime.fromisoformat(pushed.replace("Z", "+00:00")) if pushed else None,
    }
    fetched = Fetched(repo, Window(today, today), OK, "", {"repos": [row]})
    if str(body["full_name"]).lower() != repo.lower():
        fetched.note(f"GitHub now calls it {body['full_name']} (renamed or moved); rows stay under {repo.lower()} — "
                     "update registry.yml to the new name")
    return fetched.note(note)


def fetch_repo(client: HttpClient, repo: str, window: Window) -> Fetched:
    """GET /repos/{owner}/{repo}: 200 → today's counts; 404 → no_data (deleted, private or mistyped)."""
    reply = client.get(REPO_URL.format(repo=repo), source=SOURCE, signal=repo, headers=api_headers())
    body = json_body(reply, source=SOURCE, signal=repo) if reply.status != 404 else {}
    if reply.status == 404:
        return Fetched(repo, window, NO_DATA, f"[{SOURCE} {repo}] GitHub 404: the repository does not exist or is "
                                              f"private — {FIX_REPO}")
    if reply.status != 200:
        message = body.get("message") if isinstance(body, dict) else None
        return Fetched(repo, window, FAILED, f"[{SOURCE} {repo}] GitHub HTTP {reply.status}: "
                                             f"{message or 'no message'} — {FIX_REPO}")
    with unexpected_shape(SOURCE, repo):
        return parse_repo(repo, body, window.end)


def parse_archive(repo: str, body: Any, window: Window) -> Fetched:
    """Dated star counts inside the window; the archive's per-observation source is kept for provenance."""
    notes = [require_fields(body, ("repo", "observations"), source=SOURCE, signal=repo, where="the archive body",
                            known=())]
    if str(body["repo"]).lower() != repo.lower():
        raise SourceError(SOURCE, repo, f"the archive answered for {body['repo']!r}",
                          "the archive served another repository; report it to the archive")
    rows = []
    for index, item in enumerate(body["observations"]):
        note = require_fields(item, ("date", "stars"), source=SOURCE, signal=repo,
                              where=f"observations[{index}]", known=("source",))
        if note and note not in notes:
            notes.append(note)
        day = dt.date.fromisoformat(str(item["date"]))
        if day in window:
            rows.append({"repo": repo.lower(), "observed_date": day, "stars": _count(item, "stars", repo),
                         "archive_source": item.get("source")})
    status, detail = (OK, "") if rows else (NO_DATA, f"no archived star counts between {window.start} and "
                                                     f"{window.end}")
    return Fetched(repo, window, status, detail, {"star_history": rows}).note("; ".join(n for n in notes if n))


def fetch_archive(client: HttpClient, repo: str, window: Window) -> Fetched:
    """The archive's whole history for one repo (no GitHub token goes to this host). A repo the archive does not
    know (404, or no recording in a replay snapshot) is reported as no_data: the daily snapshots still count."""
    try:
        reply = client.get(ARCHIVE_URL.format(repo=repo), source=SOURCE, signal=repo)
    except MissingRecording:
        return Fetched(repo, window, NO_DATA, f"[{SOURCE} {repo}] the snapshot holds no star archive for this repo")
    if reply.status == 404:
        return Fetched(repo, window, NO_DATA, f"[{SOURCE} {repo}] the star archive has no history for this repo")
    body = json_body(reply, source=SOURCE, signal=repo)
    if reply.status != 200:
        return Fetched(repo, window, FAILED, f"[{SOURCE} {repo}] star archive HTTP {reply.status}")
    with unexpected_shape(SOURCE, repo):
        return parse_archive(repo, body, window)


@dlt.source(name=SOURCE, max_table_nesting=0)
def github_source(
    repos: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Daily repo snapshots (merged on repo and date) and archived star history, for every registered repo."""
    @dlt.resource(name="repo_fetches", selected=False)
    def repo_fetches() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("github_source needs a client and today's date to run")
        # A snapshot is only ever today's: the window starts today whatever the cursor says.
        yield from fetch_each(SOURCE, repos, lambda r, w: fetch_repo(client, r, w), today, today, 0,
                              "repos", "observed_date", REPO_DATASET)
        yield from fetch_each(SOURCE, repos, lambda r, w: fetch_archive(client, r, w), start_date, today,
                              lookback_days, "star_history", "observed_date", ARCHIVE_DATASET)

    @dlt.transformer(data_from=repo_fetches, name="repos", primary_key=("repo", "observed_date"),
                     write_disposition="merge", columns=REPO_COLUMNS, schema_contract=FROZEN_COLUMNS)
    def repos_table(fetched: Fetched) -> Iterator[list[dict[str, Any]]]:
        """One snapshot per registered repo and day: stars, forks, open issues, watchers, last push."""
        yield rows_or_schema(fetched.tables.get("repos", []))

    @dlt.transformer(data_from=repo_fetches, name="star_history", primary_key=("repo", "observed_date"),
                     write_disposition="merge", columns=STAR_HISTORY_COLUMNS, schema_contract=FROZEN_COLUMNS)
    def star_history(fetched: Fetched) -> Iterator[list[dict[str, Any]]]:
        """Dated star counts from the star archive (backfill before the daily snapshots began)."""
        yield rows_or_schema(fetched.tables.get("star_history", []))

    @dlt.transformer(data_from=repo_fetches, name="signal_status", primary_key=("signal", "dataset"),
                     write_disposition="merge", columns=STATUS_COLUMNS, schema_contract=FROZEN_COLUMNS)
    def signal_status(fetched: Fetched) -> Iterator[dict[str, Any]]:
        """The last outcome per repo and dataset (repo snapshot, star archive), with the reason."""
        yield fetched.status_row_or_schema()

    return repo_fetches, repos_table, star_history, signal_status
