"""Process-wide settings that must be in place before Dagster, dbt, dlt or GX are imported."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from ingestion.settings import PROJECT_ROOT

DAGSTER_YAML = """\
# Project-local Dagster instance (git-ignored). Telemetry is off; runs are queued one at a time so that only
# one writer ever holds the DuckDB warehouse.
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
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


def configure_environment() -> Path:
    """Turn analytics off everywhere and point DAGSTER_HOME at the project (unless already set)."""
    for key, value in TELEMETRY_OFF.items():
        os.environ[key] = value
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    # Library chatter that says nothing to the person running the pipeline.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*is a preview.*")
    warnings.filterwarnings("ignore", message=".*beta.*")
    for noisy in ("great_expectations", "dlt", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return home
