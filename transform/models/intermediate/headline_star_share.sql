{{ config(materialized='table') }}
-- Kind star_share: the challenger's share of the stars gained inside each window by the challenger and the
-- incumbent together (e.g. state-spaces/mamba vs huggingface/transformers).
with {{ headline_inputs('star_share', 'github', {'challenger': 'challenger', 'incumbent': 'incumbent'}) }},

gains as (
    {% call per_window(['challenger', 'incumbent']) %}
    challenger.to_total - challenger.from_total as challenger_gain,
    incumbent.to_total - incumbent.from_total as incumbent_gain,
    coalesce(challenger.is_sufficient and incumbent.is_sufficient, false)
        and challenger.to_total - challenger.from_total + incumbent.to_total - incumbent.from_total > 0
        as is_sufficient
    {% endcall %}
)

{% set clause %}
case
    when gains.is_sufficient then format(
        '{} gained {:,} stars {} ({:+.1f}%) vs {} {:,} ({:+.1f}%): {:.1f}% of their combined growth',
        challenger.signals, cast(gains.challenger_gain as bigint), windows.over_phrase,
        challenger.total_change_pct, incumbent.signals, cast(gains.incumbent_gain as bigint),
        incumbent.total_change_pct,
        100 * gains.challenger_gain / (gains.challenger_gain + gains.incumbent_gain))
    else {{ rivals_sentence('stars', 'windows.over_phrase', label_one="'stars'") }}
end
{% endset %}

{{ judge_headline('github', ['challenger', 'incumbent'], also=['gains'],
    headline_value='100 * gains.challenger_gain / (gains.challenger_gain + gains.incumbent_gain)',
    is_sufficient='gains.is_sufficient',
    clause=clause) }}
