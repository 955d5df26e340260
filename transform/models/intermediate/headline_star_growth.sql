{{ config(materialized='table') }}
-- Kind star_growth: the summed star growth of a prediction's member repos inside each window: all their stars at
-- its end over all their stars at its start, for the repos with a count near both ends.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as {{ headline_windows('star_growth') }},

stars as (
    select * from {{ ref('int_baskets') }} where source = 'github' and role = 'member'
),

context as {{ other_sources('github') }},

judged as (
    select
        windows.prediction_id,
        windows."window",
        stars.total_change_pct as headline_value,
        coalesce(stars.is_sufficient, false) as is_sufficient,
        stars.registered,
        stars.covered,
        concat_ws('; ',
            {{ basket_sentence('stars', "coalesce('Summed stars of the ' || windows.repo_group, 'Summed stars')",
                'windows.over_phrase', label_one="'stars'") }},
            context.clauses
        ) as clauses,
        coalesce(stars.input_signals, []) || coalesce(context.input_signals, []) as input_signals
    from windows
    cross join settings
    left join stars using (prediction_id, "window")
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
