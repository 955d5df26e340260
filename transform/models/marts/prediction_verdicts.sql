{{ config(materialized='table') }}
-- Every prediction judged in every window (each calendar year from its first year to the year of as_of, the
-- current one partial, and the last 12 months) with the same registry thresholds: headline_value >= supported_at
-- is supported, below not_supported_below not supported, between mixed; too little data is insufficient_data.
-- Each row says how much of its input was real, derived from real data or synthetic, and its coverage; a verdict
-- whose synthetic share is above the registry's demonstration_above is a demonstration of the method, not a finding.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

headlines as (
    {% for kind in var('headline_kinds') %}
    select prediction_id, "window", headline_value, is_sufficient, registered, covered, evidence, input_signals
    from {{ ref('headline_' ~ kind) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- One trust class per input series (int_signal_trust); a series without provenance, or whose datasets the
-- snapshot does not hold, is of unknown origin.
inputs as (
    select distinct
        headlines.prediction_id,
        headlines."window",
        split_part(inputs.input_signal, ':', 1) as source,
        substr(inputs.input_signal, strpos(inputs.input_signal, ':') + 1) as name,
        coalesce(nullif(signal_trust.trust, 'missing'), 'unknown') as trust
    from headlines
    cross join unnest(list_distinct(headlines.input_signals)) as inputs(input_signal)
    left join {{ ref('int_signal_trust') }} as signal_trust
        on signal_trust.source || ':' || signal_trust.signal = inputs.input_signal
),

-- A search phrase is quoted so it reads as a name ("digital identity"); a name registered with two sources is
-- followed by its source's name.
named as (
    select
        inputs.*,
        case when contains(name, ' ') then '"' || name || '"' else name end
        || case when count(*) over (partition by prediction_id, "window", name) > 1 then ' (' || case source
            when 'regulatory' then 'Federal Register' when 'news' then 'Hacker News' when 'trends' then 'Wikipedia'
            when 'github' then 'GitHub' else 'Yahoo' end || ')' else '' end as shown
    from inputs
),

trust as (
    select
        prediction_id,
        "window",
        count(*) as inputs,
        count(*) filter (where trust = 'real') / count(*) as real_share,
        count(*) filter (where trust = 'derived') / count(*) as derived_share,
        count(*) filter (where trust = 'synthetic') / count(*) as synthetic_share,
        list(shown order by source, name) filter (where trust = 'synthetic') as synthetic_signals,
        list(shown order by source, name) filter (where trust = 'derived') as derived_signals
    from named
    group by all
),

judged as (
    select
        windows.*,
        predictions.title,
        predictions.headline_metric,
        predictions.supported_at,
        predictions.not_supported_below,
        headlines.headline_value,
        headlines.evidence,
        headlines.registered,
        headlines.covered,
        case
            when headlines.prediction_id is null or not headlines.is_sufficient or headlines.headline_value is null
                then 'insufficient_data'
            when headlines.headline_value >= predictions.supported_at then 'supported'
            when headlines.headline_value < predictions.not_supported_below then 'not_supported'
            else 'mixed'
        end as verdict
    from {{ ref('int_prediction_windows') }} as windows
    inner join {{ ref('stg_registry__predictions') }} as predictions using (prediction_id)
    left join headlines using (prediction_id, "window")
)

select
    judged.prediction_id,
    judged."window",
    judged.window_start,
    judged.window_end,
    judged.is_partial,
    judged.is_scorecard_window,
    judged.title,
    judged.verdict,
    judged.headline_metric,
    -- Too little data has no headline number (the evidence still quotes what there is).
    case when judged.verdict <> 'insufficient_data' then round(judged.headline_value, 2) end as headline_value,
    coalesce(judged.evidence, 'No indicator is built for this prediction yet.')
    || case
        when len(trust.synthetic_signals) > 0
            then ' Uses synthetic stand-in data for ' || array_to_string(trust.synthetic_signals, ', ') || '.'
        else ''
    end
    || case
        when len(trust.derived_signals) > 0
            then ' Uses data derived from real counts for ' || array_to_string(trust.derived_signals, ', ') || '.'
        else ''
    end as evidence,
    settings.as_of,
    judged.supported_at,
    judged.not_supported_below,
    case
        when coalesce(trust.inputs, 0) = 0 then 'none'
        when len(trust.synthetic_signals) = trust.inputs then 'synthetic'
        when len(trust.synthetic_signals) > 0 then 'partly_synthetic'
        else 'real'
    end as data_provenance,
    coalesce(trust.real_share, 0) as real_share,
    coalesce(trust.derived_share, 0) as derived_share,
    coalesce(trust.synthetic_share, 0) as synthetic_share,
    case
        when coalesce(trust.inputs, 0) = 0 then 'none'
        when trust.synthetic_share > settings.demonstration_above then 'demonstration'
        when trust.real_share = 1 then 'real'
        else 'mixed'
    end as trust,
    judged.covered as signals_covered,
    judged.registered as signals_registered,
    judged.covered / nullif(judged.registered, 0) as coverage
from judged
cross join settings
left join trust using (prediction_id, "window")
order by judged.prediction_id, judged.window_start, judged."window"
