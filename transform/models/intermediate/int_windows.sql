{{ config(materialized='table') }}
-- The windows a prediction is judged in: every calendar year from the earliest first year a prediction has to the
-- year of as_of (the current one partial: up to as_of), and the 12 months to as_of. Each window comes with the span
-- it is compared with (the same days a year earlier) and the words its evidence uses.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

years as (
    select y.year
    from settings
    cross join unnest(range(
        (select min(first_year) from {{ ref('stg_registry__predictions') }}), year(settings.as_of) + 1)) as y(year)
),

windows as (
    select
        cast(years.year as varchar) as "window",
        years.year as window_year,
        make_date(years.year, 1, 1) as window_start,
        least(make_date(years.year, 12, 31), settings.as_of) as window_end,
        settings.as_of < make_date(years.year, 12, 31) as is_partial
    from years
    cross join settings
    union all
    select
        'last_12_months',
        null,
        cast(settings.as_of - interval 1 year + interval 1 day as date),
        settings.as_of,
        false
    from settings
)

select
    "window",
    window_year,
    window_start,
    window_end,
    is_partial,
    cast(window_start - interval 1 year as date) as prior_start,
    cast(window_end - interval 1 year as date) as prior_end,
    -- Month-grained signals (views, documents, stories) count the calendar months a span touches.
    date_diff('month', date_trunc('month', window_start), date_trunc('month', window_end)) + 1 as months,
    case
        when window_year is null then format('the 12 months to {}', window_end)
        when is_partial then format('{} to {}', window_year, window_end)
        else cast(window_year as varchar)
    end as label,
    case
        when window_year is null then 'the 12 months before'
        when is_partial then format('the same days of {}', window_year - 1)
        else cast(window_year - 1 as varchar)
    end as prior_label,
    case
        when window_year is null then cast(cast(window_start - interval 1 day as date) as varchar)
        else format('the end of {}', window_year - 1)
    end as start_label,
    case
        when window_year is null then cast(cast(window_start - interval 1 year - interval 1 day as date) as varchar)
        else format('the end of {}', window_year - 2)
    end as prior_start_label
from windows
