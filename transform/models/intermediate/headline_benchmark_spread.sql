{{ config(materialized='table') }}
-- Kind benchmark_spread: the leader's price return inside each window minus the benchmark's (split-adjusted
-- closes); the evidence adds the median return of the other registered tickers.
with {{ headline_inputs('benchmark_spread', 'stocks',
    {'leader': 'leader', 'benchmark': 'benchmark', 'field': 'member'}) }}

{% set clause %}
case
    when leader.is_sufficient and benchmark.is_sufficient then format(
        '{} {:+.1f}% {} vs benchmark {} {:+.1f}% (spread {:+.1f} pp){}',
        leader.signals, leader.mean_change_pct, windows.over_phrase, benchmark.signals,
        benchmark.mean_change_pct, leader.mean_change_pct - benchmark.mean_change_pct,
        case
            when field.covered > 0 then format('; median of the other {} hardware names {:+.1f}%',
                field.covered, field.median_change_pct)
            else ''
        end)
    else format(
        'Not enough price history for {} or its benchmark {} {} (each needs {:.0f}% of months and a '
        || 'close at {}){}',
        coalesce(leader.signals, 'a leader'), coalesce(benchmark.signals, 'a benchmark'),
        windows.over_phrase, 100 * settings.min_coverage, windows.start_label,
        coalesce(': ' || nullif(concat_ws(', ', leader.gaps, benchmark.gaps), ''), ''))
end
{% endset %}

{#- The field of other tickers adds its inputs and its median to the evidence, not to the counts. -#}
{{ judge_headline('stocks', ['leader', 'benchmark', 'field'],
    headline_value='leader.mean_change_pct - benchmark.mean_change_pct',
    is_sufficient='coalesce(leader.is_sufficient and benchmark.is_sufficient, false)',
    registered=basket_count(['leader', 'benchmark'], 'registered'),
    covered=basket_count(['leader', 'benchmark'], 'covered'),
    clause=clause) }}
