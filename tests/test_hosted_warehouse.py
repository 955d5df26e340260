"""The one setting that moves the warehouse to MotherDuck (`AI_PULSE_WAREHOUSE=md:<database>`): dlt's destination
and dbt's target both resolve to the hosted database, the token comes only from MOTHERDUCK_TOKEN and is written
nowhere, and nothing here connects anywhere (sockets are refused for the whole test)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from orchestration.lib import settings as pulse_settings
from orchestration.lib.settings import ConfigError, HostedWarehouse, resolve_settings
from tests.conftest import CliRunner

TOKEN = "md-token-canary-0bd5e1"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every socket connection attempt in this process is recorded and refused."""
    attempts: list[object] = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def hosted_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`md:ai_pulse` with a token in the environment; the run's local files go under tmp_path."""
    monkeypatch.setenv("AI_PULSE_WAREHOUSE", "md:ai_pulse")
    monkeypatch.setenv("MOTHERDUCK_TOKEN", TOKEN)
    monkeypatch.setattr(pulse_settings, "DEFAULT_WAREHOUSE", tmp_path / "warehouse" / "ai_pulse.duckdb")
    return tmp_path / "warehouse" / "motherduck_ai_pulse"


def test_one_setting_points_dlt_and_dbt_at_the_motherduck_database(hosted_env: Path, no_network: list[object]) -> None:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dlt.common.utils import digest128

    from orchestration.definitions import build_definitions
    from orchestration.defs.resources import PulseResource, warehouse_destination
    from orchestration.defs.transform import dbt_target_dir

    settings = resolve_settings()
    warehouse = settings.warehouse
    assert warehouse == HostedWarehouse(database="ai_pulse", parent=hosted_env)
    # Dagster's resource config carries the setting as text; it resolves back to the same warehouse.
    assert PulseResource.from_settings(settings).settings.warehouse == warehouse
    # The run's own files stay on this machine, beside each other.
    assert settings.pipelines_dir.parent == dbt_target_dir(warehouse).parent == hosted_env

    # dlt: the MotherDuck destination, database ai_pulse, token found in the environment (dlt fingerprints the
    # token it will use) and not copied into the credentials or the connection string.
    destination = warehouse_destination(warehouse)
    config = destination.configuration(None, accept_partial=True)
    assert destination.destination_name == "motherduck"
    assert config.credentials.database == "ai_pulse"
    assert config.credentials.password is None
    assert config.fingerprint() == digest128(TOKEN)
    assert TOKEN not in config.credentials._conn_str()

    # dbt: the project's own profiles.yml, rendered by dbt, gives dbt-duckdb a MotherDuck path.
    set_invocation_context(os.environ)
    raw = read_profile(str(pulse_settings.TRANSFORM_DIR))
    _, profile = Profile.render_profile(raw["ai_pulse"], "ai_pulse", None, ProfileRenderer({}))
    credentials = DuckDBCredentials.from_dict({k: v for k, v in profile.items() if k not in ("type", "threads")})
    assert (credentials.path, credentials.is_motherduck, credentials.database) == ("md:ai_pulse", True, "ai_pulse")
    assert TOKEN not in repr(profile)

    # The whole Dagster definition builds for the hosted warehouse, and the token is in none of its config.
    definitions = build_definitions(settings)
    pulse = definitions.resources["pulse"]
    assert pulse.warehouse == "md:ai_pulse"
    assert TOKEN not in repr(pulse) and TOKEN not in repr(settings)
    assert no_network == []


def test_hosted_warehouse_setting_errors_name_the_fix(hosted_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTHERDUCK_TOKEN")
    with pytest.raises(ConfigError, match="MOTHERDUCK_TOKEN is not set"):
        resolve_settings()
    monkeypatch.setenv("MOTHERDUCK_TOKEN", TOKEN)
    with pytest.raises(ConfigError, match="belongs in MOTHERDUCK_TOKEN") as raised:
        resolve_settings(warehouse=f"md:ai_pulse?motherduck_token={TOKEN}")
    assert TOKEN not in str(raised.value)
    with pytest.raises(ConfigError, match="does not name a MotherDuck database"):
        resolve_settings(warehouse="md:")


def test_cli_refuses_a_hosted_warehouse_without_a_token(run_cli: CliRunner) -> None:
    completed = run_cli("run", "--warehouse", "md:ai_pulse", env={"MOTHERDUCK_TOKEN": ""})
    assert completed.returncode == 2
    assert "MOTHERDUCK_TOKEN is not set" in completed.stderr
