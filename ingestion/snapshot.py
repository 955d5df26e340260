"""Snapshots: directories of recorded HTTP exchanges (CONTRACT.md section 4), read for replay, written by record.

A snapshot is `manifest.json` plus `responses/**/*.json[.gz]`, one recorded exchange per file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
SECRET_PARAM = re.compile(r"(token|key|secret|password|signature|auth)", re.IGNORECASE)


class SnapshotError(Exception):
    """The snapshot directory or one of its files is unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class Manifest:
    """What a snapshot says about itself."""

    as_of: dt.date
    description: str
    series: tuple[dict[str, Any], ...] = ()


def load_manifest(snapshot_dir: Path) -> Manifest:
    """Read `manifest.json`, insisting on an ISO `as_of` date and a description."""
    path = Path(snapshot_dir) / "manifest.json"
    if not Path(snapshot_dir).is_dir():
        raise SnapshotError(f"snapshot directory {snapshot_dir} does not exist; pass --snapshot DIR of a snapshot")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path} is missing; a snapshot needs a manifest.json with `as_of` and "
                            "`description`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc}); fix or re-record the snapshot") from None
    if not isinstance(doc, dict):
        raise SnapshotError(f"{path} must hold a JSON object with `as_of` and `description`")
    try:
        as_of = dt.date.fromisoformat(str(doc.get("as_of")))
    except ValueError:
        raise SnapshotError(f"{path}: `as_of` {doc.get('as_of')!r} is not a YYYY-MM-DD date") from None
    series = doc.get("series") or []
    if not isinstance(series, list) or not all(isinstance(s, dict) for s in series):
        raise SnapshotError(f"{path}: `series` must be a list of objects")
    return Manifest(as_of=as_of, description=str(doc.get("description", "")), series=tuple(series))


def _read_json_file(path: Path) -> Any:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _path_segments(url: str) -> tuple[str, str, tuple[str, ...]]:
    parts = urlsplit(url)
    segments = tuple(unquote(s) for s in parts.path.split("/") if s)
    return parts.scheme.lower(), parts.netloc.lower(), segments


def request_params(url: str, params: dict[str, Any] | None) -> dict[str, str]:
    """The decoded query of a URL merged with explicit params; values compared as strings."""
    merged = {k: v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    for key, value in (params or {}).items():
        merged[str(key)] = str(value)
    return merged


@dataclass
class Recording:
    """One recorded exchange and what it matches."""

    file: Path
    method: str
    scheme: str
    host: str
    segments: tuple[str, ...]
    params: dict[str, str]
    response: dict[str, Any]
    order: int | None = None
    served: int = field(default=0)

    @property
    def rank(self) -> tuple[int, int]:
        """More literal path segments first, then more named parameters."""
        return (sum(1 for s in self.segments if s != "*"), len(self.params))

    def matches(self, method: str, scheme: str, host: str, segments: tuple[str, ...], params: dict[str, str]) -> bool:
        if (method, scheme, host) != (self.method, self.scheme, self.host) or len(segments) != len(self.segments):
            return False
        if any(mine not in ("*", theirs) for mine, theirs in zip(self.segments, segments, strict=True)):
            return False
        return all(params.get(k) == v for k, v in self.params.items())


def load_recordings(snapshot_dir: Path) -> list[Recording]:
    """Every response file of a snapshot; files outside the directory (links out of it) are refused."""
    root = Path(snapshot_dir).resolve()
    responses = root / "responses"
    recordings: list[Recording] = []
    if not responses.is_dir():
        return recordings
    for path in sorted(responses.rglob("*")):
        if not (path.name.endswith(".json") or path.name.endswith(".json.gz")) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            raise SnapshotError(f"{path} points outside the snapshot {root}; snapshots may not link elsewhere")
        try:
            doc = _read_json_file(path)
            request, response = doc["request"], doc["response"]
            scheme, host, segments = _path_segments(request["url"])
            status = int(response["status"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SnapshotError(f"{path} is not a recorded exchange ({exc!r}); it needs request.url and "
                                "response.status — fix or delete the file") from None
        if "json" not in response and "text" not in response:
            raise SnapshotError(f"{path}: response needs `json` or `text`")
        order = doc.get("order")
        recordings.append(
            Recording(
                file=path,
                method=str(request.get("method", "GET")).upper(),
                scheme=scheme,
                host=host,
                segments=segments,
                params=request_params(request["url"], request.get("params")),
                response={**response, "status": status},
                order=order if isinstance(order, int) and not isinstance(order, bool) else None,
            )
        )
    return recordings


def find_recording(recordings: list[Recording], method: str, url: str, params: dict[str, Any] | None) -> Recording:
    """Pick the recording that answers a request, by the contract's ranking; raise when none or a tie."""
    scheme, host, segments = _path_segments(url)
    wanted = request_params(url, params)
    candidates = [r for r in recordings if r.matches(method.upper(), scheme, host, segments, wanted)]
    if not candidates:
        raise SnapshotError(f"no recorded response for {method.upper()} {url} params={wanted}; "
                            "record it with `ai-pulse run --live --record DIR` or add a response file")
    best_rank = max(r.rank for r in candidates)
    best = [r for r in candidates if r.rank == best_rank]
    if len(best) == 1:
        return best[0]
    sequence = sorted((r for r in best if r.order is not None), key=lambda r: r.order)
    if len(sequence) == len(best):
        # Served in ascending order; the last one repeats once the others have been served.
        chosen = next((r for r in sequence if r.served == 0), sequence[-1])
        chosen.served += 1
        return chosen
    names = " and ".join(str(r.file) for r in best[:2])
    raise SnapshotError(f"{method.upper()} {url} matches {names} equally; give them an `order` or more "
                        "specific params")


def scrub_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers safe to keep in a recording: no credentials, cookies or keys."""
    return {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}


def scrub_params(params: dict[str, str]) -> dict[str, str]:
    """Query parameters safe to keep: anything that looks like a credential is dropped."""
    return {k: v for k, v in params.items() if not SECRET_PARAM.search(k)}


def write_recording(path: Path, method: str, url: str, params: dict[str, str], response: dict[str, Any],
                    order: int | None = None) -> None:
    """Write one exchange in the contract's format (plain JSON, readable in a diff)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"request": {"method": method, "url": url, "params": scrub_params(params)},
                           "response": response}
    if order is not None:
        doc["order"] = order
    path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")), encoding="utf-8")


def write_manifest(snapshot_dir: Path, as_of: dt.date, description: str, series: list[dict[str, Any]]) -> None:
    """Write a manifest for a recorded snapshot."""
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    doc = {"as_of": as_of.isoformat(), "description": description, "series": series}
    (snapshot_dir / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def recording_manifest(
    mode: str, today: dt.date, series_keys: list[tuple[str, str, str]], replayed: Manifest | None
) -> tuple[str, list[dict[str, Any]]]:
    """Description and per-series provenance of a snapshot being recorded: live answers are real data recorded
    today; a re-recorded replay keeps the provenance of the snapshot it replays."""
    if mode == "replay" and replayed is not None:
        description = (f"Re-recorded on {dt.date.today().isoformat()} from a replay (as_of {replayed.as_of}) by "
                       f"`ai-pulse run --record`; the replayed snapshot said: {replayed.description}")
        return description, [{k: v for k, v in s.items() if k != "file"} for s in replayed.series]
    description = (f"Recorded live by `ai-pulse run --live --record` with as_of {today.isoformat()}: every response "
                   "of the registered signals' APIs (Yahoo chart, Wikimedia pageviews, GitHub, the star archive, "
                   "the Federal Register), request headers and credentials stripped.")
    series = [{"source": source, "key": key, "dataset": dataset, "provenance": "real",
               "origin": f"live API, recorded {today.isoformat()}"} for source, key, dataset in series_keys]
    return description, series
