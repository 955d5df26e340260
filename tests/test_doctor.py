"""`ai-pulse doctor` says, before a night fails, what is wrong and how to fix it; it writes nothing."""

from __future__ import annotations

import fcntl
import json
import subprocess
from pathlib import Path

from ingestion.settings import BUNDLED_SNAPSHOT
from tests.conftest import AI_PULSE, PROJECT_ROOT, CliRunner


def test_doctor_on_the_bundled_snapshot_finds_every_source_answering_and_exits_0(
        run_cli: CliRunner, pulse_env: dict[str, str]) -> None:
    result = run_cli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for source in ("stocks", "trends", "github", "regulatory", "news"):
        assert f"[ok  ] {source}: " in result.stdout, source
    assert "ready to run" in result.stdout and "a nightly run about" in result.stdout
    assert not Path(pulse_env["AI_PULSE_WAREHOUSE"]).exists(), "the doctor writes no warehouse"


def test_doctor_names_a_broken_snapshot_a_held_lock_and_a_missing_recording(
        run_cli: CliRunner, pulse_env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    result = run_cli("doctor", env={"AI_PULSE_SNAPSHOT": str(broken)})
    assert result.returncode == 2
    assert f"[FAIL] snapshot: {broken / 'manifest.json'} is not valid JSON" in result.stdout
    assert "fix: fix or re-record the snapshot" in result.stdout

    partial = tmp_path / "partial"
    (partial / "responses").mkdir(parents=True)
    (partial / "manifest.json").write_text(json.dumps({"as_of": "2025-12-31", "description": "stocks only"}))
    stock = BUNDLED_SNAPSHOT / "responses" / "stocks" / "NVDA.json.gz"
    (partial / "responses" / stock.name).write_bytes(stock.read_bytes())
    warehouse = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    warehouse.parent.mkdir(parents=True)
    with open(warehouse.with_name(warehouse.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held = run_cli("doctor", env={"AI_PULSE_SNAPSHOT": str(partial)})
    assert held.returncode == 0, held.stdout  # warnings do not stop a run
    assert "[warn] warehouse: a run holds" in held.stdout
    assert "[warn] trends: ChatGPT: the snapshot holds no recording for it" in held.stdout
    assert "[ok  ] stocks: NVDA: answered in the expected shape" in held.stdout


def test_doctor_live_reports_each_unreachable_api_without_a_traceback_or_the_token(tmp_path: Path,
                                                                                  pulse_env: dict[str, str]) -> None:
    # This machine reaches no API: each source must come back as a sentence naming its host, in seconds.
    canary = "ghp_doctorcanary0123456789abcdefghijklmno"
    env = {**pulse_env, "GITHUB_TOKEN": canary}
    result = subprocess.run([str(AI_PULSE), "doctor", "--live"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    for source, host in (("stocks", "query1.finance.yahoo.com"), ("trends", "wikimedia.org"),
                         ("github", "api.github.com"), ("regulatory", "www.federalregister.gov"),
                         ("news", "hn.algolia.com")):
        assert f"[FAIL] {source}: " in output and host in output, source
    assert "Traceback" not in output and canary not in output
