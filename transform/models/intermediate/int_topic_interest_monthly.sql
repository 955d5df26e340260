-- Interest per term and month: the month's views, the days they cover and their mean per day. A complete month
-- comes from Wikimedia's monthly total (exact, and the only real figure where daily views are not to be had);
-- other months (the current one, or a term without monthly totals) from the days that have a value (a missing
-- day is left out, not counted as zero).
with daily as (
    select
        source,
        term,
        cast(date_trunc('month', observed_date) as date) as period,
        sum(value) as views,
        count(*) as days_observed
    from {{ ref('fct_topic_interest') }}
    where value is not null
    group by all
),

monthly as (
    select source, term, period, views, days_in_month as days_observed
    from {{ ref('fct_topic_interest_monthly') }}
),

combined as (
    select *, 'monthly_total' as basis from monthly
    union all
    select daily.*, 'daily' as basis
    from daily
    where not exists (
        select 1 from monthly
        where monthly.source = daily.source and monthly.term = daily.term and monthly.period = daily.period
    )
)

select
    source,
    term,
    period,
    views,
    days_observed,
    views / days_observed as mean_daily_value,
    basis
from combined
