select
    ticker,
    cast(first_trade_date as date) as first_trade_date,
    instrument_type,
    currency
from {{ source('raw_stocks', 'listings') }}
