"""The code location the Dagster webserver and daemon load: settings come from the environment."""

import os

from orchestration.lib.environment import configure_environment

configure_environment()

from orchestration.definitions import build_definitions  # noqa: E402
from orchestration.lib.settings import resolve_settings  # noqa: E402 - after the environment is configured

settings = resolve_settings()
# dbt (a subprocess) reads the warehouse from the environment: the same path the resolver chose.
os.environ["AI_PULSE_WAREHOUSE"] = str(settings.warehouse)
defs = build_definitions(settings)
