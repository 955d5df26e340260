-- One row per registered prediction. The verdict applies the registry's thresholds to the headline value;
-- a prediction without an indicator yet, or with too little data, is insufficient_data — never a guess.
{% set headline_models = ['headline_p04'] %}

with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

headlines as (
    {% for model in headline_models %}
    select prediction_id, headline_value, is_sufficient, evidence, input_signals from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

provenance as (
    select
        headlines.prediction_id,
        list(distinct provenance.signal order by provenance.signal)
            filter (where provenance.provenance in ('synthetic', 'partly_synthetic')) as synthetic_signals,
        list(distinct provenance.signal order by provenance.signal)
            filter (where provenance.provenance = 'missing') as missing_signals
    from headlines
    cross join unnest(headlines.input_signals) as inputs(input_signal)
    inner join {{ ref('stg_registry__provenance') }} as provenance
        on provenance.source || ':' || provenance.signal = inputs.input_signal
    group by headlines.prediction_id
)

select
    predictions.prediction_id,
    predictions.title,
    case
        when headlines.prediction_id is null or not headlines.is_sufficient or headlines.headline_value is null
            then 'insufficient_data'
        when headlines.headline_value >= predictions.supported_at then 'supported'
        when headlines.headline_value < predictions.not_supported_below then 'not_supported'
        else 'mixed'
    end as verdict,
    predictions.headline_metric,
    round(headlines.headline_value, 2) as headline_value,
    coalesce(headlines.evidence, 'No indicator is built for this prediction yet.')
    || case
        when len(provenance.synthetic_signals) > 0
            then ' Uses synthetic stand-in data for ' || array_to_string(provenance.synthetic_signals, ', ') || '.'
        else ''
    end as evidence,
    settings.as_of,
    predictions.supported_at,
    predictions.not_supported_below,
    case
        when headlines.prediction_id is null then 'none'
        when len(provenance.synthetic_signals) > 0 then 'partly_synthetic'
        else 'real'
    end as data_provenance
from {{ ref('stg_registry__predictions') }} as predictions
cross join settings
left join headlines on headlines.prediction_id = predictions.prediction_id
left join provenance on provenance.prediction_id = predictions.prediction_id
order by predictions.prediction_id
