{{ config(materialized='table') }}
-- Every prediction in every window it is judged in (from its first year on, and the last 12 months), with the
-- phrases its evidence uses for that window.
select
    predictions.prediction_id,
    predictions.kind,
    predictions.repo_group,
    predictions.own_quality_checks,
    windows."window",
    windows.window_year,
    windows.window_start,
    windows.window_end,
    windows.is_partial,
    coalesce(windows.window_year = predictions.first_year, false) as is_scorecard_window,
    'in ' || windows.label as in_phrase,
    'over ' || windows.label as over_phrase,
    'of ' || windows.label as of_phrase,
    format('in {} vs {}', windows.label, windows.prior_label) as vs_phrase,
    windows.label,
    windows.prior_label,
    windows.start_label
from {{ ref('stg_registry__predictions') }} as predictions
inner join {{ ref('int_windows') }} as windows
    on windows.window_year >= predictions.first_year or windows.window_year is null
