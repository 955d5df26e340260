"""A snapshot is validated before anything runs: every response file is read once, within a size and a nesting
limit, with every link inside the snapshot. A bad file makes `ai-pulse run` exit 2 at once, naming the file and
the fix, with memory bounded, and inside Dagster it fails the step once instead of being retried like an outage."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.run import MEASURE
from ingestion import snapshot as snapshot_module
from ingestion.http import HttpClient, ReplayTransport
from ingestion.settings import BUNDLED_SNAPSHOT
from ingestion.snapshot import (
    MAX_FILE_BYTES,
    MAX_JSON_DEPTH,
    SnapshotError,
    json_depth,
    read_snapshot,
)
from ingestion.snapshots.builder.factory import SnapshotBuilder
from tests.conftest import AI_PULSE, PROJECT_ROOT

API = "https://api.example.test"
BIG = 200 * 2**20  # the drills' oversized files: 200 MB, uncompressed
CHUNK = 2**20


def exchange_doc(body: object) -> dict[str, object]:
    return {"request": {"method": "GET", "url": f"{API}/x"}, "response": {"status": 200, "json": body}}


def nested(depth: int) -> str:
    """A JSON text nesting `depth` arrays."""
    return "[" * depth + "]" * depth


def exchange_text(body_json: str) -> str:
    """A recorded exchange whose response body is the JSON text `body_json`, as written in a file."""
    return '{"request": {"method": "GET", "url": "' + API + '/x"}, "response": {"status": 200, "json": ' + \
        body_json + "}}"


def write_whitespace(path: Path, size: int, *, compressed: bool = False) -> Path:
    """`size` bytes of spaces, written a megabyte at a time (gzipped for `.gz`), so the test never holds them."""
    handle = gzip.open(path, "wb") if compressed else open(path, "wb")
    with handle:
        for _ in range(size // CHUNK):
            handle.write(b" " * CHUNK)
        handle.write(b" " * (size % CHUNK))
    return path


@pytest.fixture
def snap(tmp_path: Path) -> SnapshotBuilder:
    builder = SnapshotBuilder(tmp_path / "snap", dt.date(2024, 12, 31))
    builder.exchange(f"{API}/ok", body={"ok": True})
    builder.write()
    return builder


def refused(snap: SnapshotBuilder) -> str:
    with pytest.raises(SnapshotError) as error:
        read_snapshot(snap.root)
    return str(error.value)


# --- the limits -------------------------------------------------------------------------------------------------


def test_the_bundled_snapshot_sits_far_inside_both_limits() -> None:
    # The limits must never refuse real data: every bundled recording is at most an eighth of them.
    responses = sorted((BUNDLED_SNAPSHOT / "responses").rglob("*.json*"))
    texts = [(gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes()).decode()
             for p in responses]
    assert max(len(t) for t in texts) * 8 < MAX_FILE_BYTES
    assert max(json_depth(t) for t in texts) * 4 < MAX_JSON_DEPTH
    assert len(read_snapshot(BUNDLED_SNAPSHOT).recordings) == len(responses)


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth('{"a": [1, {"b": []}]}') == 4
    assert json_depth('{"a": "[[[{{{", "b": "\\"]]]\\\\", "c": [[]]}') == 3
    assert json_depth("") == 0 and json_depth("17") == 0
    # Linear on hostile input: 100,000 levels, and a string of escaped quotes that never ends.
    assert json_depth(nested(100_000)) == 100_000
    assert json_depth('"' + '\\"' * 1_000_000) == 0


def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(snap: SnapshotBuilder) -> None:
    text = exchange_text('{"fits": true}')
    at_limit = snap.root / "responses" / "at_limit.json"
    at_limit.write_text(text + " " * (MAX_FILE_BYTES - len(text)))
    assert any(r.file == at_limit for r in read_snapshot(snap.root).recordings)
    at_limit.write_text(text + " " * (MAX_FILE_BYTES - len(text) + 1))
    message = refused(snap)
    assert message.startswith(f"{at_limit} holds more than 16 MB of JSON uncompressed")
    assert "delete the file or re-record the snapshot" in message


def test_a_gzip_file_inflating_past_the_limit_is_refused(snap: SnapshotBuilder) -> None:
    text = exchange_text('{"fits": true}')
    at_limit = snap.root / "responses" / "at_limit.json.gz"
    at_limit.write_bytes(gzip.compress((text + " " * (MAX_FILE_BYTES - len(text))).encode()))
    assert any(r.file == at_limit for r in read_snapshot(snap.root).recordings)
    bomb = write_whitespace(snap.root / "responses" / "bomb.json.gz", MAX_FILE_BYTES * 4, compressed=True)
    assert bomb.stat().st_size < MAX_FILE_BYTES // 200  # a gzip bomb: 64 MB in ~65 KB
    assert refused(snap).startswith(f"{bomb} holds more than 16 MB of JSON uncompressed")


def test_json_nested_past_the_limit_is_refused_naming_the_file(snap: SnapshotBuilder) -> None:
    deep = snap.root / "responses" / "deep.json"
    # The exchange's own object and `response` are two levels: the body may nest MAX_JSON_DEPTH - 2.
    deep.write_text(exchange_text(nested(MAX_JSON_DEPTH - 2)))
    assert any(r.file == deep for r in read_snapshot(snap.root).recordings)
    deep.write_text(exchange_text(nested(MAX_JSON_DEPTH - 1)))
    assert refused(snap).startswith(f"{deep} nests its JSON more than {MAX_JSON_DEPTH} levels deep")
    deep.write_text(exchange_text(nested(100_000)))  # Python's json parser alone would raise RecursionError
    assert refused(snap).startswith(f"{deep} nests its JSON more than {MAX_JSON_DEPTH} levels deep")


def test_a_text_body_nested_past_the_limit_is_refused(snap: SnapshotBuilder) -> None:
    # A text body is what the source parses as the API's answer, so it gets the same limit.
    deep = snap.exchange(f"{API}/deep", text=nested(100_000), name="deep_text")
    assert refused(snap).startswith(f"{deep} nests its response.text more than {MAX_JSON_DEPTH} levels deep")


@pytest.mark.parametrize(("content", "problem"), [
    (b'{"request": ', "is not valid JSON (Expecting value: line 1 column 13"),
    (b'{"request": "\xff"}', "is not UTF-8 text (invalid start byte at byte 13)"),
    (b"\x1f\x8b\x08\x00 not really gzip", "is not a readable gzip file"),
], ids=["malformed", "not_utf8", "bad_gzip"])
def test_an_unreadable_file_is_named_with_its_problem(snap: SnapshotBuilder, content: bytes, problem: str) -> None:
    bad = snap.root / "responses" / ("bad.json.gz" if content.startswith(b"\x1f\x8b") else "bad.json")
    bad.write_bytes(content)
    message = refused(snap)
    assert message.startswith(f"{bad} {problem}")
    assert "delete" in message and "re-record the snapshot" in message


# --- links and paths --------------------------------------------------------------------------------------------


def test_links_out_of_the_snapshot_are_refused_naming_link_and_target(snap: SnapshotBuilder, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps(exchange_doc("outside")))
    file_link = snap.root / "responses" / "file_link.json"
    file_link.symlink_to(outside / "secret.json")
    assert refused(snap).startswith(f"{file_link} links to {outside / 'secret.json'}, outside the snapshot "
                                    f"{snap.root}; copy the file into the snapshot")
    file_link.unlink()
    folder_link = snap.root / "responses" / "folder_link"
    folder_link.symlink_to(outside, target_is_directory=True)
    assert refused(snap).startswith(f"{folder_link} links to {outside}, outside the snapshot")
    folder_link.unlink()
    shutil.rmtree(snap.root / "responses")
    (snap.root / "responses").symlink_to(outside, target_is_directory=True)
    assert refused(snap).startswith(f"{snap.root / 'responses'} links to {outside}, outside the snapshot")


def test_links_within_the_snapshot_are_followed_once_and_loops_end(snap: SnapshotBuilder) -> None:
    responses = snap.root / "responses"
    kept = snap.root / "kept"
    kept.mkdir()
    (kept / "inner.json").write_text(json.dumps(exchange_doc("inner")))
    (responses / "kept_link").symlink_to(kept, target_is_directory=True)
    (responses / "loop").symlink_to(responses, target_is_directory=True)  # walked once, not forever
    files = [r.file for r in read_snapshot(snap.root).recordings]
    assert files == [responses / "exchange_001.json", responses / "kept_link" / "inner.json"]


def test_dangling_links_and_special_files_are_refused_without_waiting(snap: SnapshotBuilder) -> None:
    dangling = snap.root / "responses" / "gone.json"
    dangling.symlink_to(snap.root / "nowhere.json")
    assert refused(snap).startswith(f"{dangling} links to {snap.root / 'nowhere.json'}, which does not exist")
    dangling.unlink()
    loop = snap.root / "responses" / "loop.json"
    loop.symlink_to(loop)
    assert refused(snap).startswith(f"{loop} is a link that loops back on itself")
    loop.unlink()
    fifo = snap.root / "responses" / "pipe.json"
    os.mkfifo(fifo)  # opening it would block until a writer came: it must never be opened
    assert refused(snap).startswith(f"{fifo} is not a regular file")


# --- read once --------------------------------------------------------------------------------------------------


def test_each_file_is_read_once_per_process_until_it_changes(snap: SnapshotBuilder,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    snap.exchange(f"{API}/seq", body="first", order=1)
    snap.exchange(f"{API}/seq", body="second", order=2)
    reads: list[Path] = []
    real_read = snapshot_module._read_bounded
    monkeypatch.setattr(snapshot_module, "_read_bounded", lambda path: reads.append(path) or real_read(path))
    read_snapshot(snap.root)
    assert len(reads) == 4  # the manifest and three response files
    clients = [HttpClient(transport=ReplayTransport(snap.root), user_agent="t") for _ in range(2)]
    assert len(reads) == 4, "the replay transport read the snapshot again"
    # Each transport serves the ordered recordings from the start: the cache shares no served counts.
    served = [c.get_json(f"{API}/seq", source="t", signal="s")[1] for c in (*clients, clients[0])]
    assert served == ["first", "first", "second"]
    added = snap.exchange(f"{API}/new", body="new")
    assert added in [r.file for r in read_snapshot(snap.root).recordings]
    assert len(reads) == 9  # a changed folder is read again, once


# --- `ai-pulse run` on bad snapshots ----------------------------------------------------------------------------


def drill_symlink_out(responses: Path, outside: Path) -> Path:
    target = outside / "recording.json"
    target.write_text(json.dumps(exchange_doc("outside")))
    link = responses / "stocks" / "linked.json"
    link.symlink_to(target)
    return link


def drill_malformed(responses: Path, outside: Path) -> Path:
    path = responses / "trends" / "truncated.json"
    path.write_text('{"request": {"method": "GET", "url": "https://wikimedia.org/api/rest_v1/x"}, "response": {')
    return path


def drill_deep(responses: Path, outside: Path) -> Path:
    path = responses / "github" / "deep.json"
    path.write_text(exchange_text(nested(100_000)))
    return path


def drill_whitespace(responses: Path, outside: Path) -> Path:
    return write_whitespace(responses / "regulatory" / "whitespace.json", BIG)


def drill_gzip_bomb(responses: Path, outside: Path) -> Path:
    return write_whitespace(responses / "news" / "bomb.json.gz", BIG, compressed=True)


DRILLS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "symlink_out_of_snapshot": (drill_symlink_out, "copy the file into the snapshot instead of linking to it"),
    "malformed_json": (drill_malformed, "is not valid JSON"),
    "json_nested_100000_deep": (drill_deep, f"nests its JSON more than {MAX_JSON_DEPTH} levels deep"),
    "whitespace_200_mb": (drill_whitespace, "holds more than 16 MB of JSON uncompressed"),
    "gzip_inflating_to_200_mb": (drill_gzip_bomb, "holds more than 16 MB of JSON uncompressed"),
}


def measured_run(env: dict[str, str], *args: str) -> dict[str, object]:
    """`ai-pulse ARGS` through bench's wrapper: return code, stderr, wall seconds and the peak RSS of the process;
    no network connection may be attempted."""
    completed = subprocess.run([sys.executable, "-c", MEASURE, str(AI_PULSE), *args], env=env, cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=120, check=True)  # a hang guard only
    network_log = Path(env["AI_PULSE_NETWORK_LOG"])
    assert not network_log.exists() or network_log.read_text() == ""
    return json.loads(completed.stdout)


@pytest.mark.parametrize("drill", DRILLS)
def test_a_bad_response_file_exits_2_naming_it_and_the_fix_with_memory_bounded(
        drill: str, pulse_env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "snapshot"
    shutil.copytree(BUNDLED_SNAPSHOT, root)
    (tmp_path / "outside").mkdir()
    make, fix = DRILLS[drill]
    bad = make(root / "responses", tmp_path / "outside")
    try:
        result = measured_run(pulse_env, "run", "--snapshot", str(root))
    finally:
        bad.unlink()  # the 200 MB files are not left behind in the temporary directory
    print(f"{drill}: exit {result['returncode']} in {result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB")
    stderr = str(result["stderr"])
    assert result["returncode"] == 2, stderr
    assert stderr.startswith(f"ai-pulse: {bad} ") and fix in stderr
    assert "Traceback" not in stderr and "retry" not in stderr
    # Nothing ran: no step opened the warehouse, so nothing could be retried.
    assert not Path(pulse_env["AI_PULSE_WAREHOUSE"]).exists()
    # The 200 MB files never sat in memory: the whole process stayed under half of one of them.
    assert float(result["peak_mb"]) < BIG / 2**20 / 2


# Runs every asset the way a run launched from the UI or the schedule does (the code location's definitions,
# settings from the environment), with no validation up front: the bad file is met inside the load steps.
LAUNCHED_RUN = """
import json
from dagster import DagsterInstance
from orchestration.lib.alerts import failure_lines
from orchestration.code_location import defs

result = defs.resolve_job_def("refresh_everything").execute_in_process(instance=DagsterInstance.get(),
                                                                       raise_on_error=False)
print(json.dumps({"success": result.success, "events": [e.event_type_value for e in result.all_events],
                  "failed_steps": [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"],
                  "failures": failure_lines(result.all_events)}))
"""


@pytest.mark.slow
def test_inside_dagster_a_bad_snapshot_fails_each_load_step_once_without_retries(
        pulse_env: dict[str, str], tmp_path: Path) -> None:
    from orchestration.defs.ingest import SOURCES

    root = tmp_path / "snapshot"
    shutil.copytree(BUNDLED_SNAPSHOT, root)
    bad = drill_malformed(root / "responses", tmp_path)
    env = {**pulse_env, "AI_PULSE_SNAPSHOT": str(root)}
    # Retried loads would wait ~30 s and ~60 s each: the timeout only guards against a hang.
    completed = subprocess.run([sys.executable, "-c", LAUNCHED_RUN], env=env, cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=400, check=False)
    assert completed.returncode == 0, completed.stderr
    network_log = Path(env["AI_PULSE_NETWORK_LOG"])
    assert not network_log.exists() or network_log.read_text() == ""
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["success"] is False
    assert "STEP_UP_FOR_RETRY" not in outcome["events"] and "STEP_RESTARTED" not in outcome["events"]
    assert sorted(outcome["failed_steps"]) == sorted(f"load_{name}" for name in SOURCES)
    for line in outcome["failures"]:
        assert f"{bad} is not valid JSON" in line and "re-record the snapshot" in line, line
