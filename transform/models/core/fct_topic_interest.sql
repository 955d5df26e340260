-- One row per interest backend, registered term and day.
-- Incremental: a nightly run rebuilds each term's recent days only (see macros/since_last_build.sql).
{{ config(materialized='incremental', unique_key=['source', 'term', 'observed_date'],
          incremental_strategy='delete+insert') }}

select
    interest.source,
    interest.term,
    interest.observed_date,
    interest.value
from {{ ref('stg_trends__interest') }} as interest
{{ since_last_build('interest', ['source', 'term'], 'observed_date') }}
