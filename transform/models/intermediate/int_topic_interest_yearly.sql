-- Interest per term and calendar year: the mean daily value, how many months have data (coverage), and how the
-- last quarter compares with the busiest month so far (the peak of the monthly means up to the year's end).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

monthly as (
    select * from {{ ref('int_topic_interest_monthly') }}
),

daily as (
    select source, term, observed_date, value
    from {{ ref('fct_topic_interest') }}
    where value is not null
),

yearly as (
    select
        source,
        term,
        year(observed_date) as year,
        avg(value) as mean_daily_value,
        count(*) as days_observed,
        count(distinct month(observed_date)) as months_observed,
        avg(value) filter (where month(observed_date) >= 10) as last_quarter_mean
    from daily
    group by all
),

peaks as (
    select
        yearly.source,
        yearly.term,
        yearly.year,
        arg_max(monthly.period, monthly.mean_daily_value) as peak_period,
        max(monthly.mean_daily_value) as peak_mean
    from yearly
    inner join monthly
        on monthly.source = yearly.source and monthly.term = yearly.term and year(monthly.period) <= yearly.year
    group by all
)

select
    yearly.source,
    yearly.term,
    yearly.year,
    yearly.mean_daily_value,
    yearly.days_observed,
    yearly.months_observed,
    yearly.months_observed / 12.0 as coverage,
    yearly.months_observed / 12.0 >= settings.min_coverage as is_covered,
    yearly.last_quarter_mean,
    peaks.peak_period,
    peaks.peak_mean,
    100 * yearly.last_quarter_mean / peaks.peak_mean as last_quarter_share_pct
from yearly
cross join settings
left join peaks using (source, term, year)
