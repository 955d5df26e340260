select
    lower(repo) as repo,
    cast(observed_date as date) as observed_date,
    full_name,
    cast(stars as bigint) as stars,
    cast(forks as bigint) as forks,
    cast(open_issues as bigint) as open_issues,
    cast(subscribers as bigint) as subscribers,
    pushed_at,
    created_at
from {{ source('raw_github', 'repos') }}
