"""Snapshots: folders of recorded HTTP exchanges (format: docs/SNAPSHOTS.md), read for replay, written by record.

A snapshot is `manifest.json` plus `responses/**/*.json[.gz]`, one recorded exchange per file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
SECRET_PARAM = re.compile(r"(token|key|secret|password|signature|auth)", re.IGNORECASE)


class NoRecording(LookupError):
    """A request the snapshot holds no recording for; `request` names its method, URL and parameters."""

    def __init__(self, request: str) -> None:
        self.request = request
        super().__init__(f"no recorded response for {request}; record it with `ai-pulse run --live --record DIR` "
                         "or add a response file")


class SnapshotError(Exception):
    """The snapshot directory or one of its files is unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class Manifest:
    """What a snapshot says about itself."""

    as_of: dt.date
    description: str
    series: tuple[dict[str, Any], ...] = ()


# Limits no recorded API answer comes near, so a file past them is a broken or hostile file, not data. The largest
# bundled recording is 239 KB uncompressed (four years of one article's daily Wikimedia pageviews, ~160 bytes a
# day); the largest answers the sources can get are well under 2 MB: Wikimedia's daily series since its July 2015
# start is ~4,000 items (~650 KB), Yahoo's daily chart of a ticker's whole history ~16,000 bars of ~75 bytes (IBM
# since 1962, ~1.2 MB), a Federal Register page at most per_page=100 documents (the API's cap, dev.to/devil_scrapes
# "The API where page 21 is a 400"), a GitHub repository object ~6 KB.
MAX_FILE_BYTES = 16 * 2**20  # per file, uncompressed: 8x the largest real answer, and the memory one file may take
# The deepest bundled recording nests 11 levels, the exchange's wrapper included (Yahoo's chart.result[]
# .indicators.quote[].close[]); Python's json parser recurses per level and fails near 1,000.
MAX_JSON_DEPTH = 64
RERECORD = "re-record the snapshot with `ai-pulse run --live --record DIR`"

# A JSON string, or an unterminated one up to the end: possessive, so no input makes the scan backtrack.
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.?[^"\\]*+)*+"?', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply a JSON text nests arrays and objects, counted from its brackets outside strings: no parsing and
    no recursion, so any input is measured in time linear in its size."""
    brackets = _JSON_BRACKET.findall(_JSON_STRING.sub("", text))
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _read_bounded(path: Path) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes of a file, gunzipped chunk by chunk for `.gz`, so neither a huge file nor
    a gzip bomb is ever held in memory whole."""
    try:
        if path.name.endswith(".gz"):
            try:
                with gzip.open(path, "rb") as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                raise SnapshotError(f"{path} is not a readable gzip file ({exc}); compress it again with gzip, "
                                    f"delete it, or {RERECORD}") from None
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SnapshotError(f"{path} cannot be read ({exc.strerror or exc}); fix its permissions or delete "
                            "it") from None
    if len(data) > MAX_FILE_BYTES:
        raise SnapshotError(f"{path} holds more than {MAX_FILE_BYTES // 2**20} MB of JSON uncompressed, far more than "
                            f"any recorded API answer (under 2 MB); delete the file or {RERECORD}")
    return data


def _read_json_file(path: Path) -> Any:
    """Parse one snapshot file within the size and nesting limits; every problem is a SnapshotError naming it."""
    try:
        text = _read_bounded(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); fix or delete the file, "
                            f"or {RERECORD}") from None
    _check_depth(path, text)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc}); fix or delete the file, or {RERECORD}") from None


def _check_depth(path: Path, text: str, what: str = "JSON") -> None:
    if json_depth(text) > MAX_JSON_DEPTH:
        raise SnapshotError(f"{path} nests its {what} more than {MAX_JSON_DEPTH} levels deep, where a recorded API "
                            f"answer nests about a dozen; delete the file or {RERECORD}")


def _inside(path: Path, root: Path) -> Path:
    """The resolved `path`, refused when a link takes it out of the snapshot `root` or to nothing."""
    try:
        target = path.resolve()
    except RuntimeError:  # pathlib's "Symlink loop"
        raise SnapshotError(f"{path} is a link that loops back on itself; remove the link") from None
    if not target.is_relative_to(root):
        raise SnapshotError(f"{path} links to {target}, outside the snapshot {root}; copy the file into the "
                            "snapshot instead of linking to it, or remove the link")
    if not target.exists():
        raise SnapshotError(f"{path} links to {target}, which does not exist; remove the link or restore the file")
    return target


def _snapshot_root(snapshot_dir: Path) -> Path:
    root = Path(snapshot_dir).resolve()
    if not root.is_dir():
        raise SnapshotError(f"snapshot directory {snapshot_dir} does not exist; pass --snapshot DIR of a snapshot")
    return root


def _parse_manifest(root: Path) -> Manifest:
    path = root / "manifest.json"
    if not path.exists() and not path.is_symlink():
        raise SnapshotError(f"{path} is missing; a snapshot needs a manifest.json with `as_of` and "
                            "`description`")
    _inside(path, root)
    doc = _read_json_file(path)
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


def load_manifest(snapshot_dir: Path) -> Manifest:
    """Read `manifest.json` alone (within the snapshot limits), insisting on an ISO `as_of` date and a description."""
    return _parse_manifest(_snapshot_root(snapshot_dir))


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


@dataclass(frozen=True)
class Snapshot:
    """A validated snapshot: its manifest and every recorded exchange, each file read once."""

    root: Path
    manifest: Manifest
    recordings: tuple[Recording, ...]


# The snapshot this process read last, keyed by the stamp of its files: the run's validation and its replay
# transport (built later, inside a step of the same process) then read each file once.
_last_read: dict[Path, tuple[tuple[Any, ...], Snapshot]] = {}


def read_snapshot(snapshot_dir: Path) -> Snapshot:
    """Validate a snapshot folder and return it parsed: the manifest and every `responses/**/*.json[.gz]` file,
    each read once, within MAX_FILE_BYTES and MAX_JSON_DEPTH, every link resolving inside the folder. Any problem
    raises SnapshotError naming the file and the fix. Re-reading an unchanged folder costs only a directory walk;
    each call gets its own recordings (replay counts what it served per recording)."""
    root = _snapshot_root(snapshot_dir)
    files = _response_files(root)
    stamp = tuple(_file_stamp(path) for path in [root / "manifest.json", *files])
    cached = _last_read.get(root)
    if cached is None or cached[0] != stamp:
        snapshot = Snapshot(root, _parse_manifest(root), tuple(_parse_recording(path) for path in files))
        _last_read.clear()
        _last_read[root] = (stamp, snapshot)
    snapshot = _last_read[root][1]
    return Snapshot(snapshot.root, snapshot.manifest, tuple(replace(r, served=0) for r in snapshot.recordings))


def _file_stamp(path: Path) -> tuple[Any, ...]:
    try:
        info = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), info.st_ino, info.st_size, info.st_mtime_ns)


def _response_files(root: Path) -> list[Path]:
    """Every response file under `root/responses`, in name order; links are followed only within the snapshot, and
    each directory is walked once (a link back to a parent cannot loop)."""
    responses = root / "responses"
    if not responses.exists() and not responses.is_symlink():
        return []
    files: list[Path] = []
    pending, walked = [responses], set()
    while pending:
        folder = pending.pop()
        real = _inside(folder, root)
        if real in walked or not real.is_dir():
            continue
        walked.add(real)
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            raise SnapshotError(f"{folder} cannot be listed ({exc.strerror or exc}); fix its permissions") from None
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                _inside(path, root)  # whatever its name: no link may lead out of the snapshot, loop or dangle
            if entry.is_dir():
                pending.append(path)
            elif entry.name.endswith((".json", ".json.gz")):
                if not entry.is_file():
                    raise SnapshotError(f"{path} is not a regular file; a snapshot holds plain response files: "
                                        "remove it")
                files.append(path)
    return sorted(files)


def _parse_recording(path: Path) -> Recording:
    """One response file as a Recording, or a SnapshotError saying what the file lacks."""
    doc = _read_json_file(path)
    try:
        request, response = doc["request"], doc["response"]
        scheme, host, segments = _path_segments(request["url"])
        status = int(response["status"])
        params = request_params(request["url"], request.get("params"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SnapshotError(f"{path} is not a recorded exchange ({exc!r}); it needs request.url and "
                            "response.status — fix or delete the file") from None
    if "json" not in response and "text" not in response:
        raise SnapshotError(f"{path}: response needs `json` or `text`")
    if "text" in response:
        if not isinstance(response["text"], str):
            raise SnapshotError(f"{path}: response.text must be a string (the raw body); fix or delete the file")
        # A text body is parsed by the source as the API's answer would be: the same nesting limit applies.
        _check_depth(path, response["text"], "response.text")
    order = doc.get("order")
    return Recording(
        file=path,
        method=str(request.get("method", "GET")).upper(),
        scheme=scheme,
        host=host,
        segments=segments,
        params=params,
        response={**response, "status": status},
        order=order if isinstance(order, int) and not isinstance(order, bool) else None,
    )


class RecordingIndex:
    """A snapshot's recordings by request line, so each request is matched against the few recordings that can
    answer it instead of all of them (a replay of thousands of files asked thousands of times was quadratic)."""

    def __init__(self, recordings: Iterable[Recording]) -> None:
        self._literal: dict[tuple[Any, ...], list[tuple[int, Recording]]] = {}
        self._wildcard: dict[tuple[Any, ...], list[tuple[int, Recording]]] = {}
        for position, recording in enumerate(recordings):
            line = (recording.method, recording.scheme, recording.host)
            if "*" in recording.segments:
                self._wildcard.setdefault((*line, len(recording.segments)), []).append((position, recording))
            else:
                self._literal.setdefault((*line, recording.segments), []).append((position, recording))

    def candidates(self, method: str, scheme: str, host: str, segments: tuple[str, ...]) -> list[Recording]:
        """The recordings whose request line can match, in the snapshot's order."""
        found = (self._literal.get((method, scheme, host, segments), [])
                 + self._wildcard.get((method, scheme, host, len(segments)), []))
        return [recording for _, recording in sorted(found, key=lambda pair: pair[0])]


def find_recording(recordings: RecordingIndex | Iterable[Recording], method: str, url: str,
                   params: dict[str, Any] | None) -> Recording:
    """Pick the recording that answers a request by the ranking in docs/SNAPSHOTS.md; raise when none or a tie."""
    scheme, host, segments = _path_segments(url)
    wanted = request_params(url, params)
    index = recordings if isinstance(recordings, RecordingIndex) else RecordingIndex(recordings)
    candidates = [r for r in index.candidates(method.upper(), scheme, host, segments)
                  if r.matches(method.upper(), scheme, host, segments, wanted)]
    if not candidates:
        raise NoRecording(f"{method.upper()} {url} params={wanted}")
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
    """Write one exchange in the snapshot format (plain JSON, readable in a diff)."""
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
                   "of the registered signals' APIs (Yahoo chart, Wikimedia pageviews, GitHub repositories and star "
                   "history, the Federal Register, Hacker News search), request headers and credentials stripped.")
    series = [{"source": source, "key": key, "dataset": dataset, "provenance": "real",
               "origin": f"live API, recorded {today.isoformat()}"} for source, key, dataset in series_keys]
    return description, series
