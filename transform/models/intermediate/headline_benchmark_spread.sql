{{ config(materialized='table') }}
-- Kind benchmark_spread: the leader's price return inside each window minus the benchmark's (split-adjusted
-- closes); the evidence adds the median return of the other registered tickers.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as {{ headline_windows('benchmark_spread') }},

returns as (
    select * from {{ ref('int_baskets') }} where source = 'stocks'
),

leader as (select * from returns where role = 'leader'),
benchmark as (select * from returns where role = 'benchmark'),
field as (select * from returns where role = 'member'),

context as {{ other_sources('stocks') }},

judged as (
    select
        windows.prediction_id,
        windows."window",
        leader.mean_change_pct - benchmark.mean_change_pct as headline_value,
        coalesce(leader.is_sufficient and benchmark.is_sufficient, false) as is_sufficient,
        coalesce(leader.registered, 0) + coalesce(benchmark.registered, 0) as registered,
        coalesce(leader.covered, 0) + coalesce(benchmark.covered, 0) as covered,
        concat_ws('; ',
            case
                when leader.is_sufficient and benchmark.is_sufficient then format(
                    '{} {:+.1f}% {} vs benchmark {} {:+.1f}% (spread {:+.1f} pp){}',
                    leader.signals, leader.mean_change_pct, windows.over_phrase, benchmark.signals,
                    benchmark.mean_change_pct, leader.mean_change_pct - benchmark.mean_change_pct,
                    case
                        when field.covered > 0 then format('; median of the other {} hardware names {:+.1f}%',
                            field.covered, field.median_change_pct)
                        else ''
                    end)
                else format(
                    'Not enough price history for {} or its benchmark {} {} (each needs {:.0f}% of months and a '
                    || 'close at {}){}',
                    coalesce(leader.signals, 'a leader'), coalesce(benchmark.signals, 'a benchmark'),
                    windows.over_phrase, 100 * settings.min_coverage, windows.start_label,
                    coalesce(': ' || nullif(concat_ws(', ', leader.gaps, benchmark.gaps), ''), ''))
            end,
            context.clauses
        ) as clauses,
        coalesce(leader.input_signals, []) || coalesce(benchmark.input_signals, [])
            || coalesce(field.input_signals, []) || coalesce(context.input_signals, []) as input_signals
    from windows
    cross join settings
    left join leader using (prediction_id, "window")
    left join benchmark using (prediction_id, "window")
    left join field using (prediction_id, "window")
    left join context using (prediction_id, "window")
)

select
    prediction_id,
    "window",
    headline_value,
    is_sufficient,
    registered,
    covered,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
