"""Drills of the local faults a night can meet on this machine: a read-only Dagster home, logs folder, warehouse
folder or lock file, a full disk, a file-size limit, and a second run while one is going. Each ends in one
sentence naming the path, the cause and the fix, with exit 2 (configuration) or 3 (busy), before anything starts.

Root ignores file permissions, so a read-only folder is a real read-only bind mount and a full disk a real tiny
tmpfs, both made inside a user and mount namespace of the command's own (`unshare --map-root-user --mount`):
nothing outside the test changes, and no privilege is needed. Where the machine forbids user namespaces those
drills are skipped, saying so.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import AI_PULSE, PROJECT_ROOT, invoke
from tests.test_pipeline import p04_snapshot

READ_ONLY = "is on a read-only file system"
HOME_FIX = "point DAGSTER_HOME at a writable folder (the default is .dagster/ in the project)"
WAREHOUSE_FIX = "choose a writable path with --warehouse or AI_PULSE_WAREHOUSE, or make that folder writable"
LOGS_FIX = "make that folder writable, remove it so the next run recreates it, or choose another --warehouse"
LOCK_FIX = "make the lock file and its folder writable, or remove the file when no run is going"
ANOTHER_DISK = "move the warehouse to another disk (--warehouse or AI_PULSE_WAREHOUSE)"


@pytest.fixture(scope="session")
def namespaces(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip unless this machine lets an unprivileged process mount inside its own user namespace."""
    target = tmp_path_factory.mktemp("namespace_probe")
    try:
        tried = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c",
                                'mount -t tmpfs -o size=64k tmpfs "$1"', "sh", str(target)],
                               capture_output=True, text=True, timeout=30, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot emulate read-only folders or a full disk: unshare is unavailable ({exc})")
    if tried.returncode != 0:
        pytest.skip("cannot emulate read-only folders or a full disk: this machine forbids mounting in a user "
                    f"namespace (`unshare --map-root-user --mount`: {tried.stderr.strip()})")


def in_namespace(*setup: str, then: str = "") -> tuple[str, ...]:
    """A wrapper that runs its command in a new user and mount namespace after the `setup` shell commands, then
    runs `then` (its output follows the command's), and exits with the command's own status."""
    script = " && ".join([*setup, '"$@"']) + "; status=$?; " + (f"{then}; " if then else "") + "exit $status"
    return ("unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh")


def read_only(path: Path) -> str:
    """Shell command: make `path` (a folder or a file) read-only inside the namespace."""
    quoted = shlex.quote(str(path))
    return f"mount --bind -o ro {quoted} {quoted}"


def fault_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a local fault prints; fails when there is a traceback or more than one line."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def make_warehouse(path: Path) -> Path:
    """A small warehouse file holding one table, as a previous night left it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create table night as select range as day from range(10)")
    return path


@pytest.mark.usefixtures("namespaces")
@pytest.mark.parametrize("initialised", [False, True], ids=["new home", "home with run history"])
def test_a_read_only_dagster_home_is_one_sentence_for_every_command(
        pulse_env: dict[str, str], initialised: bool) -> None:
    home = Path(pulse_env["DAGSTER_HOME"])
    home.mkdir()
    refused = home
    if initialised:  # dagster.yaml is current, so only Dagster's own storage would meet the read-only folder
        assert invoke(("signals",), pulse_env).returncode == 0
        refused = home / "history"
        refused.mkdir()
    wrapper = in_namespace(read_only(refused))
    for command in ("run", "status", "ui", "doctor"):
        result = invoke((command,), pulse_env, timeout=120, wrapper=wrapper)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        if command == "doctor" and initialised:
            assert f"[FAIL] dagster home: cannot use the Dagster home {home} (DAGSTER_HOME): {refused} " \
                   f"{READ_ONLY}\n       fix: {HOME_FIX}" in result.stdout
            continue
        # Without dagster.yaml, every command stops where the environment is set up: writing it.
        path = refused if initialised else home / "dagster.yaml"
        assert fault_line(result) == f"ai-pulse: cannot use the Dagster home {home} (DAGSTER_HOME): {path} " \
                                     f"{READ_ONLY}; {HOME_FIX}", command


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user may read but only root may write (pytest's own temporary folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="ai_pulse_shared_"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_a_dagster_home_this_user_may_not_write_is_one_sentence(pulse_env: dict[str, str],
                                                                  shared_folder: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to the user nobody needs root; as another user a chmod'ed folder shows the same")
    home = shared_folder / "dagster_home"
    home.mkdir()
    env = {**pulse_env, "DAGSTER_HOME": str(home), "AI_PULSE_WAREHOUSE": str(shared_folder / "ai_pulse.duckdb")}
    assert invoke(("signals",), env).returncode == 0  # dagster.yaml written as root: only its reader is nobody
    as_nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    result = invoke(("run",), env, timeout=120, wrapper=as_nobody)
    assert result.returncode == 2
    assert fault_line(result) == (f"ai-pulse: cannot use the Dagster home {home} (DAGSTER_HOME): {home} is not "
                                  f"writable by this user, or not reachable (permission denied); {HOME_FIX}")
    # pytest's temporary folders are root's alone: a warehouse there cannot even be looked at by nobody.
    hidden = pulse_env["AI_PULSE_WAREHOUSE"]
    result = invoke(("run", "--warehouse", hidden), env, timeout=120, wrapper=as_nobody)
    assert result.returncode == 2
    assert fault_line(result) == (f"ai-pulse: cannot reach the warehouse {hidden}: {hidden} is not writable by this "
                                  "user, or not reachable (permission denied); choose a path this user may open with "
                                  "--warehouse or AI_PULSE_WAREHOUSE, or give the user access to it")


@pytest.mark.usefixtures("namespaces")
def test_a_read_only_logs_folder_is_named_before_the_run_starts(pulse_env: dict[str, str]) -> None:
    logs = Path(pulse_env["AI_PULSE_WAREHOUSE"]).parent / "logs"
    logs.mkdir(parents=True)
    wrapper = in_namespace(read_only(logs))
    expected = f"cannot write the run logs (last_run.log, alerts.log) in {logs}: {logs} {READ_ONLY}"
    for command in ("run", "ui"):
        result = invoke((command,), pulse_env, timeout=120, wrapper=wrapper)
        assert result.returncode == 2 and fault_line(result) == f"ai-pulse: {expected}; {LOGS_FIX}", command
    doctor = invoke(("doctor",), pulse_env, wrapper=wrapper)
    assert doctor.returncode == 2 and f"[FAIL] warehouse: {expected}\n       fix: {LOGS_FIX}" in doctor.stdout
    assert not (logs / "last_run.log").exists()


@pytest.mark.usefixtures("namespaces")
def test_an_existing_warehouse_in_a_read_only_folder_is_not_called_missing_and_still_reads(
        pulse_env: dict[str, str]) -> None:
    warehouse = make_warehouse(Path(pulse_env["AI_PULSE_WAREHOUSE"]))
    wrapper = in_namespace(read_only(warehouse.parent))
    result = invoke(("run",), pulse_env, timeout=120, wrapper=wrapper)
    assert result.returncode == 2
    assert fault_line(result) == (f"ai-pulse: cannot write beside the warehouse {warehouse}: {warehouse.parent} "
                                  f"{READ_ONLY}; {WAREHOUSE_FIX}")
    # Reading needs no write: analysts can still query a warehouse on a read-only share.
    read = invoke(("sql", "select count(*) as days from night"), pulse_env, wrapper=wrapper)
    assert read.returncode == 0 and "(1 row)" in read.stdout, read.stderr


def test_a_new_warehouse_where_no_folder_can_be_made_is_a_configuration_error(run_cli) -> None:
    # /proc takes no new files, not even from root: as good as a read-only parent, with no namespace needed.
    result = run_cli("run", "--warehouse", "/proc/ai_pulse/ai_pulse.duckdb")
    assert result.returncode == 2
    assert fault_line(result) == ("ai-pulse: cannot create the warehouse at /proc/ai_pulse/ai_pulse.duckdb: /proc "
                                  f"does not exist or takes no new files; {WAREHOUSE_FIX}")


@pytest.mark.usefixtures("namespaces")
def test_a_read_only_lock_file_is_named_as_the_lock(pulse_env: dict[str, str]) -> None:
    warehouse = make_warehouse(Path(pulse_env["AI_PULSE_WAREHOUSE"]))
    lock = warehouse.with_name(warehouse.name + ".lock")
    lock.touch()
    wrapper = in_namespace(read_only(lock))
    expected = f"cannot take the lock {lock} of the warehouse {warehouse}: {lock} {READ_ONLY}"
    result = invoke(("run",), pulse_env, timeout=120, wrapper=wrapper)
    assert result.returncode == 2 and fault_line(result) == f"ai-pulse: {expected}; {LOCK_FIX}"
    doctor = invoke(("doctor",), pulse_env, wrapper=wrapper)
    assert doctor.returncode == 2 and f"[FAIL] warehouse: {expected}\n       fix: {LOCK_FIX}" in doctor.stdout


@pytest.mark.usefixtures("namespaces")
def test_a_full_disk_is_named_before_the_run_starts_and_the_warehouse_still_opens(
        pulse_env: dict[str, str], tmp_path: Path) -> None:
    kept = make_warehouse(tmp_path / "kept" / "ai_pulse.duckdb")
    disk = tmp_path / "disk"
    disk.mkdir()
    warehouse = disk / "ai_pulse.duckdb"
    env = {**pulse_env, "AI_PULSE_WAREHOUSE": str(warehouse)}
    fill = [f"mount -t tmpfs -o size=1m tmpfs {disk}", f"cp {kept} {disk}",
            f"(dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null; true)"]
    # The tiny disk lives only inside the namespace: the warehouse is read there, after the run.
    opens = f"{AI_PULSE} sql 'select count(*) as days from night' --format csv"  # noqa: S608 - a constant
    result = invoke(("run",), env, timeout=120, wrapper=in_namespace(*fill, then=opens))
    assert result.returncode == 2
    assert fault_line(result) == (f"ai-pulse: cannot write beside the warehouse {warehouse}: {disk} is on a full "
                                  f"disk (no space left on device); free some space on that disk, or {ANOTHER_DISK}")
    assert result.stdout.split() == ["days", "10"], "the warehouse opens with every row"


def test_a_file_size_limit_is_named_before_the_run_starts(pulse_env: dict[str, str]) -> None:
    # RLIMIT_FSIZE through prlimit: the probe's first page is refused with EFBIG (Python ignores SIGXFSZ).
    # The limit meets the first place probed, the Dagster home (after dagster.yaml, which is smaller).
    home = Path(pulse_env["DAGSTER_HOME"])
    result = invoke(("run",), pulse_env, timeout=120, wrapper=("prlimit", "--fsize=1024"))
    assert result.returncode == 2
    assert fault_line(result) == (f"ai-pulse: cannot use the Dagster home {home} (DAGSTER_HOME): {home} hit the "
                                  "file-size limit of this process (ulimit -f); raise the limit (ulimit -f "
                                  "unlimited) and run again")


@pytest.fixture
def running(pulse_env: dict[str, str], write_registry, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A real `ai-pulse run` of a three-ticker snapshot, once it holds the warehouse; killed afterwards."""
    from tests.test_pipeline import P04_SIGNALS

    env = {**pulse_env, "AI_PULSE_REGISTRY": str(write_registry(P04_SIGNALS))}
    lock = Path(pulse_env["AI_PULSE_WAREHOUSE"] + ".lock")
    run = subprocess.Popen([str(AI_PULSE), "run", "--snapshot", str(p04_snapshot(tmp_path / "snapshot"))], env=env,
                           cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                           start_new_session=True)
    try:
        while not (lock.exists() and "ai-pulse run (pid" in lock.read_text()):
            assert run.poll() is None, "the first run ended before taking the warehouse"
            time.sleep(0.2)
        yield run
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)


def test_a_second_run_while_one_is_going_exits_3_naming_the_holder(
        running: subprocess.Popen[str], run_cli, pulse_env: dict[str, str]) -> None:
    second = run_cli("run")
    assert second.returncode == 3
    warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
    assert fault_line(second) == (f"ai-pulse: warehouse {warehouse} is busy: ai-pulse run (pid {running.pid}) is "
                                  "writing to it; wait for that run to finish, or use another --warehouse")
    assert running.poll() is None, "the first run goes on"


@pytest.mark.slow
@pytest.mark.usefixtures("namespaces")
def test_a_disk_that_fills_up_during_a_run_fails_it_with_one_closing_sentence_and_the_warehouse_still_opens(
        pulse_env: dict[str, str], write_registry, tmp_path: Path) -> None:
    from tests.test_pipeline import P04_SIGNALS

    warehouse = Path(pulse_env["AI_PULSE_WAREHOUSE"])
    warehouse.parent.mkdir(parents=True)
    env = {**pulse_env, "AI_PULSE_REGISTRY": str(write_registry(P04_SIGNALS))}
    # 12 MB pass the probes, and run out while the first loads write (a three-ticker warehouse takes ~40 MB). The
    # disk already holds a small published warehouse: the failed run must leave it as it was, and open.
    keep = (f"{sys.executable} -c \"import duckdb; duckdb.connect('{warehouse}')"
            ".execute('create table kept as select 42 as answer')\"")
    opens = f"{AI_PULSE} sql 'select answer from kept' --format csv"  # noqa: S608 - no input
    result = invoke(("run", "--snapshot", str(p04_snapshot(tmp_path / "snapshot"))), env,
                    wrapper=in_namespace(f"mount -t tmpfs -o size=12m tmpfs {warehouse.parent}", keep, then=opens))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"ai-pulse: the run failed; nothing of it was published: {warehouse} still holds the last successful run; "
        f"cannot write beside the warehouse {warehouse}: {warehouse.parent} is on a full disk (no space left on "
        f"device); free some space on that disk, or {ANOTHER_DISK}")
    assert "FAILED step " in result.stderr
    assert result.stdout.split()[-2:] == ["answer", "42"], "the published warehouse is as it was, and opens"
