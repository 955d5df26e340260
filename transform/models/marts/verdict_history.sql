{#
  Every run's verdicts, one set per as_of: a run adds its set, and a re-run of the same as_of replaces its own set
  (delete+insert on as_of), so a reader sees on which night a verdict changed and what the numbers were.

  An incremental model rather than a dbt snapshot: a snapshot keeps one row per key with the dates it was valid
  (SCD2) and records a change only when a row differs, keyed by when the snapshot ran; here every as_of is a
  complete, replaceable set keyed by the data's own date, so replaying an old snapshot rewrites that night alone.
  `full_refresh=false`: a run that rebuilds the facts in full (`ai-pulse run --full-refresh`) keeps the history.
#}
{{ config(materialized='incremental', unique_key='as_of', incremental_strategy='delete+insert', full_refresh=false) }}

select * from {{ ref('prediction_verdicts') }}
