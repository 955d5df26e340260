-- P04 headline: the leader's price return over the prediction year minus the benchmark's.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

returns as (
    select * from {{ basket('P04', 'stocks', 'settings.prediction_year') }}
),

leader as (select * from returns where role = 'leader'),
benchmark as (select * from returns where role = 'benchmark'),
field as (select * from returns where role = 'member'),

judged as (
    select
        leader.mean_change_pct - benchmark.mean_change_pct as spread_pp,
        coalesce(leader.is_sufficient and benchmark.is_sufficient, false) as is_sufficient
    from settings
    left join leader on true
    left join benchmark on true
)

select
    'P04' as prediction_id,
    judged.spread_pp as headline_value,
    judged.is_sufficient,
    case
        when judged.is_sufficient then format(
            '{} {:+.1f}% over {} vs benchmark {} {:+.1f}% (spread {:+.1f} pp){}.',
            leader.signals, leader.mean_change_pct, settings.prediction_year, benchmark.signals,
            benchmark.mean_change_pct, judged.spread_pp,
            case
                when field.covered > 0 then format('; median of the other {} hardware names {:+.1f}%',
                    field.covered, field.median_change_pct)
                else ''
            end
        )
        else format(
            'Not enough price history for {} or its benchmark {} over {} (each needs {:.0f}% of months and a '
            || 'close at the end of {}){}.',
            coalesce(leader.signals, 'a leader'), coalesce(benchmark.signals, 'a benchmark'),
            settings.prediction_year, 100 * settings.min_coverage, settings.prediction_year - 1,
            coalesce(': ' || nullif(concat_ws(', ', leader.gaps, benchmark.gaps), ''), '')
        )
    end as evidence,
    coalesce(leader.input_signals, []) || coalesce(benchmark.input_signals, []) || coalesce(field.input_signals, [])
        as input_signals
from settings
cross join judged
left join leader on true
left join benchmark on true
left join field on true
