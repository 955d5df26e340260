{{ config(materialized='table') }}
-- Kind document_change: the change in Federal Register documents found by a prediction's search terms, each
-- window against the same days a year earlier; the evidence adds what its other sources say.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as {{ headline_windows('document_change') }},

documents as (
    select * from {{ ref('int_baskets') }} where source = 'regulatory' and role = 'member'
),

context as {{ other_sources('regulatory') }},

judged as (
    select
        windows.prediction_id,
        windows."window",
        documents.total_change_pct as headline_value,
        coalesce(documents.is_sufficient, false) as is_sufficient,
        documents.registered,
        documents.covered,
        concat_ws('; ',
            case
                when documents.is_sufficient and documents.registered = 1 then format(
                    'Federal Register documents matching "{}": {:,} in {} vs {:,} in {} ({:+.1f}%)',
                    documents.signals, cast(documents.to_total as bigint), windows.label,
                    cast(documents.from_total as bigint), windows.prior_label, documents.total_change_pct)
                else {{ basket_sentence('documents', "'Federal Register documents'", 'windows.vs_phrase',
                    label_one="'Federal Register documents matching \"{}\"'") }}
            end,
            context.clauses
        ) as clauses,
        coalesce(documents.input_signals, []) || coalesce(context.input_signals, []) as input_signals
    from windows
    cross join settings
    left join documents using (prediction_id, "window")
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
