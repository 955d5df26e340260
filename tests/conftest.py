"""Shared fixtures: an isolated environment per test, a CLI runner that forbids network access, small registries
and snapshots written on the fly, and a replay that keeps what each request sent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AI_PULSE = Path(sys.executable).with_name("ai-pulse")

# Loaded by every Python process the CLI starts (dbt too): any attempt to open an internet socket is written
# to AI_PULSE_NETWORK_LOG and refused, so a replay run that touches the network fails loudly. Loopback
# connections (127.0.0.1, ::1) stay allowed: `ai-pulse ui` talks to its own webserver.
NETWORK_GUARD = '''
import ipaddress, os, socket
_log = os.environ.get("AI_PULSE_NETWORK_LOG")
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def _loopback(address):
    # This machine's own services (the Dagster webserver, its code server) are not the internet.
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    try:
        return host == "localhost" or ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False

def _guard(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
        with open(_log, "a") as handle:
            handle.write(f"{os.getpid()} {address!r}\\n")
        raise OSError("network access is forbidden in replay tests")

def connect(self, address):
    _guard(self, address)
    return _connect(self, address)

def connect_ex(self, address):
    _guard(self, address)
    return _connect_ex(self, address)

if _log:
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
'''


@pytest.fixture(scope="session")
def guard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("network_guard")
    (path / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    return path


def isolated_env(root: Path, guard_dir: Path) -> dict[str, str]:
    """Environment for one isolated AI Pulse under `root`: its own warehouse, Dagster home and network log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_PULSE_", "DAGSTER_"))}
    env.update({
        "DAGSTER_HOME": str(root / "dagster_home"),
        "AI_PULSE_WAREHOUSE": str(root / "warehouse" / "ai_pulse.duckdb"),
        "AI_PULSE_NETWORK_LOG": str(root / "network.log"),
        "PYTHONPATH": os.pathsep.join([str(guard_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    })
    return env


def invoke(args: tuple[str, ...], env: dict[str, str], timeout: float = 600,
           stdin: str | None = None, wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run `ai-pulse ARGS` as a user would (through `wrapper`, a command that runs its arguments, when given);
    asserts afterwards that no network connection was attempted."""
    completed = subprocess.run([*wrapper, str(AI_PULSE), *args], env=env, cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=timeout, check=False, input=stdin)
    network_log = Path(env["AI_PULSE_NETWORK_LOG"])
    attempts = network_log.read_text() if network_log.exists() else ""
    assert attempts == "", f"ai-pulse {' '.join(args)} tried to open network connections:\n{attempts}"
    return completed


@pytest.fixture
def pulse_env(tmp_path: Path, guard_dir: Path) -> dict[str, str]:
    """Environment for one isolated AI Pulse: its own warehouse, Dagster home and network log."""
    return isolated_env(tmp_path, guard_dir)


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(pulse_env: dict[str, str]) -> CliRunner:
    """Run `ai-pulse ARGS` in the test's environment (`env` adds or overrides variables, `stdin` is typed in)."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return invoke(args, {**pulse_env, **(env or {})}, timeout, stdin)

    return run


@dataclass(frozen=True)
class BundledRun:
    """One `ai-pulse run` of the bundled snapshot, shared by the tests that only read its results."""

    env: dict[str, str]
    warehouse: Path
    completed: subprocess.CompletedProcess[str]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests reading the shared bundled run form one group, which `make test` (`--dist loadgroup`) gives to a
    single worker: the run then happens once per session, not once per worker."""
    for item in items:
        if "bundled_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("bundled_run"))


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory: pytest.TempPathFactory, guard_dir: Path) -> BundledRun:
    """The whole pipeline on the bundled snapshot, run once per test session (a full run costs about two
    minutes on two cores). Its documents are linked as served on a port of their own, as `ai-pulse ui
    --docs-port` serves them (tests/test_ui_browser.py)."""
    env = isolated_env(tmp_path_factory.mktemp("bundled"), guard_dir)
    env["AI_PULSE_DOCS_URL"] = f"http://127.0.0.1:{free_port()}"
    completed = invoke(("run",), env)
    assert completed.returncode == 0, completed.stderr
    return BundledRun(env, Path(env["AI_PULSE_WAREHOUSE"]), completed)


@pytest.fixture
def write_registry(tmp_path: Path) -> Callable[..., Path]:
    """Write a registry with the project's predictions and settings but only the given signals."""

    def write(signals: dict[str, list[dict[str, Any]]], **overrides: Any) -> Path:
        doc = yaml.safe_load((PROJECT_ROOT / "registry.yml").read_text(encoding="utf-8"))
        doc["signals"] = signals
        doc.update(overrides)
        path = tmp_path / "registry.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    return write


@dataclass(frozen=True)
class SmallDbtProject:
    """A dbt project written by `small_dbt_project`: its DuckDB file, its target folder and the dbt arguments that
    point at the project, its profile and that folder."""

    warehouse: Path
    target: Path
    args: list[str]


def small_dbt_project(root: Path, name: str, models: dict[str, str], models_yml: str) -> SmallDbtProject:
    """Write a dbt project named `name` in `root`, with the given models (file stem: SQL) and their YAML, building
    into a DuckDB file of its own."""
    project = SmallDbtProject(warehouse=root / "probe.duckdb", target=root / "target", args=[
        "--project-dir", str(root), "--profiles-dir", str(root), "--target-path", str(root / "target"),
        "--log-path", str(root / "target")])
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(yaml.safe_dump({
        "name": name, "version": "1.0", "config-version": 2, "profile": name,
        "flags": {"send_anonymous_usage_stats": False}}))
    (root / "profiles.yml").write_text(yaml.safe_dump({name: {"target": "local", "outputs": {"local": {
        "type": "duckdb", "path": str(project.warehouse), "threads": 1}}}}))
    for model, sql in models.items():
        (root / "models" / f"{model}.sql").write_text(sql)
    (root / "models" / "models.yml").write_text(models_yml)
    return project


def query(warehouse: str | Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query against a test warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def load_source(source: Any, warehouse: Path) -> Path:
    """Load a dlt source into a DuckDB file with a real dlt pipeline (state kept beside it); returns the file."""
    import dlt

    pipeline = dlt.pipeline(pipeline_name=f"test_{source.name}", destination=dlt.destinations.duckdb(str(warehouse)),
                            dataset_name=f"raw_{source.name}", pipelines_dir=str(warehouse.parent / ".dlt"))
    pipeline.run(source)
    return warehouse


UI_START_TIMEOUT_S = 420  # the first start parses the dbt project; the suite keeps both cores busy meanwhile


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_ui(env: dict[str, str], port: int, log_path: Path,
               *options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ai-pulse ui --port PORT [OPTIONS]` as a user starts it; stopped with Ctrl-C (SIGINT to its process
    group)."""
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(AI_PULSE), "ui", "--port", str(port), *options], env=env, cwd=PROJECT_ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + UI_START_TIMEOUT_S
            while f"AI Pulse UI: {url}" not in log_path.read_text(errors="replace"):
                assert process.poll() is None, f"ai-pulse ui exited early:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"ai-pulse ui did not answer:\n{log_path.read_text()}"
                time.sleep(1)
            yield url, process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    pytest.fail(f"ai-pulse ui ignored Ctrl-C:\n{log_path.read_text()}")


@contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering with `handler`, in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SpyingReplay:
    """Replay that also keeps what each request sent (URL, params, headers, and the live client profile it asked
    for), to check what a source asks for."""

    root: Path
    sent: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from ingestion.http import ReplayTransport

        self.replay = ReplayTransport(self.root)

    def send(self, method: str, url: str, params: dict[str, str], headers: dict[str, str], timeout: float,
             profile: str = "requests") -> Any:
        self.sent.append((url, dict(params), dict(headers)))
        self.profiles.append(profile)
        return self.replay.send(method, url, params, headers, timeout, profile)

    def sleep(self, seconds: float) -> None:
        self.replay.sleep(seconds)
