"""The asset graph's names, written down: every asset key and every check key, one per line, sorted.

`tests/test_definitions.py` compares the Definitions with tests/snapshots/asset_keys.txt, so a renamed asset or
check shows up as a diff in review. After an intended change, regenerate the file and commit it:

    uv run python -m tests.update_asset_snapshot
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dagster import Definitions

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "asset_keys.txt"


def asset_snapshot_lines(defs: Definitions) -> list[str]:
    """`asset <key>` and `check <asset key>:<check name>` lines, sorted."""
    graph = defs.resolve_asset_graph()
    assets = [f"asset {key.to_user_string()}" for key in graph.get_all_asset_keys()]
    checks = [f"check {key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys]
    return sorted(assets) + sorted(checks)


def snapshot_definitions(workdir: Path) -> Definitions:
    """The project's Definitions against a throwaway warehouse (keys do not depend on the data)."""
    os.environ.setdefault("DAGSTER_HOME", str(workdir / "dagster_home"))
    from orchestration.lib.environment import configure_environment

    configure_environment()
    from orchestration.definitions import build_definitions
    from orchestration.lib.settings import resolve_settings

    return build_definitions(resolve_settings(warehouse=workdir / "warehouse" / "ai_pulse.duckdb"))


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        lines = asset_snapshot_lines(snapshot_definitions(Path(workdir)))
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} keys to {SNAPSHOT}")


if __name__ == "__main__":
    main()
