"""dbt models (transform/) as Dagster assets; dbt tests become asset checks.

dbt sources are named `raw_<source>` and their tables after dlt resources, so the default source keys equal
the dlt asset keys. Models are keyed `<schema>/<model>` (e.g. `core/fct_stock_daily`, `marts/prediction_scorecard`).
Each materialization carries the table's row count, newest date and a preview (orchestration/table_metadata.py).
"""


import subprocess
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetMaterialization, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from packaging import version

from ingestion.settings import TRANSFORM_DIR
from orchestration.resources import PulseResource
from orchestration.table_metadata import with_table_metadata

MANIFEST = TRANSFORM_DIR / "target" / "manifest.json"
LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "core": "core", "marts": "marts"}


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro or config file."""
    sources = [p for pattern in ("models/**/*", "macros/**/*", "*.yml") for p in TRANSFORM_DIR.glob(pattern)
               if p.is_file()]
    newest = max(p.stat().st_mtime for p in sources)
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= newest:
        return MANIFEST
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", str(TRANSFORM_DIR), "--profiles-dir", str(TRANSFORM_DIR)],
        capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed in {TRANSFORM_DIR}:\n{completed.stdout}{completed.stderr}")
    return MANIFEST


class PulseDbtTranslator(DagsterDbtTranslator):
    """dbt node → asset key `<schema>/<name>`; sources keep dbt's default `<source>/<table>`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(dbt_resource_props.get("schema", ""), "transform")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:ai-pulse"]


def build_dbt_assets() -> Any:
    """The dbt project as one multi-asset; `dbt build` runs models and their tests in dependency order."""

    @dbt_assets(
        manifest=ensure_manifest(),
        dagster_dbt_translator=PulseDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        name="transform",
        pool="duckdb_warehouse",
    )
    def _transform(context: AssetExecutionContext, dbt: DbtCliResource, pulse: PulseResource) -> Iterator[Any]:
        yield from build_with_metadata(context, dbt, ["build"], Path(pulse.warehouse))

    return _transform


def build_with_metadata(context: AssetExecutionContext, dbt: DbtCliResource, args: list[str],
                        warehouse: Path) -> Iterator[Any]:
    """Run dbt, then describe every model it built (views too) once dbt has released the DuckDB file.

    dagster-dbt's `fetch_row_counts()` is not used: it opens dbt-duckdb's adapter inside this process and leaves a
    read-write connection to the warehouse open, which every later connection in the run then trips over."""
    invocation = dbt.cli(args, context=context, raise_on_error=False)

    def key_of(event: Any) -> AssetKey | None:
        if isinstance(event, Output):
            return context.asset_key_for_output(event.output_name)
        return getattr(event, "asset_key", None) if isinstance(event, AssetMaterialization) else None

    yield from with_table_metadata(invocation.stream(), warehouse, key_of)
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError(f"dbt {' '.join(args)} failed")


class OfflineDbtCliResource(DbtCliResource):
    """dagster-dbt learns dbt's version from `dbt --version`, which also asks PyPI for the latest release;
    the installed package's metadata says the same without touching the network."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    """dbt runs from the project's own folder with its own profiles.yml (the warehouse path comes from
    AI_PULSE_WAREHOUSE, set by the CLI from the same resolver ingestion uses)."""
    return OfflineDbtCliResource(project_dir=str(TRANSFORM_DIR), profiles_dir=str(TRANSFORM_DIR),
                          dbt_executable=str(Path(sys.executable).with_name("dbt")))
