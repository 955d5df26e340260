"""Great Expectations suites, defined as code, one per raw table. Each returns (expectation, blocking) pairs;
the dates they check against come from the registry and the run's `as_of`, never from literals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import great_expectations.expectations as gxe


@dataclass(frozen=True)
class SuiteSpec:
    """What a suite validates: the raw table, the columns that identify a row, and its expectations."""

    name: str
    table: str
    id_columns: list[str]
    expectations: list[tuple[Any, bool]]


def stock_prices_suite(start_date: dt.date, as_of: dt.date) -> SuiteSpec:
    """raw_stocks.prices: one row per ticker and day, positive prices, low <= close <= high, dates in range."""
    positive = [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True)
                for c in ("open", "high", "low", "close")]
    return SuiteSpec(
        name="stock_prices",
        table="raw_stocks.prices",
        id_columns=["ticker", "trade_date"],
        expectations=[
            *[(gxe.ExpectColumnToExist(column=c), True)
              for c in ("ticker", "trade_date", "open", "high", "low", "close", "adj_close", "volume")],
            (gxe.ExpectCompoundColumnsToBeUnique(column_list=["ticker", "trade_date"]), True),
            (gxe.ExpectColumnValuesToNotBeNull(column="close"), True),
            *[(e, True) for e in positive],
            (gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="high", column_B="close", or_equal=True,
                                                        ignore_row_if="either_value_is_missing"), True),
            (gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="close", column_B="low", or_equal=True,
                                                        ignore_row_if="either_value_is_missing"), True),
            (gxe.ExpectColumnValuesToBeBetween(column="trade_date", min_value=start_date, max_value=as_of), True),
            (gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0), False),
        ],
    )
