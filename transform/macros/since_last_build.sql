{#
  The filter of a fact that only grows, built incrementally: on an incremental run only the rows of each series
  (`keys`, e.g. a ticker) from its newest built `day` minus the look-back on, which delete+insert on the fact's
  unique key then replaces; a series the fact does not have yet comes in whole. A full build has no filter.

  The sources re-ask at most `ingestion.lookback_days` before the last loaded day, which the registry caps at 60
  (ingestion/registry.py), and a merge into a raw table never deletes rows, so every raw row that can have changed
  since the last build lies inside the window and the result equals a full rebuild. A source reloaded in full
  (`ai-pulse run --full-refresh`, or after a failed quality check) rebuilds its facts in full
  (orchestration/defs/lane_plan.py).
#}
{% macro since_last_build(alias, keys, day) %}
{%- if is_incremental() %}
where {{ alias }}.{{ day }} >= coalesce((
    select max(built.{{ day }}) - {{ var('fact_lookback_days') }}
    from {{ this }} as built
    where {% for key in keys %}built.{{ key }} = {{ alias }}.{{ key }}{{ " and " if not loop.last }}{% endfor %}
), date '0001-01-01')
{%- endif %}
{% endmacro %}
