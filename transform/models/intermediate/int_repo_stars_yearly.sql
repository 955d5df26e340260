-- Star growth per repo and calendar year, between the observation closest to the year's first day and the one
-- closest to the next year's first day. Each must lie within `edge_days` of its day, where
-- edge_days = floor(365 * (1 - min_coverage) / 2): the span measured then always covers at least min_coverage of
-- the year (45 days for 0.75). A year without both is not covered; nothing is interpolated. Ties go to the
-- earlier observation.
with settings as (
    select *, cast(floor(365 * (1 - min_coverage) / 2) as integer) as edge_days
    from {{ ref('stg_registry__settings') }}
),

stars as (
    select repo, observed_date, stars from {{ ref('fct_repo_stars') }}
),

years as (
    select distinct stars.repo, y.year
    from stars
    cross join settings
    cross join unnest(range(year(settings.start_date), year(settings.as_of) + 1)) as y(year)
),

-- Every observation is a candidate edge for the year it is in and the years next to it.
candidates as (
    select stars.repo, stars.observed_date, stars.stars, y.year
    from stars
    cross join unnest([year(stars.observed_date) - 1, year(stars.observed_date), year(stars.observed_date) + 1])
        as y(year)
),

starts as (
    select candidates.repo, candidates.year, candidates.observed_date as start_date, candidates.stars as start_stars
    from candidates
    cross join settings
    where abs(date_diff('day', make_date(candidates.year, 1, 1), candidates.observed_date)) <= settings.edge_days
    qualify row_number() over (
        partition by candidates.repo, candidates.year
        order by abs(date_diff('day', make_date(candidates.year, 1, 1), candidates.observed_date)),
            candidates.observed_date
    ) = 1
),

ends as (
    select candidates.repo, candidates.year, candidates.observed_date as end_date, candidates.stars as end_stars
    from candidates
    cross join settings
    where abs(date_diff('day', make_date(candidates.year + 1, 1, 1), candidates.observed_date))
        <= settings.edge_days
    qualify row_number() over (
        partition by candidates.repo, candidates.year
        order by abs(date_diff('day', make_date(candidates.year + 1, 1, 1), candidates.observed_date)),
            candidates.observed_date
    ) = 1
),

observed as (
    select repo, year(observed_date) as year, count(*) as observations,
        count(distinct month(observed_date)) as months_observed
    from stars
    group by all
)

select
    years.repo,
    years.year,
    starts.start_date,
    starts.start_stars,
    ends.end_date,
    ends.end_stars,
    ends.end_stars - starts.start_stars as stars_gained,
    100 * (ends.end_stars / starts.start_stars - 1) as growth_pct,
    coalesce(observed.observations, 0) as observations,
    coalesce(observed.months_observed, 0) as months_observed,
    settings.edge_days,
    starts.start_date is not null and ends.end_date is not null and starts.start_stars > 0 as is_covered,
    case
        when starts.start_date is null and ends.end_date is null then format(
            'no star count within {} days of {}-01-01 or {}-01-01', settings.edge_days, years.year, years.year + 1)
        when starts.start_date is null then format(
            'no star count within {} days of {}-01-01', settings.edge_days, years.year)
        when ends.end_date is null then format(
            'no star count within {} days of {}-01-01', settings.edge_days, years.year + 1)
        when starts.start_stars = 0 then format('0 stars at the start of {}', years.year)
    end as coverage_note
from years
cross join settings
left join starts using (repo, year)
left join ends using (repo, year)
left join observed using (repo, year)
