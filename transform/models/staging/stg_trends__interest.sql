select
    source,
    term,
    cast(observed_date as date) as observed_date,
    cast(value as double) as value
from {{ source('raw_trends', 'interest') }}
