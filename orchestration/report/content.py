"""Everything the report shows, read from the warehouse in one read-only pass.

Indicator tables are found by name (every `marts.ind_pNN_*`), so a new prediction's indicator appears in the
report without a change here. A missing table is not an error: it becomes a notice the page shows.

Over time: every window's verdict (marts.prediction_verdicts), the same rows for every night a run has seen
(marts.verdict_history), what changed since the previous night, and each prediction's share prices indexed to 100
at the start of its scorecard window (core.fct_stock_daily, for the stocks signals the registry gives it).
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
    trust: str | None = None
    coverage: float | None = None
    real_share: float | None = None
    derived_share: float | None = None
    synthetic_share: float | None = None


@dataclass(frozen=True)
class WindowVerdict:
    """One prediction's verdict in one window on one night (a row of marts.prediction_verdicts or of
    marts.verdict_history)."""

    prediction_id: str
    window: str
    window_start: dt.date
    window_end: dt.date
    is_partial: bool
    is_scorecard_window: bool
    verdict: str
    headline_value: float | None
    trust: str | None
    coverage: float | None
    as_of: dt.date
    real_share: float | None = None
    derived_share: float | None = None
    synthetic_share: float | None = None

    @property
    def label(self) -> str:
        """How the page names the window (see window_label)."""
        return window_label(self.window, self.window_end, self.is_partial)


def window_label(window: str, window_end: dt.date, is_partial: bool) -> str:
    """How the page names a window: `2024`, `2026 to 2026-01-05` (partial), `last 12 months`."""
    name = window.replace("_", " ")
    return f"{name} to {window_end}" if is_partial else name


@dataclass(frozen=True)
class VerdictChange:
    """A window whose verdict or headline value differs between the previous night and the current one; a side is
    None when the window did not exist that night (a new calendar year)."""

    window: str
    before: WindowVerdict | None
    after: WindowVerdict | None


@dataclass(frozen=True)
class IndexedPrices:
    """One prediction's closes in one window, each ticker's divided by its last close before the window × 100 (a
    ticker first listed inside the window starts from its first close there, as the headline's return does)."""

    prediction_id: str
    window: str
    label: str
    window_start: dt.date
    window_end: dt.date
    series: dict[str, list[tuple[dt.date, float]]]
    base: dict[str, tuple[dt.date, float]]


@dataclass(frozen=True)
class RegisteredSignal:
    """A registry signal as one prediction uses it, with where its data came from (one class from all its
    datasets: dbt's int_signal_trust)."""

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
    dataset: str
    provenance: str
    origin: str
    note: str
    predictions: str
    signal_class: str


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
    verdicts: dict[str, list[WindowVerdict]] | None = None
    history: dict[str, list[WindowVerdict]] | None = None
    prices: dict[str, IndexedPrices] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)

    @property
    def prediction_ids(self) -> list[str]:
        """Every prediction the warehouse knows of: scorecard, registry and indicator tables."""
        ids = set(self.titles) | set(self.indicators) | {row.prediction_id for row in self.scorecard or []}
        return sorted(ids)

    @property
    def nights(self) -> list[dt.date]:
        """Every as_of marts.verdict_history holds, oldest first."""
        return sorted({row.as_of for rows in (self.history or {}).values() for row in rows})

    @property
    def current_night(self) -> dt.date | None:
        """The as_of of the current verdicts (the newest night of the history when there are none)."""
        dates = {row.as_of for rows in (self.verdicts or {}).values() for row in rows}
        return max(dates) if dates else max(self.nights, default=None)

    @property
    def previous_night(self) -> dt.date | None:
        """The newest as_of of the history before the current one, or None on the first night."""
        current = self.current_night
        return max((night for night in self.nights if current and night < current), default=None)

    def changes(self, prediction_id: str) -> list[VerdictChange]:
        """The prediction's windows whose verdict or headline value differs from the previous night's set."""
        previous, current = self.previous_night, self.current_night
        if previous is None or current is None:
            return []
        rows = (self.history or {}).get(prediction_id, [])
        return verdict_changes([r for r in rows if r.as_of == previous], [r for r in rows if r.as_of == current])


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
        content.verdicts = _window_verdicts(con, "prediction_verdicts", content.notices)
        content.history = _window_verdicts(con, "verdict_history", content.notices)
        content.prices = indexed_prices(con)
    return content


def verdict_changes(before: list[WindowVerdict], after: list[WindowVerdict]) -> list[VerdictChange]:
    """Windows whose verdict or headline value differs between two nights' sets of one prediction, in window
    order; a window present on one night only is a change too."""
    old = {row.window: row for row in before}
    new = {row.window: row for row in after}
    changed = []
    for window in [*new, *(w for w in old if w not in new)]:
        was, now = old.get(window), new.get(window)
        if was is None or now is None or (was.verdict, was.headline_value) != (now.verdict, now.headline_value):
            changed.append(VerdictChange(window, was, now))
    return changed


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


# One class per series from all its datasets (raw_registry.provenance has a row per source, signal and dataset),
# by the rule of the `inputs` CTE of transform/models/marts/prediction_verdicts.sql: synthetic if any dataset is a
# stand-in, else derived if any is derived from real data, else real; datasets the snapshot does not hold
# (missing) do not count, and a series with nothing else is missing.
# One trust class per (source, signal) over all its datasets, as the verdicts count it (dbt's int_signal_trust).
SIGNAL_TRUST = ("intermediate", "int_signal_trust")


def _trust_join(con: duckdb.DuckDBPyConnection, alias: str) -> tuple[str, str]:
    """The join onto int_signal_trust for rows aliased `alias`, and the class column ('unknown' before dbt ran)."""
    if not table_exists(con, *SIGNAL_TRUST):
        return "", "'unknown'"
    return (f"left join intermediate.int_signal_trust as c on c.source = {alias}.source and c.signal = {alias}.signal",
            "coalesce(c.trust, 'unknown')")


def _signals(con: duckdb.DuckDBPyConnection) -> dict[str, list[RegisteredSignal]]:
    """Per prediction, its registered signals with role and provenance class (for styling and labelling lines):
    one entry per signal, whatever number of datasets it is loaded from."""
    if not table_exists(con, "raw_registry", "signals"):
        return {}
    provenance, kind = _trust_join(con, "s")
    by_prediction: dict[str, list[RegisteredSignal]] = {}
    rows = con.execute(f"select distinct s.prediction_id, s.source, s.signal, s.role, {kind} "  # noqa: S608
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
    trust, kind = _trust_join(con, "p")
    rows = con.execute(
        f"""select p.source, p.signal, p.dataset, p.provenance, coalesce(p.origin, ''), coalesce(p.note, ''),
                   coalesce({predictions}, ''), {kind}
            from raw_registry.provenance as p {trust}
            order by p.source, p.signal, p.dataset"""  # noqa: S608 - no input
    ).fetchall()
    return [ProvenanceRow(*row) for row in rows]


def _window_verdicts(con: duckdb.DuckDBPyConnection, table: str,
                     notices: dict[str, str]) -> dict[str, list[WindowVerdict]] | None:
    """marts.prediction_verdicts or marts.verdict_history per prediction, each night's windows in order: calendar
    years, then a window ending at as_of (the current year before the last 12 months when both do)."""
    if not table_exists(con, "marts", table):
        notices[table] = (f"marts.{table} is missing: dbt has not built the verdicts of every window yet; run "
                          "`ai-pulse run`.")
        return None
    # A history set kept from before a column existed lacks it (an incremental model keeps its first columns).
    present = _columns(con, "marts", table)
    optional = "".join(f", {c}" if c in present else f", null as {c}"
                       for c in ("trust", "coverage", "real_share", "derived_share", "synthetic_share"))
    # is_scorecard_window is NULL for the rolling window (it has no year), which is never the scorecard's.
    rows = _records(con, f"""
        select prediction_id, "window", window_start, window_end, is_partial,
            coalesce(is_scorecard_window, false) as is_scorecard_window, verdict, headline_value, as_of{optional}
        from marts."{table}"
        order by prediction_id, as_of, window_end, window_start desc, "window"
        """)  # noqa: S608 - the table name is one of two constants
    found: dict[str, list[WindowVerdict]] = {}
    for row in rows:
        found.setdefault(row["prediction_id"], []).append(WindowVerdict(**row))
    return found


def indexed_prices(con: duckdb.DuckDBPyConnection, window: str | None = None) -> dict[str, IndexedPrices]:
    """Per prediction with stocks signals, each ticker's closes over a window (`window` by name, default each
    prediction's scorecard window) divided by its last close before the window × 100, the base day included at
    100. Tickers come from the registry, windows from marts.prediction_verdicts, closes (split-adjusted) from
    core.fct_stock_daily; an empty result when any of them is missing."""
    if not all(table_exists(con, *t) for t in (("raw_registry", "signals"), ("marts", "prediction_verdicts"),
                                                 ("core", "fct_stock_daily"))):
        return {}
    chosen = "\"window\" = ?" if window else "is_scorecard_window"
    rows = con.execute(
        f"""with windows as (
                select prediction_id, "window", window_start, window_end, is_partial
                from marts.prediction_verdicts where {chosen}
            ),
            wanted as (
                select distinct windows.*, signals.signal as ticker
                from windows
                inner join raw_registry.signals as signals using (prediction_id)
                where signals.source = 'stocks'
            ),
            closes as (select ticker, trade_date, close from core.fct_stock_daily where close > 0),
            base as (
                select wanted.prediction_id, wanted.ticker,
                    -- the last close before the window; a ticker listed inside it starts from its first close
                    coalesce(max(closes.trade_date) filter (where closes.trade_date < wanted.window_start),
                             min(closes.trade_date)) as base_date,
                    coalesce(arg_max(closes.close, closes.trade_date)
                                 filter (where closes.trade_date < wanted.window_start),
                             arg_min(closes.close, closes.trade_date)) as base_close
                from wanted
                inner join closes on closes.ticker = wanted.ticker and closes.trade_date <= wanted.window_end
                group by all
            )
            select wanted.prediction_id, wanted."window", wanted.window_start, wanted.window_end, wanted.is_partial,
                wanted.ticker, base.base_date, base.base_close, closes.trade_date,
                -- divided first, so the base day is exactly 100
                closes.close / base.base_close * 100
            from wanted
            inner join base using (prediction_id, ticker)
            inner join closes on closes.ticker = wanted.ticker
                and closes.trade_date between base.base_date and wanted.window_end
            order by wanted.prediction_id, wanted.ticker, closes.trade_date""",  # noqa: S608 - no input in SQL
        [window] if window else []).fetchall()
    found: dict[str, IndexedPrices] = {}
    for prediction_id, name, start, end, partial, ticker, base_date, base_close, day, value in rows:
        if prediction_id not in found:
            found[prediction_id] = IndexedPrices(prediction_id, name, window_label(name, end, partial), start, end,
                                                 {}, {})
        found[prediction_id].series.setdefault(ticker, []).append((day, value))
        found[prediction_id].base[ticker] = (base_date, base_close)
    return found


def _latest_checks(con: duckdb.DuckDBPyConnection, notices: dict[str, str]) -> list[CheckRow] | None:
    checks = latest_check_results(con)
    if checks is None:
        notices["quality"] = "quality.check_results is missing: no quality check has run yet."
    return checks
