select
    upper(ticker) as ticker,
    cast(ex_date as date) as ex_date,
    cast(amount as double) as amount
from {{ source('raw_stocks', 'dividends') }}
