-- P07 headline: the change in mean daily interest in the new-modality articles, prediction year vs baseline
-- year; the evidence adds the registered repos' summed star growth over the prediction year.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

interest as (
    select * from {{ basket('P07', 'trends', 'settings.baseline_year', 'settings.prediction_year') }}
    where role = 'member'
),

stars as (
    select * from {{ basket('P07', 'github', 'settings.prediction_year') }}
    where role = 'member'
),

judged as (
    select
        interest.total_change_pct as headline_value,
        coalesce(interest.is_sufficient, false) as is_sufficient,
        concat_ws('; ',
            {{ basket_sentence('interest', "'Combined mean daily Wikipedia views'",
                "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                label_one="'mean daily Wikipedia views'") }},
            case when stars.role is not null then {{ basket_sentence('stars', "'summed stars'",
                "format('over {}', settings.prediction_year)", label_one="'stars'") }} end
        ) as clauses,
        coalesce(interest.input_signals, []) || coalesce(stars.input_signals, []) as input_signals
    from settings
    left join interest on true
    left join stars on true
)

select
    'P07' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
