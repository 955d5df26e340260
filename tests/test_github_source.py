"""The GitHub source snapshots every registered repo under its registered name, follows renames, respects rate
limits, sends the token only to GitHub and only when set, and backfills stars from the dated archive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.common import FAILED, NO_DATA, OK, Window
from ingestion.github import fetch_archive, fetch_repo, github_source
from ingestion.http import HttpClient, ReplayTransport, SourceError
from tests.conftest import load_source, query
from tests.snapshot_factory import ARCHIVE_URL, REPO_URL, SnapshotBuilder, SpyingReplay, archive_body, repo_body

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
    snap.exchange(REPO_URL.format("Ollama/Ollama"), body=repo_body("ollama/ollama", 100))
    client, spy = client_for(snap)
    fetched = fetch_repo(client, "Ollama/Ollama", ONE_DAY)
    assert fetched.tables["repos"] == [{"repo": "ollama/ollama", "observed_date": TODAY, "full_name": "ollama/ollama",
                                        "stars": 100, "forks": 10, "open_issues": 3, "subscribers": 7,
                                        "pushed_at": dt.datetime(2024, 12, 30, 10, tzinfo=dt.UTC)}]
    url, _, headers = spy.sent[0]
    assert url == "https://api.github.com/repos/Ollama/Ollama"
    assert headers["Accept"] == "application/vnd.github+json" and headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert "Authorization" not in headers


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "SOURCES__GITHUB__ACCESS_TOKEN"])
def test_a_token_goes_to_github_as_bearer_and_never_to_the_archive(snap: SnapshotBuilder, variable: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, "ghp_test_token")
    snap.exchange(REPO_URL.format("ollama/ollama"), body=repo_body("ollama/ollama", 100))
    snap.exchange(ARCHIVE_URL.format("ollama/ollama"), body=archive_body("ollama/ollama", {TODAY: 99}))
    client, spy = client_for(snap)
    fetch_repo(client, "ollama/ollama", ONE_DAY)
    fetch_archive(client, "ollama/ollama", ONE_DAY)
    assert spy.sent[0][2]["Authorization"] == "Bearer ghp_test_token"
    assert "Authorization" not in spy.sent[1][2]


def test_a_renamed_repo_is_followed_and_kept_under_its_registered_name(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format("ggerganov/llama.cpp"), status=301,
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
    snap.exchange(REPO_URL.format("gone/away"), status=404, body={"message": "Not Found"})
    fetched = fetch_repo(client_for(snap)[0], "gone/away", ONE_DAY)
    assert fetched.status == NO_DATA and "[github gone/away] GitHub 404" in fetched.detail
    assert "registry.yml" in fetched.detail


@pytest.mark.parametrize("limited", [
    {"status": 429, "headers": {"Retry-After": "2"}},
    {"status": 403, "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}},
], ids=["429_retry_after", "403_rate_limit"])
def test_rate_limits_are_waited_out_then_the_repo_loads(snap: SnapshotBuilder, limited: dict) -> None:
    snap.exchange(REPO_URL.format("ollama/ollama"), body={"message": "rate limited"}, order=1, **limited)
    snap.exchange(REPO_URL.format("ollama/ollama"), body=repo_body("ollama/ollama", 100), order=2)
    client, spy = client_for(snap)
    fetched = fetch_repo(client, "ollama/ollama", ONE_DAY)
    assert fetched.status == OK and len(spy.sent) == 2 and len(spy.replay.waits) == 1


def test_truncated_json_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format("ollama/ollama"), text='{"full_name": "ollama/oll')
    with pytest.raises(SourceError, match=r"\[github ollama/ollama\] HTTP 200 body is not valid JSON"):
        fetch_repo(client_for(snap)[0], "ollama/ollama", ONE_DAY)


def test_a_missing_or_mistyped_count_fails_the_repo_instead_of_loading_null(snap: SnapshotBuilder) -> None:
    body = repo_body("ollama/ollama", 100)
    del body["stargazers_count"]
    snap.exchange(REPO_URL.format("ollama/ollama"), body=body)
    odd = repo_body("x/y", 1) | {"forks_count": "many"}
    snap.exchange(REPO_URL.format("x/y"), body=odd)
    client = client_for(snap)[0]
    with pytest.raises(SourceError, match=r"lacks required field\(s\) stargazers_count"):
        fetch_repo(client, "ollama/ollama", ONE_DAY)
    with pytest.raises(SourceError, match=r"\[github x/y\] forks_count is 'many', not a count"):
        fetch_repo(client, "x/y", ONE_DAY)


def test_a_new_field_is_reported_and_the_snapshot_still_loads(snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format("ollama/ollama"), body=repo_body("ollama/ollama", 100) | {"star_velocity": 3})
    fetched = fetch_repo(client_for(snap)[0], "ollama/ollama", ONE_DAY)
    assert fetched.status == OK and "new field(s) in the repository object: star_velocity" in fetched.detail


def test_the_archive_keeps_the_window_and_a_repo_without_archive_is_no_data(snap: SnapshotBuilder) -> None:
    snap.exchange(ARCHIVE_URL.format("ollama/ollama"),
                  body=archive_body("ollama/ollama", {D(2023, 12, 31): 1, D(2024, 1, 5): 2, D(2025, 1, 1): 3}))
    snap.exchange(ARCHIVE_URL.format("gone/away"), status=404, body={"error": "unknown repo"})
    client = client_for(snap)[0]
    year = Window(D(2024, 1, 1), TODAY)
    archived = fetch_archive(client, "ollama/ollama", year)
    assert [(r["observed_date"], r["stars"]) for r in archived.tables["star_history"]] == [(D(2024, 1, 5), 2)]
    assert fetch_archive(client, "gone/away", year).status == NO_DATA
    unrecorded = fetch_archive(client, "not/recorded", year)
    assert unrecorded.status == NO_DATA and "holds no star archive" in unrecorded.detail


def test_each_repo_fails_alone_and_snapshots_merge_per_day(tmp_path: Path, snap: SnapshotBuilder) -> None:
    snap.exchange(REPO_URL.format("ollama/ollama"), body=repo_body("ollama/ollama", 100))
    snap.exchange(REPO_URL.format("down/repo"), status=500, body={"message": "Server Error"})
    snap.exchange(ARCHIVE_URL.format("ollama/ollama"), body=archive_body("ollama/ollama", {D(2024, 6, 1): 50}))
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
                      ("ollama/ollama", "star_archive"): OK, ("down/repo", "star_archive"): NO_DATA}
    assert query(warehouse, "select repo, observed_date, stars from raw_github.repos") == [
        ("ollama/ollama", TODAY, 100)]
    assert query(warehouse, "select repo, observed_date, stars from raw_github.star_history") == [
        ("ollama/ollama", D(2024, 6, 1), 50)]
