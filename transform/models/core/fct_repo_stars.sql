-- One row per repo and day with its star count: GitHub's own count where a daily snapshot was taken
-- (`snapshot`), otherwise a count reconstructed from the star history (`reconstructed`).
--
-- The history gives the stars made each day that still exist, so the count at the end of a day is the latest
-- snapshot minus the stars made after that day (and plus those made since, for days after it). The anchor is the
-- latest snapshot inside the days the history covers: the history needs no backfill to the repo's first star,
-- and a history cut short by a rate limit still rebuilds every day it covers. Nothing is interpolated.
with history as (
    select repo, starred_date, stars_added from {{ ref('stg_github__star_history') }}
),

snapshots as (
    select repo, observed_date, stars, forks from {{ ref('stg_github__repos') }}
),

added_through as (
    select repo, starred_date, sum(stars_added) over (partition by repo order by starred_date) as added
    from history
),

anchors as (
    select snapshots.repo, snapshots.stars - added_through.added as offset_stars
    from snapshots
    inner join added_through
        on added_through.repo = snapshots.repo and added_through.starred_date = snapshots.observed_date
    qualify row_number() over (partition by snapshots.repo order by snapshots.observed_date desc) = 1
),

observations as (
    select repo, observed_date, stars, forks, 'snapshot' as origin, 1 as preference
    from snapshots
    union all
    select
        added_through.repo,
        added_through.starred_date,
        cast(anchors.offset_stars + added_through.added as bigint),
        cast(null as bigint),
        'reconstructed',
        2
    from added_through
    inner join anchors on anchors.repo = added_through.repo
)

select
    repo,
    observed_date,
    stars,
    forks,
    origin
from observations
qualify row_number() over (partition by repo, observed_date order by preference) = 1
