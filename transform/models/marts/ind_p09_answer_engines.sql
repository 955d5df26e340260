-- P09, AI changes marketing and search: mean daily views of the challenger (ChatGPT) and incumbent
-- (Google_Search) articles with their ratio per month, and the registered tickers against their benchmark.
with series as (
    select * from {{ indicator_series('P09') }}
),

per_period as (
    select
        period,
        sum(value) filter (where source = 'trends' and role = 'challenger')
            / nullif(sum(value) filter (where source = 'trends' and role = 'incumbent'), 0)
            as challenger_incumbent_ratio,
        avg(value) filter (where source = 'stocks' and role = 'benchmark') as benchmark_ytd_return_pct
    from series
    group by period
)

select
    series.*,
    per_period.challenger_incumbent_ratio,
    case when series.source = 'stocks' then series.value - per_period.benchmark_ytd_return_pct end
        as spread_vs_benchmark_pp
from series
left join per_period on per_period.period = series.period
