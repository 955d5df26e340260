-- P11 headline: the summed star growth of the P11 repos (local-model runtimes) over the prediction year: all their stars at
-- the year's end over all their stars at its start, for the repos with a count near both ends.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

stars as (
    select * from {{ basket('P11', 'github', 'settings.prediction_year') }}
    where role = 'member'
),

judged as (
    select
        stars.total_change_pct as headline_value,
        coalesce(stars.is_sufficient, false) as is_sufficient,
        {{ basket_sentence('stars', "'Summed stars of the local-model runtimes'", "format('over {}', settings.prediction_year)",
            label_one="'stars'") }} as clauses,
        coalesce(stars.input_signals, []) as input_signals
    from settings
    left join stars on true
)

select
    'P11' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
