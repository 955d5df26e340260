select
    'news' as source,
    signal,
    dataset,
    status,
    detail,
    cast(window_start as date) as window_start,
    cast(window_end as date) as window_end,
    cast(rows as bigint) as rows_loaded
from {{ source('raw_news', 'signal_status') }}
