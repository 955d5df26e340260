-- One row per ticker and trading day; close is Yahoo's split-adjusted close, so returns need no split logic.
select
    ticker,
    trade_date,
    open,
    high,
    low,
    close,
    adj_close,
    volume
from {{ ref('stg_stocks__prices') }}
