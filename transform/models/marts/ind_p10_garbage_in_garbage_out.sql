-- P10, garbage in, garbage out: interest in the data-quality articles, stars of the data-quality tools, and AI
-- Pulse's own quality-check pass rate per month (source `ai_pulse`, from quality.check_results; its period is when
-- the checks ran, so these rows grow with every run, like the history they come from).
with series as (
    select * from {{ indicator_series('P10') }}
)

select * from series
union all
select
    'P10' as prediction_id,
    checks.period,
    'quality_checks' as signal,
    checks.pass_rate_pct as value,
    'own_history' as role,
    'ai_pulse' as source,
    'pass_rate_pct' as measure,
    checks.pass_rate_pct as level,
    checks.expectations_checked as observations,
    cast(null as double) as rolling_3m_avg,
    cast(null as double) as change_12m,
    cast(null as double) as yoy_growth_pct,
    'ok' as data_status,
    format('{} of {} expectations passed in {} validation runs ({} blocking failures)', checks.expectations_passed,
        checks.expectations_checked, checks.runs, checks.blocking_failures) as note,
    cast(null as varchar) as fix
from {{ ref('int_quality_pass_rate_monthly') }} as checks
