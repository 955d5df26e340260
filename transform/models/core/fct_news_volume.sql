-- One row per news backend, registered phrase and calendar month: how many stories matched the phrase.
select
    source,
    query,
    period,
    stories,
    is_complete,
    exhaustive
from {{ ref('stg_news__volume') }}
