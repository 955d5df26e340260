-- P04 headline: the leader's price return over the prediction year minus the benchmark's.
{{ config(materialized='view') }}
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

members as (
    select signal as ticker, role
    from {{ ref('stg_registry__signals') }}
    where prediction_id = 'P04' and source = 'stocks'
),

returns as (
    select
        members.ticker,
        members.role,
        r.return_pct,
        coalesce(r.coverage, 0) >= settings.min_coverage and r.prev_year_end_close is not null as is_covered
    from members
    cross join settings
    left join {{ ref('int_stock_yearly_returns') }} as r
        on r.ticker = members.ticker and r.year = settings.prediction_year
),

by_role as (
    select
        role,
        avg(return_pct) as return_pct,
        string_agg(ticker, '+' order by ticker) as tickers,
        count(*) > 0 and bool_and(is_covered) as is_covered
    from returns
    group by role
),

leader as (select * from by_role where role = 'leader'),
benchmark as (select * from by_role where role = 'benchmark'),
field as (
    select median(return_pct) as median_return_pct, count(*) as n
    from returns
    where role = 'member' and is_covered
)

select
    'P04' as prediction_id,
    leader.return_pct - benchmark.return_pct as headline_value,
    coalesce(leader.is_covered and benchmark.is_covered, false) as is_sufficient,
    case
        when coalesce(leader.is_covered and benchmark.is_covered, false) then format(
            '{} {:+.1f}% over {} vs benchmark {} {:+.1f}% (spread {:+.1f} pp); median of the other {} hardware names {:+.1f}%.',
            leader.tickers, leader.return_pct, settings.prediction_year, benchmark.tickers, benchmark.return_pct,
            leader.return_pct - benchmark.return_pct, field.n, field.median_return_pct
        )
        else format(
            'Not enough price history for {} or its benchmark {} over {} (each needs {:.0f}% of months and a close at the end of {}).',
            coalesce(leader.tickers, 'a leader'), coalesce(benchmark.tickers, 'a benchmark'),
            settings.prediction_year, 100 * settings.min_coverage, settings.prediction_year - 1
        )
    end as evidence,
    (select list('stocks:' || ticker order by ticker) from members) as input_signals
from settings
left join leader on true
left join benchmark on true
left join field on true
