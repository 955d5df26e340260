-- P04: the race for AI hardware. Year-to-date price return of every registered P04 ticker per month, and its
-- spread against the benchmark role (e.g. QQQ). Tickers come from the registry, never from this file.
with series as (
    select * from {{ indicator_series('P04') }}
),

benchmark as (
    select period, avg(value) as benchmark_ytd_return_pct
    from series
    where role = 'benchmark'
    group by period
)

select
    series.prediction_id,
    series.period,
    series.signal,
    series.value,
    series.role,
    series.level as month_end_close,
    benchmark.benchmark_ytd_return_pct,
    series.value - benchmark.benchmark_ytd_return_pct as spread_vs_benchmark_pp,
    series.source,
    series.measure,
    series.observations,
    series.rolling_3m_avg,
    series.change_12m,
    series.yoy_growth_pct,
    series.data_status,
    series.note
from series
left join benchmark on benchmark.period = series.period
