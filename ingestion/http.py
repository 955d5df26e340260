"""The one HTTP layer every source uses: timeouts, retries with backoff, rate limits, redirects, and a
pluggable transport — live, replay (recorded responses, no network) or record (live, written to a snapshot).

Sources call `HttpClient.get(...)` and never know which transport answers; only the transport differs between
a nightly live run and an offline replay. Each source has its own client, built from what its module declares
(`ClientNeeds`): the live client it must look like (plain `requests`, or a browser for Yahoo) and when a retryable
answer is final. That choice travels with each request, so one replay and one recorder still serve the whole run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from ingestion.snapshot import (
    NoRecording,
    RecordingIndex,
    SnapshotError,
    find_recording,
    read_snapshot,
    request_params,
    scrub_headers,
    write_recording,
)

log = logging.getLogger("ai_pulse.http")

# The live client a request goes out with: `requests`, or curl_cffi with a browser's TLS and header fingerprint.
PLAIN, BROWSER = "requests", "browser"
RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 307, 308}
KEPT_RESPONSE_HEADERS = {"content-type", "retry-after", "location", "x-ratelimit-remaining", "x-ratelimit-reset",
                         "x-ratelimit-limit", "link"}
# The fix named when retries run out: after errors and 5xx, or after nothing but rate limiting.
FAILING = "the API is failing or rate limiting; the next run retries"
RATE_LIMITED = "the API kept rate limiting this client past every wait; the next run retries"


class SourceError(Exception):
    """A source could not get usable data for a signal; says which source, which signal, why, and the fix."""

    def __init__(self, source: str, signal: str, problem: str, fix: str = "") -> None:
        self.source, self.signal, self.problem, self.fix = source, signal, problem, fix
        super().__init__(f"[{source} {signal}] {problem}" + (f" — {fix}" if fix else ""))


class MissingRecording(SourceError):
    """Replay has no recorded response for a request: the snapshot does not hold this signal's data."""


class RateLimited(SourceError):
    """An API's rate limit ran out and resets later than a run should wait: the caller stops asking it and the next
    run resumes. `reset_at` is when the API said the limit resets (unix seconds), when it said."""

    def __init__(self, source: str, signal: str, problem: str, fix: str, reset_at: float | None) -> None:
        super().__init__(source, signal, problem, fix)
        self.reset_at = reset_at


@dataclass(frozen=True)
class RateBudget:
    """What an API's last answer said about its rate limit (GitHub's `x-ratelimit-*` headers)."""

    limit: int | None
    remaining: int
    reset_at: float | None

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0

    def resets(self) -> str:
        """When the limit resets, as a UTC clock time, or "later" when the API did not say."""
        if self.reset_at is None:
            return "later"
        return time.strftime("%H:%M UTC", time.gmtime(self.reset_at))


class Refused(SourceError):
    """A source's rule found a retryable answer final (e.g. a block, not a rate limit): no retry was made."""


class TransportError(Exception):
    """The transport could not deliver a response at all (connection failure, timeout, no recording)."""


class TransportUnavailable(TransportError):
    """The transport cannot send with the client a source needs (its library is not installed): retrying cannot help."""


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
    """Delivers one request with the live client `profile` names (PLAIN or BROWSER; replay ignores it); `sleep`
    lets replay skip real waiting while keeping the same retry logic."""

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float,
             profile: str = PLAIN) -> Response:
        ...

    def sleep(self, seconds: float) -> None:
        ...


class LiveTransport:
    """Talks to the real APIs with one session per profile, made on first use: `requests` for PLAIN, curl_cffi
    impersonating Chrome for BROWSER. Redirects are left to HttpClient so replay behaves the same."""

    def __init__(self) -> None:
        self._sessions: dict[str, tuple[Any, type[Exception]]] = {}

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float,
             profile: str = PLAIN) -> Response:
        if profile not in self._sessions:
            self._sessions[profile] = _live_session(profile)
        session, errors = self._sessions[profile]
        try:
            reply = session.request(method, url, params=params, headers=headers, timeout=timeout,
                                    allow_redirects=False)
        except errors as exc:
            # The host only: a URL can carry tokens in its query, and this message reaches logs and signal_status.
            raise TransportError(f"{type(exc).__name__} talking to {urlsplit(url).netloc}") from None
        return Response(reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.text, url)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _live_session(profile: str) -> tuple[Any, type[Exception]]:
    """A session for `profile` and the base class of the errors it raises."""
    if profile == BROWSER:
        try:
            from curl_cffi import requests as curl_requests
        except ImportError:
            raise TransportUnavailable("curl_cffi is not installed, and this API answers only browser-like "
                                       "clients") from None
        # As yfinance does since Yahoo's 2025 block (yfinance/_http.py `Session(impersonate="chrome")`, PR #2430):
        # curl_cffi sends Chrome's TLS fingerprint and headers; "chrome" follows the newest Chrome it knows.
        return curl_requests.Session(impersonate="chrome"), curl_requests.exceptions.RequestException
    if profile != PLAIN:
        raise ValueError(f"unknown HTTP client profile {profile!r}: use {PLAIN!r} or {BROWSER!r}")
    import requests

    return requests.Session(), requests.RequestException


@dataclass
class ReplayTransport:
    """Serves recorded responses from a snapshot directory and never opens a network connection."""

    snapshot_dir: Path
    recordings: RecordingIndex = field(default_factory=lambda: RecordingIndex(()))
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Validated and parsed once per process: a run that validated the snapshot up front reads nothing again.
        self.recordings = RecordingIndex(read_snapshot(self.snapshot_dir).recordings)

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float,
             profile: str = PLAIN) -> Response:
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

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float,
             profile: str = PLAIN) -> Response:
        reply = self.inner.send(method, url, params, headers, timeout, profile)
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


# Given a retryable answer and whether its host has answered this client successfully before: the (problem, fix)
# that makes the answer final, or None to retry as usual.
RefuseRetry = Callable[[Response, bool], "tuple[str, str] | None"]


@dataclass(frozen=True)
class ClientNeeds:
    """What a source needs of its HttpClient, declared in the source's module: the live client its requests must
    look like (`profile`), and a rule that may refuse to retry an answer (e.g. a block that is not a rate limit)."""

    profile: str = PLAIN
    refuse_retry: RefuseRetry | None = None


DEFAULT_NEEDS = ClientNeeds()


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
    needs: ClientNeeds = DEFAULT_NEEDS
    # A rate limit that resets sooner than this is waited out; a later one stops the caller (RateLimited).
    rate_limit_patience: float = 60.0
    requests_sent: int = 0
    answered_hosts: set[str] = field(default_factory=set)  # hosts that have sent this client a success (< 400)
    budgets: dict[str, RateBudget] = field(default_factory=dict)

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
        # An impersonated browser sends its own User-Agent: ours beside Chrome's TLS fingerprint would give it away.
        identity = {} if self.needs.profile == BROWSER else {"User-Agent": self.user_agent}
        all_headers = {**identity, **(headers or {})}
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
        problem, fix = "", FAILING
        host = urlsplit(url).netloc
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.requests_sent += 1
                reply = self.transport.send("GET", url, params, headers, self.timeout, self.needs.profile)
            except NoRecording as exc:
                # A replay without a matching recording will not get one by retrying: no data for this signal.
                raise MissingRecording(source, signal, f"no recorded response for {exc.request}") from None
            except SnapshotError as exc:
                raise SourceError(source, signal, str(exc), "fix the snapshot's response files") from None
            except TransportUnavailable as exc:
                raise SourceError(source, signal, str(exc), "install the locked environment: `uv sync`") from None
            except TransportError as exc:
                problem, fix, wait = str(exc), FAILING, self._backoff(attempt)
            else:
                self._note_budget(reply)
                if reply.status < 400:
                    self.answered_hosts.add(host)
                if reply.status not in RETRY_STATUSES and not _rate_limited(reply):
                    return reply
                rule = self.needs.refuse_retry
                if rule is not None and (refusal := rule(reply, host in self.answered_hosts)):
                    raise Refused(source, signal, *refusal)
                limited = reply.status == 429 or _rate_limited(reply)
                problem = f"rate limited (HTTP {reply.status})" if limited else f"HTTP {reply.status}"
                fix, wait = RATE_LIMITED if limited else FAILING, self._wait_for(reply, attempt)
                if _rate_limited(reply) and wait > self.rate_limit_patience:
                    budget = self.budgets.get(host)
                    raise RateLimited(source, signal, f"the API's rate limit ran out (resets at "
                                      f"{budget.resets() if budget else 'a later time'})",
                                      "the next run resumes where this one stopped", budget and budget.reset_at)
            if attempt == self.max_attempts:
                break
            log.warning("[%s %s] %s; retry %d/%d in %.1fs", source, signal, problem, attempt,
                        self.max_attempts - 1, wait)
            self.transport.sleep(wait)
        raise SourceError(source, signal, f"{problem} after {self.max_attempts} attempts", fix)

    def budget(self, host: str) -> RateBudget | None:
        """The rate limit `host` reported in its last answer, if it reports one."""
        return self.budgets.get(host)

    def _note_budget(self, reply: Response) -> None:
        remaining = reply.headers.get("x-ratelimit-remaining")
        if remaining is None or not remaining.strip().isdigit():
            return
        limit, reset = reply.headers.get("x-ratelimit-limit", ""), reply.headers.get("x-ratelimit-reset", "")
        self.budgets[urlsplit(reply.url).netloc] = RateBudget(
            limit=int(limit) if limit.strip().isdigit() else None, remaining=int(remaining),
            reset_at=float(reset) if reset.strip().isdigit() else None)

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
