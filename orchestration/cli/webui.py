"""`ai-pulse ui`: the Dagster webserver and daemon (`dagster dev`) for AI Pulse, bound to 127.0.0.1 only, and
the run's documents (report, GX Data Docs, dbt docs) served read-only beside it, on 127.0.0.1 too, for the
assets' links (orchestration/lib/docs_site.py).

`dagster dev` runs in its own process group and is stopped through its own shutdown path (SIGINT), so Ctrl-C or
a SIGTERM to `ai-pulse ui` stops the webserver, the daemon and the code server together.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from ingestion.settings import PROJECT_ROOT
from orchestration.lib.alerts import UI_URL_ENV
from orchestration.lib.docs_site import DOCS_URL_ENV, serving_docs
from orchestration.lib.settings import Warehouse

HOST = "127.0.0.1"
START_TIMEOUT_S = 300  # first start parses the dbt project and loads every source; 2 busy cores are slow
STOP_TIMEOUT_S = 60


class PortBusy(RuntimeError):
    """The requested port is taken on 127.0.0.1."""


def dagster_dev_command(port: int) -> list[str]:
    """The webserver and the daemon, reachable from this machine only. Run from the project root, `dagster dev`
    loads what `[tool.dagster]` in pyproject.toml names (`orchestration.code_location`): the very same code
    location as a plain `dagster dev` there."""
    dagster = Path(sys.executable).with_name("dagster")
    return [str(dagster), "dev", "-h", HOST, "-p", str(port)]


def ensure_port_free(port: int, option: str = "--port") -> None:
    """Fail before starting anything when the port is taken (the webserver would die after a slow start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise PortBusy(f"port {port} on {HOST} is in use; stop what uses it or choose another with {option}") \
                from None


def answers(url: str) -> bool:
    """Whether the webserver at `url` answers its health endpoint (proxies bypassed: it is on this machine)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/server_info", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def serve(port: int, warehouse: Warehouse, docs_port: int | None = None) -> int:
    """Serve the documents (on `docs_port`, default `port` + 1) and run `dagster dev` until it exits or the user
    stops it; prints the URLs once the webserver answers."""
    docs_port = port + 1 if docs_port is None else docs_port
    if docs_port == port:
        raise PortBusy(f"--docs-port {docs_port} is the webserver's port; choose another")
    ensure_port_free(port)
    ensure_port_free(docs_port, "--docs-port")
    with serving_docs(warehouse, HOST, docs_port) as docs_url:
        return _serve_dagster(port, warehouse, docs_url)


def _serve_dagster(port: int, warehouse: Warehouse, docs_url: str) -> int:
    url = f"http://{HOST}:{port}"
    home = os.environ["DAGSTER_HOME"]
    # `dagster dev` still works in 1.13 but warns that `dg dev` (another package) supersedes it.
    quiet = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), "ignore:Function `dev_command` is superseded"]))
    env = {**os.environ, "AI_PULSE_WAREHOUSE": str(warehouse), "PYTHONWARNINGS": quiet}
    # The daemon's failure alerts link to this webserver and the assets to these documents, unless the user named
    # other addresses (a proxy).
    for variable, own in ((UI_URL_ENV, url), (DOCS_URL_ENV, docs_url)):
        if not env.get(variable, "").strip():
            env[variable] = own
    print(f"AI Pulse UI starting on {url} (DAGSTER_HOME {home}, warehouse {warehouse}) …", flush=True)
    print(f"AI Pulse documents (report, GX Data Docs, dbt docs): {docs_url}", flush=True)
    started: list[subprocess.Popen[bytes]] = []
    stop_requested: list[float] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if not stop_requested:
            stop_requested.append(time.monotonic())
            for process in started:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)

    # Handlers first: a handled signal is reset to its default in the child, while an ignored one (as in a
    # shell's background job) would stay ignored there, and `dagster dev` could then not be stopped by SIGINT.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        process = subprocess.Popen(dagster_dev_command(port), cwd=PROJECT_ROOT, env=env, start_new_session=True)
        started.append(process)
        deadline = time.monotonic() + START_TIMEOUT_S
        while process.poll() is None and not stop_requested and time.monotonic() < deadline:
            if answers(url):
                print(f"AI Pulse UI: {url}  (webserver + daemon; Ctrl-C stops both)", flush=True)
                break
            time.sleep(0.5)
        return_code = _wait(process, stop_requested)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in started:
            _stop(process)
    return 0 if stop_requested else (return_code or 1)


def _wait(process: subprocess.Popen[bytes], stop_requested: list[float]) -> int:
    while True:
        try:
            return process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            if stop_requested and time.monotonic() - stop_requested[0] > STOP_TIMEOUT_S:
                return _stop(process)


def _group_alive(group: int) -> bool:
    """Whether a live (not zombie) process is left in the group; /proc tells zombies apart, killpg(0) cannot."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:  # fields after the name: state, ppid, pgrp, ...
            return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Make sure nothing `dagster dev` started outlives `ai-pulse ui`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Its group (webserver, daemon, code server) is usually gone with it; a code server can linger, so the
    # group is asked to stop, then ended.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + STOP_TIMEOUT_S / 2
        while _group_alive(process.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            time.sleep(0.5)
    return process.returncode
