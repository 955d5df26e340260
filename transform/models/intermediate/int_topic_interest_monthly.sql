-- Mean daily interest per term and month, over the days that have a value (a missing day is left out, not
-- counted as zero).
select
    source,
    term,
    cast(date_trunc('month', observed_date) as date) as period,
    avg(value) as mean_daily_value,
    count(*) as days_observed
from {{ ref('fct_topic_interest') }}
where value is not null
group by all
