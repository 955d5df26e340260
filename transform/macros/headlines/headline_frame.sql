{#
  The frame every headline kind model shares (models/intermediate/headline_<kind>.sql). A kind model names its
  baskets (CTEs over int_baskets) and says how they make the headline; the frame does the rest:

  headline_inputs(kind, source, baskets, measure): the CTEs `settings` (the registry's, which basket_sentence
  needs), `windows` (every prediction of that kind in every window it is judged in, with the window's phrases) and
  one CTE per basket: `baskets` maps each CTE's name to the registry role it holds, of the int_baskets rows of
  `source` (and `measure`, where the source measures more than one way).

  per_window(baskets): a select of one row per prediction and window with the baskets joined, for the columns the
  caller computes from them (`{% call per_window([...]) %} expressions {% endcall %}`).

  judge_headline(source, baskets, ...): one row per prediction and window: the kind's headline_value, whether it
  is sufficient, the registered and covered signals, the evidence (the kind's own clause, then what every other
  source says) and the input signals (the baskets', then the other sources'). By default a single basket's counts
  are its own and several baskets' counts add up (a missing one counting 0); a kind that judges otherwise passes
  its own `registered`, `covered` or `input_signals` expression. `also` names CTEs with one row per prediction and
  window (e.g. ratios computed from the baskets) that the kind's expressions read.

  rivals_sentence(noun, period, label_one): what a kind comparing a challenger with an incumbent says when it cannot
  compare them: each side's own basket sentence ("Challenger stars …; incumbent stars …").

  other_sources(source): per prediction and window, the evidence clauses and inputs of its signals from every other
  source (int_context_clauses), in the order trends, github, regulatory, news, stocks, own checks.

  member_clause(source, position, label, period, label_one, measure): the clause a source's member basket adds to
  the evidence of a prediction whose headline is another source's (int_context_clauses).
#}
{% macro headline_inputs(kind, source=none, baskets={}, measure=none) %}
settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as (select * from {{ ref('int_prediction_windows') }} where kind = '{{ kind }}')
{%- for name, role in baskets.items() %},

{{ name }} as (
    select * from {{ ref('int_baskets') }}
    where source = '{{ source }}' {%- if measure %} and measure = '{{ measure }}'{% endif %} and role = '{{ role }}'
)
{%- endfor %}
{%- endmacro %}

{% macro per_window(baskets) %}
select
    windows.prediction_id,
    windows."window",
    {{ caller() }}
from windows
{%- for basket in baskets %}
left join {{ basket }} using (prediction_id, "window")
{%- endfor %}
{%- endmacro %}

{% macro judge_headline(source, baskets, headline_value, is_sufficient, clause, registered=none, covered=none,
                        input_signals=none, also=[]) %}
select
    windows.prediction_id,
    windows."window",
    {{ headline_value }} as headline_value,
    {{ is_sufficient }} as is_sufficient,
    {{ registered or basket_count(baskets, 'registered') }} as registered,
    {{ covered or basket_count(baskets, 'covered') }} as covered,
    {{ as_sentence("concat_ws('; ', " ~ clause ~ ", context.clauses)") }} as evidence,
    {{ input_signals or basket_inputs(baskets) }} || coalesce(context.input_signals, []) as input_signals
from windows
cross join settings
{%- for computed in also %}
inner join {{ computed }} using (prediction_id, "window")
{%- endfor %}
{%- for basket in baskets %}
left join {{ basket }} using (prediction_id, "window")
{%- endfor %}
left join {{ other_sources(source) }} as context using (prediction_id, "window")
{%- endmacro %}

{#- A single basket's count, or the sum of several (a basket the window lacks counts 0). -#}
{% macro basket_count(baskets, column) -%}
{%- if baskets | length == 1 -%}
{{ baskets[0] }}.{{ column }}
{%- else -%}
{%- for basket in baskets %}coalesce({{ basket }}.{{ column }}, 0){{ ' + ' if not loop.last }}{% endfor -%}
{%- endif -%}
{%- endmacro %}

{#- The baskets' input signals in order, a basket the window lacks adding none. -#}
{% macro basket_inputs(baskets) -%}
{%- for basket in baskets %}coalesce({{ basket }}.input_signals, []){{ ' || ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{% macro rivals_sentence(noun, period, label_one) -%}
concat_ws('; ',
    {{ basket_sentence('challenger', "'Challenger " ~ noun ~ "'", period, label_one=label_one) }},
    {{ basket_sentence('incumbent', "'incumbent " ~ noun ~ "'", period, label_one=label_one) }})
{%- endmacro %}

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

{% macro member_clause(source, position, label, period, label_one, measure=none) %}
(
    select windows.prediction_id, windows."window", '{{ source }}' as source, {{ position }} as position,
        {{ basket_sentence('b', label, period, label_one=label_one) }} as clause,
        b.input_signals
    from windows
    cross join settings
    inner join members as b
        on b.prediction_id = windows.prediction_id and b."window" = windows."window" and b.source = '{{ source }}'
        {%- if measure %} and b.measure = '{{ measure }}'{% endif %}
)
{% endmacro %}
