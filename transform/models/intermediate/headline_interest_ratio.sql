{{ config(materialized='table') }}
-- Kind interest_ratio: the change in the ratio of the challenger's to the incumbent's mean daily views (e.g.
-- ChatGPT vs Google_Search), each window against the same days a year earlier; the evidence adds what its other
-- sources say (e.g. the registered tickers against their benchmark).
with {{ headline_inputs('interest_ratio', 'trends', {'challenger': 'challenger', 'incumbent': 'incumbent'},
    measure='yoy') }},

ratios as (
    {% call per_window(['challenger', 'incumbent']) %}
    challenger.from_total / incumbent.from_total as ratio_before,
    challenger.to_total / incumbent.to_total as ratio_after,
    coalesce(challenger.is_sufficient and incumbent.is_sufficient, false) as is_sufficient
    {% endcall %}
)

{% set clause %}
case
    when ratios.is_sufficient then format(
        '{}/{} mean daily views ratio {:.2f} in {} → {:.2f} in {} ({:+.1f}%)',
        challenger.signals, incumbent.signals, ratios.ratio_before, windows.prior_label,
        ratios.ratio_after, windows.label, 100 * (ratios.ratio_after / ratios.ratio_before - 1))
    else {{ rivals_sentence('views', 'windows.vs_phrase', label_one="'mean daily Wikipedia views'") }}
end
{% endset %}

{{ judge_headline('trends', ['challenger', 'incumbent'], also=['ratios'],
    headline_value='100 * (ratios.ratio_after / ratios.ratio_before - 1)',
    is_sufficient='ratios.is_sufficient',
    clause=clause) }}
