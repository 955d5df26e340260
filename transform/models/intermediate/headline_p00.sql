-- P00 headline: the change in combined mean daily views of the P00 articles, baseline year vs the year before.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

interest as (
    select * from {{ basket('P00', 'trends', 'settings.baseline_year - 1', 'settings.baseline_year') }}
    where role = 'member'
),

judged as (
    select
        interest.total_change_pct as headline_value,
        coalesce(interest.is_sufficient, false) as is_sufficient,
        {{ basket_sentence('interest', "'Combined mean daily Wikipedia views'",
            "format('in {} vs {}', settings.baseline_year, settings.baseline_year - 1)",
            label_one="'mean daily Wikipedia views'") }} as clauses,
        coalesce(interest.input_signals, []) as input_signals
    from settings
    left join interest on true
)

select
    'P00' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
