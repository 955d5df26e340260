"""Loads the registry (and the snapshot's provenance) into `raw_registry`, so dbt judges with the same values
that ingestion fetched with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dlt

from ingestion import github, news, regulatory, stocks, trends
from ingestion.registry import Registry

SOURCE = "registry"

# The datasets each source loads, as snapshot manifests name them in their `series`.
SOURCE_DATASETS: dict[str, tuple[str, ...]] = {
    "stocks": (stocks.DATASET,),
    "trends": (trends.DATASET, trends.MONTHLY_DATASET),
    "github": (github.REPO_DATASET, github.HISTORY_DATASET),
    "regulatory": (regulatory.DATASET,),
    "news": (news.DATASET,),
}


def provenance_rows(registry: Registry, mode: str, series: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """One row per registered signal and dataset: the manifest's entry in replay, `live` in live mode, `unknown`
    for a dataset the manifest does not describe."""
    described: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in series:
        source = str(entry.get("source"))
        dataset = str(entry.get("dataset") or SOURCE_DATASETS.get(source, ("",))[0])
        described[(source, str(entry.get("key")), dataset)] = entry
    rows = []
    for s in registry.signals:
        for dataset in SOURCE_DATASETS.get(s.source, ("",)):
            entry = described.get((s.source, s.key, dataset), {})
            kind = "live" if mode == "live" else str(entry.get("provenance", "unknown"))
            rows.append({"source": s.source, "signal": s.key, "dataset": dataset, "provenance": kind,
                         "origin": entry.get("origin"), "note": entry.get("note")})
    return rows


@dlt.source(name=SOURCE, max_table_nesting=0)
def registry_source(
    registry: Registry,
    as_of: dt.date | None = None,
    mode: str = "replay",
    series: tuple[dict[str, Any], ...] = (),
) -> Any:
    """Predictions, signals, run settings and per-series provenance, replaced on every run."""

    @dlt.resource(name="predictions", primary_key="prediction_id", write_disposition="replace",
                  columns={"repo_group": {"data_type": "text"}})
    def predictions() -> Iterator[dict[str, Any]]:
        """The predictions with their headline kind, first judged year, headline metric and verdict thresholds."""
        for p in registry.predictions:
            yield {"prediction_id": p.id, "slug": p.slug, "title": p.title, "headline_metric": p.headline_metric,
                   "supported_at": p.supported_at, "not_supported_below": p.not_supported_below, "kind": p.kind,
                   "first_year": p.first_year or registry.prediction_year, "repo_group": p.repo_group,
                   "own_quality_checks": p.own_quality_checks}

    @dlt.resource(name="baskets", primary_key=("prediction_id", "role"), write_disposition="replace",
                  columns={"prediction_id": {"data_type": "text"}, "role": {"data_type": "text"},
                           "name": {"data_type": "text"}, "position": {"data_type": "bigint"}})
    def baskets() -> Iterator[Any]:
        """The two baskets a basket_spread compares, by role, with their names (position 1 minus position 2)."""
        rows = [{"prediction_id": p.id, "role": role, "name": name, "position": position}
                for p in registry.predictions for position, (role, name) in enumerate(p.baskets, start=1)]
        yield rows or dlt.mark.materialize_table_schema()

    @dlt.resource(name="signals", primary_key=("source", "signal", "prediction_id"), write_disposition="replace")
    def signals() -> Iterator[dict[str, Any]]:
        """One row per signal and prediction it serves, with its role there."""
        for s in registry.signals:
            for pid in s.predictions:
                yield {"source": s.source, "signal": s.key, "prediction_id": pid, "role": s.role_in(pid)}

    @dlt.resource(name="settings", write_disposition="replace",
                  columns={"start_date": {"data_type": "date"}, "as_of": {"data_type": "date"}})
    def settings() -> Iterator[dict[str, Any]]:
        """The evaluation window and the run's today (`as_of`)."""
        yield {"start_date": registry.start_date, "baseline_year": registry.baseline_year,
               "prediction_year": registry.prediction_year, "min_coverage": registry.min_coverage,
               "demonstration_above": registry.demonstration_above,
               "as_of": as_of, "mode": mode}

    @dlt.resource(name="provenance", primary_key=("source", "signal", "dataset"), write_disposition="replace",
                  columns={"dataset": {"data_type": "text", "nullable": False}, "origin": {"data_type": "text"},
                           "note": {"data_type": "text"}})
    def provenance() -> Iterator[dict[str, Any]]:
        """Where each series came from, per signal and dataset (a repo's snapshot and its star history are two):
        real recordings, derived from real data, synthetic stand-ins, missing, or live APIs."""
        yield from provenance_rows(registry, mode, series)

    return predictions, baskets, signals, settings, provenance
