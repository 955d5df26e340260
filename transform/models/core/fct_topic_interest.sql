-- One row per interest backend, registered term and day.
select
    source,
    term,
    observed_date,
    value
from {{ ref('stg_trends__interest') }}
