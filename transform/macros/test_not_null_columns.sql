{# Fails with every row that has a NULL in any of `columns`, naming those columns first (`null_columns`). One
   test per model instead of dbt's `not_null` per column: each test is a dbt node with its own query and fixed
   cost, and 188 of them cost a cold run about 4 s (README, Speed). Names are quoted, so a column may be called
   like a keyword (window). #}
{% test not_null_columns(model, columns) %}
{% set quoted = [] %}
{% for column in columns %}{% do quoted.append(adapter.quote(column)) %}{% endfor %}
select
    concat_ws(', ', {% for column in columns %}case when {{ quoted[loop.index0] }} is null then '{{ column }}' end{{ ", " if not loop.last }}{% endfor %}) as null_columns,
    *
from {{ model }}
where {{ quoted | join(' is null or ') }} is null
{% endtest %}
