-- P02 headline: the challenger's share of the stars gained over the prediction year by the challenger and the
-- incumbent together (e.g. state-spaces/mamba vs huggingface/transformers).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

stars as (
    select * from {{ basket('P02', 'github', 'settings.prediction_year') }}
),

challenger as (select * from stars where role = 'challenger'),
incumbent as (select * from stars where role = 'incumbent'),

gains as (
    select
        challenger.to_total - challenger.from_total as challenger_gain,
        incumbent.to_total - incumbent.from_total as incumbent_gain,
        coalesce(challenger.is_sufficient and incumbent.is_sufficient, false)
            and challenger.to_total - challenger.from_total + incumbent.to_total - incumbent.from_total > 0
            as is_sufficient
    from settings
    left join challenger on true
    left join incumbent on true
),

judged as (
    select
        100 * gains.challenger_gain / (gains.challenger_gain + gains.incumbent_gain) as headline_value,
        gains.is_sufficient,
        case
            when gains.is_sufficient then format(
                '{} gained {:,} stars over {} ({:+.1f}%) vs {} {:,} ({:+.1f}%): {:.1f}% of their combined growth',
                challenger.signals, cast(gains.challenger_gain as bigint), settings.prediction_year,
                challenger.total_change_pct, incumbent.signals, cast(gains.incumbent_gain as bigint),
                incumbent.total_change_pct,
                100 * gains.challenger_gain / (gains.challenger_gain + gains.incumbent_gain))
            else concat_ws('; ',
                {{ basket_sentence('challenger', "'Challenger stars'", "format('over {}', settings.prediction_year)",
                    label_one="'stars'") }},
                {{ basket_sentence('incumbent', "'incumbent stars'", "format('over {}', settings.prediction_year)",
                    label_one="'stars'") }})
        end as clauses,
        coalesce(challenger.input_signals, []) || coalesce(incumbent.input_signals, []) as input_signals
    from settings
    cross join gains
    left join challenger on true
    left join incumbent on true
)

select
    'P02' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
