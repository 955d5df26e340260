"""The code location the Dagster webserver and daemon load: settings come from the environment."""

from orchestration.environment import configure_environment

configure_environment()

from ingestion.settings import resolve_settings  # noqa: E402 - after the environment is configured
from orchestration.definitions import build_definitions  # noqa: E402

defs = build_definitions(resolve_settings())
