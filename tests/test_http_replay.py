"""The one HTTP layer: replay matching exactly as docs/SNAPSHOTS.md says, retries and rate limits, redirects,
clear errors, recording that replays the same and keeps no secrets, and live clients that look like `requests` or
like a browser (curl_cffi)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from ingestion.http import (
    BROWSER,
    PLAIN,
    ClientNeeds,
    HttpClient,
    LiveTransport,
    RecordingTransport,
    ReplayTransport,
    Response,
    SourceError,
    TransportError,
)
from ingestion.snapshot import SnapshotError, SnapshotWriter, load_manifest, read_snapshot
from ingestion.snapshots.builder.factory import SnapshotBuilder
from tests.conftest import local_server

API = "https://api.example.test"


def client_for(root: Path) -> HttpClient:
    return HttpClient(transport=ReplayTransport(root), user_agent="AI-Pulse tests")


@pytest.fixture
def snap(tmp_path: Path) -> SnapshotBuilder:
    return SnapshotBuilder(tmp_path / "snap", dt.date(2024, 12, 31))


def get(snap: SnapshotBuilder, url: str, **params: str):
    snap.write()
    return client_for(snap.root).get_json(url, source="test", signal="s", params=params)[1]


def test_wildcard_segment_matches_any_one_segment(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/items/*/daily", body={"hit": "wildcard"})
    assert get(snap, f"{API}/items/anything/daily") == {"hit": "wildcard"}
    with pytest.raises(SourceError, match="no recorded response"):
        get(snap, f"{API}/items/a/b/daily")


def test_recorded_params_must_be_a_subset_of_the_request(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/chart", params={"interval": "1d"}, body={"hit": "1d"})
    assert get(snap, f"{API}/chart", interval="1d", period1="1", period2="2") == {"hit": "1d"}
    with pytest.raises(SourceError, match=r"no recorded response for GET https://api.example.test/chart"):
        get(snap, f"{API}/chart", interval="1wk")


def test_params_in_the_recorded_url_count_and_values_are_compared_decoded(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/docs?conditions%5Bterm%5D=artificial%20intelligence", body={"hit": "decoded"})
    assert get(snap, f"{API}/docs", **{"conditions[term]": "artificial intelligence"}) == {"hit": "decoded"}


def test_paths_are_compared_percent_decoded(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/wiki/Mamba_%28deep_learning_architecture%29", body={"hit": "encoded"})
    assert get(snap, f"{API}/wiki/Mamba_(deep_learning_architecture)") == {"hit": "encoded"}


def test_most_literal_segments_win_then_most_params(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/repos/*/*", body={"hit": "two wildcards"})
    snap.exchange(f"{API}/repos/ollama/*", body={"hit": "one wildcard"})
    snap.exchange(f"{API}/repos/ollama/ollama", body={"hit": "literal"})
    snap.exchange(f"{API}/repos/ollama/ollama", params={"page": "2"}, body={"hit": "literal+param"})
    assert get(snap, f"{API}/repos/ollama/ollama") == {"hit": "literal"}
    assert get(snap, f"{API}/repos/ollama/ollama", page="2") == {"hit": "literal+param"}
    assert get(snap, f"{API}/repos/ollama/other") == {"hit": "one wildcard"}
    assert get(snap, f"{API}/repos/x/y") == {"hit": "two wildcards"}


def test_equal_rank_without_order_is_an_error_naming_both_files(snap: SnapshotBuilder) -> None:
    first = snap.exchange(f"{API}/x", body=1)
    second = snap.exchange(f"{API}/x", body=2)
    with pytest.raises(SourceError) as error:
        get(snap, f"{API}/x")
    assert str(first) in str(error.value) and str(second) in str(error.value)


def test_ordered_recordings_are_served_in_order_and_the_last_repeats(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/seq", body="third", order=3)
    snap.exchange(f"{API}/seq", body="first", order=1)
    snap.exchange(f"{API}/seq", body="second", order=2)
    snap.write()
    client = client_for(snap.root)
    served = [client.get_json(f"{API}/seq", source="t", signal="s")[1] for _ in range(5)]
    assert served == ["first", "second", "third", "third", "third"]


def test_429_then_200_is_retried_honouring_retry_after(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/limited", status=429, body={"message": "slow down"}, headers={"Retry-After": "7"}, order=1)
    snap.exchange(f"{API}/limited", status=429, body={}, headers={"Retry-After": "0"}, order=2)
    snap.exchange(f"{API}/limited", body={"ok": True}, order=3)
    snap.write()
    client = client_for(snap.root)
    reply, body = client.get_json(f"{API}/limited", source="github", signal="ollama/ollama")
    assert (reply.status, body) == (200, {"ok": True})
    assert client.transport.waits == [7.0, 0.0]
    assert client.requests_sent == 3


def test_429_without_retry_after_backs_off_exponentially(snap: SnapshotBuilder) -> None:
    for order in (1, 2):
        snap.exchange(f"{API}/busy", status=429, body={"message": "too many requests"}, order=order)
    snap.exchange(f"{API}/busy", body={"ok": True}, order=3)
    snap.write()
    client = client_for(snap.root)
    assert client.get_json(f"{API}/busy", source="trends", signal="ChatGPT")[1] == {"ok": True}
    assert client.transport.waits == [1.0, 2.0]


def test_a_5xx_burst_is_ridden_out_and_the_data_loads(snap: SnapshotBuilder) -> None:
    for order, status in enumerate((502, 503, 500), start=1):
        snap.exchange(f"{API}/flaky", status=status, text="<html>Bad Gateway</html>", order=order)
    snap.exchange(f"{API}/flaky", body={"ok": True}, order=4)
    snap.write()
    client = client_for(snap.root)
    assert client.get_json(f"{API}/flaky", source="regulatory", signal="artificial intelligence")[1] == {"ok": True}
    assert client.requests_sent == 4


def test_an_html_error_page_with_status_200_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/maintenance", text="<!DOCTYPE html><html><body>Back soon</body></html>",
                  headers={"Content-Type": "text/html"})
    snap.write()
    with pytest.raises(SourceError, match=r"\[github a/b\] HTTP 200 body is not valid JSON \('<!DOCTYPE html>"):
        client_for(snap.root).get_json(f"{API}/maintenance", source="github", signal="a/b")


class SlowServer(BaseHTTPRequestHandler):
    """A local HTTP server that stalls its first `stalls` answers past the client's timeout."""

    stalls = 0
    served = 0

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        SlowServer.served += 1
        if SlowServer.served <= SlowServer.stalls:
            time.sleep(1.0)
        body = b'{"ok": true}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and hung up, as it should

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    SlowServer.stalls, SlowServer.served = 0, 0
    with local_server(SlowServer) as url:
        yield url


@pytest.mark.parametrize(("profile", "timeout_error"), [(PLAIN, "ReadTimeout"), (BROWSER, "Timeout")])
def test_timeouts_are_retried_then_fail_naming_source_and_signal(slow_server: str, profile: str,
                                                                 timeout_error: str) -> None:
    # The live transport against a real (local) server: the only way to see a real read timeout.
    client = HttpClient(transport=LiveTransport(), user_agent="AI-Pulse tests", timeout=0.2, max_attempts=3,
                        backoff_base=0.01, needs=ClientNeeds(profile=profile))
    SlowServer.stalls = 1
    reply, body = client.get_json(f"{slow_server}/chart", source="stocks", signal="NVDA")
    assert (reply.status, body, client.requests_sent) == (200, {"ok": True}, 2)
    SlowServer.stalls, SlowServer.served = 10, 0
    with pytest.raises(SourceError, match=rf"\[stocks NVDA\] {timeout_error} talking to 127\.0\.0\.1:\d+ after 3 "
                                          r"attempts — the API is failing or rate limiting; the next run retries"):
        client.get_json(f"{slow_server}/chart", source="stocks", signal="NVDA")


class EchoHeaders(BaseHTTPRequestHandler):
    """A local HTTP server that answers with the request's headers (names lower-cased) as JSON."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


REGISTRY_AGENT = "AI-Pulse/0.1 (https://example.test/contact)"


def sent_headers(url: str, profile: str) -> dict[str, str]:
    client = HttpClient(transport=LiveTransport(), user_agent=REGISTRY_AGENT, needs=ClientNeeds(profile=profile))
    return client.get_json(f"{url}/v8/finance/chart/NVDA", source="stocks", signal="NVDA")[1]


def test_the_browser_profile_sends_chromes_own_headers_and_not_the_registry_user_agent() -> None:
    with local_server(EchoHeaders) as url:
        browser, plain = sent_headers(url, BROWSER), sent_headers(url, PLAIN)
    assert "Chrome/" in browser["user-agent"] and "AI-Pulse" not in browser["user-agent"]
    assert '"Google Chrome"' in browser["sec-ch-ua"]
    assert plain["user-agent"] == REGISTRY_AGENT and "sec-ch-ua" not in plain


def test_curl_cffi_failures_become_transport_errors_naming_only_the_host(slow_server: str) -> None:
    SlowServer.stalls = 10
    secret = {"token": "s3cret"}
    with pytest.raises(TransportError) as timed_out:
        LiveTransport().send("GET", f"{slow_server}/v8/finance/chart/NVDA", secret, {}, 0.2, BROWSER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(TransportError) as refused:
        LiveTransport().send("GET", f"http://127.0.0.1:{closed_port}/v8/finance/chart/NVDA", secret, {}, 5, BROWSER)
    assert str(timed_out.value) == f"Timeout talking to {slow_server.removeprefix('http://')}"
    assert str(refused.value) == f"ConnectionError talking to 127.0.0.1:{closed_port}"


def test_a_missing_curl_cffi_fails_at_once_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "curl_cffi", None)  # what `import curl_cffi` meets when it is not installed
    client = HttpClient(transport=LiveTransport(), user_agent="t", needs=ClientNeeds(profile=BROWSER))
    with pytest.raises(SourceError, match=r"\[stocks NVDA\] curl_cffi is not installed.* — install the locked "
                                          r"environment: `uv sync`"):
        client.get("http://127.0.0.1:9/v8/finance/chart/NVDA", source="stocks", signal="NVDA")
    assert client.requests_sent == 1


def test_github_rate_limit_waits_for_the_reset_time(snap: SnapshotBuilder) -> None:
    reset = int(dt.datetime.now(dt.UTC).timestamp()) + 30
    snap.exchange(f"{API}/rl", status=403, body={"message": "API rate limit exceeded"},
                  headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}, order=1)
    snap.exchange(f"{API}/rl", body={"ok": True}, order=2)
    snap.write()
    client = client_for(snap.root)
    assert client.get_json(f"{API}/rl", source="github", signal="a/b")[1] == {"ok": True}
    assert 25 <= client.transport.waits[0] <= 32


def test_persistent_5xx_fails_naming_source_and_signal_after_bounded_retries(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/down", status=503, text="<html>Service Unavailable</html>")
    snap.write()
    client = client_for(snap.root)
    with pytest.raises(SourceError) as error:
        client.get(f"{API}/down", source="stocks", signal="NVDA")
    assert "[stocks NVDA] HTTP 503 after 5 attempts" in str(error.value)
    assert client.transport.waits == [1.0, 2.0, 4.0, 8.0]


def test_truncated_json_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/trunc", text='{"chart": {"result": [')
    with pytest.raises(SourceError, match=r"\[stocks NVDA\] HTTP 200 body is not valid JSON"):
        snap.write()
        client_for(snap.root).get_json(f"{API}/trunc", source="stocks", signal="NVDA")


def test_redirects_are_followed(snap: SnapshotBuilder) -> None:
    snap.exchange(f"{API}/repos/old/name", status=301, body={"message": "Moved Permanently"},
                  headers={"Location": f"{API}/repositories/42"})
    snap.exchange(f"{API}/repositories/42", body={"full_name": "new/name"})
    assert get(snap, f"{API}/repos/old/name") == {"full_name": "new/name"}


def test_gzipped_response_files_are_read(snap: SnapshotBuilder) -> None:
    doc = {"request": {"method": "GET", "url": f"{API}/gz"}, "response": {"status": 200, "json": {"gz": 1}}}
    target = snap.root / "responses" / "deep" / "er" / "gz.json.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(json.dumps(doc).encode()))
    assert get(snap, f"{API}/gz") == {"gz": 1}


def test_a_malformed_response_file_is_named(snap: SnapshotBuilder) -> None:
    bad = snap.root / "responses" / "bad.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"request": {}}')
    with pytest.raises(SnapshotError, match="bad.json is not a recorded exchange"):
        read_snapshot(snap.write())


def test_manifest_problems_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        load_manifest(tmp_path / "nowhere")
    with pytest.raises(SnapshotError, match="manifest.json is missing"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"as_of": "yesterday", "description": "x"}')
    with pytest.raises(SnapshotError, match="is not a YYYY-MM-DD date"):
        load_manifest(tmp_path)


def test_a_response_file_linking_outside_the_snapshot_is_refused(snap: SnapshotBuilder, tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps({"request": {"url": f"{API}/x"}, "response": {"status": 200, "json": 1}}))
    (snap.root / "responses").mkdir(parents=True)
    (snap.root / "responses" / "link.json").symlink_to(outside)
    with pytest.raises(SnapshotError, match=f"link.json links to {outside}, outside the snapshot"):
        read_snapshot(snap.write())


def test_replay_never_opens_a_socket(snap: SnapshotBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    snap.exchange(f"{API}/ok", body={"ok": True})
    assert get(snap, f"{API}/ok") == {"ok": True}
    with pytest.raises(SourceError):
        get(snap, f"{API}/not-recorded")
    assert attempts == []
    # The guard itself works: a real connection attempt is caught.
    with pytest.raises(OSError), socket.socket() as probe:
        probe.connect(("127.0.0.1", 9))
    assert attempts == [("127.0.0.1", 9)]


@dataclass
class SettingACookie:
    """A transport standing in for a live API that sets a session cookie on every answer."""

    inner: ReplayTransport

    def send(self, *args: Any, **kwargs: Any) -> Response:
        reply = self.inner.send(*args, **kwargs)
        reply.headers["set-cookie"] = "session=abc"
        return reply

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def test_recording_replays_the_same_and_strips_secrets(snap: SnapshotBuilder, tmp_path: Path) -> None:
    snap.exchange(f"{API}/repos/a/b", body={"stargazers_count": 5},
                  headers={"Content-Type": "application/json", "x-ratelimit-remaining": "9"})
    snap.write()
    recorded = tmp_path / "recorded"
    # Recording wraps any transport; replay, setting a cookie as a live API would, stands in for the network here.
    recorder = RecordingTransport(SettingACookie(ReplayTransport(snap.root)), recorded)
    canary = "ghp_canary_token_1234567890"
    client = HttpClient(transport=recorder, user_agent="AI-Pulse tests")
    client.get_json(f"{API}/repos/a/b", source="github", signal="a/b", params={"access_token": canary},
                    headers={"Authorization": f"Bearer {canary}"})
    files = list((recorded / "responses").rglob("*.json"))
    # Filed by host and sequence, as docs/SNAPSHOTS.md says.
    assert [f.relative_to(recorded).as_posix() for f in files] == ["responses/api.example.test/000001_repos_a_b.json"]
    text = files[0].read_text()
    assert canary not in text and "session=abc" not in text and '"x-ratelimit-remaining":"9"' in text
    SnapshotWriter(recorded).write_manifest(dt.date(2024, 12, 31), "recorded", [])
    again = client_for(recorded).get_json(f"{API}/repos/a/b", source="github", signal="a/b")[1]
    assert again == {"stargazers_count": 5}


def test_the_snapshot_writer_drops_credentials_from_whatever_it_is_given(snap: SnapshotBuilder) -> None:
    secret = "s3cr3t-canary"
    written = snap.exchange(f"{API}/data?api_key={secret}&day=1", params={"token": secret, "page": "2"},
                            headers={"Content-Type": "application/json", "Set-Cookie": f"id={secret}"}, body=[1])
    text = written.read_text()
    assert secret not in text and "day=1" in text and '"page":"2"' in text
    assert get(snap, f"{API}/data", day="1", page="2") == [1]
