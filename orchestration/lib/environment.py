"""Process-wide settings that must be in place before Dagster, dbt, dlt or GX are imported."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from ingestion.settings import PROJECT_ROOT
from orchestration.lib.local_faults import dagster_home, explained

GENERATED_MARK = "# Project-local Dagster instance"  # how every generated file begins, older ones included
DAGSTER_YAML = f"""\
{GENERATED_MARK}, written by orchestration/environment.py (rewritten when it differs:
# edit DAGSTER_YAML there, or remove the first line to keep your own edits). The project's own .dagster/dagster.yaml
# is committed, so `dagster dev` from the repository root (DAGSTER_HOME=$PWD/.dagster) starts with it too.
# Telemetry is off. DuckDB allows one writer per file, so runs are queued one at a time, and steps that write
# the warehouse share the pool `duckdb_warehouse` with one slot: a run from the UI, the nightly schedule and
# `ai-pulse run` (same DAGSTER_HOME) never write at the same time.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
    granularity: op
"""

TELEMETRY_OFF = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DBT_VERSION_CHECK": "False",  # dbt --version would ask PyPI for the latest release
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DLT_DISABLE_TELEMETRY": "1",
}


# (module, message) of warnings that say nothing to act on. sqlglot (through dlt) loads its optional Rust tokenizer
# when installed, and that package now announces its own deprecation at import.
KNOWN_HARMLESS_WARNINGS = [
    ("sqlglotrs", "sqlglotrs is deprecated"),
]


def configure_environment() -> Path:
    """Turn analytics off everywhere and point DAGSTER_HOME at the project (unless already set); a home that
    cannot be written raises LocalFault."""
    for key, value in TELEMETRY_OFF.items():
        os.environ[key] = value
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster"))).resolve()
    with explained(dagster_home(home)):  # a read-only or full home: one sentence (LocalFault), exit 2
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        current = config.read_text(encoding="utf-8") if config.exists() else None
        if current is None or (current.startswith(GENERATED_MARK) and current != DAGSTER_YAML):
            config.write_text(DAGSTER_YAML, encoding="utf-8")
    # Deprecations stay visible: one that touches an API this project calls is a change to make. Only warnings
    # named here, known harmless and out of the project's hands, are silenced, each by its module and message.
    for module, message in KNOWN_HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=message, module=module)
    # Library chatter that says nothing to the person running the pipeline.
    for noisy in ("great_expectations", "dlt", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return home
