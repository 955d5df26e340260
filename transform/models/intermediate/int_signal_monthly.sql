{{ config(materialized='table') }}
-- Every registered signal's monthly series in one shape, so each indicator picks its signals from the registry
-- and gets the same derived columns: a 3-month rolling mean and the change against the same month a year before.
-- `level` is what the source measures (month-end close, mean daily views, month-end stars, documents, stories);
-- `value` is the indicator value: the year-to-date return for stocks (as in P04), the level for every other
-- source.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

registered as (
    select distinct source, signal from {{ ref('stg_registry__signals') }}
),

measured as (
    select 'stocks' as source, ticker as key, period, 'close' as measure, month_end_close as level,
        trading_days as observations, ytd_return_pct as value
    from {{ ref('int_stock_monthly') }}
    union all
    select 'trends', term, period, 'mean_daily_views', mean_daily_value, days_observed, mean_daily_value
    from {{ ref('int_topic_interest_monthly') }}
    union all
    select 'github', repo, period, 'stars', month_end_stars, observations, month_end_stars
    from {{ ref('int_repo_stars_monthly') }}
    union all
    select 'regulatory', term, period, 'documents', documents, documents, documents
    from {{ ref('int_regulatory_docs_monthly') }}
    union all
    select 'news', query, period, 'stories', stories, stories, stories
    from {{ ref('fct_news_volume') }}
),

series as (
    select
        registered.source,
        registered.signal,
        measured.period,
        measured.measure,
        cast(measured.level as double) as level,
        measured.observations,
        cast(measured.value as double) as value
    from measured
    inner join registered
        on registered.source = measured.source and lower(registered.signal) = lower(measured.key)
    cross join settings
    where measured.period between date_trunc('month', settings.start_date) and settings.as_of
)

select
    series.source,
    series.signal,
    series.period,
    series.measure,
    series.level,
    series.observations,
    series.value,
    avg(series.level) over (
        partition by series.source, series.signal order by series.period
        range between interval 2 month preceding and current row
    ) as rolling_3m_avg,
    series.level - year_before.level as change_12m,
    100 * (series.level / nullif(year_before.level, 0) - 1) as yoy_growth_pct
from series
left join series as year_before
    on year_before.source = series.source
    and year_before.signal = series.signal
    and year_before.period = series.period - interval 12 month
