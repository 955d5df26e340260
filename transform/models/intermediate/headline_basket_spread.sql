{{ config(materialized='table') }}
-- Kind basket_spread: the mean price return of the prediction's first basket inside each window minus its second's
-- (registry.yml `baskets`, e.g. usage-priced minus seat-priced; each basket equally weighted).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as {{ headline_windows('basket_spread') }},

named as (
    select returns.*, baskets.name, baskets.position
    from {{ ref('int_baskets') }} as returns
    inner join {{ ref('stg_registry__baskets') }} as baskets
        on baskets.prediction_id = returns.prediction_id and baskets.role = returns.role
    where returns.source = 'stocks'
),

basket_a as (select *, upper(name[1]) || name[2:] as title_name from named where position = 1),
basket_b as (select * from named where position = 2),

context as {{ other_sources('stocks') }},

judged as (
    select
        windows.prediction_id,
        windows."window",
        basket_a.mean_change_pct - basket_b.mean_change_pct as headline_value,
        coalesce(basket_a.is_sufficient and basket_b.is_sufficient, false) as is_sufficient,
        coalesce(basket_a.registered, 0) + coalesce(basket_b.registered, 0) as registered,
        coalesce(basket_a.covered, 0) + coalesce(basket_b.covered, 0) as covered,
        concat_ws('; ',
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
            end,
            context.clauses
        ) as clauses,
        coalesce(basket_a.input_signals, []) || coalesce(basket_b.input_signals, [])
            || coalesce(context.input_signals, []) as input_signals
    from windows
    cross join settings
    left join basket_a using (prediction_id, "window")
    left join basket_b using (prediction_id, "window")
    left join context using (prediction_id, "window")
)

select
    prediction_id,
    "window",
    headline_value,
    is_sufficient,
    registered,
    covered,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
