"""dbt's own unit tests of the transform's logic (windows and coverage, the basket macro, every headline kind, the
verdicts' thresholds and trust shares) on rows small enough to work out by hand: transform/models/intermediate/
_unit_tests.yml. dbt reads the column types of a model's inputs from the warehouse, so they run against a copy of
the bundled run's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, BundledRun

TRANSFORM = PROJECT_ROOT / "transform"


@pytest.mark.slow
def test_the_transforms_unit_tests_pass(bundled_run: BundledRun, tmp_path: Path) -> None:
    warehouse = tmp_path / "ai_pulse.duckdb"
    shutil.copyfile(bundled_run.warehouse, warehouse)
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [str(dbt), "test", "--select", "test_type:unit", "--project-dir", str(TRANSFORM), "--profiles-dir",
         str(TRANSFORM), "--target-path", str(tmp_path / "target"), "--no-use-colors"],
        env={**bundled_run.env, "AI_PULSE_WAREHOUSE": str(warehouse)}, cwd=PROJECT_ROOT, capture_output=True,
        text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    declared = yaml.safe_load((TRANSFORM / "models" / "intermediate" / "_unit_tests.yml").read_text())["unit_tests"]
    passed = re.search(r"Done\. PASS=(\d+) WARN=0 ERROR=0", completed.stdout)
    assert passed and int(passed.group(1)) == len(declared) >= 12
    # Every headline kind and the basket macro's model have a unit test of their own.
    kinds = yaml.safe_load((TRANSFORM / "dbt_project.yml").read_text())["vars"]["headline_kinds"]
    tested = {test["model"] for test in declared}
    assert {f"headline_{kind}" for kind in kinds} | {"int_baskets", "int_windows", "int_signal_windows",
                                                      "prediction_verdicts"} <= tested
