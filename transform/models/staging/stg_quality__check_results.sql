-- The pipeline's own validation history. The table is written by the quality checks, so a warehouse that has
-- never been checked lacks it: the view is then empty (and P10's evidence says so) instead of failing.
{% set results = source('quality', 'check_results') %}
{% set found = adapter.get_relation(database=results.database, schema=results.schema, identifier=results.identifier)
   if execute else none %}
{% if found is not none %}
select
    run_id,
    asset,
    suite,
    expectation,
    column_name,
    blocking,
    success,
    cast(checked_at as timestamp) as checked_at,
    cast(checked_at as date) as checked_date
from {{ results }}
{% else %}
select
    cast(null as varchar) as run_id,
    cast(null as varchar) as asset,
    cast(null as varchar) as suite,
    cast(null as varchar) as expectation,
    cast(null as varchar) as column_name,
    cast(null as boolean) as blocking,
    cast(null as boolean) as success,
    cast(null as timestamp) as checked_at,
    cast(null as date) as checked_date
where false
{% endif %}
