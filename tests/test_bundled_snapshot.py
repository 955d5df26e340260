"""The bundled snapshot is rebuilt from the real inputs kept in the repository, byte for byte, and says of every
series whether it is real, derived from real data, synthetic or missing."""

from __future__ import annotations

import json
from pathlib import Path

from ingestion.registry import load_registry
from ingestion.registry_tables import SOURCE_DATASETS
from ingestion.settings import BUNDLED_SNAPSHOT
from ingestion.snapshots.builder.build_bundled import REAL, main


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_rebuilding_from_the_inputs_in_the_repository_gives_the_committed_snapshot(tmp_path: Path) -> None:
    assert REAL.is_relative_to(Path(__file__).resolve().parent.parent), "the builder's inputs live in the repository"
    main(["--out", str(tmp_path / "bundled")])
    rebuilt, committed = files(tmp_path / "bundled"), files(BUNDLED_SNAPSHOT)
    assert sorted(rebuilt) == sorted(committed)
    assert [name for name in rebuilt if rebuilt[name] != committed[name]] == []


def test_every_registered_series_says_where_it_came_from() -> None:
    manifest = json.loads((BUNDLED_SNAPSHOT / "manifest.json").read_text(encoding="utf-8"))
    series = {(s["source"], s["key"], s["dataset"]): s for s in manifest["series"]}
    registry = load_registry()
    expected = {(s.source, s.key, dataset) for s in registry.signals for dataset in SOURCE_DATASETS[s.source]}
    assert set(series) == expected
    assert {s["provenance"] for s in series.values()} <= {"real", "derived", "partly_synthetic", "synthetic",
                                                          "missing"}
    # The real data this snapshot was asked to carry: QQQ prices and ChatGPT's monthly pageviews.
    assert series[("stocks", "QQQ", "chart")]["provenance"] == "real"
    assert "jameswdonoghue/QQQ-Data" in series[("stocks", "QQQ", "chart")]["origin"]
    assert series[("trends", "ChatGPT", "pageviews_monthly")]["provenance"] == "real"
    # Star history is derived from real dated counts, with the method written down.
    history = series[("github", "ollama/ollama", "star_history")]
    assert history["provenance"] == "derived" and "spread evenly" in history["note"]
    # Nothing synthetic is passed off as real: every synthetic series says so in its note and origin.
    for entry in series.values():
        if entry["provenance"] == "synthetic":
            assert entry["note"].startswith("Synthetic") or "synthetic" in entry["note"].lower()
            assert "synthetic" in entry["origin"]
    for key in ("Artificial_intelligence", "Google_Search"):
        assert series[("trends", key, "pageviews")]["provenance"] == "synthetic"
