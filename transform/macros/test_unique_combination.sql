{# Fails with the duplicated key values when a combination of columns is not unique (no dbt packages needed).
   Names are quoted, so a column may be called like a keyword (window). #}
{% test unique_combination(model, columns) %}
{% set quoted = [] %}
{% for column in columns %}{% do quoted.append(adapter.quote(column)) %}{% endfor %}
select {{ quoted | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ quoted | join(', ') }}
having count(*) > 1
{% endtest %}
