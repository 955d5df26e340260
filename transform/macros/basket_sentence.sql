{#
  One evidence clause for a basket row `b` (see basket.sql): the number with its period and the counted signals
  (and any judged from its first observation), or "too little data" with what is missing. A basket of one signal is named by it ("MSFT price return …", see
  basket_subject), a larger one by `label` with each counted signal in brackets. `value` is the basket column quoted, `number`
  its format; `label`, `label_one` and `period` are SQL expressions. Needs the registry's `settings` in scope.
#}
{% macro basket_sentence(b, label, period, label_one=none, value='total_change_pct', number="'{:+.1f}%'") %}
case
    when coalesce({{ b }}.is_sufficient, false) then format(
        '{} ' || {{ number }} || ' {}{}{}{}',
        {{ basket_subject(b, label, label_one) }}, {{ b }}.{{ value }}, {{ period }},
        case when {{ b }}.registered > 1 then ' (' || {{ b }}.detail || ')' else '' end,
        coalesce('; ' || {{ b }}.life_notes, ''), coalesce('; left out: ' || {{ b }}.gaps, ''))
    when {{ b }}.registered = 1 then format(
        '{} {}: too little data ({})', {{ basket_subject(b, label, label_one) }}, {{ period }}, {{ b }}.gap_reasons)
    else format(
        '{} {}: too little data ({} of {} signals usable, {:.0f}% needed{}{})',
        {{ basket_subject(b, label, label_one) }}, {{ period }}, coalesce({{ b }}.covered, 0),
        coalesce({{ b }}.registered, 0), 100 * settings.min_coverage,
        coalesce('; left out: ' || {{ b }}.gaps, ''), coalesce('; usable: ' || {{ b }}.detail, ''))
end
{%- endmacro %}

{#- A basket of one signal is "<signal> <label_one>", or label_one with the signal put in for its "{}". -#}
{% macro basket_subject(b, label, label_one=none) -%}
case
    when {{ b }}.registered = 1 and strpos({{ label_one or label }}, '{}') > 0
        then replace({{ label_one or label }}, '{}', {{ b }}.signals)
    when {{ b }}.registered = 1 then {{ b }}.signals || ' ' || {{ label_one or label }}
    else {{ label }}
end
{%- endmacro %}

{#- Clauses joined into one evidence sentence (each headline starts its first clause with a capital or a signal). -#}
{% macro as_sentence(clauses) -%}
{{ clauses }} || '.'
{%- endmacro %}
