"""The one HTTP layer every source uses: timeouts, retries with backoff, rate limits, redirects, and a
pluggable transport — live, replay (recorded responses, no network) or record (live, written to a snapshot).

Sources call `HttpClient.get(...)` and never know which transport answers; only the transport differs between
a nightly live run and an offline replay.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from ingestion.snapshot import (
    Recording,
    SnapshotError,
    find_recording,
    read_snapshot,
    request_params,
    scrub_headers,
    write_recording,
)

log = logging.getLogger("ai_pulse.http")

RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 307, 308}
KEPT_RESPONSE_HEADERS = {"content-type", "retry-after", "location", "x-ratelimit-remaining", "x-ratelimit-reset",
                         "x-ratelimit-limit", "link"}


class SourceError(Exception):
    """A source could not get usable data for a signal; says which source, which signal, why, and the fix."""

    def __init__(self, source: str, signal: str, problem: str, fix: str = "") -> None:
        self.source, self.signal, self.problem, self.fix = source, signal, problem, fix
        super().__init__(f"[{source} {signal}] {problem}" + (f" — {fix}" if fix else ""))


class MissingRecording(SourceError):
    """Replay has no recorded response for a request: the snapshot does not hold this signal's data."""


class TransportError(Exception):
    """The transport could not deliver a response at all (connection failure, timeout, no recording)."""


@dataclass
class Response:
    """What came back: status, headers (lower-case names) and the body as text."""

    status: int
    headers: dict[str, str]
    text: str
    url: str

    def json(self) -> Any:
        return json.loads(self.text)


class Transport(Protocol):
    """Delivers one request; `sleep` lets replay skip real waiting while keeping the same retry logic."""

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float) -> Response:
        ...

    def sleep(self, seconds: float) -> None:
        ...


class LiveTransport:
    """Talks to the real APIs with `requests`; redirects are left to HttpClient so replay behaves the same."""

    def __init__(self) -> None:
        import requests

        self._requests = requests
        self.session = requests.Session()

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float) -> Response:
        try:
            reply = self.session.request(method, url, params=params, headers=headers, timeout=timeout,
                                         allow_redirects=False)
        except self._requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__} talking to {urlsplit(url).netloc}") from None
        return Response(reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.text, url)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class ReplayTransport:
    """Serves recorded responses from a snapshot directory and never opens a network connection."""

    snapshot_dir: Path
    recordings: list[Recording] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Validated and parsed once per process: a run that validated the snapshot up front reads nothing again.
        self.recordings = list(read_snapshot(self.snapshot_dir).recordings)

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float) -> Response:
        recording = find_recording(self.recordings, method, url, params)
        reply = recording.response
        text = reply["text"] if "text" in reply else json.dumps(reply["json"])
        return Response(reply["status"], {k.lower(): str(v) for k, v in (reply.get("headers") or {}).items()},
                        text, url)

    def sleep(self, seconds: float) -> None:
        # Replay keeps the retry logic but not the wall-clock wait; waits are kept for tests to inspect.
        self.waits.append(seconds)


@dataclass
class RecordingTransport:
    """Wraps a transport (live, in practice) and writes every exchange into a snapshot directory, without
    secrets: request headers are never written, and credential-like headers and params are dropped."""

    inner: Transport
    snapshot_dir: Path
    count: int = 0

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float) -> Response:
        reply = self.inner.send(method, url, params, headers, timeout)
        self.count += 1
        parts = urlsplit(url)
        name = "_".join(s for s in parts.path.split("/") if s)[-80:] or "root"
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        target = self.snapshot_dir / "responses" / parts.netloc / f"{self.count:06d}_{safe}.json"
        body: dict[str, Any]
        try:
            body = {"json": json.loads(reply.text)}
        except ValueError:
            body = {"text": reply.text}
        headers_kept = {k: v for k, v in scrub_headers(reply.headers).items() if k in KEPT_RESPONSE_HEADERS}
        # Every file carries its sequence number, so repeated requests (a 429, then a 200) replay in order.
        write_recording(target, method, url.split("?")[0], request_params(url, params),
                        {"status": reply.status, "headers": headers_kept, **body}, order=self.count)
        return reply

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


@dataclass
class HttpClient:
    """GET with timeouts, retries (exponential backoff honouring Retry-After and rate-limit resets) and
    redirects, over any transport. `source`/`signal` name what is being fetched in every error."""

    transport: Transport
    user_agent: str
    timeout: float = 30.0
    max_attempts: int = 5
    backoff_base: float = 1.0
    max_wait: float = 900.0
    max_redirects: int = 5
    requests_sent: int = 0

    def get(
        self,
        url: str,
        *,
        source: str,
        signal: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Fetch a URL; returns the final response (any status but retryable ones). Raises SourceError when the
        retries are used up or the transport fails for good."""
        params = {k: str(v) for k, v in (params or {}).items()}
        all_headers = {"User-Agent": self.user_agent, **(headers or {})}
        for _hop in range(self.max_redirects + 1):
            reply = self._get_with_retries(url, params, all_headers, source, signal)
            if reply.status not in REDIRECT_STATUSES or "location" not in reply.headers:
                return reply
            url, params = urljoin(url, reply.headers["location"]), {}
            log.info("[%s %s] redirected to %s", source, signal, url)
        raise SourceError(source, signal, f"more than {self.max_redirects} redirects", "check the registered name")

    def get_json(self, url: str, *, source: str, signal: str, **kwargs: Any) -> tuple[Response, Any]:
        """Fetch and parse JSON; a truncated or non-JSON body is a SourceError, whatever the status."""
        reply = self.get(url, source=source, signal=signal, **kwargs)
        return reply, json_body(reply, source=source, signal=signal)

    def _get_with_retries(
        self, url: str, params: dict[str, str], headers: dict[str, str], source: str, signal: str
    ) -> Response:
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.requests_sent += 1
                reply = self.transport.send("GET", url, params, headers, self.timeout)
            except SnapshotError as exc:
                # A replay without a matching recording will not get one by retrying.
                raise MissingRecording(source, signal, str(exc)) from None
            except TransportError as exc:
                problem, wait = str(exc), self._backoff(attempt)
            else:
                if reply.status not in RETRY_STATUSES and not _rate_limited(reply):
                    return reply
                problem, wait = f"HTTP {reply.status}", self._wait_for(reply, attempt)
            if attempt == self.max_attempts:
                break
            log.warning("[%s %s] %s; retry %d/%d in %.1fs", source, signal, problem, attempt,
                        self.max_attempts - 1, wait)
            self.transport.sleep(wait)
        raise SourceError(source, signal, f"{problem} after {self.max_attempts} attempts",
                          "the API is failing or rate limiting; the next run retries")

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_base * 2 ** (attempt - 1), self.max_wait)

    def _wait_for(self, reply: Response, attempt: int) -> float:
        """Retry-After (seconds or HTTP date) wins, then x-ratelimit-reset, then exponential backoff."""
        retry_after = reply.headers.get("retry-after")
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_wait)
            except ValueError:
                try:
                    return min(max(parsedate_to_datetime(retry_after).timestamp() - time.time(), 0.0), self.max_wait)
                except (TypeError, ValueError):
                    pass
        if _rate_limited(reply) and "x-ratelimit-reset" in reply.headers:
            try:
                return min(max(float(reply.headers["x-ratelimit-reset"]) - time.time(), 0.0) + 1, self.max_wait)
            except ValueError:
                pass
        return self._backoff(attempt)


def json_body(reply: Response, *, source: str, signal: str) -> Any:
    """The parsed body; a truncated or non-JSON body is a SourceError, whatever the status."""
    try:
        return reply.json()
    except ValueError:
        snippet = reply.text[:80].replace("\n", " ")
        raise SourceError(source, signal, f"HTTP {reply.status} body is not valid JSON ({snippet!r}…)",
                          "the API returned a truncated or HTML page; retry later") from None


def _rate_limited(reply: Response) -> bool:
    """GitHub signals exhaustion with 403 plus `x-ratelimit-remaining: 0`."""
    return reply.status in (403, 429) and reply.headers.get("x-ratelimit-remaining") == "0"


def make_transport(mode: str, snapshot_dir: Path, record_dir: Path | None = None) -> Transport:
    """The transport for a run: replay from a snapshot or live; with a record directory, every exchange is also
    written there (re-recording a replay exercises the same recorder offline)."""
    inner: Transport = ReplayTransport(snapshot_dir) if mode == "replay" else LiveTransport()
    return RecordingTransport(inner, record_dir) if record_dir else inner
