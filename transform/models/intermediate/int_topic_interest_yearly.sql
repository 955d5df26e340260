-- Interest per term and calendar year: the mean daily value (all views over all days with views), how many
-- months have data (coverage), and how the last quarter compares with the busiest month so far (the peak of the
-- monthly means up to the year's end).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

monthly as (
    select * from {{ ref('int_topic_interest_monthly') }}
),

yearly as (
    select
        source,
        term,
        year(period) as year,
        sum(views) / sum(days_observed) as mean_daily_value,
        sum(days_observed) as days_observed,
        count(*) as months_observed,
        sum(views) filter (where month(period) >= 10) / sum(days_observed) filter (where month(period) >= 10)
            as last_quarter_mean
    from monthly
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
