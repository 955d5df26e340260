select
    source,
    term,
    cast(period as date) as period,
    cast(views as double) as views
from {{ source('raw_trends', 'interest_monthly') }}
