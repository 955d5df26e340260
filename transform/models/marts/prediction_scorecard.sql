{{ config(materialized='table') }}
-- One row per registered prediction: its verdict for the year the article made it about (the prediction year, or
-- the baseline year for the baseline itself), from marts.prediction_verdicts, which judges every window.
select
    prediction_id,
    title,
    verdict,
    headline_metric,
    headline_value,
    evidence,
    as_of,
    supported_at,
    not_supported_below,
    data_provenance,
    real_share,
    derived_share,
    synthetic_share,
    trust,
    coverage
from {{ ref('prediction_verdicts') }}
where is_scorecard_window
order by prediction_id
