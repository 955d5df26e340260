{{ config(materialized='table') }}
-- Kind star_share: the challenger's share of the stars gained inside each window by the challenger and the
-- incumbent together (e.g. state-spaces/mamba vs huggingface/transformers).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as {{ headline_windows('star_share') }},

stars as (
    select * from {{ ref('int_baskets') }} where source = 'github'
),

challenger as (select * from stars where role = 'challenger'),
incumbent as (select * from stars where role = 'incumbent'),

context as {{ other_sources('github') }},

gains as (
    select
        windows.prediction_id,
        windows."window",
        challenger.to_total - challenger.from_total as challenger_gain,
        incumbent.to_total - incumbent.from_total as incumbent_gain,
        coalesce(challenger.is_sufficient and incumbent.is_sufficient, false)
            and challenger.to_total - challenger.from_total + incumbent.to_total - incumbent.from_total > 0
            as is_sufficient
    from windows
    left join challenger using (prediction_id, "window")
    left join incumbent using (prediction_id, "window")
),

judged as (
    select
        windows.prediction_id,
        windows."window",
        100 * gains.challenger_gain / (gains.challenger_gain + gains.incumbent_gain) as headline_value,
        gains.is_sufficient,
        coalesce(challenger.registered, 0) + coalesce(incumbent.registered, 0) as registered,
        coalesce(challenger.covered, 0) + coalesce(incumbent.covered, 0) as covered,
        concat_ws('; ',
            case
                when gains.is_sufficient then format(
                    '{} gained {:,} stars {} ({:+.1f}%) vs {} {:,} ({:+.1f}%): {:.1f}% of their combined growth',
                    challenger.signals, cast(gains.challenger_gain as bigint), windows.over_phrase,
                    challenger.total_change_pct, incumbent.signals, cast(gains.incumbent_gain as bigint),
                    incumbent.total_change_pct,
                    100 * gains.challenger_gain / (gains.challenger_gain + gains.incumbent_gain))
                else concat_ws('; ',
                    {{ basket_sentence('challenger', "'Challenger stars'", 'windows.over_phrase',
                        label_one="'stars'") }},
                    {{ basket_sentence('incumbent', "'incumbent stars'", 'windows.over_phrase',
                        label_one="'stars'") }})
            end,
            context.clauses
        ) as clauses,
        coalesce(challenger.input_signals, []) || coalesce(incumbent.input_signals, [])
            || coalesce(context.input_signals, []) as input_signals
    from windows
    cross join settings
    inner join gains using (prediction_id, "window")
    left join challenger using (prediction_id, "window")
    left join incumbent using (prediction_id, "window")
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
