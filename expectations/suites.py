"""Great Expectations suites, defined as code, one per raw table. Every threshold comes from the registry's
`quality` section and every date from the run (`start_date`, `as_of`), never from literals.

A suite is a SuiteSpec: the raw table it reads, the columns that identify a row (for sample rows in failures),
an optional `prepare` step that derives columns GX then checks (e.g. a day-over-day move not explained by a
split), and the expectations. An expectation blocks unless it says otherwise: GX's own severity, CRITICAL by default,
is what blocks; `severity=WARNING` makes a failure a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

from expectations.runner import WARNING
from ingestion.registry import QualityThresholds

if TYPE_CHECKING:
    import great_expectations.expectations as gxe

# `severity=WARNING` is GX's own `severity` field of an expectation (great_expectations/expectations/
# expectation.py, GX 1.24.1), given as its FailureSeverity value: CRITICAL, the default, blocks; WARNING does not.


@dataclass(frozen=True)
class SuiteInputs:
    """What a suite is judged against besides its own table."""

    start_date: dt.date
    as_of: dt.date
    thresholds: QualityThresholds
    previous_rows: int | None = None
    related: dict[str, pd.DataFrame] = field(default_factory=dict)


Expectations = list["gxe.Expectation"]


def _gx_expectations() -> ModuleType:
    """GX's expectation classes, imported when a suite is built (as its check runs), not when the Definitions
    load: the webserver, `ai-pulse status` and the other steps never pay for importing GX."""
    import great_expectations.expectations as gxe

    return gxe


@dataclass(frozen=True)
class SuiteSpec:
    """A suite over one raw table of one source."""

    name: str
    source: str
    table: str
    id_columns: list[str]
    date_column: str
    expectations: Callable[[SuiteSpec, SuiteInputs], Expectations]
    dataset: str | None = None  # the fetched dataset whose rows fill `table` (signal_status names it)
    prepare: Callable[[pd.DataFrame, SuiteInputs], pd.DataFrame] | None = None
    related_tables: tuple[str, ...] = ()
    guards: str | None = None  # the raw table whose asset the check blocks, when not `table` itself

    @property
    def guarded_table(self) -> str:
        return self.guards or self.table

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


def table_health(spec: SuiteSpec, inputs: SuiteInputs, key_columns: list[str]) -> Expectations:
    """What every raw table owes: its key columns, unique keys, dates within [start_date, as_of], no sudden
    shrinking since the last validation, and (a warning) a newest date that is not stale."""
    gxe = _gx_expectations()
    stale_days = inputs.thresholds.stale_after_days[spec.source]
    shrink_floor = 1
    if inputs.previous_rows:
        shrink_floor = max(1, int(inputs.previous_rows * (1 - inputs.thresholds.max_row_count_drop)))
    return [
        *[gxe.ExpectColumnToExist(column=c) for c in key_columns],
        (gxe.ExpectCompoundColumnsToBeUnique(column_list=key_columns) if len(key_columns) > 1
         else gxe.ExpectColumnValuesToBeUnique(column=key_columns[0])),
        gxe.ExpectColumnValuesToNotBeNull(column=spec.date_column),
        gxe.ExpectColumnValuesToBeBetween(column=spec.date_column, min_value=inputs.start_date,
                                          max_value=inputs.as_of),
        gxe.ExpectTableRowCountToBeBetween(min_value=shrink_floor),
        gxe.ExpectColumnMaxToBeBetween(column=spec.date_column,
                                       min_value=inputs.as_of - dt.timedelta(days=stale_days), severity=WARNING),
    ]


def _unexplained_price_moves(frame: pd.DataFrame, inputs: SuiteInputs) -> pd.DataFrame:
    """Day-over-day close move per ticker, set to 0 on a day with a recorded split (Yahoo's close is split-
    adjusted, so a split should never show as a jump; one that does is a data error either way)."""
    frame = frame.sort_values(["ticker", "trade_date"]).copy()
    previous = frame.groupby("ticker")["close"].shift()
    moves = (frame["close"] / previous - 1).abs()
    splits = inputs.related.get("splits")
    if splits is not None and not splits.empty:
        split_days = set(zip(splits["ticker"], splits["split_date"], strict=True))
        on_split_day = [(t, d) in split_days for t, d in zip(frame["ticker"], frame["trade_date"], strict=True)]
        moves = moves.mask(pd.Series(on_split_day, index=frame.index), 0.0)
    frame["unexplained_move"] = moves.fillna(0.0)
    return frame


def _stock_price_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    limit = inputs.thresholds.max_unexplained_price_move
    return [
        *table_health(spec, inputs, ["ticker", "trade_date"]),
        *[gxe.ExpectColumnToExist(column=c) for c in ("open", "high", "low", "close", "adj_close", "volume")],
        gxe.ExpectColumnValuesToNotBeNull(column="close"),
        *[gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True)
          for c in ("open", "high", "low", "close")],
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="high", column_B="close", or_equal=True,
                                                   ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="close", column_B="low", or_equal=True,
                                                   ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnValuesToBeBetween(column="unexplained_move", max_value=limit),
        gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0, severity=WARNING),
    ]


def _star_drops(frame: pd.DataFrame, inputs: SuiteInputs) -> pd.DataFrame:
    """Per snapshot, how far the star count fell since the repo's previous snapshot. Stars only grow, give or take
    unstars."""
    frame = frame.sort_values(["repo", "observed_date"]).copy()
    previous = frame.groupby("repo")["stars"].shift()
    frame["star_drop"] = (1 - frame["stars"] / previous).clip(lower=0).fillna(0.0)
    return frame


def _star_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    return [
        *table_health(spec, inputs, ["repo", "observed_date"]),
        gxe.ExpectColumnValuesToNotBeNull(column="stars"),
        gxe.ExpectColumnValuesToBeBetween(column="stars", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="star_drop", max_value=inputs.thresholds.max_star_drop),
    ]


def _star_history_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    return [
        *table_health(spec, inputs, ["repo", "starred_date"]),
        gxe.ExpectColumnValuesToNotBeNull(column="stars_added"),
        gxe.ExpectColumnValuesToBeBetween(column="stars_added", min_value=0),
    ]


def _interest_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    return [
        *table_health(spec, inputs, ["source", "term", "observed_date"]),
        gxe.ExpectColumnValuesToNotBeNull(column="value"),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0),
    ]


def _monthly_interest_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    return [
        *table_health(spec, inputs, ["source", "term", "period"]),
        gxe.ExpectColumnValuesToNotBeNull(column="views"),
        gxe.ExpectColumnValuesToBeBetween(column="views", min_value=0),
    ]


def _news_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    return [
        *table_health(spec, inputs, ["source", "query", "period"]),
        gxe.ExpectColumnValuesToNotBeNull(column="stories"),
        gxe.ExpectColumnValuesToBeBetween(column="stories", min_value=0),
        # Algolia estimates a count when a query runs long; an estimate is worth knowing, not worth blocking.
        gxe.ExpectColumnValuesToNotBeInSet(column="exhaustive", value_set=[False], severity=WARNING),
    ]


def _document_expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
    gxe = _gx_expectations()
    return [
        *table_health(spec, inputs, ["document_number"]),
        gxe.ExpectColumnValuesToNotBeNull(column="title"),
        gxe.ExpectColumnValuesToMatchRegex(column="document_number", regex=r"^[0-9A-Za-z-]+$"),
        gxe.ExpectColumnValuesToNotBeNull(column="html_url", severity=WARNING),
    ]


STOCK_PRICES = SuiteSpec(
    name="stock_prices", source="stocks", table="prices", id_columns=["ticker", "trade_date"],
    date_column="trade_date", expectations=_stock_price_expectations, prepare=_unexplained_price_moves,
    related_tables=("splits",), dataset="chart",
)
TOPIC_INTEREST = SuiteSpec(
    name="topic_interest", source="trends", table="interest", id_columns=["term", "observed_date"],
    date_column="observed_date", expectations=_interest_expectations, dataset="pageviews",
)
MONTHLY_INTEREST = SuiteSpec(
    name="monthly_interest", source="trends", table="interest_monthly", id_columns=["term", "period"],
    date_column="period", expectations=_monthly_interest_expectations, dataset="pageviews_monthly",
)
REPO_SNAPSHOTS = SuiteSpec(
    name="repo_snapshots", source="github", table="repos", id_columns=["repo", "observed_date"],
    date_column="observed_date", expectations=_star_expectations, prepare=_star_drops, dataset="repo",
)
STAR_HISTORY = SuiteSpec(
    name="star_history", source="github", table="star_history", id_columns=["repo", "starred_date"],
    date_column="starred_date", expectations=_star_history_expectations, dataset="star_history",
)
REGULATORY_DOCUMENTS = SuiteSpec(
    name="regulatory_documents", source="regulatory", table="documents", id_columns=["document_number"],
    date_column="publication_date", expectations=_document_expectations, dataset="documents",
)
NEWS_VOLUME = SuiteSpec(
    name="news_volume", source="news", table="volume", id_columns=["query", "period"],
    date_column="period", expectations=_news_expectations, dataset="stories",
)


def signal_status_suite(source: str, guards: str) -> SuiteSpec:
    """Every registered signal of a source was fetched: a `failed` fetch blocks everything downstream of the
    source's data table `guards` (indicators would be built on incomplete data); `no_data` (e.g. a Wikipedia
    article that does not exist, or a snapshot without that recording) and `deferred` (an API's rate limit ran
    out; the next run resumes) only warn."""

    def expectations(spec: SuiteSpec, inputs: SuiteInputs) -> Expectations:
        gxe = _gx_expectations()
        return [
            gxe.ExpectColumnToExist(column="status"),
            gxe.ExpectColumnValuesToNotBeInSet(column="status", value_set=["failed"]),
            gxe.ExpectColumnValuesToNotBeInSet(column="status", value_set=["no_data"], severity=WARNING),
            gxe.ExpectColumnValuesToNotBeInSet(column="status", value_set=["deferred"], severity=WARNING),
        ]

    return SuiteSpec(name=f"{source}_signal_status", source=source, table="signal_status",
                     id_columns=["signal", "dataset", "problem", "fix"],
                     date_column="window_end", expectations=expectations, guards=guards)


SUITES: list[SuiteSpec] = [
    STOCK_PRICES,
    TOPIC_INTEREST,
    MONTHLY_INTEREST,
    REPO_SNAPSHOTS,
    STAR_HISTORY,
    REGULATORY_DOCUMENTS,
    NEWS_VOLUME,
    signal_status_suite("stocks", guards="prices"),
    signal_status_suite("trends", guards="interest"),
    signal_status_suite("github", guards="repos"),
    signal_status_suite("regulatory", guards="documents"),
    signal_status_suite("news", guards="volume"),
]
