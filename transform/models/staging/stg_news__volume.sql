select
    source,
    query,
    cast(period as date) as period,
    cast(stories as bigint) as stories,
    is_complete,
    exhaustive
from {{ source('raw_news', 'volume') }}
