"""The GitHub source snapshots every registered repo under its registered name, follows renames, respects rate
limits, sends the token only to GitHub and only when set, and loads star history from GitHub's star-history
endpoint: paged by Link or by number, bounded, backfilled once, then only the newest page, and paused (not
failed) when the rate limit runs out, resuming on the next run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.common import DEFERRED, FAILED, NO_DATA, OK, Window
from ingestion.github import HISTORY_URL, REPO_URL, HistoryCursor, fetch_history, fetch_repo, github_source
from ingestion.http import HttpClient, ReplayTransport, SourceError
from ingestion.snapshots.bodies import repo_body, star_history_weeks, unix_midnight, week_start
from ingestion.snapshots.builder.factory import SnapshotBuilder
from tests.conftest import SpyingReplay, load_source, query

D = dt.date
TODAY = D(2024, 12, 31)
ONE_DAY = Window(TODAY, TODAY)


@pytest.fixture
def snap(tmp_path: Path) -> SnapshotBuilder:
    return SnapshotBuilder(tmp_path / "snap", TODAY)


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("SOURCES__GITHUB__ACCESS_TOKEN", raising=False)


def client_for(snap: SnapshotBuilder) -> tuple[HttpClient, SpyingReplay]:
    snap.write()
    spy = SpyingReplay(snap.root)
    return HttpClient(spy, user_agent="t"), spy


def test_snapshot_sends_githubs_headers_and_no_authorization_without_a_token(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format(repo="Ollama/Ollama"), body=repo_body("ollama/ollama", 100))
    client, spy = client_for(snap)
    fetched = fetch_repo(client, "Ollama/Ollama", ONE_DAY)
    assert fetched.tables["repos"] == [{"repo": "ollama/ollama", "observed_date": TODAY, "full_name": "ollama/ollama",
                                        "stars": 100, "forks": 10, "open_issues": 3, "subscribers": 7,
                                        "pushed_at": dt.datetime(2024, 12, 30, 10, tzinfo=dt.UTC),
                                        "created_at": None}]
    url, _, headers = spy.sent[0]
    assert url == "https://api.github.com/repos/Ollama/Ollama"
    assert headers["Accept"] == "application/vnd.github+json" and headers["X-GitHub-Api-Version"] == "2026-03-10"
    assert "Authorization" not in headers


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "SOURCES__GITHUB__ACCESS_TOKEN"])
def test_a_token_goes_to_github_as_bearer_on_every_request(snap: SnapshotBuilder, variable: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, "ghp_test_token")
    snap.repo("ollama/ollama", 100, {D(2024, 12, 1): 90})
    client, spy = client_for(snap)
    fetch_repo(client, "ollama/ollama", ONE_DAY)
    fetch_history(client, "ollama/ollama", HistoryCursor(), D(2024, 12, 1), TODAY)
    assert len(spy.sent) == 2
    assert all(headers["Authorization"] == "Bearer ghp_test_token" for _, _, headers in spy.sent)


def test_a_renamed_repo_is_followed_and_kept_under_its_registered_name(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format(repo="ggerganov/llama.cpp"), status=301,
                  body={"message": "Moved Permanently", "url": "https://api.github.com/repositories/612354784"},
                  headers={"Location": "https://api.github.com/repositories/612354784"})
    snap.exchange("https://api.github.com/repositories/612354784", body=repo_body("ggml-org/llama.cpp", 70000))
    client, spy = client_for(snap)
    fetched = fetch_repo(client, "ggerganov/llama.cpp", ONE_DAY)
    assert fetched.status == OK
    assert [(r["repo"], r["full_name"], r["stars"]) for r in fetched.tables["repos"]] == [
        ("ggerganov/llama.cpp", "ggml-org/llama.cpp", 70000)]
    assert "GitHub now calls it ggml-org/llama.cpp" in fetched.detail
    assert [s[0] for s in spy.sent] == ["https://api.github.com/repos/ggerganov/llama.cpp",
                                        "https://api.github.com/repositories/612354784"]


def test_a_404_is_no_data_naming_the_repo_and_the_fix(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format(repo="gone/away"), status=404, body={"message": "Not Found"})
    fetched = fetch_repo(client_for(snap)[0], "gone/away", ONE_DAY)
    assert fetched.status == NO_DATA and "[github gone/away] GitHub 404" in fetched.detail
    assert "registry.yml" in fetched.detail


@pytest.mark.parametrize("limited", [
    {"status": 429, "headers": {"Retry-After": "2"}},
    {"status": 403, "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}},
], ids=["429_retry_after", "403_rate_limit"])
def test_rate_limits_are_waited_out_then_the_repo_loads(snap: SnapshotBuilder, limited: dict) -> None:
    snap.exchange(REPO_URL.format(repo="ollama/ollama"), body={"message": "rate limited"}, order=1, **limited)
    snap.exchange(REPO_URL.format(repo="ollama/ollama"), body=repo_body("ollama/ollama", 100), order=2)
    client, spy = client_for(snap)
    fetched = fetch_repo(client, "ollama/ollama", ONE_DAY)
    assert fetched.status == OK and len(spy.sent) == 2 and len(spy.replay.waits) == 1


def test_truncated_json_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format(repo="ollama/ollama"), text='{"full_name": "ollama/oll')
    with pytest.raises(SourceError, match=r"\[github ollama/ollama\] HTTP 200 body is not valid JSON"):
        fetch_repo(client_for(snap)[0], "ollama/ollama", ONE_DAY)


def test_a_missing_or_mistyped_count_fails_the_repo_instead_of_loading_null(snap: SnapshotBuilder) -> None:
    body = repo_body("ollama/ollama", 100)
    del body["stargazers_count"]
    snap.exchange(REPO_URL.format(repo="ollama/ollama"), body=body)
    odd = repo_body("x/y", 1) | {"forks_count": "many"}
    snap.exchange(REPO_URL.format(repo="x/y"), body=odd)
    client = client_for(snap)[0]
    with pytest.raises(SourceError, match=r"lacks required field\(s\) stargazers_count"):
        fetch_repo(client, "ollama/ollama", ONE_DAY)
    with pytest.raises(SourceError, match=r"\[github x/y\] forks_count is 'many', not a count"):
        fetch_repo(client, "x/y", ONE_DAY)


def test_a_new_field_is_reported_and_the_snapshot_still_loads(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format(repo="ollama/ollama"), body=repo_body("ollama/ollama", 100) | {"star_velocity": 3})
    fetched = fetch_repo(client_for(snap)[0], "ollama/ollama", ONE_DAY)
    assert fetched.status == OK and "new field(s) in the repository object: star_velocity" in fetched.detail


def weeks_back(newest: dt.date, count: int, per_day: int = 1) -> list[dict]:
    """`count` weekly buckets ending with `newest`'s week, newest first, `per_day` stars on every day."""
    return star_history_weeks({newest - dt.timedelta(days=n): per_day for n in range(7 * count + 7)},
                              week_start(newest) - dt.timedelta(weeks=count - 1), newest)


def asked_pages(spy: SpyingReplay, repo: str) -> list[str]:
    """The history pages a source asked for, by number, whether it asked by params or by GitHub's Link URL."""
    from ingestion.snapshot import request_params

    return [request_params(url, params).get("page", "1") for url, params, _ in spy.sent
            if url.split("?")[0] == HISTORY_URL.format(repo=repo)]


def days_loaded(fetched) -> list[tuple[dt.date, int]]:
    return [(row["starred_date"], row["stars_added"]) for row in fetched.tables["star_history"]]


@pytest.mark.parametrize("link", [True, False], ids=["by_link", "by_page_number"])
def test_history_pages_are_followed_by_link_or_by_page_number_down_to_the_start_date(
        snap: SnapshotBuilder, link: bool) -> None:
    snap.history_pages("ollama/ollama", weeks_back(TODAY, 75), link=link)  # pages of 30, 30 and 15 weeks
    client, spy = client_for(snap)
    start = TODAY - dt.timedelta(weeks=40)
    fetched, cursor = fetch_history(client, "ollama/ollama", HistoryCursor(), start, TODAY)
    assert fetched.status == OK
    # Page 2 reaches back past the start date, so page 3 is never asked.
    assert asked_pages(spy, "ollama/ollama") == ["1", "2"]
    assert days_loaded(fetched) == [(start + dt.timedelta(days=n), 1) for n in range((TODAY - start).days + 1)]
    assert cursor.complete and cursor.oldest == start and cursor.newest == TODAY


def test_a_week_is_read_day_by_day_from_its_start_and_days_after_today_are_not_kept(snap: SnapshotBuilder) -> None:
    sunday = week_start(TODAY)
    snap.history_pages("a/b", [{"week": unix_midnight(sunday), "total": 5, "days": [1, 0, 4, 0, 0, 0, 0]}])
    fetched, _ = fetch_history(client_for(snap)[0], "a/b", HistoryCursor(), D(2024, 1, 1), sunday + dt.timedelta(2))
    assert days_loaded(fetched) == [(sunday, 1), (sunday + dt.timedelta(1), 0), (sunday + dt.timedelta(2), 4)]


def test_paging_stops_at_githubs_100_page_bound(snap: SnapshotBuilder) -> None:
    snap.history_pages("big/repo", weeks_back(TODAY, 30 * 101))  # 101 pages: GitHub never serves the last
    client, spy = client_for(snap)
    fetched, cursor = fetch_history(client, "big/repo", HistoryCursor(), D(1900, 1, 1), TODAY)
    assert asked_pages(spy, "big/repo") == [str(n) for n in range(1, 101)]
    assert fetched.status == OK and "at most 100 pages" in fetched.detail and cursor.complete


def test_a_served_page_repeating_earlier_weeks_ends_the_paging(snap: SnapshotBuilder) -> None:
    # An outsider's snapshot that recorded page 1 without params answers every page with page 1.
    snap.exchange(HISTORY_URL.format(repo="a/b"), body=weeks_back(TODAY, 30))
    fetched, _ = fetch_history(client_for(snap)[0], "a/b", HistoryCursor(), D(2020, 1, 1), TODAY)
    assert fetched.status == OK and "page 2 repeated weeks already served" in fetched.detail
    assert len(fetched.tables["star_history"]) == (TODAY - week_start(TODAY)).days + 1 + 29 * 7


def test_a_link_to_another_host_is_not_followed(snap: SnapshotBuilder) -> None:
    snap.exchange(HISTORY_URL.format(repo="a/b"), params={"page": "1"}, body=weeks_back(TODAY, 30),
                  headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
    client, spy = client_for(snap)
    fetched, _ = fetch_history(client, "a/b", HistoryCursor(), D(2020, 1, 1), TODAY)
    assert fetched.status == OK and [url for url, _, _ in spy.sent] == [HISTORY_URL.format(repo="a/b")]


def test_a_week_whose_days_do_not_add_up_fails_the_repo(snap: SnapshotBuilder) -> None:
    snap.history_pages("a/b", [{"week": unix_midnight(week_start(TODAY)), "total": 9, "days": [1, 0, 0, 0, 0, 0, 0]}])
    with pytest.raises(SourceError, match=r"\[github a/b\] star history page 1, week 0: days add up to 1, total "
                                          r"says 9"):
        fetch_history(client_for(snap)[0], "a/b", HistoryCursor(), D(2024, 1, 1), TODAY)


def test_a_repo_without_history_is_no_data(snap: SnapshotBuilder) -> None:
    snap.exchange(HISTORY_URL.format(repo="gone/away"), status=404, body={"message": "Not Found"})
    fetched, cursor = fetch_history(client_for(snap)[0], "gone/away", HistoryCursor(), D(2024, 1, 1), TODAY)
    assert fetched.status == NO_DATA and "no star history" in fetched.detail and cursor == HistoryCursor()


def limited(pages: list[tuple[dict, dict, list]], remaining: list[int], reset: int) -> list:
    """The same pages with GitHub's rate-limit headers, `remaining[i]` left after page i."""
    return [(params, {**headers, "x-ratelimit-limit": "60", "x-ratelimit-remaining": str(left),
                      "x-ratelimit-reset": str(reset)}, body)
            for (params, headers, body), left in zip(pages, remaining, strict=True)]


def test_the_rate_limit_pauses_the_backfill_and_the_next_run_resumes_it_from_the_cursor(tmp_path: Path) -> None:
    from ingestion.snapshots.bodies import star_history_pages

    start = TODAY - dt.timedelta(weeks=100)
    weeks = weeks_back(TODAY, 110)  # four pages; the start date lies on page 4
    reset = unix_midnight(TODAY) + 3600
    # Night 1: GitHub's budget runs out with page 2 (x-ratelimit-remaining: 0), and page 3 is never asked.
    night1 = SnapshotBuilder(tmp_path / "night1", TODAY)
    night1.exchange(REPO_URL.format(repo="a/b"), body=repo_body("a/b", 770))
    for params, headers, body in limited(star_history_pages("a/b", weeks)[:2], [1, 0], reset):
        night1.exchange(HISTORY_URL.format(repo="a/b"), params=params, headers=headers, body=body,
                        name=f"history_{params['page']}")
    night1.exchange(REPO_URL.format(repo="c/d"), body=repo_body("c/d", 5))
    night1.write()
    # Night 2, a week later: one new week on top, so every page has moved down by one week.
    later = TODAY + dt.timedelta(weeks=1)
    night2 = SnapshotBuilder(tmp_path / "night2", later)
    night2.exchange(REPO_URL.format(repo="a/b"), body=repo_body("a/b", 777))
    night2.exchange(REPO_URL.format(repo="c/d"), body=repo_body("c/d", 5))
    newer = weeks_back(later, 111)
    for params, headers, body in star_history_pages("a/b", newer):
        night2.exchange(HISTORY_URL.format(repo="a/b"), params=params, headers=headers, body=body,
                        name=f"history_{params['page']}")
    night2.history_pages("c/d", weeks_back(later, 2))
    night2.write()

    warehouse = tmp_path / "w.duckdb"
    spy = SpyingReplay(night1.root)
    load_source(github_source(["a/b", "c/d"], client=HttpClient(spy, user_agent="t"), start_date=start, today=TODAY),
                warehouse)
    status = dict(((r[0], r[1]), (r[2], r[3])) for r in query(
        warehouse, "select signal, dataset, status, detail from raw_github.signal_status"))
    assert status[("a/b", "star_history")][0] == DEFERRED
    assert "paused after 2 pages" in status[("a/b", "star_history")][1]
    assert "resumes on the next run" in status[("a/b", "star_history")][1]
    assert status[("c/d", "star_history")][0] == DEFERRED  # not even asked: the budget was used up
    assert status[("a/b", "repo")][0] == OK and status[("c/d", "repo")][0] == OK
    assert [url.split("?")[0] for url, _, _ in spy.sent] == [REPO_URL.format(repo="a/b"), REPO_URL.format(repo="c/d"),
                                                             HISTORY_URL.format(repo="a/b"),
                                                             HISTORY_URL.format(repo="a/b")]
    assert asked_pages(spy, "a/b") == ["1", "2"]
    first_night = query(warehouse, "select min(starred_date), max(starred_date), count(*) from raw_github.star_history")
    assert first_night == [(week_start(TODAY) - dt.timedelta(weeks=59), TODAY, 7 * 59 + 3)]

    spy = SpyingReplay(night2.root)
    load_source(github_source(["a/b", "c/d"], client=HttpClient(spy, user_agent="t"), start_date=start, today=later),
                warehouse)
    pages = asked_pages(spy, "a/b")
    # Page 1 for the new week, then straight to page 3, which now holds the oldest week loaded, and page 4.
    assert pages == ["1", "3", "4"]
    rows = query(warehouse, "select min(starred_date), max(starred_date), count(*), count(distinct starred_date), "
                            "sum(stars_added) from raw_github.star_history where repo = 'a/b'")[0]
    assert rows[:2] == (start, later) and rows[2] == rows[3] == (later - start).days + 1 and rows[4] == rows[2]
    assert query(warehouse, "select status from raw_github.signal_status where dataset = 'star_history' "
                            "order by signal") == [(OK,), (OK,)]


def test_each_repo_fails_alone_and_snapshots_merge_per_day(tmp_path: Path, snap: SnapshotBuilder) -> None:
    snap.repo("ollama/ollama", 100, {D(2024, 6, 1): 50})
    snap.exchange(REPO_URL.format(repo="down/repo"), status=500, body={"message": "Server Error"})
    snap.write()
    client = HttpClient(ReplayTransport(snap.root), user_agent="t")

    def load() -> Path:
        source = github_source(["ollama/ollama", "down/repo"], client=client, start_date=D(2024, 1, 1),
                               today=TODAY, lookback_days=7)
        return load_source(source, tmp_path / "w.duckdb")

    warehouse = load()
    load()  # a second run the same day replaces the day's snapshot
    status = {(r[0], r[1]): r[2] for r in query(warehouse, "select signal, dataset, status "
                                                           "from raw_github.signal_status")}
    assert status == {("ollama/ollama", "repo"): OK, ("down/repo", "repo"): FAILED,
                      ("ollama/ollama", "star_history"): OK, ("down/repo", "star_history"): NO_DATA}
    assert query(warehouse, "select repo, observed_date, stars from raw_github.repos") == [
        ("ollama/ollama", TODAY, 100)]
    # The 50 stars of 2024-06-01 come from before the history's first week; the 50 since, on the day seen.
    assert query(warehouse, "select starred_date, stars_added from raw_github.star_history "
                            "where stars_added > 0") == [(TODAY, 50)]
    assert query(warehouse, "select count(*) from raw_github.star_history") == [
        ((TODAY - week_start(D(2024, 6, 1))).days + 1,)]
