{#
  The columns of int_signal_windows for a source counted per month (Federal Register documents, Hacker News
  stories) in one span of `spans`: its level is the span's count, every month the span touches is expected, and
  such a source has no start level, life start, last quarter or edge. `signal` and `count` are the SQL of the
  signal and the monthly count; `months_observed` says which months count as observed (the source's own rule).
#}
{% macro counted_span(source, signal, count, months_observed, observed_word) %}
        '{{ source }}' as source,
        {{ signal }} as signal,
        spans."window",
        spans.span,
        cast(sum({{ count }}) as double) as level,
        cast(null as double) as start_level,
        {{ months_observed }} as months_observed,
        date_diff('month', date_trunc('month', spans.span_start), date_trunc('month', spans.span_end)) + 1
            as months_expected,
        false as from_life_start,
        cast(null as date) as life_start,
        cast(null as double) as last_quarter_mean,
        '{{ observed_word }}' as observed_word,
        cast(null as varchar) as edge_note
{%- endmacro %}
