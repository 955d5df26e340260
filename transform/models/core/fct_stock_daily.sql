-- One row per ticker and trading day; close is Yahoo's split-adjusted close, so returns need no split logic.
-- Incremental: a nightly run rebuilds each ticker's recent days only (see macros/since_last_build.sql).
{{ config(materialized='incremental', unique_key=['ticker', 'trade_date'], incremental_strategy='delete+insert') }}

select
    prices.ticker,
    prices.trade_date,
    prices.open,
    prices.high,
    prices.low,
    prices.close,
    prices.adj_close,
    prices.volume
from {{ ref('stg_stocks__prices') }} as prices
{{ since_last_build('prices', ['ticker'], 'trade_date') }}
