"""The code location the Dagster webserver and daemon load: settings come from the environment."""

import os

from orchestration.environment import configure_environment

configure_environment()

from ingestion.settings import resolve_settings  # noqa: E402 - after the environment is configured
from orchestration.definitions import build_definitions  # noqa: E402

settings = resolve_settings()
# dbt (a subprocess) reads the warehouse from the environment: the same path the resolver chose.
os.environ["AI_PULSE_WAREHOUSE"] = str(settings.warehouse)
defs = build_definitions(settings)
