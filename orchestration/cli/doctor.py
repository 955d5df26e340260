"""`ai-pulse doctor`: what would make tonight's run fail, and how to fix it, before it runs.

It checks the set-up a run needs (registry, snapshot, warehouse and its lock, Dagster home, disk) and sends one
small request per source through the same code the sources use: in replay through the snapshot (does it answer
every source?), with `--live` to the real APIs (do they answer in the shape the parsers expect?), with GitHub's
remaining rate limit. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingestion.common import DEFERRED, FAILED, NO_DATA, Fetched, Window
from ingestion.github import API_HOST, WEEKS_PER_PAGE, api_headers, fetch_history_page, fetch_repo, github_token
from ingestion.http import DEFAULT_NEEDS, ClientNeeds, HttpClient, MissingRecording, SourceError, make_transport
from ingestion.news import fetch_month as news_month
from ingestion.registry import Registry, RegistryError, load_registry
from ingestion.regulatory import fetch_month as regulatory_month
from ingestion.snapshot import SnapshotError, load_manifest, read_snapshot
from ingestion.stocks import CLIENT_NEEDS as STOCKS_NEEDS
from ingestion.stocks import fetch_chart
from ingestion.trends import fetch_pageviews
from orchestration.lib import local_faults
from orchestration.lib.settings import ConfigError, HostedWarehouse, RunSettings, resolve_settings

RATE_LIMIT_URL = "https://api.github.com/rate_limit"  # does not count against the primary limit (GitHub REST docs)
MIN_FREE_BYTES = 1 << 30
OK, WARN, PROBLEM = "ok", "warning", "problem"
MARKS = {OK: "ok  ", WARN: "warn", PROBLEM: "FAIL"}


@dataclass(frozen=True)
class Finding:
    """One thing checked: how it stands, what was found and, when it is not fine, what to do."""

    area: str
    state: str
    text: str
    fix: str = ""

    def line(self) -> str:
        return f"[{MARKS[self.state]}] {self.area}: {self.text}" + (f"\n       fix: {self.fix}" if self.fix else "")


def check_registry() -> tuple[list[Finding], Registry | None]:
    try:
        registry = load_registry()
    except RegistryError as exc:
        return [Finding("registry", PROBLEM, str(exc), "correct the entry the message names")], None
    counts = ", ".join(f"{len(registry.keys_for(s))} {s}" for s in sorted({s.source for s in registry.signals}))
    return [Finding("registry", OK, f"{registry.path}: {len(registry.predictions)} predictions; signals: {counts}")], \
        registry


def check_snapshot(settings: RunSettings) -> list[Finding]:
    if settings.mode == "live":
        return [Finding("snapshot", OK, "live mode: the APIs answer, no snapshot is read")]
    try:
        snapshot = read_snapshot(settings.snapshot_dir)
        manifest, recordings = snapshot.manifest, snapshot.recordings
    except SnapshotError as exc:
        return [Finding("snapshot", PROBLEM, str(exc), "fix or re-record the snapshot, or point --snapshot / "
                                                       "AI_PULSE_SNAPSHOT at another one")]
    if not recordings:
        return [Finding("snapshot", PROBLEM, f"{settings.snapshot_dir} holds no response files",
                        "record one with `ai-pulse run --live --record DIR`")]
    return [Finding("snapshot", OK, f"{settings.snapshot_dir}: as_of {manifest.as_of}, {len(recordings)} recorded "
                                    "responses")]


def check_warehouse(settings: RunSettings) -> list[Finding]:
    warehouse = settings.warehouse
    if isinstance(warehouse, HostedWarehouse):
        return [Finding("warehouse", OK, f"{warehouse} (MotherDuck; the token comes from MOTHERDUCK_TOKEN)")]
    findings = []
    folder = warehouse.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    for place in (local_faults.warehouse_folder(warehouse), local_faults.logs_folder(warehouse)):
        problem = local_faults.probe(place)
        if problem:
            return [_local_fault("warehouse", problem)]
    lock = warehouse.with_name(warehouse.name + ".lock")
    if lock.exists():
        try:
            with open(lock, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
        except BlockingIOError:
            findings.append(Finding("warehouse", WARN, f"a run holds {lock} right now",
                                    "wait for it to finish; a second run would exit 3"))
        except OSError as exc:
            lock_fault = local_faults.sentence(local_faults.warehouse_lock(warehouse), exc)
            findings.append(_local_fault("warehouse", lock_fault))
    if warehouse.exists():
        import duckdb

        try:
            duckdb.connect(str(warehouse), read_only=True).close()
        except duckdb.IOException as exc:
            findings.append(Finding("warehouse", WARN, f"{warehouse} cannot be opened now ({exc})",
                                    "another process holds it for writing; wait for it"))
        except duckdb.Error as exc:
            findings.append(Finding("warehouse", PROBLEM, f"{warehouse} is not a readable DuckDB file ({exc})",
                                    "restore it from a backup, or move it away and run again to rebuild it"))
    free = shutil.disk_usage(existing).free
    needed = max(MIN_FREE_BYTES, 3 * warehouse.stat().st_size if warehouse.exists() else 0)
    if free < needed:
        findings.append(Finding("disk", PROBLEM, f"{free / 2**30:.1f} GiB free under {existing}, a run needs about "
                                                 f"{needed / 2**30:.1f} GiB", "free some space or move the warehouse"))
    else:
        findings.append(Finding("disk", OK, f"{free / 2**30:.1f} GiB free under {existing}"))
    state = "exists" if warehouse.exists() else "will be created by the first run"
    return [Finding("warehouse", OK, f"{warehouse} ({state})"), *findings]


def check_dagster_home() -> list[Finding]:
    home = local_faults.dagster_home()
    for place in home.with_parts():
        problem = local_faults.probe(place)
        if problem:
            return [_local_fault("dagster home", problem)]
    return [Finding("dagster home", OK, f"{home.path} (run history, schedules)")]


def _local_fault(area: str, sentence: str) -> Finding:
    """A local fault's sentence (orchestration/lib/local_faults.py) as a finding: its fix follows the `;`."""
    text, _, fix = sentence.partition("; ")
    return Finding(area, PROBLEM, text, fix)


Probe = Callable[[HttpClient, str, dt.date], str]


def _fetched(fetched: Fetched) -> str:
    if fetched.status == FAILED:
        raise SourceError(fetched.source, fetched.signal, fetched.problem, fetched.fix)
    if fetched.status in (NO_DATA, DEFERRED):
        return f"answered, {fetched.status}: {fetched.detail}"
    return "answered in the expected shape"


def _stocks(client: HttpClient, ticker: str, today: dt.date) -> str:
    return _fetched(fetch_chart(client, ticker, Window(today - dt.timedelta(days=7), today)))


def _trends(client: HttpClient, article: str, today: dt.date) -> str:
    day = today - dt.timedelta(days=1)
    return _fetched(fetch_pageviews(client, article, Window(day - dt.timedelta(days=2), day)))


def _github(client: HttpClient, repo: str, today: dt.date) -> str:
    said = _fetched(fetch_repo(client, repo, Window(today, today)))
    try:
        page = fetch_history_page(client, repo, 1)
    except MissingRecording:
        return f"{said}; its star history is not in the snapshot (optional: the run goes on without it)"
    return f"{said}; star history {'answered' if page is not None else 'has none (404)'}"


def _regulatory(client: HttpClient, term: str, today: dt.date) -> str:
    rows, _ = regulatory_month(client, term, Window(today.replace(day=1), today))
    return f"answered in the expected shape ({len(rows)} documents this month)"


def _news(client: HttpClient, phrase: str, today: dt.date) -> str:
    row = news_month(client, phrase, today.replace(day=1), today)
    return f"answered in the expected shape ({row['stories']} stories this month)"


PROBES: dict[str, tuple[Probe, ClientNeeds]] = {
    "stocks": (_stocks, STOCKS_NEEDS), "trends": (_trends, DEFAULT_NEEDS), "github": (_github, DEFAULT_NEEDS),
    "regulatory": (_regulatory, DEFAULT_NEEDS), "news": (_news, DEFAULT_NEEDS),
}


def probe_sources(settings: RunSettings, registry: Registry, today: dt.date) -> list[Finding]:
    """One small request per source, for its first registered signal, through the run's transport."""
    transport = make_transport(settings.mode, settings.snapshot_dir)
    findings = []
    for source, (probe, needs) in PROBES.items():
        keys = registry.keys_for(source)
        if not keys:
            findings.append(Finding(source, OK, "no signals registered"))
            continue
        # One attempt, short timeouts: a doctor says what is wrong, it does not ride out an outage.
        client = HttpClient(transport, user_agent=registry.user_agent, needs=needs, timeout=15, max_attempts=2,
                            backoff_base=0.5, rate_limit_patience=0)
        try:
            findings.append(Finding(source, OK, f"{keys[0]}: {probe(client, keys[0], today)}"))
        except MissingRecording as exc:
            findings.append(Finding(source, WARN, f"{keys[0]}: the snapshot holds no recording for it ({exc.problem})",
                                    "the run will record no data for it; add the recording or record a new snapshot"))
        except SourceError as exc:
            unreachable = " talking to " in exc.problem  # the transport never got an answer
            fix = ("check that this machine reaches the API (network, proxy, firewall, DNS)" if unreachable
                   else exc.fix or "see the message")
            findings.append(Finding(source, PROBLEM, f"{keys[0]}: {exc.problem}", fix))
    if settings.mode == "live":
        findings.append(github_rate_limit(registry))
    return findings


def github_rate_limit(registry: Registry) -> Finding:
    """GitHub's remaining budget from GET /rate_limit (resources.core; the top-level `rate` is gone in API version
    2026-03-10), and whether it is enough for tonight."""
    client = HttpClient(make_transport("live", Path()), user_agent=registry.user_agent, timeout=15, max_attempts=1)
    needed = requests_needed(registry, first_run=False)["github"]
    try:
        reply, body = client.get_json(RATE_LIMIT_URL, source="github", signal="rate_limit", headers=api_headers())
        core = body["resources"]["core"]
        remaining, limit, reset = int(core["remaining"]), int(core["limit"]), int(core["reset"])
    except (SourceError, KeyError, TypeError, ValueError) as exc:
        return Finding("github rate limit", WARN, f"could not read it ({exc})", "check the token and the network")
    token = "a token" if github_token() else "no token (GITHUB_TOKEN unset)"
    resets = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%H:%M UTC")
    text = f"{remaining} of {limit} requests left, resets {resets}, with {token}; a nightly run needs about {needed}"
    if remaining < needed:
        return Finding("github rate limit", WARN, text, "set GITHUB_TOKEN (5,000 an hour) or run after the reset")
    return Finding("github rate limit", OK, text)


def requests_needed(registry: Registry, first_run: bool, today: dt.date | None = None) -> dict[str, int]:
    """How many requests a run sends per source when every API answers in one page: a first run backfills from the
    start date; a nightly run asks one window per signal, two for a window that straddles a month's start, and on
    the first night of a month one more per monthly signal (the month just ended)."""
    today = today or dt.datetime.now(dt.UTC).date()
    months = (today.year - registry.start_date.year) * 12 + today.month - registry.start_date.month + 1
    weeks = (today - registry.start_date).days / 7 + 1
    count = {source: len(registry.keys_for(source)) for source in PROBES}
    if first_run:
        return {"stocks": count["stocks"], "trends": 2 * count["trends"],
                "github": count["github"] * (1 + math.ceil(weeks / WEEKS_PER_PAGE)),
                "regulatory": count["regulatory"] * months, "news": count["news"] * months}
    new_month = today.day == 1
    lookback_months = 1 + ((today - dt.timedelta(days=registry.lookback_days)).month != today.month)
    return {"stocks": count["stocks"], "trends": count["trends"] * (1 + new_month), "github": 2 * count["github"],
            "regulatory": count["regulatory"] * lookback_months, "news": count["news"] * (1 + new_month)}


def diagnose(live: bool) -> list[Finding]:
    """Every check, in the order a run meets them."""
    findings, registry = check_registry()
    try:
        settings = resolve_settings(live=live)
    except ConfigError as exc:
        return [*findings, Finding("settings", PROBLEM, str(exc), "fix the setting the message names")]
    findings.append(Finding("mode", OK, settings.mode))
    findings += check_snapshot(settings)
    findings += check_warehouse(settings)
    findings += check_dagster_home()
    if registry is None or any(f.state == PROBLEM and f.area == "snapshot" for f in findings):
        return findings
    today = load_manifest(settings.snapshot_dir).as_of if settings.mode == "replay" else dt.datetime.now(dt.UTC).date()
    findings += probe_sources(settings, registry, today)
    first, nightly = requests_needed(registry, True, today), requests_needed(registry, False, today)
    findings.append(Finding("requests", OK, f"a first backfill sends about {sum(first.values()):,} "
                                            f"({', '.join(f'{s} {n:,}' for s, n in first.items())}), a nightly run "
                                            f"about {sum(nightly.values())}; {API_HOST} allows 60 an hour without a "
                                            "token"))
    return findings


def report(findings: list[Finding]) -> tuple[str, bool]:
    """The findings as lines, and whether a run is ready (no problem; warnings allowed)."""
    ready = not any(f.state == PROBLEM for f in findings)
    lines = [f.line() for f in findings]
    problems = sum(f.state == PROBLEM for f in findings)
    warnings = sum(f.state == WARN for f in findings)
    verdict = "ready to run" if ready else f"{problems} problem{'s' if problems != 1 else ''} to fix before a run"
    lines.append(f"\n{verdict}" + (f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""))
    return "\n".join(lines), ready
