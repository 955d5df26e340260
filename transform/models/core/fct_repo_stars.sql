-- One row per repo and day: the daily snapshot where there is one, otherwise the star archive's count
-- (the archive has no forks). A same-day snapshot wins because it is GitHub's own figure.
with observations as (
    select repo, observed_date, stars, forks, 'snapshot' as origin, 1 as preference
    from {{ ref('stg_github__repos') }}
    union all
    select repo, observed_date, stars, cast(null as bigint) as forks, 'star_archive' as origin, 2 as preference
    from {{ ref('stg_github__star_history') }}
)

select
    repo,
    observed_date,
    stars,
    forks,
    origin
from observations
qualify row_number() over (partition by repo, observed_date order by preference) = 1
