select
    lower(repo) as repo,
    cast(observed_date as date) as observed_date,
    cast(stars as bigint) as stars,
    archive_source
from {{ source('raw_github', 'star_history') }}
