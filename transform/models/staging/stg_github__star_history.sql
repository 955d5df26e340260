select
    lower(repo) as repo,
    cast(starred_date as date) as starred_date,
    cast(stars_added as bigint) as stars_added
from {{ source('raw_github', 'star_history') }}
