select
    upper(ticker) as ticker,
    cast(split_date as date) as split_date,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator
from {{ source('raw_stocks', 'splits') }}
