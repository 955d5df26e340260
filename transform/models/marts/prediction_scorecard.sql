-- One row per registered prediction. The verdict applies the registry's thresholds to the headline value;
-- a prediction without an indicator yet, or with too little data, is insufficient_data — never a guess.
{% set headline_models = [
    'headline_p00', 'headline_p01', 'headline_p02', 'headline_p03', 'headline_p04', 'headline_p05', 'headline_p06',
    'headline_p07', 'headline_p08', 'headline_p09', 'headline_p10', 'headline_p11', 'headline_p12', 'headline_p13',
    'headline_p14',
] %}

with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

headlines as (
    {% for model in headline_models %}
    select prediction_id, headline_value, is_sufficient, evidence, input_signals from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- Inputs are the signals whose numbers a headline used. `synthetic` marks a stand-in series; `partly_synthetic`
-- (GitHub repo objects in the bundled snapshot) has real stars and stand-in forks/issues, which no indicator
-- reads, so it is not a synthetic input.
inputs as (
    select
        headlines.prediction_id,
        inputs.input_signal,
        bool_or(provenance.provenance = 'synthetic') as is_synthetic
    from headlines
    cross join unnest(headlines.input_signals) as inputs(input_signal)
    left join {{ ref('stg_registry__provenance') }} as provenance
        on provenance.source || ':' || provenance.signal = inputs.input_signal
    group by all
),

provenance as (
    select
        prediction_id,
        count(*) as inputs,
        -- A search phrase is quoted so it reads as a name ("digital identity").
        list(case when contains(name, ' ') then '"' || name || '"' else name end order by input_signal)
            filter (where is_synthetic) as synthetic_signals
    from (select *, substr(input_signal, strpos(input_signal, ':') + 1) as name from inputs)
    group by prediction_id
),

judged as (
    select
        predictions.prediction_id,
        case
            when headlines.prediction_id is null or not headlines.is_sufficient or headlines.headline_value is null
                then 'insufficient_data'
            when headlines.headline_value >= predictions.supported_at then 'supported'
            when headlines.headline_value < predictions.not_supported_below then 'not_supported'
            else 'mixed'
        end as verdict
    from {{ ref('stg_registry__predictions') }} as predictions
    left join headlines on headlines.prediction_id = predictions.prediction_id
)

select
    predictions.prediction_id,
    predictions.title,
    judged.verdict,
    predictions.headline_metric,
    -- Too little data has no headline number (the evidence still quotes what there is).
    case when judged.verdict <> 'insufficient_data' then round(headlines.headline_value, 2) end as headline_value,
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
        when coalesce(provenance.inputs, 0) = 0 then 'none'
        when len(provenance.synthetic_signals) = provenance.inputs then 'synthetic'
        when len(provenance.synthetic_signals) > 0 then 'partly_synthetic'
        else 'real'
    end as data_provenance
from {{ ref('stg_registry__predictions') }} as predictions
cross join settings
inner join judged on judged.prediction_id = predictions.prediction_id
left join headlines on headlines.prediction_id = predictions.prediction_id
left join provenance on provenance.prediction_id = predictions.prediction_id
order by predictions.prediction_id
