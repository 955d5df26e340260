{#
  Pieces every headline kind model shares (models/intermediate/headline_<kind>.sql).

  headline_windows(kind): every prediction of that kind in every window it is judged in, with the window's phrases.
  other_sources(source): per prediction and window, the evidence clauses and inputs of its signals from every other
  source (int_context_clauses), in the order trends, github, regulatory, news, stocks, own checks.
#}
{% macro headline_windows(kind) %}
(select * from {{ ref('int_prediction_windows') }} where kind = '{{ kind }}')
{% endmacro %}

{% macro other_sources(source) %}
(
    select
        prediction_id,
        "window",
        string_agg(clause, '; ' order by position) as clauses,
        flatten(list(input_signals order by position)) as input_signals
    from {{ ref('int_context_clauses') }}
    where source <> '{{ source }}'
    group by prediction_id, "window"
)
{% endmacro %}
