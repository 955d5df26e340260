{{ config(materialized='table') }}
-- Kind interest_change: the change in the combined mean daily views of a prediction's member articles, each window
-- against the same days a year earlier; the evidence adds what its other sources say.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as {{ headline_windows('interest_change') }},

interest as (
    select * from {{ ref('int_baskets') }} where source = 'trends' and measure = 'yoy' and role = 'member'
),

context as {{ other_sources('trends') }},

judged as (
    select
        windows.prediction_id,
        windows."window",
        interest.total_change_pct as headline_value,
        coalesce(interest.is_sufficient, false) as is_sufficient,
        interest.registered,
        interest.covered,
        concat_ws('; ',
            {{ basket_sentence('interest', "'Combined mean daily Wikipedia views'", 'windows.vs_phrase',
                label_one="'mean daily Wikipedia views'") }},
            context.clauses
        ) as clauses,
        coalesce(interest.input_signals, []) || coalesce(context.input_signals, []) as input_signals
    from windows
    cross join settings
    left join interest using (prediction_id, "window")
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
