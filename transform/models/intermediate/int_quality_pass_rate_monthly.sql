-- The pipeline's own data-quality record per month (by when the checks ran): how many validations ran and which
-- share of their expectations passed. P10 ("garbage in, garbage out") quotes it beside the public signals.
select
    cast(date_trunc('month', checked_date) as date) as period,
    count(distinct run_id) as runs,
    count(*) as expectations_checked,
    count(*) filter (where success) as expectations_passed,
    count(*) filter (where not success and blocking) as blocking_failures,
    100.0 * count(*) filter (where success) / count(*) as pass_rate_pct
from {{ ref('stg_quality__check_results') }}
group by all
