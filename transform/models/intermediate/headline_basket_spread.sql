{{ config(materialized='table') }}
-- Kind basket_spread: the mean price return of the prediction's first basket inside each window minus its second's
-- (registry.yml `baskets`, e.g. usage-priced minus seat-priced; each basket equally weighted).
with {{ headline_inputs('basket_spread') }},

named as (
    select returns.*, baskets.name, baskets.position
    from {{ ref('int_baskets') }} as returns
    inner join {{ ref('stg_registry__baskets') }} as baskets
        on baskets.prediction_id = returns.prediction_id and baskets.role = returns.role
    where returns.source = 'stocks'
),

basket_a as (select *, upper(name[1]) || name[2:] as title_name from named where position = 1),
basket_b as (select * from named where position = 2)

{% set clause %}
case
    when basket_a.is_sufficient and basket_b.is_sufficient then format(
        '{} {:+.1f}% {} ({}) vs {} {:+.1f}% ({}): spread {:+.1f} pp{}',
        basket_a.title_name, basket_a.mean_change_pct, windows.over_phrase, basket_a.detail, basket_b.name,
        basket_b.mean_change_pct, basket_b.detail, basket_a.mean_change_pct - basket_b.mean_change_pct,
        coalesce('; left out: ' || nullif(concat_ws(', ', basket_a.gaps, basket_b.gaps), ''), ''))
    else concat_ws('; ',
        {{ basket_sentence('basket_a', 'basket_a.title_name', 'windows.over_phrase',
            label_one="'price return'", value='mean_change_pct') }},
        {{ basket_sentence('basket_b', 'basket_b.name', 'windows.over_phrase',
            label_one="'price return'", value='mean_change_pct') }})
end
{% endset %}

{{ judge_headline('stocks', ['basket_a', 'basket_b'],
    headline_value='basket_a.mean_change_pct - basket_b.mean_change_pct',
    is_sufficient='coalesce(basket_a.is_sufficient and basket_b.is_sufficient, false)',
    clause=clause) }}
