"""Everything the report shows, read from the warehouse in one read-only pass.

Indicator tables are found by name (every `marts.ind_pNN_*`), so a new prediction's indicator appears in the
report without a change here. A missing table is not an error: it becomes a notice the page shows.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from orchestration.lib.settings import Warehouse
from orchestration.lib.warehouse import CheckRow, connect, latest_check_results, table_exists

INDICATOR_TABLE = re.compile(r"^ind_p(\d{2})_[a-z0-9_]+$")
# Optional columns of an indicator table the charts use when present (see charts.py).
OPTIONAL_COLUMNS = ("role", "unit", "source")


@dataclass(frozen=True)
class ScorecardRow:
    """One prediction's verdict, as in marts.prediction_scorecard."""

    prediction_id: str
    title: str
    verdict: str
    headline_metric: str
    headline_value: float | None
    evidence: str
    as_of: dt.date | None
    data_provenance: str | None = None


@dataclass(frozen=True)
class RegisteredSignal:
    """A registry signal as one prediction uses it, with where its data came from."""

    source: str
    key: str
    role: str | None
    provenance: str


@dataclass
class Indicator:
    """One `marts.ind_pNN_*` table: its rows (period, signal, value and the optional columns) and its docs."""

    table: str
    prediction_id: str
    description: str
    value_description: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ProvenanceRow:
    """Where one registered series came from (raw_registry.provenance)."""

    source: str
    signal: str
    provenance: str
    origin: str
    note: str
    predictions: str


@dataclass
class ReportContent:
    """What the page is drawn from; `notices` name each part that could not be read and why."""

    warehouse: Warehouse
    generated_at: dt.datetime
    settings: dict[str, Any] | None = None
    scorecard: list[ScorecardRow] | None = None
    titles: dict[str, str] = field(default_factory=dict)
    indicators: dict[str, list[Indicator]] = field(default_factory=dict)
    signals: dict[str, list[RegisteredSignal]] = field(default_factory=dict)
    provenance: list[ProvenanceRow] | None = None
    checks: list[CheckRow] | None = None
    notices: dict[str, str] = field(default_factory=dict)

    @property
    def prediction_ids(self) -> list[str]:
        """Every prediction the warehouse knows of: scorecard, registry and indicator tables."""
        ids = set(self.titles) | set(self.indicators) | {row.prediction_id for row in self.scorecard or []}
        return sorted(ids)


def read_content(warehouse: Warehouse) -> ReportContent:
    """Read every part of the report; raises WarehouseError only when there is no warehouse at all."""
    content = ReportContent(warehouse=warehouse, generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0))
    with connect(warehouse, read_only=True) as con:
        content.settings = _settings(con, content.notices)
        content.scorecard = _scorecard(con, content.notices)
        content.titles = _titles(con)
        content.signals = _signals(con)
        content.indicators = _indicators(con)
        content.provenance = _provenance(con, content.notices)
        content.checks = _latest_checks(con, content.notices)
    return content


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name → its description (persisted from dbt's docs; empty when none)."""
    rows = con.execute("select column_name, coalesce(COLUMN_COMMENT, '') from information_schema.columns "
                       "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table])
    return dict(rows.fetchall())


def _settings(con: duckdb.DuckDBPyConnection, notices: dict[str, str]) -> dict[str, Any] | None:
    if not table_exists(con, "raw_registry", "settings"):
        notices["settings"] = "raw_registry.settings is missing: the registry has not been loaded; run `ai-pulse run`."
        return None
    rows = _records(con, "select * from raw_registry.settings")
    return rows[0] if rows else None


def _scorecard(con: duckdb.DuckDBPyConnection, notices: dict[str, str]) -> list[ScorecardRow] | None:
    if not table_exists(con, "marts", "prediction_scorecard"):
        notices["scorecard"] = ("marts.prediction_scorecard is missing: dbt has not built the marts yet (or the "
                                "last run stopped at a failed quality check); run `ai-pulse run`.")
        return None
    present = _columns(con, "marts", "prediction_scorecard")
    wanted = [c for c in ScorecardRow.__dataclass_fields__ if c in present]
    rows = _records(con, f"select {', '.join(wanted)} from marts.prediction_scorecard "  # noqa: S608 - known names
                         "order by prediction_id")
    return [ScorecardRow(**row) for row in rows]


def _titles(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not table_exists(con, "raw_registry", "predictions"):
        return {}
    return dict(con.execute("select prediction_id, title from raw_registry.predictions").fetchall())


def _signals(con: duckdb.DuckDBPyConnection) -> dict[str, list[RegisteredSignal]]:
    """Per prediction, its registered signals with role and provenance (for styling and labelling lines)."""
    if not table_exists(con, "raw_registry", "signals"):
        return {}
    has_provenance = table_exists(con, "raw_registry", "provenance")
    provenance = ("left join raw_registry.provenance as p on p.source = s.source and p.signal = s.signal"
                  if has_provenance else "")
    kind = "coalesce(p.provenance, 'unknown')" if has_provenance else "'unknown'"
    by_prediction: dict[str, list[RegisteredSignal]] = {}
    rows = con.execute(f"select s.prediction_id, s.source, s.signal, s.role, {kind} "  # noqa: S608 - no input
                       f"from raw_registry.signals as s {provenance} order by all").fetchall()
    for prediction_id, source, key, role, origin in rows:
        by_prediction.setdefault(prediction_id, []).append(RegisteredSignal(source, key, role, origin))
    return by_prediction


def _indicators(con: duckdb.DuckDBPyConnection) -> dict[str, list[Indicator]]:
    """Every `marts.ind_pNN_*` table, keyed by its prediction id (P04 for ind_p04_*)."""
    tables = con.execute("select table_name, coalesce(TABLE_COMMENT, '') from information_schema.tables "
                         "where table_schema = 'marts' order by table_name").fetchall()
    found: dict[str, list[Indicator]] = {}
    for name, description in tables:
        match = INDICATOR_TABLE.match(name)
        if not match:
            continue
        columns = _columns(con, "marts", name)
        indicator = Indicator(table=f"marts.{name}", prediction_id=f"P{match.group(1)}",
                              description=description.strip(), value_description=columns.get("value", "").strip())
        if {"period", "signal", "value"} <= set(columns):
            extra = "".join(f", {c}" for c in OPTIONAL_COLUMNS if c in columns)
            # The table name comes from the catalog and matched INDICATOR_TABLE, so it is a plain identifier.
            indicator.rows = _records(con, f'select period, signal, value{extra} from marts."{name}" '  # noqa: S608
                                           "where value is not null order by signal, period")
        found.setdefault(indicator.prediction_id, []).append(indicator)
    return found


def _provenance(con: duckdb.DuckDBPyConnection, notices: dict[str, str]) -> list[ProvenanceRow] | None:
    if not table_exists(con, "raw_registry", "provenance"):
        notices["provenance"] = "raw_registry.provenance is missing: the registry has not been loaded yet."
        return None
    predictions = ("(select string_agg(distinct s.prediction_id, ', ' order by s.prediction_id) "
                   "from raw_registry.signals as s where s.source = p.source and s.signal = p.signal)"
                   if table_exists(con, "raw_registry", "signals") else "''")
    rows = con.execute(
        f"""select p.source, p.signal, p.provenance, coalesce(p.origin, ''), coalesce(p.note, ''),
                   coalesce({predictions}, '')
            from raw_registry.provenance as p order by p.source, p.signal"""  # noqa: S608 - no input
    ).fetchall()
    return [ProvenanceRow(*row) for row in rows]


def _latest_checks(con: duckdb.DuckDBPyConnection, notices: dict[str, str]) -> list[CheckRow] | None:
    checks = latest_check_results(con)
    if checks is None:
        notices["quality"] = "quality.check_results is missing: no quality check has run yet."
    return checks
