-- P04: the race for AI hardware. Year-to-date price return of every registered P04 ticker per month, and its
-- spread against the benchmark role (e.g. QQQ). Tickers come from the registry, never from this file.
with members as (
    select signal as ticker, role
    from {{ ref('stg_registry__signals') }}
    where prediction_id = 'P04' and source = 'stocks'
),

window_ as (
    select start_date, as_of from {{ ref('stg_registry__settings') }}
),

series as (
    select
        monthly.period,
        monthly.ticker,
        members.role,
        monthly.month_end_close,
        monthly.ytd_return_pct
    from {{ ref('int_stock_monthly') }} as monthly
    inner join members on members.ticker = monthly.ticker
    cross join window_
    where monthly.period between date_trunc('month', window_.start_date) and window_.as_of
),

benchmark as (
    select period, avg(ytd_return_pct) as benchmark_ytd_return_pct
    from series
    where role = 'benchmark'
    group by period
)

select
    'P04' as prediction_id,
    series.period,
    series.ticker as signal,
    series.ytd_return_pct as value,
    series.role,
    series.month_end_close,
    benchmark.benchmark_ytd_return_pct,
    series.ytd_return_pct - benchmark.benchmark_ytd_return_pct as spread_vs_benchmark_pp
from series
left join benchmark on benchmark.period = series.period
