"""Where a run's data goes and when runs happen: the warehouse (a local DuckDB file or a MotherDuck database), the
dbt project, the nightly schedule and the freshness policy, and the settings of one run (RunSettings), combining
these with the data origin that ingestion resolves (ingestion/settings.py)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.settings import PROJECT_ROOT, ConfigError, Origin, resolve_origin
from orchestration.lib.local_faults import explained, warehouse_path

__all__ = ["ConfigError", "HostedWarehouse", "RunSettings", "Warehouse", "nightly_cron", "resolve_settings",
           "resolve_warehouse", "source_stale_after", "working_copy_path"]

DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "ai_pulse.duckdb"
TRANSFORM_DIR = PROJECT_ROOT / "transform"
NIGHTLY_CRON_DEFAULT = "0 2 * * *"  # 02:00 UTC, after US markets close and daily pageviews are published
STALE_AFTER_HOURS_DEFAULT = 36  # one missed nightly run plus half a day of slack


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs to know about its inputs and outputs."""

    mode: str
    snapshot_dir: Path
    warehouse: Warehouse
    record_dir: Path | None = None
    full_refresh: bool = False
    working_copy: Path | None = None

    @property
    def origin(self) -> Origin:
        return Origin(self.mode, self.snapshot_dir, self.record_dir)

    @property
    def database(self) -> Warehouse:
        """The DuckDB database this run's steps read and write: the run's working copy while it holds one
        (orchestration/lib/publish.py), else the warehouse itself (a hosted one is written in place). The
        warehouse's folder still holds the run's other files: lock, dbt target, logs, quality docs, report."""
        return self.working_copy or self.warehouse

    @property
    def pipelines_dir(self) -> Path:
        """dlt's local working state, never in the home directory: inside the run's working folder while the run
        works on a copy (so dlt restores its state from the copy's `_dlt_*` tables, which are published with the
        data or not at all), else beside the warehouse it loads."""
        if self.working_copy is not None:
            return self.working_copy.parent / "dlt"
        return self.warehouse.parent / f".{self.warehouse.stem}_dlt"

    def today(self) -> dt.date:
        """The pipeline's today: the snapshot's `as_of` in replay, the UTC calendar date live."""
        return self.origin.today()


def working_copy_path(warehouse: Path) -> Path:
    """Where a run builds its copy of a local warehouse: `warehouse/.ai_pulse_run/ai_pulse.duckdb`. Same file
    system, so publishing is one rename; same file name, because DuckDB names the database (the catalog that dbt
    writes into every view's SQL) after the file's stem."""
    return warehouse.parent / f".{warehouse.stem}_run" / warehouse.name


def nightly_cron() -> str:
    """When the nightly run starts (UTC): `AI_PULSE_SCHEDULE_CRON`, default 02:00."""
    return os.environ.get("AI_PULSE_SCHEDULE_CRON", "").strip() or NIGHTLY_CRON_DEFAULT


def source_stale_after() -> dt.timedelta:
    """How old a source's last load may get before Dagster marks it stale: `AI_PULSE_STALE_AFTER_HOURS`, default 36."""
    raw = os.environ.get("AI_PULSE_STALE_AFTER_HOURS", "").strip()
    try:
        hours = float(raw) if raw else STALE_AFTER_HOURS_DEFAULT
    except ValueError:
        raise ConfigError(f"AI_PULSE_STALE_AFTER_HOURS={raw!r} is not a number of hours; "
                          "unset it or give e.g. 36") from None
    if hours < 1:
        raise ConfigError(f"AI_PULSE_STALE_AFTER_HOURS={raw!r} is under one hour; give at least 1")
    return dt.timedelta(hours=hours)


MOTHERDUCK_PREFIX = "md:"
MOTHERDUCK_TOKEN_ENV = "MOTHERDUCK_TOKEN"


@dataclass(frozen=True)
class HostedWarehouse:
    """A MotherDuck database (`md:<database>`) in place of the local DuckDB file.

    It answers what the pipeline asks of a local warehouse path: `str()` is what DuckDB, dlt and dbt connect to,
    `parent` is the local folder for the run's own files (lock, dlt state, dbt target, logs, report), `stem` names
    them. The access token never appears here: DuckDB's MotherDuck extension, dlt and dbt-duckdb each read it from
    `MOTHERDUCK_TOKEN` in the environment, so it stays out of connection strings, logs and Dagster's run config."""

    database: str
    parent: Path

    def __str__(self) -> str:
        return f"{MOTHERDUCK_PREFIX}{self.database}"

    @property
    def name(self) -> str:
        return f"motherduck_{self.database}"

    @property
    def stem(self) -> str:
        return self.name

    def with_name(self, name: str) -> Path:
        return self.parent / name

    def exists(self) -> bool:
        """A hosted database is there to connect to; if it is not, MotherDuck's own error says so."""
        return True


Warehouse = Path | HostedWarehouse


def resolve_warehouse(cli_value: str | os.PathLike[str] | None = None) -> Warehouse:
    """`--warehouse` beats `AI_PULSE_WAREHOUSE`, which beats `warehouse/ai_pulse.duckdb`. `md:<database>` is the one
    setting that moves the warehouse to MotherDuck, for dlt's loads and dbt's models alike."""
    raw = cli_value or os.environ.get("AI_PULSE_WAREHOUSE") or DEFAULT_WAREHOUSE
    if str(raw).startswith(MOTHERDUCK_PREFIX):
        return _hosted_warehouse(str(raw))
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    with explained(warehouse_path(path)):  # a folder on the way this user may not open: LocalFault
        if path.is_dir():
            raise ConfigError(f"warehouse path {path} is a directory; give a file path such as {path}/ai_pulse.duckdb")
    return path.resolve()


def _hosted_warehouse(raw: str) -> HostedWarehouse:
    database = raw.removeprefix(MOTHERDUCK_PREFIX)
    if "?" in database:
        raise ConfigError(f"AI_PULSE_WAREHOUSE / --warehouse {MOTHERDUCK_PREFIX}… takes a database name only; the "
                          f"access token belongs in {MOTHERDUCK_TOKEN_ENV}, never in the warehouse setting")
    if not database.replace("_", "").isalnum():
        raise ConfigError(f"{raw!r} does not name a MotherDuck database; give e.g. md:ai_pulse (letters, digits, _)")
    if not os.environ.get(MOTHERDUCK_TOKEN_ENV, "").strip():
        raise ConfigError(f"the warehouse {raw} is hosted on MotherDuck and {MOTHERDUCK_TOKEN_ENV} is not set; export "
                          "an access token from the MotherDuck UI (Settings → Access tokens)")
    return HostedWarehouse(database=database, parent=DEFAULT_WAREHOUSE.parent / f"motherduck_{database}")


def resolve_settings(
    *,
    live: bool = False,
    snapshot: str | os.PathLike[str] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    record: str | os.PathLike[str] | None = None,
    full_refresh: bool = False,
) -> RunSettings:
    """Combine command-line options with the environment: the data origin (`AI_PULSE_MODE`, `AI_PULSE_SNAPSHOT`)
    and the warehouse (`AI_PULSE_WAREHOUSE`)."""
    origin = resolve_origin(live=live, snapshot=snapshot, record=record)
    return RunSettings(mode=origin.mode, snapshot_dir=origin.snapshot_dir, warehouse=resolve_warehouse(warehouse),
                       record_dir=origin.record_dir, full_refresh=full_refresh)
