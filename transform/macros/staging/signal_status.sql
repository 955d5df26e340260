{#
  The staging model of one source's fetch outcomes (stg_<source>__signal_status): the status and, as their own
  columns, the problem, the fix and any remarks the source recorded. (A raw table from before a column existed is
  reloaded in full by its next load: orchestration/defs/ingest.py, _refresh_mode.)
#}
{% macro signal_status(source_name) %}
select
    '{{ source_name }}' as source,
    signal,
    dataset,
    status,
    problem,
    fix,
    note,
    detail,
    cast(window_start as date) as window_start,
    cast(window_end as date) as window_end,
    cast(rows as bigint) as rows_loaded
from {{ source('raw_' ~ source_name, 'signal_status') }}
{% endmacro %}
